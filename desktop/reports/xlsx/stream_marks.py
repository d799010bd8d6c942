"""The user's large workbook back with the bad cells marked, written as a stream.

openpyxl holds every cell of a workbook as an object (about ten times the sheet's XML: a
400,000-row register would take several GB and many minutes), so a large workbook is marked
here without reading it: every part of the zip is copied as it is, but for
- the marked sheets' XML, streamed once: each marked cell gets a style of its own that is its
  old style with a red (E) or yellow (W) fill (a cell the sheet does not hold is added, a row
  too); a legacyDrawing element points at the comments;
- the styles (the new fills and cell formats appended), a comments part and its VML drawing
  per marked sheet (the messages, as annotate.py writes them), the sheet's relationships;
- a sheet 校验结果 listing every finding with a link to its cell (inline strings: text, never a
  formula, whatever it starts with), added to the workbook and its content types.
Images, charts and macros are kept, since nothing is re-saved. A mark on a cell hidden in a
merged range stays on that cell (openpyxl's way moves it to the range's first cell). `Unstreamable` says this
workbook has what the stream does not handle (a marked sheet with comments of its own, cells
without a reference): annotate.py then says so or uses openpyxl.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from posixpath import basename, dirname
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from desktop.reports.output import atomic_file
from desktop.reports.xlsx.cells import XML_ILLEGAL
from desktop.reports.xlsx.columns import column_letter
from desktop.reports.xlsx.parts import Package

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument."
_ROW = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)row\b[^>]*?\br\s*=\s*[\"'](\d+)[\"'][^>]*?(/?)>")
_CELL = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)c\b([^>]*?)(/>|>.*?</\1c>)", re.S)
_REF = re.compile(rb"\br\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?(\d+)[\"']")
_STYLE = re.compile(rb"\ss\s*=\s*[\"']\d*[\"']")
_SPANS = re.compile(rb"\sspans\s*=\s*[\"'][^\"']*[\"']")
_AFTER_DRAWING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:legacyDrawingHF|drawingHF|picture|"
                            rb"oleObjects|controls|webPublishItems|tableParts|extLst)\b|</"
                            rb"(?:[A-Za-z_][\w.-]*:)?worksheet>")


_EMPTY_FILL = re.compile(rb"<((?:[\w.-]+:)?)fill\s*/>")


def said_fills(styles: bytes) -> bytes:
    """The styles with every empty `<fill/>` (WPS writes them; openpyxl cannot read them)
    written as the no-fill it means."""
    return _EMPTY_FILL.sub(rb"<\1fill><\1patternFill/></\1fill>", styles)


class Unstreamable(Exception):
    """This workbook is not marked as a stream (see the module docstring)."""


def mark_stream(package: Package, out: Path, by_cell: dict[tuple[str, str], tuple[str, str]],
                result_rows: list[tuple[str, str, str, str]], summary: str,
                result_name: str, fills: dict[str, str]) -> None:
    """Write `out`: `by_cell` maps (sheet, "D17") to (worst severity, comment text);
    `result_rows` are (sheet!cell, field, severity name, message) of the list; `fills` the
    ARGB colour of each severity that fills its cells."""
    zf = package.zip
    names = {s.name: s.member for s in package.sheets if s.worksheet}
    marked: dict[str, dict[tuple[int, int], tuple[str, str]]] = defaultdict(dict)
    for (sheet, ref), mark in by_cell.items():
        m = _REF.search(b'r="' + ref.encode() + b'"')
        if sheet in names and m:
            marked[sheet][int(m[2]), _column(m[1])] = mark
    if package.styles is None or package.styles not in zf.NameToInfo:
        raise Unstreamable("no styles part")
    for sheet in marked:
        rels = _rels_member(names[sheet])
        if rels in zf.NameToInfo and re.search(rb"/(comments|vmlDrawing)\"", zf.read(rels)):
            raise Unstreamable("a marked sheet has comments of its own")
    style_of = _styles(said_fills(zf.read(package.styles)), {m[0] for cells in marked.values()
                                                 for m in cells.values() if m[0] in fills}, fills)
    replaced: dict[str, bytes] = {}
    added: dict[str, bytes] = {}
    types: list[tuple[str, str]] = []
    for n, (sheet, cells) in enumerate(marked.items(), start=1):
        member = names[sheet]
        comments, vml = f"xl/comments_dengji{n}.xml", f"xl/drawings/vmlDrawing_dengji{n}.vml"
        added[comments] = _comments(cells)
        added[vml] = _vml(cells, 1000 * n)
        types.append((f"/{comments}", _CT + "spreadsheetml.comments+xml"))
        rels = _rels_member(member)
        old = zf.read(rels) if rels in zf.NameToInfo else None
        replaced[rels] = _add_rels(old, [
            ("rIdDengjiC", "comments", _relative(member, comments)),
            ("rIdDengjiV", "vmlDrawing", _relative(member, vml))])
    sheet_member = "xl/worksheets/sheet_dengji.xml"
    added[sheet_member] = _result_sheet(result_rows, summary)
    types.append((f"/{sheet_member}", _CT + "spreadsheetml.worksheet+xml"))
    replaced[package.workbook_rels] = _add_rels(
        zf.read(package.workbook_rels) if package.workbook_rels in zf.NameToInfo else None,
        [("rIdDengjiR", "worksheet", _relative(package.workbook, sheet_member))])
    replaced[package.workbook] = _add_sheet(zf.read(package.workbook), result_name)
    replaced["[Content_Types].xml"] = _content_types(zf.read("[Content_Types].xml"), types)
    streamed = {names[s]: (s, cells) for s, cells in marked.items()}
    with atomic_file(out) as part, zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED,
                                                   compresslevel=6) as zout:
        for info in zf.infolist():
            name = info.filename
            if name in streamed:
                sheet, cells = streamed[name]
                with zout.open(name, "w", force_zip64=True) as fh:
                    for chunk in _sheet(package.xml(sheet), cells, style_of):
                        fh.write(chunk)
            elif name == package.styles:
                continue  # written last, with the cell formats the sheets asked for
            elif name in replaced:
                zout.writestr(name, replaced.pop(name))
            else:
                with zf.open(info) as src, zout.open(name, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        for name, data in {**replaced, **added}.items():
            zout.writestr(name, data)
        zout.writestr(package.styles, style_of.finish())


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n - 1


def _rels_member(member: str) -> str:
    return f"{dirname(member)}/_rels/{basename(member)}.rels"


def _relative(source: str, target: str) -> str:
    """`target` as a relationship of `source` names it (relative to its folder)."""
    return "/" + target  # an absolute part name: valid in every relationship


# --- styles ----------------------------------------------------------------------------------


def _styles(xml: bytes, severities: set[str], fills: dict[str, str]) -> Any:
    """style_of(old format, severity) → the index of a cell format that is the old one with
    the severity's fill (made on demand); style_of.finish() → the styles with the new fills
    and formats, once the sheets are written."""
    m = re.search(rb"<((?:[\w.-]+:)?)fills\b([^>]*?)(/>|>(.*?)</\1fills>)", xml, re.S)
    x = re.search(rb"<((?:[\w.-]+:)?)cellXfs\b[^>]*>(.*?)</\1cellXfs>", xml, re.S)
    if m is None or x is None:
        raise Unstreamable("no fills or cell formats")
    prefix = m[1]
    count = len(re.findall(rb"<(?:[\w.-]+:)?fill\b", m[4] or b""))
    fill_id: dict[str, int] = {}
    new_fills = b""
    for sev in sorted(severities):
        fill_id[sev] = count + len(fill_id)
        new_fills += (b"<%sfill><%spatternFill patternType=\"solid\"><%sfgColor rgb=\"%s\"/>"
                      b"<%sbgColor indexed=\"64\"/></%spatternFill></%sfill>"
                      % (prefix, prefix, prefix, fills[sev].encode(), prefix, prefix, prefix))
    fills_xml = (b"<%sfills count=\"%d\">%s%s</%sfills>"
                 % (prefix, count + len(fill_id), m[4] or b"", new_fills, prefix))
    xfs = re.findall(rb"<(?:[\w.-]+:)?xf\b[^>]*/>|<(?:[\w.-]+:)?xf\b[^>]*>.*?</(?:[\w.-]+:)?xf>",
                     x[2], re.S)
    made: dict[tuple[int, str], int] = {}
    extra: list[bytes] = []

    def style_of(old: int, sev: str) -> int | None:
        if sev not in fill_id:
            return None
        key = (old if 0 <= old < len(xfs) else 0, sev)
        if key not in made:
            xf = xfs[key[0]] if xfs else b"<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" " \
                                         b"borderId=\"0\"/>"
            xf = re.sub(rb"\s(fillId|applyFill)\s*=\s*[\"'][^\"']*[\"']", b"", xf, count=2)
            xf = re.sub(rb"^(<(?:[\w.-]+:)?xf)\b", rb'\1 fillId="%d" applyFill="1"'
                        % fill_id[sev], xf)
            made[key] = len(xfs) + len(extra)
            extra.append(xf)
        return made[key]

    def finish() -> bytes:
        body = x[2] + b"".join(extra)
        start = x.start()
        tag = re.match(rb"<((?:[\w.-]+:)?)cellXfs\b[^>]*>", xml[start:])
        head = re.sub(rb"\scount\s*=\s*[\"']\d*[\"']", b"", tag[0][:-1]) + \
            b' count="%d">' % (len(xfs) + len(extra))
        out = xml[:start] + head + body + xml[x.end() - len(b"</" + x[1] + b"cellXfs>"):]
        return out.replace(m[0], fills_xml, 1)

    style_of.finish = finish  # type: ignore[attr-defined]
    return style_of


# --- the marked sheet ------------------------------------------------------------------------


def _sheet(stream: Iterator[bytes], cells: dict[tuple[int, int], tuple[str, str]], style_of
           ) -> Iterator[bytes]:
    """The sheet's XML with the marked cells styled (added where missing) and a
    legacyDrawing for the comments, as a stream of blocks."""
    rows: dict[int, dict[int, str]] = defaultdict(dict)
    for (r, c), (sev, _) in cells.items():
        rows[r][c] = sev
    pending = sorted(rows)  # marked rows not yet met
    window = b""
    prefix = b""
    started = False
    for block in stream:
        window += block
        if not started:
            m = re.search(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData\b[^>]*?(/?)>", window)
            if m is None:
                continue
            if m[2]:
                raise Unstreamable("a sheet without rows")
            prefix, started = m[1], True
            yield window[:m.end()]
            window = window[m.end():]
        end = window.find(b"</" + prefix + b"sheetData>")
        cut = end if end >= 0 else window.rfind(b"<" + prefix + b"row")
        if cut <= 0:
            continue
        yield from _rows(window[:cut], rows, pending, prefix, style_of)
        window = window[cut:]
        if end >= 0:
            break
    else:
        raise Unstreamable("the sheet's XML ends early")
    for block in stream:
        window += block
    yield from _rows(b"", rows, pending, prefix, style_of, flush=True)
    tail = window
    at = _AFTER_DRAWING.search(tail)
    drawing = (b'<%slegacyDrawing xmlns:r="%s" r:id="rIdDengjiV"/>' % (prefix, _REL.encode()))
    yield tail[:at.start()] + drawing + tail[at.start():] if at else tail


def _rows(xml: bytes, rows, pending: list[int], prefix: bytes, style_of, *, flush=False
          ) -> Iterator[bytes]:
    """Complete rows of the sheet, the marked ones rewritten, missing marked rows added."""
    if flush:
        while pending:
            yield _new_row(pending.pop(0), rows, prefix, style_of)
        return
    pos = 0
    if len(re.findall(b"<" + re.escape(prefix) + rb"row\b", xml)) != len(_ROW.findall(xml)):
        raise Unstreamable("rows without a row number")
    for m in _ROW.finditer(xml):
        r = int(m[2])
        while pending and pending[0] < r:
            yield xml[pos:m.start()]
            pos = m.start()
            yield _new_row(pending.pop(0), rows, prefix, style_of)
        if not pending or pending[0] != r:
            continue
        pending.pop(0)
        stop = m.end() if m[3] else xml.find(b"</" + prefix + b"row>", m.end())
        if stop < 0:
            raise Unstreamable("a row that does not end")
        stop += 0 if m[3] else len(b"</" + prefix + b"row>")
        yield xml[pos:m.start()]
        yield _rewrite_row(xml[m.start():stop], r, rows[r], prefix, style_of, bool(m[3]))
        pos = stop
    if not xml.lstrip().startswith(b"<") and xml.strip():
        raise Unstreamable("text between rows")
    yield xml[pos:]


def _rewrite_row(row: bytes, r: int, marks: dict[int, str], prefix: bytes, style_of,
                 empty: bool) -> bytes:
    open_end = row.find(b">") + 1
    head = _SPANS.sub(b"", row[:open_end])
    if empty:
        head = head[:-2].rstrip() + b">"
        body, close = b"", b"</" + prefix + b"row>"
    else:
        close = b"</" + prefix + b"row>"
        body = row[open_end:len(row) - len(close)]
    out, seen = [], set()
    pos = 0
    for c in _CELL.finditer(body):
        ref = _REF.search(c[2])
        if ref is None:
            raise Unstreamable("a cell without a reference")
        col = _column(ref[1])
        for missing in sorted(k for k in marks if k < col and k not in seen):
            out.append(_new_cell(prefix, r, missing, style_of(0, marks[missing])))
            seen.add(missing)
        out.append(body[pos:c.start()])
        old = re.search(rb"\ss\s*=\s*[\"'](\d*)[\"']", c[2]) if col in marks else None
        style = (style_of(int(old[1]) if old and old[1] else 0, marks[col]) if col in marks
                 else None)
        seen.add(col)
        if style is not None:  # a fill: the cell's own format with it
            out.append(b"<" + c[1] + b"c" + _STYLE.sub(b"", c[2]) + b' s="%d"' % style + c[3])
        else:  # unmarked, or a note (I) that only comments
            out.append(c[0])
        pos = c.end()
    out.append(body[pos:])
    for missing in sorted(k for k in marks if k not in seen):
        out.append(_new_cell(prefix, r, missing, style_of(0, marks[missing])))
    return head + b"".join(out) + close


def _new_cell(prefix: bytes, r: int, col: int, style: int | None) -> bytes:
    s = b' s="%d"' % style if style is not None else b""
    return b'<%sc r="%s%d"%s/>' % (prefix, column_letter(col).encode(), r, s)


def _new_row(r: int, rows, prefix: bytes, style_of) -> bytes:
    cells = b"".join(_new_cell(prefix, r, c, style_of(0, sev))
                     for c, sev in sorted(rows[r].items()))
    return b'<%srow r="%d">%s</%srow>' % (prefix, r, cells, prefix)


# --- comments, relationships, the list ------------------------------------------------------


def _text(text: str) -> str:
    return escape(XML_ILLEGAL.sub("", text))


def _comments(cells: dict[tuple[int, int], tuple[str, str]]) -> bytes:
    items = "".join(
        f'<comment ref="{column_letter(c)}{r}" authorId="0"><text><r><t xml:space="preserve">'
        f"{_text(text)}</t></r></text></comment>" for (r, c), (_, text) in sorted(cells.items()))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{_MAIN}">'
            f"<authors><author>登记 Dengji</author></authors><commentList>{items}</commentList>"
            f"</comments>").encode()


def _vml(cells: dict[tuple[int, int], tuple[str, str]], block: int) -> bytes:
    """The drawing of the comments' boxes; shape ids from blocks of 1,024 from `block` on
    (far from the blocks other drawings of the workbook use)."""
    shapes = []
    blocks = ",".join(str(block + i) for i in range(-(-len(cells) // 1024) or 1))
    for n, ((r, c), (_, text)) in enumerate(sorted(cells.items()), start=1):
        lines = text.count("\n") + 1 + len(text) // 30
        height = min(22 * lines + 20, 400) * 3 // 4
        shapes.append(
            f'<v:shape id="_x0000_s{block * 1024 + n}" type="#_x0000_t202" style="position:absolute;'
            f"margin-left:59.25pt;margin-top:1.5pt;width:240pt;height:{height}pt;z-index:{n};"
            f'visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            f'<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            f'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
            f'</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:AutoFill>False</x:AutoFill><x:Row>{r - 1}</x:Row><x:Column>{c}</x:Column>"
            f"</x:ClientData></v:shape>")
    return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:'
            'office:office" xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout '
            f'v:ext="edit"><o:idmap v:ext="edit" data="{blocks}"/></o:shapelayout><v:shapetype '
            'id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,'
            'xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/>'
            "</v:shapetype>" + "".join(shapes) + "</xml>").encode()


def _add_rels(xml: bytes | None, rels: list[tuple[str, str, str]]) -> bytes:
    new = "".join(f'<Relationship Id="{i}" Type="{_REL}/{t}" Target="{target}"/>'
                  for i, t, target in rels).encode()
    if xml is None:
        return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                b'xmlns="' + _PKG_REL.encode() + b'">' + new + b"</Relationships>")
    at = xml.rfind(b"</")
    return xml[:at] + new + xml[at:]


def _add_sheet(xml: bytes, name: str) -> bytes:
    ids = [int(i) for i in re.findall(rb"\ssheetId\s*=\s*[\"'](\d+)[\"']", xml)]
    m = re.search(rb"</((?:[\w.-]+:)?)sheets>", xml)
    if m is None:
        raise Unstreamable("a workbook without sheets")
    sheet = (b'<%ssheet xmlns:r="%s" name=%s sheetId="%d" r:id="rIdDengjiR"/>'
             % (m[1], _REL.encode(), quoteattr(name).encode(), max(ids, default=0) + 1))
    return xml[:m.start()] + sheet + xml[m.start():]


def _content_types(xml: bytes, overrides: list[tuple[str, str]]) -> bytes:
    new = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
    if not re.search(rb"Extension\s*=\s*[\"']vml[\"']", xml, re.I):
        new = ('<Default Extension="vml" ContentType="application/vnd.openxmlformats-'
               'officedocument.vmlDrawing"/>') + new
    at = xml.rfind(b"</")
    return xml[:at] + new.encode() + xml[at:]


def _result_sheet(rows: list[tuple[str, str, str, str]], summary: str) -> bytes:
    def cell(ref: str, text: str) -> str:  # an inline string: text, never a formula
        return (f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_text(text)}'
                f"</t></is></c>")

    out = [f'<row r="1">{cell("A1", summary)}</row>', '<row r="2">' + "".join(
        cell(f"{c}2", t) for c, t in zip("ABCD", ("单元格", "栏目", "级别", "说明"), strict=True))
        + "</row>"]
    links = []
    for n, (where, field, sev, message) in enumerate(rows, start=3):
        out.append(f'<row r="{n}">' + "".join(cell(f"{c}{n}", t) for c, t in zip(
            "ABCD", (where, field, sev, message), strict=True)) + "</row>")
        sheet, _, ref = where.rpartition("!")
        links.append(f'<hyperlink ref="A{n}" location={quoteattr(_location(sheet, ref))} '
                     f"display={quoteattr(XML_ILLEGAL.sub('', where))}/>")
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate((18, 22, 8, 90), start=1))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}" '
            f'xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0"><pane ySplit="2" '
            f'topLeftCell="A3" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            f"<cols>{cols}</cols><sheetData>{''.join(out)}</sheetData>"
            + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
            + "</worksheet>").encode()


def _location(sheet: str, ref: str) -> str:
    return "'" + sheet.replace("'", "''") + "'!" + ref

