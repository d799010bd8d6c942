"""Reading a package's zip safely: names, sizes and structure are checked before any member is
decompressed, and nothing is ever extracted to disk.

Refused: an empty file, a file that is not a zip, a damaged or truncated zip, names with ``..``,
absolute paths, drive letters, backslashes or control characters, duplicate names, folders,
encrypted members, compression other than stored/deflate, and members whose declared size is
too large or far larger than their compressed size (a zip bomb). A member is read only up to
its declared size, and zipfile checks its CRC at the end.
"""

from __future__ import annotations

import io
import re
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
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception as err:  # zipfile raises many kinds on hostile input; all mean "damaged"
        raise refuse("文件已损坏或不完整（zip 结构无法读取），请重新获取") from err
    with archive:
        _check_infos(infos, len(data), allowed, limits, refuse)
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
