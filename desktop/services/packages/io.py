"""Reading and writing the files of the package use cases: a package, a key file, a return
file — with the Chinese messages a clerk can act on. Shared by services/packages.py, keys.py,
package_merge.py and package_review.py."""

from __future__ import annotations

from pathlib import Path

from desktop.errors import KnownError, UsageError
from desktop.inputs import regular_file
from desktop.reports.output import atomic_file

#: who the audit log names when the `dengji` command does the work
ACTOR = "命令行"


def read_file(path: Path, what: str = "数据包") -> bytes:
    """The bytes of `path`; UsageError naming the file when it cannot be read or is no regular
    file (a FIFO or a device is refused, not read)."""
    try:
        return regular_file(path, what).read_bytes()
    except OSError as err:
        raise UsageError(f"无法读取{what} {path}（{err.strerror or err}）。请检查路径。") from err


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (reports.output.atomic_file), making its
    folder first."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise KnownError(f"无法写入 {path}（{err.strerror or err}）。请换一个有写入权限的位置。") from err
    with atomic_file(path) as part:
        part.write_bytes(data)
