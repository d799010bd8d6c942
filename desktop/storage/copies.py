"""Checked copies of a register file: what a backup of a SQLCipher register is.

A copy is made by SQLCipher's ``sqlcipher_export`` inside one read transaction, into a new file
ATTACHed with the register's own raw key and salt: it opens with the same passphrase and is
itself a complete register. It is written to a part file beside the target, checked (it opens,
``quick_check`` passes, the audit chain verifies: `check_backup`) and only then renamed to its
name, so a copy that exists is a good one; it gets the register's recovery slot for its salt
beside it (recovery.carry). storage/secrets.py chooses this for a register file (a register on
PostgreSQL is copied with pg_dump); storage/backup.py names, keeps and restores the copies.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from desktop.errors import KnownError
from desktop.paths import tracked_part
from desktop.storage import crypto, migrations, recovery
from desktop.storage.audit import verify_audit_chain
from desktop.storage.engine import Register
from desktop.storage.files import DISK_FULL_ERRNOS, DiskFull, fsync, remove_with_side_files
from desktop.storage.tables import Meta, Record


@dataclass(frozen=True)
class BackupInfo:
    """A checked backup (or a checked candidate for a restore)."""

    path: Path
    schema_version: int
    records: int
    audit_entries: int


def copy_register(register: Register, out: Path) -> BackupInfo:
    """Write a checked, consistent copy of the open register file to `out` (replacing it)."""
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
        raise write_error(err, out) from err
    finally:
        remove_with_side_files(tmp)
    return BackupInfo(out, info.schema_version, info.records, info.audit_entries)


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


def _disk_full(target: Path) -> DiskFull:
    return DiskFull(
        f"磁盘空间不足，无法写入备份 {target.parent}，备份未完成；登记库未作任何改动。"
        "请腾出空间或换一个磁盘（如 U 盘）后重试。"
    )


def write_error(err: OSError, target: Path) -> KnownError:
    """What to say when writing a copy (or a restore's part file) to `target` failed."""
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
