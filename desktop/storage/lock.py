"""One writer per register: an OS lock on a small file beside it (`<register>.lock`).

The lock is taken when a register is opened and let go when it is closed; the operating system
lets go of it by itself when a process dies (even by SIGKILL), so a crash never leaves a register
locked. Within one process the lock is shared (counted), so code that opens the same register
twice in one process (tests, a check after a write) keeps working; a second process — another
window or a command — is told the register is in use.

POSIX uses ``fcntl.lockf`` (a record lock: unlike ``flock`` it is not shared with the worker
processes an import forks, which could outlive a killed parent), Windows ``msvcrt.locking`` on
the first byte of the lock file. A process opens the lock file only once (the count below), so
lockf's "closing any descriptor drops the lock" rule does not bite.
The last holder removes the lock file while it still holds the lock; a newcomer that locked the
old file notices it is gone and tries again. After a crash the file stays, unlocked and harmless.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import IO

from desktop.errors import KnownError

LOCK_SUFFIX = ".lock"


class RegisterInUse(KnownError):
    """Another process has the register open."""


_lock = threading.Lock()
_held: dict[str, list] = {}  # resolved register path -> [open lock file, count]


def lock_path(path: Path) -> Path:
    """The lock file of the register at `path`."""
    return path.with_name(path.name + LOCK_SUFFIX)


def _try_lock(fh: IO[bytes]) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.lockf(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _open_locked(target: Path, path: Path) -> IO[bytes]:
    """Open and lock `target`; retry if it was removed by its last holder meanwhile (the lock
    would then be on a file nobody else sees)."""
    for _ in range(20):
        try:
            fh = open(target, "a+b")  # noqa: SIM115 (kept open while the register is open)
        except OSError as err:
            raise KnownError(
                f"无法在登记库旁创建锁文件 {target}（{err.strerror}）。"
                "请确认登记库所在文件夹可以写入后重试。"
            ) from err
        if not _try_lock(fh):
            fh.close()
            raise RegisterInUse(
                f"登记库 {path} 正在被登记软件的另一个窗口或另一个命令使用。"
                "登记库没有损坏：请先关闭那个窗口（或等命令结束）后再试。"
            )
        try:
            if os.name == "nt" or os.stat(target).st_ino == os.fstat(fh.fileno()).st_ino:
                return fh
        except FileNotFoundError:
            pass
        fh.close()
    raise RegisterInUse(f"登记库 {path} 正在被其他程序反复打开和关闭。请稍后再试。")


def acquire(path: Path) -> str:
    """Lock the register at `path` for this process; return the key to pass to `release`.

    Raises RegisterInUse (a Chinese message) when another process holds it.
    """
    key = os.path.normcase(str(Path(path).resolve()))
    with _lock:
        held = _held.get(key)
        if held is not None:
            held[1] += 1
            return key
        target = lock_path(Path(path))
        fh = _open_locked(target, path)
        _held[key] = [fh, 1]
        return key


def release(key: str) -> None:
    """Let go of one use of the lock; the last one unlocks and closes the lock file."""
    with _lock:
        held = _held.get(key)
        if held is None:
            return
        held[1] -= 1
        if held[1] > 0:
            return
        del _held[key]
        fh = held[0]
        if os.name != "nt":  # remove while still locked: a newcomer then makes a fresh file
            with contextlib.suppress(OSError):
                os.remove(fh.name)
        if os.name == "nt":
            import msvcrt

            try:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
            except OSError:
                pass
        fh.close()  # closing also ends the lock
        if os.name == "nt":
            with contextlib.suppress(OSError):
                os.remove(fh.name)
