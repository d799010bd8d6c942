"""The bulk of a record sheet, written as the sheet's XML directly: every row after the first.

XlsxWriter writes each sheet whole — the title, seed and header rows, the column styles, the
drop-downs, the protection, the print setup — and its first record row with that row's QR
image. It spends about ten microseconds on each cell, 4 s on the 420,000 cells of a 10,000
record sample, so the other rows are added here to what it wrote: each row as XML text, in the
styles XlsxWriter numbered (read back from cells it wrote in them: styles_at), inline strings,
typed as text (never a formula, with the quote prefix where cells.needs_quote says so, characters XML cannot hold escaped as XlsxWriter
escapes them); and each row's QR image as a copy of the first row's picture anchor one row further down, with its PNG
as a media part of the drawing (stored, not deflated again). The rows are the same cells the
first row has; tests compare a written workbook cell by cell with what was given.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from io import BytesIO
from xml.sax.saxutils import escape

from desktop.reports.xlsx.cells import FORMULA_FIRST, XML_ILLEGAL
from desktop.reports.xlsx.columns import column_letter
from desktop.reports.xlsx.spotcheck.layout import INPUTS, ROW_HEIGHT, SampleRow

_ESCAPE_LIKE = re.compile(r"_x[0-9A-Fa-f]{4}_")  # Excel reads these as escaped characters
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]|_x")
_ANCHOR = re.compile(
    r"<xdr:twoCellAnchor>.*?<xdr:row>(?P<row>\d+)</xdr:row>.*?<xdr:row>(?P<to>\d+)</xdr:row>"
    r".*?<a:off x=\"\d+\" y=\"(?P<y>\d+)\"/>.*?</xdr:twoCellAnchor>", re.S)
_DRAWING_REL = re.compile(r'Target="\.\./drawings/(drawing\d+\.xml)"')
EMU_PER_POINT = 12700


@dataclass(frozen=True)
class Styles:
    """The XlsxWriter style (xf) indices of a record sheet's cells."""

    cell: int
    quoted: int
    entry: int
    entry_date: int
    tech: int


STYLE_NAMES = tuple(f.name for f in fields(Styles))  # the order of the cells styles_at reads
_CELL_STYLE = re.compile(r'<c r="([A-Z]+)\d+"(?: s="(\d+)")?')  # no s: the default, 0


def styles_at(sheet_xml: bytes, row: int) -> Styles:
    """The style indices XlsxWriter wrote in row `row` (0-based) of a sheet: one styled cell
    per field of Styles, from column A on, in STYLE_NAMES' order."""
    found = re.search(rf'<row r="{row + 1}"[^>]*>(.*?)</row>', sheet_xml.decode("utf-8"), re.S)
    cells = dict(_CELL_STYLE.findall(found[1])) if found else {}
    wanted = [column_letter(j) for j in range(len(STYLE_NAMES))]
    if any(col not in cells for col in wanted):
        raise ValueError(f"row {row + 1} does not hold the styles' cells")
    return Styles(*(int(cells[col] or 0) for col in wanted))


@dataclass(frozen=True)
class Bulk:
    """The rows of one record sheet after its first, which XlsxWriter wrote at `first`
    (0-based); `part` is the sheet's number in the package (sheet{part}.xml)."""

    part: int
    first: int
    width: int  # columns of the sheet
    qr_col: int
    rows: Sequence[SampleRow]


def text_cell(ref: str, text: str, style: int, quoted: int) -> str:
    """A cell holding `text` as an inline string (an empty text: a styled blank cell)."""
    if not text:
        return f'<c r="{ref}" s="{style}"/>'
    if text[0] in FORMULA_FIRST:  # cells.needs_quote
        style = quoted
    if _SPECIAL.search(text):
        text = _ESCAPE_LIKE.sub(lambda m: "_x005F" + m[0], text)
        # characters XML cannot hold, as XlsxWriter writes them (the first row's cells)
        text = escape(XML_ILLEGAL.sub(lambda m: f"_x{ord(m[0]):04X}_", text))
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def rows_xml(bulk: Bulk, styles: Styles) -> str:
    """The XML of the rows after the first (Excel rows first + 2 …)."""
    letters = [column_letter(j) for j in range(bulk.width)]
    n_lead = bulk.qr_col + 1
    entry_cols = [(letters[j], styles.entry_date if j == 3 + len(INPUTS) - 1 else styles.entry)
                  for j in range(3, 3 + len(INPUTS))]
    qr, code_col, id_col = letters[bulk.qr_col], letters[-2], letters[-1]
    c, q, t = styles.cell, styles.quoted, styles.tech
    out = []
    for i, row in enumerate(bulk.rows):
        r = bulk.first + 2 + i
        parts = [f'<row r="{r}" ht="{ROW_HEIGHT}" customHeight="1"><c r="A{r}" s="{c}">'
                 f'<v>{row.position}</v></c>', text_cell(f"B{r}", row.unit_name, c, q),
                 text_cell(f"C{r}", row.unit_code, c, q)]
        parts += [f'<c r="{col}{r}" s="{s}"/>' for col, s in entry_cols]
        parts.append(f'<c r="{qr}{r}" s="{c}"/>')
        parts += [text_cell(f"{letters[j]}{r}", text, c, q)
                  for j, text in enumerate(row.texts, start=n_lead)]
        parts += [text_cell(f"{code_col}{r}", row.code, t, t),
                  text_cell(f"{id_col}{r}", row.record_id, t, t), "</row>"]
        out.append("".join(parts))
    return "".join(out)


def _sheet(xml: bytes, bulk: Bulk, styles: Styles) -> bytes:
    text = xml.decode("utf-8")
    last = bulk.first + 1 + len(bulk.rows)
    text = re.sub(r'<dimension ref="([A-Z]+1):[A-Z]+\d+"/>',
                  lambda m: f'<dimension ref="{m[1]}:{column_letter(bulk.width - 1)}{last}"/>',
                  text, count=1)
    head, tail = text.split("</sheetData>", 1)
    return (head + rows_xml(bulk, styles) + "</sheetData>" + tail).encode("utf-8")


def _drawing(xml: bytes, bulk: Bulk, pictures: list[str]) -> bytes:
    """The drawing with one anchor per row: the first row's, copied one row further each time
    (the rows are all ROW_HEIGHT high)."""
    text = xml.decode("utf-8")
    seed = _ANCHOR.search(text)
    if seed is None or int(seed["row"]) != bulk.first:
        raise ValueError("the first row's picture is not where it was put")
    row0, to0, y0 = int(seed["row"]), int(seed["to"]), int(seed["y"])
    anchor = seed[0].replace("{", "{{").replace("}", "}}")  # e.g. an extension's uri="{…}"
    anchor = (anchor.replace(f"<xdr:row>{row0}</xdr:row>", "<xdr:row>{row}</xdr:row>", 1)
              .replace(f"<xdr:row>{to0}</xdr:row>", "<xdr:row>{to}</xdr:row>", 1)
              .replace(f'y="{y0}"', 'y="{y}"', 1))
    anchor = re.sub(r'<xdr:cNvPr id="\d+" name="[^"]*" descr="[^"]*"/>',
                    '<xdr:cNvPr id="{id}" name="Picture {n}" descr="{descr}"/>', anchor, count=1)
    anchor = re.sub(r'r:embed="[^"]*"', 'r:embed="{rid}"', anchor, count=1)
    step = ROW_HEIGHT * EMU_PER_POINT
    added = "".join(anchor.format(row=row0 + k, to=to0 + k, y=y0 + k * step, id=k + 2,
                                  n=k + 1, descr=escape(row.code, {'"': "&quot;"}),
                                  rid=pictures[k - 1])
                    for k, row in enumerate(bulk.rows, start=1))
    head, tail = text.rsplit("</xdr:wsDr>", 1)
    return (head + added + "</xdr:wsDr>" + tail).encode("utf-8")


def complete(data: bytes, bulks: Sequence[Bulk], styled: tuple[int, int],
             images: Callable[[], Sequence[Sequence[bytes]]]) -> bytes:
    """The package XlsxWriter wrote (`data`), with each record sheet's other rows and their
    QR images added; `images()` gives them (`[k]`: the PNGs of `bulks[k].rows`) once the rows
    are written. `styled` is (sheet part, row) of the cells XlsxWriter wrote in the rows'
    styles (styles_at)."""
    src = zipfile.ZipFile(BytesIO(data))
    part, row = styled
    styles = styles_at(src.read(f"xl/worksheets/sheet{part}.xml"), row)
    change = {f"xl/worksheets/sheet{b.part}.xml": _sheet(
        src.read(f"xl/worksheets/sheet{b.part}.xml"), b, styles) for b in bulks if b.rows}
    pngs = images()
    media = []
    for k, bulk in enumerate(bulks):
        if not bulk.rows:
            continue
        rels = src.read(f"xl/worksheets/_rels/sheet{bulk.part}.xml.rels").decode("utf-8")
        drawing = _DRAWING_REL.search(rels)
        if drawing is None:
            raise ValueError(f"sheet{bulk.part} has no drawing")
        drawing_part = f"xl/drawings/{drawing[1]}"
        drawing_rels = f"xl/drawings/_rels/{drawing[1]}.rels"
        rel_text = src.read(drawing_rels).decode("utf-8")
        pictures, links = [], []
        for i, png in enumerate(pngs[k], start=1):
            name = f"qr{bulk.part}_{i}.png"
            rid = f"rIdQ{i}"
            pictures.append(rid)
            links.append(f'<Relationship Id="{rid}" Type="http://schemas.openxmlformats.org/'
                         f'officeDocument/2006/relationships/image" Target="../media/{name}"/>')
            media.append((f"xl/media/{name}", png))
        head, tail = rel_text.rsplit("</Relationships>", 1)
        change[drawing_rels] = (head + "".join(links) + "</Relationships>" + tail).encode()
        change[drawing_part] = _drawing(src.read(drawing_part), bulk, pictures)
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = change.get(info.filename)
            if body is None:
                body = src.read(info)
            z.writestr(zipfile.ZipInfo(info.filename, info.date_time), body,
                       compress_type=zipfile.ZIP_DEFLATED,
                       compresslevel=1 if len(body) > 1 << 20 else 6)
        when = src.infolist()[0].date_time
        for name, png in media:
            z.writestr(zipfile.ZipInfo(name, when), png, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()
