"""One resolver for shipped data and user data (Vorta's get_asset habit).

The shipped data are two folders at the top of the repository: forms/ (form definitions and code
tables) and resources/ (the font and its licences). Each way of running finds them so:

- Source checkout (`python -m desktop`, pytest): this module is <checkout>/desktop/paths.py and
  the folders are <checkout>/forms and <checkout>/resources.
- Editable install (`make` runs `pip install -e '.[test]'`): the installed finder imports
  desktop/ from the checkout itself, so this module and the folders are those of the checkout.
- Installed wheel: pyproject.toml maps both folders into the data package desktop._shipped
  (package-dir plus package-data), so they lie beside this module in
  site-packages/desktop/_shipped/forms and site-packages/desktop/_shipped/resources.
- PyInstaller bundle: build.spec collects both folders into the bundle's own folder,
  sys._MEIPASS/forms and sys._MEIPASS/resources.

DENGJI_FORMS_DIR, when set, names the forms folder in all four (tests, trying out a new form).

User data also holds the private work folder (`scratch`): temporary files that hold personal
data (a package's workbooks and PDFs before they are packed) live there, owner-only, and go when
the work ends. Part files that must lie beside their target (a package, a backup, a restore:
renamed into place at the end) are noted there while they exist (`tracked_part`). `tidy` removes
what a killed process left of both; the command line and the window run it at start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

#: the private work folder and the notes of part files in progress, inside user_data_dir()
SCRATCH, PARTS = "tmp", "parts"


def _root() -> Path:
    """The folder holding forms/ and resources/."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    here = Path(__file__).resolve().parent
    shipped = here / "_shipped"  # only an installed wheel has it
    return shipped if shipped.is_dir() else here.parent


def forms_dir() -> Path:
    """The folder of form definitions (forms/*.toml) and code tables (forms/codes/)."""
    override = os.environ.get("DENGJI_FORMS_DIR")
    return Path(override) if override else _root() / "forms"


def resources_dir() -> Path:
    return _root() / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Where the default register lives (made on first run)."""
    override = os.environ.get("DENGJI_HOME")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "Dengji"


def default_db_path() -> Path:
    return user_data_dir() / "register.dengji"


def private_dir(*parts: str) -> Path:
    """A folder under user data that only the owner may enter (0700), made when missing."""
    folder = user_data_dir().joinpath(*parts)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name != "nt":
        os.chmod(folder, 0o700)  # mkdir's mode is cut by the umask; an old folder may be wider
    return folder


@contextlib.contextmanager
def scratch(prefix: str = "work") -> Iterator[Path]:
    """A new owner-only folder for temporary files that hold personal data; removed with what
    it holds when the block ends (and by `tidy` if the process is killed first)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{prefix}-", dir=private_dir(SCRATCH)))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def tracked_part(part: Path) -> Iterator[Path]:
    """Note `part` (a file written beside its target and renamed into place at the end) while
    the block runs, so that `tidy` removes it if the process dies before it is renamed or
    removed. The caller renames or removes the part itself. A note that cannot be written (a
    read-only home folder) does not stop the work: the part is then only removed by the work."""
    note: Path | None = None
    with contextlib.suppress(OSError):
        note = private_dir(PARTS) / f"{os.getpid()}-{uuid.uuid4().hex}"
        note.write_text(str(Path(part).absolute()), encoding="utf-8")
    try:
        yield part
    finally:
        if note is not None:
            with contextlib.suppress(OSError):
                note.unlink()


def tidy() -> list[Path]:
    """Remove what killed processes left: their scratch folders and their noted part files
    (with a database's -wal, -shm and -journal). Work of running processes is left alone.
    Returns what was removed; never raises for a file it cannot remove."""
    removed: list[Path] = []
    root = user_data_dir()
    with contextlib.suppress(OSError):
        for folder in (root / SCRATCH).iterdir():
            if not _owner_alive(folder.name):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    with contextlib.suppress(OSError):
        for note in (root / PARTS).iterdir():
            if _owner_alive(note.name):
                continue
            with contextlib.suppress(OSError, UnicodeError):
                part = Path(note.read_text(encoding="utf-8"))
                if part.name.endswith(".part") and part.is_dir() and not part.is_symlink():
                    shutil.rmtree(part, ignore_errors=True)  # a part folder (open data export)
                    removed.append(part)
                for suffix in ("", "-wal", "-shm", "-journal"):
                    side = Path(f"{part}{suffix}")
                    if side.is_file() and not side.is_symlink():
                        side.unlink()
                        removed.append(side)
            with contextlib.suppress(OSError):
                note.unlink()
    return removed


def _owner_alive(name: str) -> bool:
    """Whether the process whose id starts `name` ("<pid>-…") is running (True when unsure)."""
    head = name.split("-", 1)[0]
    if not head.isdigit():
        return True
    pid = int(head)
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would end the process on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
