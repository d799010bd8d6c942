"""Why a package is refused: a KnownError whose message names the package and the reason."""

from __future__ import annotations

from desktop.errors import KnownError


class PackageRefused(KnownError):
    """A package (or return file) fails a check; nothing of it is written (exit status 1).

    `reason` is the reason alone, without the package's name (for a list of checks).
    """

    exit_code = 1

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message
