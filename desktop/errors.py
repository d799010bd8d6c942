"""Two kinds of failure (qutebrowser's KnownError/BugError habit).

`KnownError` is something the user can fix: its message is Chinese, names the file, row and
field where it can, and says what to do. Anything else is a bug and is reported as one.
"""

from __future__ import annotations


class KnownError(Exception):
    """A failure the user can act on. `str(err)` is the Chinese message shown to them."""

    #: exit status for the command line: 1 = input refused, 2 = wrong usage / unreadable input
    exit_code: int = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(KnownError):
    """Wrong usage or an unreadable input file (exit status 2)."""

    exit_code = 2


class WrongPassphrase(KnownError):
    """The passphrase does not open the register."""


class NotARegister(KnownError):
    """The file is not a Dengji register (or is damaged)."""

    exit_code = 2


class NewerSchema(KnownError):
    """The register was written by a newer version of Dengji; it is left untouched."""


class FormSpecError(KnownError):
    """A form definition in forms/ is malformed; the message names the file and key."""

    exit_code = 2


# --- crash reports ---------------------------------------------------------------------------

#: what a crash report may say about an OSError or a database driver's error: its code only
_CODE_ATTRIBUTES = ("errno", "sqlite_errorname", "sqlite_errorcode")


def crash_report(error: BaseException) -> str:
    """The text of a crash report: where the program failed, never what the data was.

    Only exception types, error codes and the stack (file, line, function; the source line of
    the program's own code) are written — no exception message, since messages carry values
    (SQLAlchemy's name the SQL parameters, a ValueError the text it could not read), and no
    local variables."""
    import platform
    import sys
    import traceback
    from pathlib import Path

    own = str(Path(__file__).resolve().parent)

    lines = [f"Dengji crash report, Python {platform.python_version()}, {sys.platform}",
             "(exception messages are left out: they can hold personal data)", ""]
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for i, exc in enumerate(reversed(chain)):
        if i:
            lines += ["", "During handling of the above, another exception occurred:", ""]
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(exc.__traceback__):
            lines.append(f'  File "{_short_path(frame.filename)}", line {frame.lineno}, '
                         f"in {frame.name}")
            if frame.line and str(Path(frame.filename).resolve()).startswith(own):
                lines.append(f"    {frame.line.strip()}")
        lines.append(_describe(exc))
        orig = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
        if isinstance(orig, BaseException):
            lines.append(f"  driver error: {_describe(orig)}")
    return "\n".join(lines) + "\n"


def _describe(exc: BaseException) -> str:
    kind = type(exc)
    codes = [f"{name}={getattr(exc, name)!r}" for name in _CODE_ATTRIBUTES
             if isinstance(getattr(exc, name, None), int | str)]
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return name + (f" ({', '.join(codes)})" if codes else "")


def _short_path(filename: str) -> str:
    """The path from the package folder on (no user's home folder in the report)."""
    parts = filename.replace("\\", "/").split("/")
    for anchor in ("desktop", "site-packages", "lib"):
        if anchor in parts:
            return "/".join(parts[len(parts) - 1 - parts[::-1].index(anchor):])
    return parts[-1]


def write_crash_report(error: BaseException) -> str:
    """Write `crash_report(error)` to a new file in the reports folder, readable by its owner
    only (folder 0700, file 0600); its path, or a sentence saying it could not be written."""
    import os
    from datetime import datetime

    from desktop.paths import user_data_dir

    try:
        folder = user_data_dir() / "reports"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for n in range(100):
            path = folder / (f"crash-{stamp}.txt" if n == 0 else f"crash-{stamp}-{n}.txt")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(crash_report(error))
            return str(path)
    except OSError:
        pass
    return "（无法写入报告文件）"
