"""Landscape A4 tables (附件4–6, the 统计表): title, unit line, a header repeated on every page,
the rows, a totals row, totals by category, signature lines and the stamp box.

Drawn straight on the canvas, page by page: reportlab's platypus Table needs about a minute for
800 pages, this about a tenth of that for 1,000 (bench/bench_pdf.py). A cell's text shrinks to
fit its column, then wraps at the smallest size (the row grows), so nothing is cut or spills.
Each page's QR code names the table page and hashes what the page prints.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass

from reportlab.pdfgen.canvas import Canvas

from desktop.reports.pdf.content import HASH_FORMAT, digest_of
from desktop.reports.pdf.fonts import Measure, TextBatch
from desktop.reports.pdf.page import (
    FOOTER_H,
    LABEL_GRAY,
    LANDSCAPE,
    MARGIN_BOTTOM,
    MARGIN_X,
    MM,
    Footer,
    draw_footer,
    draw_signatures,
    new_canvas,
    pack_pages,
)
from desktop.reports.pdf.qr import page_code

PAGE_W, PAGE_H = LANDSCAPE
MARGIN_TOP = 10 * MM
GRID_W = PAGE_W - 2 * MARGIN_X
TITLE_H = 46.0
SIZE, MIN_SIZE, HEAD_SIZE = 9.0, 6.0, 8.5
PAD, LEADING, MIN_ROW = 2.5, 1.15, 17.0
SIGN_H = 118.0


@dataclass(frozen=True)
class Column:
    label: str
    weight: float = 1.0  # share of the page width
    align: str = "center"  # left, center or right


@dataclass(frozen=True)
class TableDoc:
    """A table to print. `rows` are the printed texts (already masked where needed)."""

    table_id: str  # e.g. lawyer_summary; part of the hash
    ident: str  # what the QR code names: the package id, or the table id
    attachment: str  # e.g. 附件4 (may be empty)
    title: str
    unit_line: tuple[tuple[str, str], ...]  # (填报单位, name), (填报人, ""), …
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[str]]
    total_row: tuple[str, ...] | None = None  # printed last, under the same columns
    totals: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (dimension, (item, n)…)
    signers: tuple[str, ...] = ("填报人签字", "审核人签字")
    stamp: str = "填报单位（盖章）"


@dataclass
class _Line:
    """A laid-out table row: texts split into lines, one size per cell."""

    cells: list[tuple[float, list[str]]]
    height: float
    shaded: bool = False
    texts: tuple[str, ...] = ()  # what the row prints, for the page's hash
    span: int = 1  # columns the first cell spans (a 合计 row's label)


@dataclass
class _Plan:
    doc: TableDoc
    xs: list[float]
    head: _Line
    pages: list[list[_Line]]


def auto_columns(labels: Sequence[str], rows: Sequence[Sequence[str]], sample: int = 1500
                 ) -> tuple[Column, ...]:
    """Columns as wide as most of their texts (the 90th percentile of a sample of rows) and
    their header (wrapped on two lines), so the page width goes where the text is."""
    m = Measure()
    step = max(1, len(rows) // sample)
    picked = rows[::step]
    cols = []
    for j, label in enumerate(labels):
        widths = sorted(m.width(str(r[j]) if j < len(r) and r[j] is not None else "", SIZE)
                        for r in picked)
        content = widths[int(0.9 * (len(widths) - 1))] if widths else 0.0
        head = m.width(label, HEAD_SIZE) / (2 if len(label) > 3 else 1)
        cols.append(Column(label, max(content, head, 14.0) + 2 * PAD + 2))
    return tuple(cols)


def table_pdf(docs: TableDoc | Sequence[TableDoc], note: str
              ) -> Generator[tuple[int, int], None, tuple[bytes, int]]:
    """Draw one or more tables into one PDF, pages numbered through; yields (page, pages) as
    pages are drawn and returns (PDF bytes, pages)."""
    docs = [docs] if isinstance(docs, TableDoc) else list(docs)
    canvas, buf = new_canvas(docs[0].title, LANDSCAPE)
    m = Measure()
    plans = [_plan(m, doc) for doc in docs]
    total = sum(len(p.pages) for p in plans)
    batch = TextBatch(canvas, m)
    number = 0
    for plan in plans:
        doc = plan.doc
        for i, lines in enumerate(plan.pages):
            number += 1
            tail = i == len(plan.pages) - 1
            digest = digest_of([HASH_FORMAT, "T", doc.table_id, doc.attachment, doc.title,
                                [list(u) for u in doc.unit_line], [c.label for c in doc.columns],
                                number, [list(line.texts) for line in lines],
                                [[d, [list(it) for it in items]] for d, items in doc.totals]
                                if tail else []])
            y = _draw_title(canvas, m, doc, i > 0)
            if lines or not tail:
                y = _draw_lines(canvas, m, plan.xs, [plan.head, *lines], y, batch)
            if tail:
                y = _draw_totals(canvas, m, doc, y - 8)
                draw_signatures(canvas, m, MARGIN_X, y - 8 - SIGN_H, GRID_W, SIGN_H,
                                doc.signers, doc.stamp)
            code = page_code("T", f"{doc.ident}-{number}", digest)
            draw_footer(canvas, m, Footer(code, number, total, note), PAGE_W)
            canvas.showPage()
            yield number, total
    canvas.save()
    return buf.getvalue(), total


def _plan(m: Measure, doc: TableDoc) -> _Plan:
    total_w = sum(c.weight for c in doc.columns) or 1
    widths = [GRID_W * c.weight / total_w for c in doc.columns]
    xs = [MARGIN_X + sum(widths[:i]) for i in range(len(widths) + 1)]
    head = _head(m, [c.label for c in doc.columns], widths)
    body = [_layout(m, row, widths, SIZE) for row in doc.rows]
    if doc.total_row is not None:
        body.append(_layout(m, doc.total_row, widths, SIZE, shaded=True, merge_first=True))
    room = PAGE_H - MARGIN_TOP - TITLE_H - head.height - FOOTER_H - MARGIN_BOTTOM - 4
    pages, used = pack_pages(body, room)
    if used + _totals_height(doc) + SIGN_H + 8 > room:  # totals and signatures: a page more
        pages.append([])
    return _Plan(doc, xs, head, pages)


def _layout(m: Measure, texts: Sequence[str], widths: list[float], size: float,
            shaded: bool = False, merge_first: bool = False) -> _Line:
    """One row. With `merge_first`, the first cell spans the empty cells after it."""
    span = 1
    if merge_first:
        while span < min(len(texts), len(widths)) and not texts[span]:
            span += 1
    widths = [sum(widths[:span]), *([0.0] * (span - 1)), *widths[span:]]
    cells = []
    height = MIN_ROW
    for text, w in zip(texts, widths, strict=False):
        text = "" if text is None else str(text)
        inner = w - 2 * PAD
        s = size
        width = m.width(text, 1.0)
        if width * s <= inner:  # the common case: fits on one line at the full size
            cells.append((s, [text]))
            continue
        s = max(MIN_SIZE, inner / width if width else size)
        s = int(s * 2) / 2  # half-point steps
        if s > MIN_SIZE or width * s <= inner:
            cells.append((max(s, MIN_SIZE), [text]))
            continue
        lines = m.wrap(text, MIN_SIZE, inner)
        cells.append((MIN_SIZE, lines))
        height = max(height, len(lines) * MIN_SIZE * LEADING + 2 * PAD)
    return _Line(cells, height, shaded, tuple("" if t is None else str(t) for t in texts), span)


def _head(m: Measure, labels: list[str], widths: list[float]) -> _Line:
    """The header row: labels wrap at the header size (down to 7 pt), so all stay legible."""
    cells = []
    for label, w in zip(labels, widths, strict=True):
        size, lines = m.fit(label, w - 2 * PAD, 3 * HEAD_SIZE * LEADING, HEAD_SIZE, 6.5,
                            LEADING)
        cells.append((size, lines))
    height = max(MIN_ROW + 4, *(len(ls) * s * LEADING + 2 * PAD for s, ls in cells))
    return _Line(cells, height, True)


def _draw_title(canvas: Canvas, m: Measure, doc: TableDoc, continued: bool) -> float:
    top = PAGE_H - MARGIN_TOP
    if doc.attachment:
        canvas.setFont(m.font, 10)
        canvas.drawString(MARGIN_X, top - 10, doc.attachment)
    title = doc.title + ("（续）" if continued else "")
    canvas.setFont(m.font, 16)
    canvas.drawCentredString(PAGE_W / 2, top - 20, title)
    parts = [f"{k}：{v}" if v else f"{k}：{'　' * 6}" for k, v in doc.unit_line]
    text = "　　".join(parts)
    size = 9.5
    while m.width(text, size) > GRID_W and size > 6:
        size -= 0.5
    canvas.setFont(m.font, size)
    canvas.drawString(MARGIN_X, top - 38, text)
    return top - TITLE_H


def _draw_lines(canvas: Canvas, m: Measure, xs: list[float], lines: list[_Line],
                top: float, batch: TextBatch | None = None) -> float:
    y = top
    canvas.setFillGray(LABEL_GRAY)
    for line in lines:
        if line.shaded:
            canvas.rect(xs[0], y - line.height, xs[-1] - xs[0], line.height, stroke=0, fill=1)
        y -= line.height
    bottom = y
    canvas.setFillGray(0)
    canvas.setLineWidth(0.4)
    rules = [(xs[0], top, xs[-1], top)]
    y = top
    run_top, run_span = top, lines[0].span if lines else 1
    for line in lines:
        if line.span != run_span:  # vertical rules per run of rows with the same first cell
            rules += [(x, run_top, x, y) for i, x in enumerate(xs) if not 0 < i < run_span]
            run_top, run_span = y, line.span
        y -= line.height
        rules.append((xs[0], y, xs[-1], y))
    rules += [(x, run_top, x, y) for i, x in enumerate(xs) if not 0 < i < run_span]
    canvas.addLiteral(" ".join(f"{a:.2f} {b:.2f} m {c:.2f} {d:.2f} l" for a, b, c, d in rules)
                      + " S")
    batch = TextBatch(canvas, m) if batch is None else batch
    y = top
    for line in lines:
        for i, (size, texts) in enumerate(line.cells):
            x0, x1 = xs[i], xs[i + line.span if i == 0 else i + 1]
            base = y - (line.height - len(texts) * size * LEADING) / 2 - size * 0.93
            if len(texts) == 1 or line.shaded:
                for k, text in enumerate(texts):
                    batch.text(x0, base - k * size * LEADING, size, text, "center", x1 - x0)
                continue
            for k, text in enumerate(texts):
                batch.text(x0 + PAD, base - k * size * LEADING, size, text)
        y -= line.height
    batch.flush()
    canvas.setLineWidth(1.0)
    canvas.rect(xs[0], bottom, xs[-1] - xs[0], top - bottom, stroke=1, fill=0)
    return bottom


#: items on one line of the totals; a dimension with more continues on the next line
TOTALS_PER_LINE = 8
TOTALS_ROW = 18.0


def _totals_lines(doc: TableDoc) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    out = []
    for dim, items in doc.totals:
        for k in range(0, max(len(items), 1), TOTALS_PER_LINE):
            out.append((dim if k == 0 else "", tuple(items[k:k + TOTALS_PER_LINE])))
    return out


def _totals_height(doc: TableDoc) -> float:
    return TOTALS_ROW * len(_totals_lines(doc)) + 8 if doc.totals else 0.0


def _draw_totals(canvas: Canvas, m: Measure, doc: TableDoc, top: float) -> float:
    """Totals by category: bordered lines, the dimension's name, then 'item：n' cells."""
    lines = _totals_lines(doc)
    if not lines:
        return top
    per = max(len(items) for _, items in lines)
    name_w = 80.0
    cell_w = (GRID_W - name_w) / max(per, 1)
    y = top
    canvas.setLineWidth(0.4)
    for dim, items in lines:
        y -= TOTALS_ROW
        canvas.setFillGray(LABEL_GRAY)
        canvas.rect(MARGIN_X, y, name_w, TOTALS_ROW, stroke=1, fill=1)
        canvas.setFillGray(0)
        size = 8.5
        while m.width(dim, size) > name_w - 4 and size > 5:
            size -= 0.5
        canvas.setFont(m.font, size)
        canvas.drawCentredString(MARGIN_X + name_w / 2, y + 5.5, dim)
        for i in range(per):
            x = MARGIN_X + name_w + i * cell_w
            canvas.rect(x, y, cell_w, TOTALS_ROW, stroke=1, fill=0)
            if i < len(items):
                text = f"{items[i][0]}：{items[i][1]}"
                size = 8.5
                while m.width(text, size) > cell_w - 4 and size > 5:
                    size -= 0.5
                canvas.setFont(m.font, size)
                canvas.drawCentredString(x + cell_w / 2, y + 5.5, text)
    return y
