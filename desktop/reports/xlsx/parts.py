"""Reading one large worksheet of an .xlsx in parts, so several cores can read it at once.

python-calamine parses a whole sheet before its first row exists, on one core. For a large
.xlsx sheet the sheet's XML is instead inflated here as a stream and cut at row boundaries
into parts; each part is read by python-calamine on its own (in a worker) as a small workbook
of that one sheet which keeps the original styles (date formats), shared strings and date
system. So every cell is read by calamine exactly as in a read of the whole sheet; only the
position of the part's first cell is put back (`read_part` → first row, first column).

- `open_package(path)` → a `Package` with the workbook's sheets, or None when the file is no
  zip workbook (the caller then reads it whole, which also words what is wrong with it).
- `Package.head(name)` → the sheet's first rows as calamine gives them for the whole sheet
  (from A1, empty cells ""), enough to find the header row.
- `Package.spans(name, size, store)` inflates the XML of the sheet's rows and hands each part
  of about `size` bytes to `store` (a file the workers read) as it is ready, holding only the
  part being cut; `Package.parts(name, size)` gives the parts as bytes.
- `read_part(book, xml)` → (first row, first column, rows) of one part, 0-based.

`Unusable` means the fast way does not fit this file (rows without row numbers, a damaged
stream): read it whole.

Bounds: open_package refuses what is no regular file and a zip whose declared sizes pass the
limit of its size (desktop.inputs.check_zip); the sheet's XML is inflated only up to its
declared size — a stream that goes on is refused as it goes (`_stream`), and the other parts
(styles, shared strings) are read by zipfile, which stops at their declared sizes.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from posixpath import dirname, normpath
from typing import Any
from xml.etree import ElementTree

import python_calamine as pc

from desktop.inputs import bomb_error, check_zip, regular_file

#: rows of the head: the header row is looked for among the first 30 (reports.xlsx.read)
HEAD_ROWS = 40
_REL = "/relationships/"
_SHEET_DATA = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData\b[^>]*?(/?)>")
_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?worksheet)\b")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*/>")
_LAST_CELL = re.compile(rb"\bref\s*=\s*[\"'][A-Za-z$]*\d+(?::\$?([A-Za-z]+)\$?(\d+))?")
_SHARED_CELL = re.compile(rb"<c\b[^>]*\bt=\"s\"[^>]*>\s*<v>(\d+)</v>")
_ANY_SHARED = re.compile(rb"\st\s*=\s*[\"']s[\"']")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '{pr}<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


class Unusable(Exception):
    """This workbook is read whole instead (see the module docstring)."""


@dataclass(frozen=True)
class Sheet:
    name: str
    member: str  # the sheet's XML in the zip
    visible: bool
    worksheet: bool  # not a chart sheet or dialog sheet
    size: int  # bytes of its XML, inflated


@dataclass(frozen=True)
class Book:
    """What every part's small workbook shares: the worksheet's start and end tags, styles,
    shared strings and date system."""

    head: bytes  # the worksheet XML up to <sheetData>, without <dimension>
    height: int  # the last row its <dimension> names (0: not said)
    width: int  # the number of columns up to the last one it names (0: not said)
    tail: bytes  # </sheetData></worksheet>
    styles: bytes
    strings: bytes
    date1904: bool


class Package:
    """An .xlsx/.xlsm as a zip: its sheets and the parts their XML is read in."""

    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.path, self._zip = path, zf
        workbook = _target(zf, "_rels/.rels", "", "officeDocument")
        if workbook is None:
            raise Unusable("no workbook part")
        base = dirname(workbook)
        #: the workbook part and its relationships part (annotate_stream adds a sheet there)
        self.workbook, self.workbook_rels = workbook, f"{base}/_rels/{workbook.rsplit('/', 1)[-1]}.rels"
        rels = _relations(zf, self.workbook_rels, base)
        root = _xml(zf, workbook)
        self.date1904 = any(_local(e.tag) == "workbookPr"
                            and e.get("date1904", "").lower() in ("1", "true")
                            for e in root.iter())
        self.sheets: list[Sheet] = []
        for e in root.iter():
            if _local(e.tag) != "sheet":
                continue
            rid = next((v for k, v in e.attrib.items() if _local(k) == "id"), None)
            kind, member = rels.get(rid or "", ("", ""))
            info = zf.NameToInfo.get(member)
            self.sheets.append(Sheet(e.get("name", ""), member,
                                     e.get("state", "visible") == "visible",
                                     kind == "worksheet" and info is not None,
                                     info.file_size if info else 0))
        self._styles = next((m for k, m in rels.values() if k == "styles"), None)
        self.styles = self._styles  # the styles part, if any
        self._strings = next((m for k, m in rels.values() if k == "sharedStrings"), None)
        self._book: dict[str, Book] = {}

    def close(self) -> None:
        self._zip.close()

    @property
    def zip(self) -> zipfile.ZipFile:
        return self._zip

    def xml(self, name: str) -> Iterator[bytes]:
        """The sheet's whole XML inflated as a stream (no more than its declared size)."""
        return self._stream(name, 1 << 16)

    def worksheets(self, sheet: str | None = None) -> list[str]:
        """The sheet asked for if it is a worksheet, else every visible worksheet, as
        reports.xlsx.book.worksheet_names picks them ([] when the sheet asked for is none)."""
        if sheet is not None:
            return [s.name for s in self.sheets if s.name == sheet and s.worksheet]
        return [s.name for s in self.sheets if s.visible and s.worksheet]

    def sheet(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)

    def book(self, name: str) -> Book:
        """What a part of this sheet needs besides its rows."""
        found = self._book.get(name)
        if found is None:
            stream = self._stream(name, 1 << 15)
            head, prefix, _ = _sheet_start(stream)
            stream.close()
            root = _ROOT.search(head)
            if root is None:
                raise Unusable("no worksheet element")
            size = _DIMENSION.search(head)
            last = _LAST_CELL.search(size[0]) if size else None
            found = self._book[name] = Book(
                _DIMENSION.sub(b"", head), int(last[2]) if last and last[2] else 0,
                _column_count(last[1]) if last and last[1] else 0,
                b"</" + prefix + b"sheetData></" + root[1] + b">",
                self._member(self._styles), self._member(self._strings), self.date1904)
        return found

    def head(self, name: str, rows: int = HEAD_ROWS) -> list[list[Any]]:
        """The sheet's first `rows` rows (at least) as a read of the whole sheet gives them."""
        book = self.book(name)
        stream = self._stream(name, 1 << 15)
        _, prefix, buf = _sheet_start(stream)
        tag, end = b"<" + prefix + b"row", b"</" + prefix + b"sheetData>"
        while True:
            stop = buf.find(end)
            if stop >= 0:
                buf = buf[:stop]
                break
            if buf.count(tag) > rows:
                buf = buf[:buf.rfind(tag)]
                break
            more = next(stream, b"")
            if not more:
                raise Unusable("the sheet's XML ends early")
            buf += more
        stream.close()
        if buf.count(tag) != len(re.findall(re.escape(tag) + rb"\b[^>]*?\sr\s*=", buf)):
            raise Unusable("rows without a row number")
        head = replace(book, strings=_strings_for(book.strings, buf))
        sheet = _open_part(head, buf)
        return sheet.to_python(skip_empty_area=False) if sheet is not None else []

    def parts(self, name: str, size: int) -> Iterator[bytes]:
        """The XML of the sheet's rows in parts of about `size` bytes, each cut before a row
        (one part in memory at a time)."""
        kept: list[bytes] = []
        for _ in self.spans(name, size, lambda start, data: kept.append(data)):
            yield kept.pop()

    def spans(self, name: str, size: int, store: Callable[[int, bytes], Any]
              ) -> Iterator[tuple[int, int]]:
        """Inflate the XML of the sheet's rows and yield the (start, end) of each part of about
        `size` bytes as soon as it is there, each cut before a row; `store(start, xml)` is
        given each part's XML first (to write it where workers read it). Only the part being
        cut is held here, never the whole sheet."""
        stream = self._stream(name, max(size // 256, 1 << 15))
        _, prefix, carry = _sheet_start(stream)
        tag, end = b"<" + prefix + b"row", b"</" + prefix + b"sheetData>"
        window = bytearray()  # the XML from `base` on: the part being cut
        base, declared = 0, self.sheet(name).size
        for block in itertools.chain([carry], stream):
            if base + len(window) + len(block) > declared:
                raise Unusable("the sheet's XML is longer than its zip entry says")
            looked = max(len(window) - len(end) + 1, 0)  # the end tag may straddle two blocks
            window += block
            stop = window.find(end, looked)
            limit = stop if stop >= 0 else len(window)
            while limit >= size:
                cut = window.find(tag, max(size, 1), limit)
                if cut < 0:  # the part's last row goes on in the next block
                    break
                store(base, bytes(window[:cut]))
                yield base, base + cut
                del window[:cut]
                base, limit = base + cut, limit - cut
                stop = stop - cut if stop >= 0 else stop
            if stop >= 0:
                for _ in stream:  # the rest, so its CRC is checked before the last part
                    pass
                if window.find(b"<", 0, stop) >= 0:
                    store(base, bytes(window[:stop]))
                    yield base, base + stop
                return
        raise Unusable("the sheet's XML ends early")

    def _stream(self, name: str, size: int) -> Iterator[bytes]:
        """The sheet's XML inflated, in blocks of about `size` compressed bytes; checked against
        its CRC at the end."""
        info = self._zip.NameToInfo[self.sheet(name).member]
        if info.flag_bits & 1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                             zipfile.ZIP_DEFLATED):
            raise Unusable("an encrypted or unusual zip entry")
        try:
            with open(self.path, "rb") as fh:
                fh.seek(info.header_offset)
                local = fh.read(30)
                if local[:4] != b"PK\x03\x04":
                    raise Unusable("a damaged zip entry")
                fh.seek(info.header_offset + 30 + int.from_bytes(local[26:28], "little")
                        + int.from_bytes(local[28:30], "little"))
                inflate = (zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED
                           else None)
                left, crc, room = info.compress_size, 0, info.file_size

                def blocks() -> Iterator[bytes]:
                    nonlocal left
                    while left > 0:
                        raw = fh.read(min(size, left))
                        if not raw:
                            raise Unusable("the zip entry ends early")
                        left -= len(raw)
                        while raw:  # never more than the declared size is inflated
                            yield inflate.decompress(raw, room + 1) if inflate else raw
                            raw = inflate.unconsumed_tail if inflate else b""
                    if inflate is not None:
                        yield inflate.flush()

                for out in blocks():
                    room -= len(out)
                    if room < 0:
                        raise bomb_error(self.path, "工作簿", f"其中的 {info.filename[:80]} "
                                         f"实际解压后比记载的大小更大（记载的大小不实）")
                    crc = zlib.crc32(out, crc)
                    yield out
                if crc != info.CRC:
                    raise Unusable("the sheet's XML fails its CRC check")
        except (OSError, zlib.error) as err:
            raise Unusable(str(err)) from None

    def _member(self, member: str | None) -> bytes:
        """A part read whole (zipfile stops at its declared size: a stream that goes on fails
        its CRC check, and the workbook is read whole, which refuses it)."""
        try:
            return self._zip.read(member) if member and member in self._zip.NameToInfo else b""
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise Unusable(str(err)) from None


def open_package(path: Path) -> Package | None:
    """The workbook as a zip package, or None when it is none (or not one this can read);
    a UsageError when it is no regular file or would inflate past its size's limit."""
    check_zip(regular_file(path, "工作簿"))
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    try:
        return Package(Path(path), zf)
    except (Unusable, KeyError, ElementTree.ParseError, zipfile.BadZipFile, zlib.error,
            EOFError, OSError, ValueError):
        zf.close()
        return None


def read_part(book: Book, xml: bytes) -> tuple[int, int, list[list[Any]]]:
    """(first row, first column, rows) of one part, 0-based: rows[i][j] is the cell at row
    first row + i, column first column + j, as calamine reads it in the whole sheet."""
    if not xml.strip():
        return 0, 0, []
    m = _ROW_NUMBER.search(xml, 0, xml.find(b">") + 1)
    if m is None:
        raise Unusable("a row without a row number")
    sheet = _open_part(book, xml)
    if sheet is None or sheet.start is None:
        return int(m[1]) - 1, 0, []
    row, col = sheet.start
    if row < int(m[1]) - 1:  # calamine numbered rows itself: some have no number
        raise Unusable("rows without a row number")
    return row, col, sheet.to_python(skip_empty_area=True)


def _open_part(book: Book, rows: bytes) -> Any:
    buf = io.BytesIO()
    pr = '<workbookPr date1904="1"/>' if book.date1904 else ""
    rels = [("rId1", "worksheet", "worksheets/sheet1.xml")]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        out.writestr("[Content_Types].xml", _CONTENT_TYPES)
        out.writestr("_rels/.rels", _ROOT_RELS)
        out.writestr("xl/workbook.xml", _WORKBOOK.format(pr=pr))
        if book.styles:
            out.writestr("xl/styles.xml", book.styles)
            rels.append(("rId2", "styles", "styles.xml"))
        if book.strings:
            out.writestr("xl/sharedStrings.xml", book.strings)
            rels.append(("rId3", "sharedStrings", "sharedStrings.xml"))
        out.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
            '"http://schemas.openxmlformats.org/package/2006/relationships">' + "".join(
                f'<Relationship Id="{i}" Type="{_TYPE}{t}" Target="{p}"/>' for i, t, p in rels)
            + "</Relationships>").encode())
        with out.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(book.head)
            sheet.write(rows)
            sheet.write(book.tail)
    buf.seek(0)
    try:
        return pc.CalamineWorkbook.from_filelike(buf).get_sheet_by_index(0)
    except pc.CalamineError as err:
        raise Unusable(str(err)) from None


def _strings_for(strings: bytes, xml: bytes) -> bytes:
    """The shared strings the rows of `xml` use: the table up to the highest index they name
    (the whole table when that cannot be told), so a few rows do not cost a read of all."""
    found = _SHARED_CELL.findall(xml)
    first = strings.find(b"<si")
    if first < 0 or len(found) != len(_ANY_SHARED.findall(xml)):
        return strings
    pos = first
    for _ in range(max(map(int, found), default=-1) + 1):
        start = strings.find(b"<si", pos)
        close = strings.find(b">", start)
        if start < 0 or close < 0 or strings[start + 3:start + 4] not in (b">", b" ", b"/"):
            return strings
        if strings[close - 1:close] == b"/":  # <si/>
            pos = close + 1
            continue
        end = strings.find(b"</si>", close)
        if end < 0:
            return strings
        pos = end + 5
    return strings[:pos] + b"</sst>"


def _sheet_start(stream: Iterator[bytes]) -> tuple[bytes, bytes, bytes]:
    """(the XML up to and with <sheetData>, the tags' prefix, what was read after it)."""
    buf = b""
    for more in stream:
        buf += more
        m = _SHEET_DATA.search(buf)
        if m is not None:
            if m[2]:  # <sheetData/>: no rows
                raise Unusable("an empty sheet")
            return buf[:m.end()], m[1], buf[m.end():]
        if len(buf) > 64 << 20:
            break
    raise Unusable("no sheetData element")


def _column_count(letters: bytes) -> int:
    """"AD" → 30: the columns up to and with that one."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml(zf: zipfile.ZipFile, member: str) -> ElementTree.Element:
    return ElementTree.fromstring(zf.read(member))


def _relations(zf: zipfile.ZipFile, member: str, base: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type's last word, member path) of a .rels part."""
    out: dict[str, tuple[str, str]] = {}
    if member not in zf.NameToInfo:
        return out
    for e in _xml(zf, member):
        target, kind = e.get("Target", ""), e.get("Type", "")
        if e.get("TargetMode") == "External" or _REL not in kind:
            continue
        path = target.lstrip("/") if target.startswith("/") else normpath(f"{base}/{target}")
        out[e.get("Id", "")] = (kind.rsplit("/", 1)[-1], path.lstrip("/"))
    return out


def _target(zf: zipfile.ZipFile, member: str, base: str, kind: str) -> str | None:
    return next((p for k, p in _relations(zf, member, base).values() if k == kind), None)
