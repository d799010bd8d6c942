"""What the user gives the program to read, checked before it is read.

- `regular_file(path, what)`: every file the program reads at a user's word (workbooks, .jsonl,
  packages, key files, registers and backups) must be a regular file, or a link to one. A FIFO
  would block the reader forever, a device (/dev/zero) never ends, a folder is no file: each is
  refused at once with a message, before anything opens it.
- `zip_limit(size)` and `check_zip(path, what)`: a zip container on disk (an .xlsx workbook)
  inflates to no more than a limit set from the file's size. The central directory's declared
  sizes and compression ratios are checked first; with `inflate=True` every member is also
  inflated once as a stream and counted, since a declared size can lie and python-calamine
  (which reads the workbook itself) believes the stream, not the size: a member that inflates
  past its declared size, or past the limit, is refused before calamine sees it. Python's
  zipfile reads a member only up to its declared size, so readers that use it are bounded by
  the declared sizes checked here.

Used by every layer (errors, paths, progress, processes and this module are the base).
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from pathlib import Path

from desktop.errors import UsageError

#: what any workbook may inflate to, however small its file
FLOOR = 64 << 20
#: how many times its own size a zip file may inflate to in all (real workbooks: 5–30×)
MAX_RATIO = 100
#: how many times its compressed size one large member may inflate to (deflate's best is
#: about 1,030×; sheet XML of real registers 8–40×)
MAX_MEMBER_RATIO = 250
#: members smaller than this are not held to MAX_MEMBER_RATIO (a styles part of one fill)
RATIO_FROM = 4 << 20
#: the most one zip may ever inflate to
CEILING = 8 << 30
_CHUNK = 1 << 16

_KINDS = ((stat.S_ISDIR, "一个文件夹"), (stat.S_ISFIFO, "一个命名管道（FIFO）"),
          (stat.S_ISCHR, "一个设备"), (stat.S_ISBLK, "一个设备"), (stat.S_ISSOCK, "一个套接字"))


def regular_file(path: str | os.PathLike[str], what: str = "文件") -> Path:
    """`path` if it is a regular file (or a link to one); else a UsageError saying what it is.
    Nothing is opened: a FIFO or a device is refused without blocking."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise UsageError(f"{what} {path} 是一个指向不存在文件的链接。请选择实际的文件") from None
        raise UsageError(f"找不到文件：{path}（{what}）。请检查路径和文件名") from None
    except OSError as err:
        raise UsageError(f"无法读取{what} {path}（{err.strerror or err}）。请检查路径") from None
    if stat.S_ISREG(st.st_mode):
        return path
    kind = next((name for test, name in _KINDS if test(st.st_mode)), "一个特殊文件")
    link = "（通过链接）" if path.is_symlink() else ""
    raise UsageError(f"{path} {link}是{kind}，不是普通文件，不能作为{what}读取。请选择一个普通文件")


def zip_limit(size: int) -> int:
    """How many bytes a zip file of `size` bytes may inflate to in all."""
    return min(max(FLOOR, size * MAX_RATIO), CEILING)


def check_zip(path: Path, what: str = "工作簿", *, inflate: bool = False) -> None:
    """Refuse (UsageError, in Chinese) a zip file at `path` that would inflate past
    zip_limit() of its size, by its central directory; with `inflate`, also by inflating every
    member once as a stream (nothing is kept). A file that is no zip passes: its reader says
    what it is."""
    path = regular_file(path, what)
    size = path.stat().st_size
    limit = zip_limit(size)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError):
        return
    with zf:
        infos = zf.infolist()
        total = 0
        for info in infos:
            total += info.file_size
            if total > limit:
                raise bomb_error(path, what, f"解压后共超过 {limit >> 20} MB，而文件只有 "
                                        f"{_mb(size)}")
            if (info.file_size >= RATIO_FROM
                    and info.file_size > max(info.compress_size, 1) * MAX_MEMBER_RATIO):
                raise bomb_error(path, what, f"其中的 {info.filename[:80]} 解压后为压缩时的 "
                                        f"{info.file_size // max(info.compress_size, 1)} 倍")
        if inflate:
            _inflate_all(path, what, infos, limit)


def _inflate_all(path: Path, what: str, infos: list[zipfile.ZipInfo], limit: int) -> None:
    """Inflate every member as a stream, counting: none may give more than its declared size
    (or stop short of it), and all together no more than `limit`."""
    total = 0
    with open(path, "rb") as fh:
        for info in infos:
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
                    or info.flag_bits & 1:
                continue  # calamine refuses what it cannot inflate; nothing to count
            fh.seek(info.header_offset)
            local = fh.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                return  # damaged: the reader says so
            fh.seek(info.header_offset + 30 + int.from_bytes(local[26:28], "little")
                    + int.from_bytes(local[28:30], "little"))
            got = _inflated_size(fh, info, info.file_size + 1)
            total += max(got, 0)
            if got > info.file_size:
                raise bomb_error(path, what, f"其中的 {info.filename[:80]} 实际解压后比记载的 "
                                             f"{_mb(info.file_size)} 更大（记载的大小不实）")
            if got != info.file_size:
                raise UsageError(f"{what} {path} 已损坏：其中的 {info.filename[:80]} 解压后的长度"
                                 f"与记载不符。请重新获取文件，或在 Excel 或 WPS 中打开后另存为 .xlsx")
            if total > limit:
                raise bomb_error(path, what, f"解压后共超过 {limit >> 20} MB")


def _inflated_size(fh, info: zipfile.ZipInfo, most: int) -> int:
    """The bytes the member at fh's position inflates to, counting no further than `most`."""
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        return min(left, most)
    inflate = zlib.decompressobj(-15)
    got = 0
    pending = b""
    try:
        while got < most:
            if not pending:
                if left <= 0:
                    break
                pending = fh.read(min(_CHUNK, left))
                if not pending:
                    break
                left -= len(pending)
            out = inflate.decompress(pending, _CHUNK)
            got += len(out)
            pending = inflate.unconsumed_tail
            if inflate.eof:
                break
    except zlib.error:
        return -1
    return got


def bomb_error(path: Path, what: str, why: str) -> UsageError:
    """The refusal of a file that would inflate far past its size (`why` says how)."""
    return UsageError(f"{what} {path} 被拒绝：{why}，疑似“压缩炸弹”（很小的文件解压后占用巨大内存）。"
                      f"未读取任何内容。如确为正常文件，请在 Excel 或 WPS 中打开后另存为 .xlsx 再试")


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB" if size >= 1 << 20 else f"{size} 字节"
