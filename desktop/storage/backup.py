"""Backups and restores of an open register.

A backup is a consistent copy made by SQLCipher's ``sqlcipher_export`` inside one read
transaction, into a new file ATTACHed with the register's own raw key and salt: the copy opens
with the same passphrase and is itself a complete register. It is written to a temporary file
beside the target, checked (it opens, ``quick_check`` passes, the audit chain verifies) and only
then renamed to its name, so a backup that exists is a good one.

Automatic backups go to ``<register folder>/备份/`` named ``<register>-<time>-<reason>.dengji``;
the newest `KEEP_BACKUPS` of each register are kept. A restore refuses a file that is not a
backup of *this* register (another unit, another salt), is damaged or is newer, and changes
nothing then; otherwise it backs up the current register first and swaps the file atomically.
A backup gets the register's recovery slot for its salt beside it (recovery.carry), and a
restore keeps the register's current recovery key (not the older one the backup holds).

A register on PostgreSQL is backed up with ``pg_dump`` (custom format, storage/server/dump.py;
automatic backups into the 备份 folder under the user data folder) and restored by the
database's administrator with ``pg_restore`` into an empty database (docs/postgresql.md).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from desktop.errors import KnownError
from desktop.inputs import regular_file
from desktop.paths import tracked_part
from desktop.storage import crypto, migrations, recovery
from desktop.storage.audit import append_audit, verify_audit_chain
from desktop.storage.engine import Register
from desktop.storage.files import (
    DISK_FULL_ERRNOS,
    KEEP_BACKUPS,
    REASONS,
    DiskFull,
    backup_path,
    fsync,
    has_side_files,
    prune_backups,
    remove_with_side_files,
)
from desktop.storage.server import dump
from desktop.storage.tables import AuditEntry, Meta, Record


@dataclass(frozen=True)
class BackupInfo:
    """A checked backup (or a checked candidate for a restore)."""

    path: Path
    schema_version: int
    records: int
    audit_entries: int


def backup_register(register: Register, out: str | os.PathLike[str]) -> BackupInfo:
    """Write a checked, consistent copy of the open `register` to `out` (replacing it)."""
    out = Path(out)
    if register.kind == "server":
        return _dump(register, out)
    if out.resolve() == register.path.resolve():
        raise KnownError(f"备份文件不能就是登记库本身（{out}）。请另选一个文件名。")
    if out.is_dir():
        raise KnownError(f"{out} 是文件夹。请给出备份文件的完整文件名，例如 {out / '登记库备份.dengji'}。")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise KnownError(f"无法创建文件夹 {out.parent}（{err.strerror}）。请换一个可写入的位置。") from err
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with tracked_part(tmp):  # removed at the next start if the process is killed
            _export(register, tmp)
            fsync(tmp)
            info = check_backup(tmp, register.key_literal, register, shown=out)
            os.replace(tmp, out)
            fsync(out.parent, directory=True)
            recovery.carry(register.path, out)  # the backup can be opened by the recovery key
    except OSError as err:
        raise _os_error(err, out) from err
    finally:
        remove_with_side_files(tmp)
    return BackupInfo(out, info.schema_version, info.records, info.audit_entries)


def _dump(register: Register, out: Path) -> BackupInfo:
    """pg_dump of a register on PostgreSQL (one snapshot: pg_dump reads in one transaction)."""
    if out.is_dir():
        raise KnownError(f"{out} 是文件夹。请给出备份文件的完整文件名，例如 {out / '登记库备份.dump'}。")
    with register.session() as session:
        version = int(session.get(Meta, "schema_version").value)
        records = session.execute(select(func.count()).select_from(Record)).scalar_one()
        entries = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    try:
        dump.dump(register.path, out)
    except OSError as err:
        raise _os_error(err, out) from err
    return BackupInfo(out, version, records, entries)


def _on_server(register: Register) -> None:
    if register.kind == "server":
        raise KnownError(
            f"PostgreSQL 登记库 {register.path.name} 不能在本软件中恢复，未作任何改动。请由数据库"
            "管理员用 pg_restore 把备份（.dump）恢复到一个新建的空数据库，再打开它"
            "（见 docs/postgresql.md）。")


def _export(register: Register, tmp: Path) -> None:
    raw = register.engine.raw_connection()
    conn = raw.driver_connection
    try:
        conn.execute("ATTACH DATABASE ? AS dj_backup KEY ?", (str(tmp), register.key_literal))
        try:
            conn.execute("BEGIN")  # one snapshot for every table
            conn.execute("SELECT sqlcipher_export('dj_backup')").fetchall()
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlcipher3.Error):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute("DETACH DATABASE dj_backup")
    except sqlcipher3.Error as err:
        if getattr(err, "sqlite_errorcode", None) == 13 or "disk is full" in str(err):
            raise _disk_full(tmp) from err
        raise KnownError(f"备份未完成（{err}），登记库未作任何改动。请检查目标位置后重试。") from err
    finally:
        raw.close()


def _copy_rekeyed(source: Path, literal: str, tmp: Path, key_literal: str) -> None:
    try:
        crypto.export_copy(source, literal, tmp, key_literal)
    except sqlcipher3.Error as err:
        raise OSError(errno.EIO, f"re-keying the backup failed: {err}") from err


def _disk_full(target: Path) -> DiskFull:
    return DiskFull(
        f"磁盘空间不足，无法写入备份 {target.parent}，备份未完成；登记库未作任何改动。"
        "请腾出空间或换一个磁盘（如 U 盘）后重试。"
    )


def _os_error(err: OSError, target: Path) -> KnownError:
    if err.errno in DISK_FULL_ERRNOS:
        return _disk_full(target)
    return KnownError(f"无法写入 {target}（{err.strerror}）。请检查位置和权限后重试；登记库未作任何改动。")


def check_backup(path: Path, key_literal: str | None, register: Register | None = None, *,
                 shown: Path | None = None) -> BackupInfo:
    """Open `path` read-only with `key_literal` and check it is a whole, unaltered register
    (of `register`, when given). Raise a KnownError that names `shown` (or `path`) otherwise."""
    name = shown or path
    if key_literal is None:
        raise KnownError("此登记库不是用口令打开的，无法备份或恢复。")
    try:
        crypto.check_is_register(path)
        conn = crypto.connect(path, key_literal, configure=False)
    except crypto.DatabaseError as err:
        raise KnownError(
            f"{name} 无法用当前登记库的口令打开：它不是本登记库的备份，或已损坏。未作任何改动。"
        ) from err
    conn.close()
    engine = create_engine("sqlite://", poolclass=NullPool, module=sqlcipher3.dbapi2,
                           creator=lambda: crypto.connect(path, key_literal, configure=False))
    try:
        with Session(engine, info={"register_path": str(name)}) as session:
            if session.execute(text("PRAGMA quick_check")).scalar_one() != "ok":
                raise KnownError(f"{name} 已损坏（数据库结构校验未通过）。未作任何改动。")
            facts = dict(session.execute(select(Meta.key, Meta.value)).all())
            version = int(facts.get("schema_version", "0"))
            if register is not None and not register.is_same_register(facts):
                raise KnownError(f"{name} 是另一个登记库的文件，不是本登记库的备份。未作任何改动。")
            audit = verify_audit_chain(session)
            if not audit.ok:
                raise KnownError(f"{name} 未通过审计日志校验：{audit.message}")
            records = session.execute(select(func.count()).select_from(Record)).scalar_one()
    except (crypto.DatabaseError, DBAPIError, ValueError) as err:
        raise KnownError(f"{name} 已损坏，或不是登记库。未作任何改动。请选择另一个备份文件。") from err
    finally:
        engine.dispose()
    if not 1 <= version <= migrations.SCHEMA_VERSION:
        raise KnownError(
            f"{name} 的版本（{version}）不是本软件支持的版本（1–{migrations.SCHEMA_VERSION}），"
            "可能由更新版本的登记软件创建。请升级软件；未作任何改动。"
        )
    return BackupInfo(path, version, records, audit.entries)


def auto_backup(register: Register, reason: str, *, keep: int = KEEP_BACKUPS) -> BackupInfo:
    """Back up `register` into its 备份 folder and keep only the newest `keep` automatic
    backups of it. Call before a merge, a restore or any other change that is hard to undo."""
    if reason not in REASONS:
        raise ValueError(f"unknown backup reason {reason!r}")
    if register.kind == "server":
        with register.engine.connect() as conn:
            database = conn.execute(text("SELECT current_database()")).scalar_one()
        info = backup_register(register, dump.backup_folder() / dump.backup_name(database, reason))
        _prune_dumps(info.path, keep)
        return info
    target = backup_path(register.path, reason)
    info = backup_register(register, target)
    prune_backups(register.path, keep)
    return info


def _prune_dumps(made: Path, keep: int) -> None:
    """Delete all but the newest `keep` automatic pg_dumps of the database `made` is one of
    (dump.backup_name: ``<database>-<UTC time>-<reason>.dump``, the time sorts by name)."""
    found = re.fullmatch(r"(.+)-\d{8}T\d{12}Z-\w+\.dump", made.name)
    if found is None or keep <= 0:
        return
    mine = re.compile(re.escape(found[1]) + r"-\d{8}T\d{12}Z-(" + "|".join(REASONS)
                      + r")\.dump")
    for old in sorted(p for p in made.parent.iterdir() if mine.fullmatch(p.name))[:-keep]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()


def check_restore(register: Register, source: Path) -> BackupInfo:
    """Check that `source` is a whole backup of `register` that can be restored; change nothing."""
    return _restorable(register, source)[0]


def _restorable(register: Register, source: Path) -> tuple[BackupInfo, str]:
    """The checked backup `source` and the raw key that opens it: the register's own, or for a
    backup taken before a re-key the one its salt and the passphrase give (Register.key_for)."""
    _on_server(register)
    if not source.exists():
        raise KnownError(f"找不到备份文件 {source}。请检查路径。")
    regular_file(source, "备份文件")  # a FIFO, a device or a folder is said so, never opened
    if source.resolve() == register.path.resolve():
        raise KnownError("要恢复的文件就是当前登记库本身。请选择备份文件。")
    crypto.check_is_register(source)  # says what it is when it plainly is not a register
    literal = register.key_for(source)
    if literal is None:
        raise KnownError(f"{source} 不是本登记库的备份（属于另一个登记库或已损坏）。未作任何改动。")
    return check_backup(source, literal, register), literal


def restore_register(register: Register, source: str | os.PathLike[str], *,
                     actor: str = "system") -> BackupInfo:
    """Replace the open `register`'s file by the backup `source`, after checking it and taking
    an automatic backup; the register stays open (on the restored file). Returns that automatic
    backup. A wrong, damaged or foreign `source` is refused before anything changes. A backup
    taken before a re-key is copied under the register's current key."""
    source = Path(source)
    candidate, literal = _restorable(register, source)
    safety = auto_backup(register, "restore")
    # the recovery key stays the current one: a backup's older (voided) key must not return
    with register.session() as session:
        kept = {m.key: m.value for m in session.execute(
            select(Meta).where(Meta.key.in_(recovery.META_KEYS))).scalars()}
    path = register.path
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.restoring")
    with tracked_part(tmp):  # removed at the next start if the process is killed
        try:
            if literal == register.key_literal:
                shutil.copyfile(source, tmp)
            else:
                _copy_rekeyed(source, literal, tmp, register.key_literal or "")
            fsync(tmp)
        except OSError as err:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise _os_error(err, tmp) from err
        register.engine.dispose()
        if has_side_files(path, ("-wal", "-journal")):
            tmp.unlink()
            raise KnownError("登记库仍有未完成的操作（另一个任务正在使用它）。请等操作结束后重试；"
                             "未作任何改动。")
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}-shm")
        os.replace(tmp, path)
        fsync(path.parent, directory=True)
    register.reopen(candidate.schema_version)
    with register.session() as session:
        for row in session.execute(select(Meta).where(Meta.key.in_(recovery.META_KEYS))
                                   ).scalars():
            if row.key not in kept:
                session.delete(row)
        for key, value in kept.items():
            session.merge(Meta(key=key, value=value))
        append_audit(session, actor, "restore", path.name,
                     {"from": source.name, "backup_before": safety.path.name,
                      "records": candidate.records})
        session.commit()
    return safety
