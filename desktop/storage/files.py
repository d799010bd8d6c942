"""The register as files on disk: flushing to disk, the SQLite side files (-wal, -shm,
-journal), a full disk, the automatic backups beside the register (their names, listing and
pruning), writing a file durably (`write_durably`: a kill leaves the old file or the whole new
one), and publishing a file only once the register has recorded it (`publish`).

Nothing here opens a database: storage/engine.py and storage/backup.py build on these.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from desktop.errors import KnownError
from desktop.paths import tracked_part

#: the files SQLite keeps beside a database while it is open or mid-transaction
SIDE_FILES = ("-wal", "-shm", "-journal")
#: the folder beside the register where every automatic backup goes
BACKUP_DIR = "备份"
KEEP_BACKUPS = 10
#: why an automatic backup was taken (part of its file name)
REASONS = ("manual", "migrate", "merge", "restore", "rekey")
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


def backup_file(path: Path, reason: str = "migrate") -> Path:
    """Copy the (closed, checkpointed) register into its 备份 folder before it is migrated or
    re-keyed: written under a temporary name, flushed to disk, then renamed, so a backup that
    exists is whole."""
    target = backup_path(path, reason)
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with tracked_part(tmp):
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
        for name in (path, path.with_name(path.name + "-recovery")):  # and its recovery slot
            with contextlib.suppress(FileNotFoundError):
                name.unlink()
    return old


def write_durably(path: Path, data: bytes,
                  before_rename: Callable[[], None] | None = None) -> None:
    """Write `data` under `path` so that a kill at any moment leaves the old file or the whole
    new one: a hidden part file beside `path` (removed at the next start if the process is
    killed: paths.tidy), written, flushed to disk, then `before_rename()`, the rename over
    `path` and a flush of the folder. On a failure before the rename the part is removed; every
    error is raised as it came (an OSError as it is)."""
    part = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.part"
    with tracked_part(part):
        try:
            with open(part, "xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if before_rename is not None:
                before_rename()
            os.replace(part, path)
        except BaseException:
            with contextlib.suppress(OSError):
                part.unlink()
            raise
    fsync(path.parent, directory=True)


def publish(path: Path, data: bytes, record: Callable[[], None]) -> None:
    """Write `data` under `path` only after `record()` (which commits what the register keeps
    about the file) has succeeded: `write_durably` with `record()` between the flush of the
    part file and the rename.

    Killed at any moment, this leaves no file under `path` unless the register has recorded it;
    a part file left by a kill is removed at the next start (paths.tidy). A failure before the
    rename (a full disk, an error in `record`) leaves neither the file nor the part, and
    `record`'s transaction is not committed (it raised, or was never called).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _write_error(path, err) from err
    step = ["write"]

    def recorded() -> None:
        step[0] = "record"
        record()
        step[0] = "rename"

    try:
        write_durably(path, data, recorded)
    except OSError as err:
        if step[0] == "write":
            raise _write_error(path, err) from err
        if step[0] == "rename":
            raise KnownError(
                f"登记库已记下这个文件，但无法把它保存为 {path}（{err.strerror or err}）。"
                "请检查该位置后重新操作一次（会生成新的编号）。") from err
        raise


def _write_error(path: Path, err: OSError) -> KnownError:
    if err.errno in DISK_FULL_ERRNOS:
        return DiskFull(f"磁盘空间不足，无法写入 {path}，操作未完成，登记库未作任何改动。"
                        "请腾出磁盘空间（或换一个保存位置）后重试。")
    return KnownError(f"无法写入 {path}（{err.strerror or err}），操作未完成，登记库未作任何改动。"
                      "请换一个有写入权限的位置后重试。")


def write_error(path: Path, err: OSError) -> KnownError:
    """What to say when writing to `path` failed (a full disk is DiskFull): nothing was written
    and the register was not changed (services/opendata.py, like `publish`)."""
    return _write_error(path, err)
