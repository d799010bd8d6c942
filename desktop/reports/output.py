"""Writing a user's file safely: a hidden .part file beside it, moved into place only when it is
complete, with the usual Windows and disk failures said in Chinese."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from desktop.errors import KnownError


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield the temporary path to write; on success it replaces `path` atomically.

    An existing file is never half-overwritten: on any failure it stays as it was and the
    temporary file is removed."""
    if not path.parent.is_dir():
        raise KnownError(f"文件夹不存在：{path.parent}。请先建好文件夹，或换一个保存位置。")
    part = path.with_name(f".{path.name}.part")
    try:
        yield part
        os.replace(part, path)
    except PermissionError:
        raise KnownError(f"无法写入 {path}：文件可能正在 Excel 或 WPS 中打开，请关闭后重试。"
                         ) from None
    except OSError as err:
        raise KnownError(f"无法写入 {path}：{err.strerror}。请换一个保存位置。") from None
    finally:
        with contextlib.suppress(OSError):
            part.unlink()
