"""Writing a user's file safely: a hidden .part file beside it, moved into place only when it is
complete, with the usual Windows and disk failures said in Chinese."""

from __future__ import annotations

import contextlib
import errno
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

from desktop.errors import KnownError
from desktop.paths import tracked_part


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield the temporary path to write; on success it replaces `path` atomically.

    An existing file is never half-overwritten: on any failure it stays as it was and the
    temporary file is removed."""
    if not path.parent.is_dir():
        raise KnownError(f"文件夹不存在：{path.parent}。请先建好文件夹，或换一个保存位置。")
    part = path.with_name(f".{path.name}.part")
    failure = None
    try:
        with tracked_part(part):  # a killed export's part is removed at the next start
            yield part
            os.replace(part, path)
    except PermissionError:
        failure = f"无法写入 {path}：文件可能正在 Excel 或 WPS 中打开，请关闭后重试。"
    except OSError as err:
        failure = _failure(path, err)
        _close_zips(err)
    except Exception as err:  # xlsxwriter wraps the OSError of its final write (FileCreateError)
        cause = err.args[0] if err.args and isinstance(err.args[0], OSError) else None
        if cause is None:
            raise
        failure = _failure(path, cause)
        _close_zips(cause)
    finally:
        with contextlib.suppress(OSError):
            part.unlink()
    if failure is not None:
        raise KnownError(failure)


def _failure(path: Path, err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return f"磁盘空间不足，无法写入 {path}。已写的部分已删除，请腾出磁盘空间后重试。"
    return f"无法写入 {path}：{err.strerror}。请换一个保存位置。"


def _close_zips(err: BaseException) -> None:
    """A writer that failed mid-file (a full disk) leaves its zip half open, and the zip's
    finaliser would fail again and print a traceback at exit: close it now, quietly (a closed
    zip's finaliser does nothing)."""
    tb = err.__traceback__
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            if isinstance(value, zipfile.ZipFile):
                with contextlib.suppress(Exception):
                    value.close()
        tb = tb.tb_next
