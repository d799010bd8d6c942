"""The register as files on disk: flushing to disk, the SQLite side files (-wal, -shm,
-journal), a full disk, and the automatic backups beside the register (their names, listing and
pruning).

Nothing here opens a database: storage/engine.py and storage/backup.py build on these.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

from desktop.errors import KnownError

#: the files SQLite keeps beside a database while it is open or mid-transaction
SIDE_FILES = ("-wal", "-shm", "-journal")
#: the folder beside the register where every automatic backup goes
BACKUP_DIR = "备份"
KEEP_BACKUPS = 10
#: why an automatic backup was taken (part of its file name)
REASONS = ("manual", "migrate", "merge", "restore")
DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


class DiskFull(KnownError):
    """The disk (or the folder's quota) is full; the transaction was rolled back."""


def fsync(path: Path, directory: bool = False) -> None:
    """Flush `path` (a file, or with `directory` a folder after a rename) to disk."""
    if directory and os.name == "nt":
        return  # Windows cannot open a folder for fsync; its rename is already durable enough
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_with_side_files(path: Path) -> None:
    """Delete `path` and its SQLite side files, whichever exist."""
    for suffix in ("", *SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")


def has_side_files(path: Path, suffixes: tuple[str, ...] = SIDE_FILES) -> bool:
    """Whether any of the side files `suffixes` of the database `path` exists."""
    return any(Path(f"{path}{s}").exists() for s in suffixes)


def backup_dir(register_path: Path) -> Path:
    """Where the automatic backups of the register at `register_path` live."""
    return register_path.parent / BACKUP_DIR


def backup_path(path: Path, reason: str = "migrate") -> Path:
    """A new name in the register's 备份 folder, in the form `list_backups` lists and prunes:
    ``<register>-<YYYYmmdd-HHMMSS-ffffff>-<reason>.dengji``."""
    folder = backup_dir(path)
    while True:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        candidate = folder / f"{path.stem}-{stamp}-{reason}.dengji"
        if not candidate.exists():
            return candidate


def backup_file(path: Path) -> Path:
    """Copy the (closed, checkpointed) register into its 备份 folder before it is migrated:
    written under a temporary name, flushed to disk, then renamed, so a backup that exists is
    whole."""
    target = backup_path(path)
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        shutil.copy2(path, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def list_backups(register_path: Path) -> list[Path]:
    """The automatic backups of the register at `register_path`, oldest first."""
    pattern = re.compile(
        re.escape(register_path.stem) + r"-\d{8}-\d{6}-\d{6}-(" + "|".join(REASONS) + r")\.dengji"
    )
    folder = backup_dir(register_path)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


def prune_backups(register_path: Path, keep: int = KEEP_BACKUPS) -> list[Path]:
    """Delete all but the newest `keep` automatic backups; return what was deleted."""
    old = list_backups(register_path)[:-keep] if keep > 0 else []
    for path in old:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return old
