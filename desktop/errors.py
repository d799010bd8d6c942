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
