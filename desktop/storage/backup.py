"""Backups and restores of an open register.

What a backup is depends on the register's kind, decided once by storage/secrets.py: for a
register file a checked copy made by SQLCipher's ``sqlcipher_export`` (storage/copies.py: it
opens with the same passphrase, is itself a complete register, and exists only once checked).

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
import shutil
import uuid
from pathlib import Path

import sqlcipher3
from sqlalchemy import select

from desktop.errors import KnownError
from desktop.inputs import regular_file
from desktop.paths import tracked_part
from desktop.storage import crypto, recovery
from desktop.storage.audit import append_audit
from desktop.storage.copies import BackupInfo, check_backup, write_error
from desktop.storage.engine import Register
from desktop.storage.files import KEEP_BACKUPS, REASONS, fsync, has_side_files
from desktop.storage.secrets import secrets_of
from desktop.storage.tables import Meta

__all__ = ["BackupInfo", "auto_backup", "backup_register", "check_backup", "check_restore",
           "restore_register"]


def backup_register(register: Register, out: str | os.PathLike[str]) -> BackupInfo:
    """Write a checked, consistent copy of the open `register` to `out` (replacing it)."""
    return secrets_of(register).backup(Path(out))


def _copy_rekeyed(source: Path, literal: str, tmp: Path, key_literal: str) -> None:
    try:
        crypto.export_copy(source, literal, tmp, key_literal)
    except sqlcipher3.Error as err:
        raise OSError(errno.EIO, f"re-keying the backup failed: {err}") from err


def auto_backup(register: Register, reason: str, *, keep: int = KEEP_BACKUPS) -> BackupInfo:
    """Back up `register` into its 备份 folder and keep only the newest `keep` automatic
    backups of it. Call before a merge, a restore or any other change that is hard to undo."""
    if reason not in REASONS:
        raise ValueError(f"unknown backup reason {reason!r}")
    secrets = secrets_of(register)
    info = secrets.backup(secrets.backup_place(reason))
    secrets.keep_newest(info.path, keep)
    return info


def check_restore(register: Register, source: Path) -> BackupInfo:
    """Check that `source` is a whole backup of `register` that can be restored; change nothing."""
    return _restorable(register, source)[0]


def _restorable(register: Register, source: Path) -> tuple[BackupInfo, str]:
    """The checked backup `source` and the raw key that opens it: the register's own, or for a
    backup taken before a re-key the one its salt and the passphrase give (Register.key_for)."""
    refusal = secrets_of(register).restore_refusal()
    if refusal is not None:
        raise KnownError(refusal)
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
            raise write_error(err, tmp) from err
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
