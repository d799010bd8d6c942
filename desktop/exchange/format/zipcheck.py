"""Reading a package's zip safely: names, sizes and structure are checked before any member is
decompressed, and nothing is ever extracted to disk.

Refused: an empty file, a file that is not a zip, a damaged or truncated zip, bytes before
the first member or after the end record (a zip comment included: another program could read
the file differently), members whose data overlap, names with ``..``, absolute paths, drive
letters, backslashes or control characters, duplicate names, folders, links and other entries
that are no regular file (the Unix mode in external_attr), encrypted members, compression
other than stored/deflate, and members whose declared size is too large or far larger than
their compressed size (a zip bomb). All of that, the total and every member's declared size
included, is checked before any member is inflated; a member is then inflated only up to its
declared size (a stream that goes on is cut there and fails its CRC and length checks).
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from desktop.exchange.format.errors import PackageRefused


@dataclass(frozen=True)
class Limits:
    """Upper bounds for one package file (generous for a national roll-up, small for a bomb)."""

    max_file: int = 4 << 30  # bytes of the package file
    max_members: int = 50_000
    max_member: int = 2 << 30  # declared uncompressed size of one member
    max_total: int = 4 << 30  # declared uncompressed size of all members
    max_ratio: int = 100  # uncompressed / compressed, for members larger than ratio_from
    ratio_from: int = 1 << 20


LIMITS = Limits()
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALLOWED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def name_problem(name: str) -> str | None:
    """Why a member name is unsafe (Chinese), or None."""
    if not name:
        return "文件名为空"
    if len(name) > 255:
        return "文件名过长"
    if _CONTROL.search(name):
        return "文件名含控制字符"
    if "\\" in name:
        return "文件名含反斜杠"
    if name.startswith("/") or _DRIVE.match(name):
        return "是绝对路径"
    parts = name.split("/")
    if any(p == ".." for p in parts):
        return "含有“../”，会写到数据包以外的位置"
    if any(p in ("", ".") for p in parts):
        return "路径格式不正确"
    return None


def read_members(data: bytes, source: str, allowed: Callable[[str], bool],
                 limits: Limits = LIMITS) -> dict[str, bytes]:
    """Every member of the zip in `data`, by name, after all checks; PackageRefused otherwise.

    `allowed(name)` says whether a (safe) name may appear in a package at all.
    """

    def refuse(why: str) -> PackageRefused:
        return PackageRefused(f"数据包 {source} 被拒绝：{why}。未写入任何内容。", reason=why)

    if not data:
        raise refuse("文件为空（0 字节），可能在复制或下载时中断，请重新获取")
    if len(data) > limits.max_file:
        raise refuse("文件过大，超出数据包的大小上限")
    if not data.startswith(b"PK"):
        raise refuse("这不是登记软件的数据包（不是 zip 格式的 .djpkg 文件）")
    problem = _end_problem(data)
    if problem:
        raise refuse(problem)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception as err:  # zipfile raises many kinds on hostile input; all mean "damaged"
        raise refuse("文件已损坏或不完整（zip 结构无法读取），请重新获取") from err
    with archive:
        _check_infos(infos, len(data), allowed, limits, refuse)
        problem = _layout_problem(data, infos)
        if problem:
            raise refuse(problem)
        members: dict[str, bytes] = {}
        for info in infos:
            try:
                content = archive.read(info)
            except Exception as err:  # CRC mismatch, truncated data, bad deflate stream
                raise refuse(f"其中的 {info.filename} 已损坏（校验失败），请重新获取") from err
            if len(content) != info.file_size:
                raise refuse(f"其中的 {info.filename} 长度与记载不符")
            members[info.filename] = content
    return members


def _check_infos(infos: list[zipfile.ZipInfo], file_size: int, allowed: Callable[[str], bool],
                 limits: Limits, refuse: Callable[[str], PackageRefused]) -> None:
    if not infos:
        raise refuse("压缩包中没有任何文件")
    if len(infos) > limits.max_members:
        raise refuse("压缩包中的文件过多")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        problem = name_problem(name)
        if problem:
            raise refuse(f"其中的文件名“{name[:80]}”不安全（{problem}）")
        if name in seen:
            raise refuse(f"其中的 {name} 出现了不止一次")
        seen.add(name)
        if info.is_dir() or not allowed(name):
            raise refuse(f"其中有数据包格式以外的文件 {name}")
        kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
        if kind not in (0, stat.S_IFREG):
            raise refuse(f"其中的 {name} 不是普通文件（是{'符号链接' if kind == stat.S_IFLNK else '特殊文件'}）")
        if info.flag_bits & 0x1:
            raise refuse(f"其中的 {name} 经过 zip 加密，不是登记软件生成的")
        if info.compress_type not in _ALLOWED_METHODS:
            raise refuse(f"其中的 {name} 使用了不支持的压缩方式")
        if info.compress_size > file_size:
            raise refuse(f"其中的 {name} 记载的长度超出文件本身，文件不完整")
        if info.file_size > limits.max_member:
            raise refuse(f"其中的 {name} 解压后过大")
        if (info.file_size > limits.ratio_from
                and info.file_size > max(info.compress_size, 1) * limits.max_ratio):
            raise refuse(f"其中的 {name} 解压后比压缩时大得多（疑似“压缩炸弹”）")
        total += info.file_size
        if total > limits.max_total:
            raise refuse("解压后的总大小超出上限（疑似“压缩炸弹”）")


_END = b"PK\x05\x06"
_LOCAL = b"PK\x03\x04"


def _end_problem(data: bytes) -> str | None:
    """Why the end of `data` is not exactly a zip's end record (found as zipfile finds it)."""
    end = data.rfind(_END, max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or len(data) < end + 22:
        return "文件已损坏或不完整（找不到 zip 结尾记录），请重新获取"
    if end + 22 != len(data):
        return (f"文件结尾记录之后还有 {len(data) - end - 22} 字节多余的数据（或附有注释），"
                f"不是登记软件生成的数据包")
    return None


def _layout_problem(data: bytes, infos: list[zipfile.ZipInfo]) -> str | None:
    """Why the members are not laid end to end from the first byte, each where the central
    directory says, with no data shared by two of them."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    if ordered[0].header_offset != 0 or not data.startswith(_LOCAL):
        return "第一个文件之前还有多余的数据，不是登记软件生成的数据包"
    for info, after in zip(ordered, [*ordered[1:], None], strict=True):
        at = info.header_offset
        local = data[at:at + 30]
        if len(local) < 30 or not local.startswith(_LOCAL):
            return f"其中的 {info.filename} 位置记载有误，文件已损坏"
        stop = (at + 30 + int.from_bytes(local[26:28], "little")
                + int.from_bytes(local[28:30], "little") + info.compress_size)
        if after is not None and stop > after.header_offset:
            return f"其中的 {info.filename} 与 {after.filename} 的数据相互重叠（疑似“压缩炸弹”）"
    return None
