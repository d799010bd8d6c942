"""A record (附件1, 附件2, 附件3, 法学会会员) as A4 pages laid out like the paper form.

The layout comes from the FormSpec: one bordered block per section with the section's name in a
band on the left, then label/value cells, two fields to a row, a full row for long texts, long
code labels and groups (a group prints as a small table: a header row of its sub-labels and one
row per entry). A value too long for its cell wraps, then shrinks down to 6.5 pt; a record too
long for one page continues on the next. Under the grid: the signature lines and the stamp box;
at the bottom: the print note, 第 x 页 共 y 页 and the QR code with the record id and print hash.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

from reportlab.pdfgen.canvas import Canvas

from desktop.reports.pdf.content import PrintedField, PrintedRecord, PrintedSection
from desktop.reports.pdf.fonts import Measure
from desktop.reports.pdf.page import (
    DATE_BLANK,
    FOOTER_H,
    LABEL_GRAY,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    PORTRAIT,
    Footer,
    draw_footer,
    draw_lines,
    draw_signatures,
    new_canvas,
    pack_pages,
)
from desktop.reports.pdf.qr import page_code

PAGE_W, PAGE_H = PORTRAIT
GRID_W = PAGE_W - 2 * MARGIN_X
BAND_W = 22.0
LABEL_W = 92.0
VALUE_W = (GRID_W - BAND_W - 2 * LABEL_W) / 2
WIDE_W = GRID_W - BAND_W - LABEL_W
HEADER_H = 62.0
SIGN_H = 150.0
SIGN_MIN_H = 108.0  # the signature row shrinks to this before it moves to a page of its own
GAP = 6.0
MIN_ROW, MAX_ROW, PAD = 20.0, 30.0, 3.0
LEADING = 1.2


@dataclass
class Cell:
    x: float  # from the grid's left edge
    w: float
    lines: list[str]
    size: float
    label: bool = False  # a label cell: gray, centred
    align: str = "left"


@dataclass
class Row:
    section: int
    height: float
    cells: list[Cell]


@dataclass
class RecordPage:
    """One laid-out page of a record."""

    record: PrintedRecord
    unit: str
    rows: list[Row]
    signing: bool  # the signature row goes on this page
    continued: bool  # not the record's first page
    sections: list[str] = field(default_factory=list)
    sign_h: float = 150.0


def layout_record(m: Measure, record: PrintedRecord, unit: str) -> list[RecordPage]:
    """Lay out one record into one or more pages (usually one)."""
    sections = [s.label for s in record.sections]
    rows: list[Row] = []
    for i, section in enumerate(record.sections):
        rows += _section_rows(m, i, section)
    first_h = PAGE_H - MARGIN_TOP - HEADER_H - GAP - FOOTER_H - MARGIN_BOTTOM
    pages, used = pack_pages(rows, first_h)
    sign_h = min(SIGN_H, first_h - used)
    if sign_h < SIGN_MIN_H:  # no room for the signatures under the last rows
        pages.append([])
        sign_h = SIGN_H
    elif len(pages) == 1:  # a one-page record: spread the rows over the free height
        _spread(pages[0], first_h - SIGN_H - used)
    return [RecordPage(record, unit, p, i == len(pages) - 1, i > 0, sections, sign_h)
            for i, p in enumerate(pages)]


def _spread(rows: list[Row], free: float) -> None:
    short = [r for r in rows if r.height < MAX_ROW]
    if not short or free <= 0:
        return
    extra = free / len(short)
    for r in short:
        r.height = min(MAX_ROW, r.height + extra)


def _section_rows(m: Measure, index: int, section: PrintedSection) -> list[Row]:
    """Two short fields to a row, in form order; a short field followed by long ones keeps its
    row open for the next short field, so a section has no half-empty rows but its last."""
    rows: list[Row | PrintedField] = []
    open_at: int | None = None  # index in rows of a short field waiting for its partner
    for f in section.fields:
        if f.columns:
            rows += _group_rows(m, index, f)
        elif f.wide:
            rows.append(_row(m, index, [(f, 0.0, WIDE_W)]))
        elif open_at is None:
            open_at = len(rows)
            rows.append(f)
        else:
            first = rows[open_at]
            assert isinstance(first, PrintedField)
            rows[open_at] = _row(m, index, [(first, 0.0, VALUE_W),
                                            (f, LABEL_W + VALUE_W, VALUE_W)])
            open_at = None
    if open_at is not None:
        last = rows[open_at]
        assert isinstance(last, PrintedField)
        rows[open_at] = _row(m, index, [(last, 0.0, WIDE_W)])
    done = [r for r in rows if isinstance(r, Row)]
    # the section's name is written top to bottom in its band: give it room
    need = len(section.label) * 9 * 1.1 + 8
    have = sum(r.height for r in done)
    if done and have < need:
        done[-1].height += need - have
    return done


def _row(m: Measure, section: int, items: list[tuple[PrintedField, float, float]]) -> Row:
    cells: list[Cell] = []
    for f, x, w in items:
        x0 = BAND_W + x
        size, lines = m.fit(f.label, LABEL_W - 2 * PAD, 2 * 9 * LEADING, 9, 6.5)
        cells.append(Cell(x0, LABEL_W, lines, size, label=True, align="center"))
        max_lines = 3 if w == WIDE_W else 2
        size, lines = m.fit(f.text, w - 2 * PAD, max_lines * 10 * LEADING, 10, 6.5)
        cells.append(Cell(x0 + LABEL_W, w, lines, size))
    return Row(section, _height(cells), cells)


def _group_rows(m: Measure, section: int, f: PrintedField) -> list[Row]:
    weights = [2.2 if len(c) <= 2 else 1.4 if "代码" in c or "号" in c else 1.0 for c in f.columns]
    total = sum(weights)
    widths = [WIDE_W * w / total for w in weights]
    xs = [BAND_W + LABEL_W + sum(widths[:i]) for i in range(len(widths))]
    size, lines = m.fit(f.label, LABEL_W - 2 * PAD, 2 * 9 * LEADING, 9, 6.5)
    head = [Cell(BAND_W, LABEL_W, lines, size, label=True, align="center")]
    for x, w, c in zip(xs, widths, f.columns, strict=True):
        s, ls = m.fit(c, w - 2 * PAD, 9 * LEADING, 9, 6.5)
        head.append(Cell(x, w, ls, s, label=True, align="center"))
    rows = [Row(section, _height(head), head)]
    for n, values in enumerate(f.rows or ((("",) * len(f.columns)),), start=1):
        cells = [Cell(BAND_W, LABEL_W, [str(n) if f.rows else ""], 9, label=True,
                      align="center")]
        for x, w, v in zip(xs, widths, values, strict=True):
            s, ls = m.fit(v, w - 2 * PAD, 2 * 10 * LEADING, 10, 6.5)
            cells.append(Cell(x, w, ls, s))
        rows.append(Row(section, _height(cells), cells))
    return rows


def _height(cells: list[Cell]) -> float:
    return max(MIN_ROW, *(len(c.lines) * c.size * LEADING + 2 * PAD for c in cells))


def draw_record_page(canvas: Canvas, m: Measure, page: RecordPage, footer: Footer) -> None:
    """Draw one laid-out record page and end it."""
    rec = page.record
    font = m.font
    top = PAGE_H - MARGIN_TOP
    canvas.setFont(font, 10)
    canvas.drawString(MARGIN_X, top - 10, rec.attachment)
    title = rec.title + ("（续）" if page.continued else "")
    size = 17.0
    while m.width(title, size) > GRID_W - 120 and size > 11:
        size -= 0.5
    canvas.setFont(font, size)
    canvas.drawCentredString(PAGE_W / 2, top - 32, title)
    size, lines = m.fit(f"填报单位：{page.unit}", GRID_W - 190, 11 * LEADING, 10, 7)
    draw_lines(canvas, m, MARGIN_X, top - 54, GRID_W - 190, size, lines[:1])
    canvas.setFont(font, 10)
    canvas.drawRightString(PAGE_W - MARGIN_X, top - 54, f"填表日期：{DATE_BLANK}")
    y = top - HEADER_H - GAP
    grid_top = y
    _draw_rows(canvas, m, page, y)
    y -= sum(r.height for r in page.rows)
    if page.rows:
        canvas.setLineWidth(1.2)
        canvas.rect(MARGIN_X, y, GRID_W, grid_top - y, stroke=1, fill=0)
    if page.signing:
        h = page.sign_h  # the signature lines and stamp of the form's [print] section
        draw_signatures(canvas, m, MARGIN_X, y - h, GRID_W, h, rec.signatures, rec.stamp)
        canvas.setLineWidth(1.2)
        canvas.rect(MARGIN_X, y - h, GRID_W, h + (grid_top - y), stroke=1, fill=0)
    draw_footer(canvas, m, footer, PAGE_W)
    canvas.showPage()


def _draw_rows(canvas: Canvas, m: Measure, page: RecordPage, top: float) -> None:
    x0 = MARGIN_X
    # gray label cells first, then every cell's border, then the text
    canvas.setFillGray(LABEL_GRAY)
    y = top
    for row in page.rows:
        y -= row.height
        for c in row.cells:
            if c.label:
                canvas.rect(x0 + c.x, y, c.w, row.height, stroke=0, fill=1)
    canvas.setFillGray(0)
    canvas.setLineWidth(0.5)
    y = top
    for row in page.rows:
        y -= row.height
        for c in row.cells:
            canvas.rect(x0 + c.x, y, c.w, row.height, stroke=1, fill=0)
            text_h = len(c.lines) * c.size * LEADING
            base = y + row.height - (row.height - text_h) / 2 - c.size * 0.93
            draw_lines(canvas, m, x0 + c.x + PAD, base, c.w - 2 * PAD, c.size, c.lines, c.align)
    # the section bands: one per run of rows of the same section on this page
    y = top
    start = 0
    rows = page.rows
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i].section != rows[start].section:
            h = sum(r.height for r in rows[start:i])
            _draw_band(canvas, m, page.sections[rows[start].section], x0, y - h, h)
            y -= h
            start = i


def _draw_band(canvas: Canvas, m: Measure, label: str, x: float, y: float, h: float) -> None:
    canvas.setLineWidth(0.5)
    canvas.setFillGray(LABEL_GRAY)
    canvas.rect(x, y, BAND_W, h, stroke=1, fill=1)
    canvas.setFillGray(0)
    n = max(len(label), 1)
    cols = 1 if (h - 6) / (n * 1.1) >= 6.5 else 2
    per = -(-n // cols)
    size = min(10.0, (h - 6) / (per * 1.1), (BAND_W - 2) / cols)
    canvas.setFont(m.font, size)
    step = size * 1.1
    for c in range(cols):
        chunk = label[c * per:(c + 1) * per]
        cx = x + BAND_W / 2 + (c - (cols - 1) / 2) * size
        start = y + h / 2 + (len(chunk) * step) / 2 - size * 0.93
        for i, ch in enumerate(chunk):
            canvas.drawCentredString(cx, start - i * step, ch)


def record_footer(page_rec: PrintedRecord, number: int, total: int, note: str) -> Footer:
    """The footer of a record page: its QR code names the record and its print hash."""
    return Footer(page_code("R", page_rec.record_id, page_rec.digest), number, total, note)


def records_pdf(items: list[tuple[PrintedRecord, str]], note: str, title: str
                ) -> Generator[int, None, tuple[bytes, int]]:
    """Draw every (record, unit name) into one PDF; yields the number of records drawn so far
    and returns (PDF bytes, page count). Page numbers run through the whole document."""
    canvas, buf = new_canvas(title)
    m = Measure()
    pages = [p for rec, unit in items for p in layout_record(m, rec, unit)]
    total = len(pages)
    done_records = 0
    for number, page in enumerate(pages, start=1):
        draw_record_page(canvas, m, page, record_footer(page.record, number, total, note))
        if page.signing:
            done_records += 1
            yield done_records
    canvas.save()
    return buf.getvalue(), total
