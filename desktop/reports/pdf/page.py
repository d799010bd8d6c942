"""What every printed page shares: the canvas, the footer (page x of y, QR code and its line, the
print note), signature lines and the stamp box."""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab import rl_config
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from desktop.reports.pdf.fonts import FONT, Measure, register_fonts
from desktop.reports.pdf.qr import PageCode, draw_qr

MM = 72 / 25.4
PORTRAIT = A4
LANDSCAPE = landscape(A4)
MARGIN_X = 15 * MM
MARGIN_TOP = 12 * MM
MARGIN_BOTTOM = 9 * MM
QR_SIZE = 21 * MM
#: height of the footer band: the QR code, its line and the page number
FOOTER_H = QR_SIZE + 10
DATE_BLANK = "年　　月　　日"
LABEL_GRAY = 0.92


@dataclass(frozen=True)
class Footer:
    """The footer of one page."""

    code: PageCode
    number: int
    total: int
    note: str  # left: print date and whether numbers are masked


def new_canvas(title: str, pagesize: tuple[float, float] = PORTRAIT) -> tuple[Canvas, io.BytesIO]:
    """A canvas writing into memory, with the CJK font registered and reproducible output
    (invariant: the same content gives the same bytes, so a package can hash its PDF)."""
    register_fonts()
    # Plain Flate streams, not ASCII85 on top: reportlab's pure-Python ASCII85 encoder costs
    # about 5 ms a page (a third of a 附件4 page) and makes the file a quarter bigger.
    rl_config.useA85 = 0
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=pagesize, invariant=1, pageCompression=1, initialFontName=FONT,
                    initialFontSize=10)
    canvas.setTitle(title)
    canvas.setCreator("登记 Dengji")
    canvas.setAuthor("登记 Dengji")
    return canvas, buf


def draw_footer(canvas: Canvas, m: Measure, footer: Footer, page_w: float) -> None:
    """QR code at the bottom right with its line under it, 第 x 页 共 y 页 in the middle and the
    print note at the bottom left."""
    font = m.font
    qx = page_w - MARGIN_X - QR_SIZE
    draw_qr(canvas, footer.code, qx, MARGIN_BOTTOM + 8, QR_SIZE)
    line = footer.code.text
    size = 6.5
    while m.width(line, size) > page_w / 2 - MARGIN_X and size > 4.5:
        size -= 0.5
    canvas.setFont(font, size)
    canvas.drawRightString(page_w - MARGIN_X, MARGIN_BOTTOM + 1, line)
    canvas.setFont(font, 9)
    canvas.drawCentredString(page_w / 2, MARGIN_BOTTOM + 10,
                             f"第 {footer.number} 页 共 {footer.total} 页")
    canvas.setFont(font, 7.5)
    canvas.drawString(MARGIN_X, MARGIN_BOTTOM + 10, footer.note)


def draw_signatures(canvas: Canvas, m: Measure, x: float, y: float, w: float, h: float,
                    signers: tuple[str, ...], stamp: str) -> None:
    """A bordered row (lower-left x, y): one cell per signer with a signature line and a date,
    then a cell with the stamp box and a date."""
    font = m.font
    n = len(signers)
    sign_w = w * (0.62 / n if n else 0)
    canvas.setLineWidth(0.6)
    cells = [(x + i * sign_w, sign_w) for i in range(n)] + [(x + n * sign_w, w - n * sign_w)]
    for cx, cw in cells:
        canvas.rect(cx, y, cw, h, stroke=1, fill=0)
    for (cx, cw), who in zip(cells, signers, strict=False):
        canvas.setFont(font, 10)
        canvas.drawString(cx + 6, y + h - 16, f"{who}：")
        canvas.setLineWidth(0.4)
        canvas.line(cx + 12, y + h * 0.42, cx + cw - 12, y + h * 0.42)
        canvas.drawRightString(cx + cw - 10, y + 10, DATE_BLANK)
    sx, sw = cells[-1]
    canvas.setFont(font, 10)
    canvas.drawString(sx + 6, y + h - 16, stamp)
    box = min(h - 48, sw - 24, 42 * MM)
    bx, by = sx + (sw - box) / 2, y + 22
    canvas.saveState()
    canvas.setDash(3, 2)
    canvas.setLineWidth(0.5)
    canvas.setStrokeGray(0.45)
    canvas.rect(bx, by, box, box, stroke=1, fill=0)
    canvas.setFillGray(0.6)
    canvas.setFont(font, 8)
    canvas.drawCentredString(bx + box / 2, by + box / 2 - 3, "盖章处")
    canvas.restoreState()
    canvas.setFont(font, 10)
    canvas.drawRightString(sx + sw - 10, y + 10, DATE_BLANK)


def draw_lines(canvas: Canvas, m: Measure, x: float, y: float, w: float, size: float,
               lines: list[str], align: str = "left") -> None:
    """Draw `lines` downwards from baseline y."""
    canvas.setFont(m.font, size)
    for i, line in enumerate(lines):
        by = y - i * size * 1.2
        if align == "center":
            canvas.drawCentredString(x + w / 2, by, line)
        elif align == "right":
            canvas.drawRightString(x + w, by, line)
        else:
            canvas.drawString(x, by, line)


def pack_pages(items: list, room: float) -> tuple[list[list], float]:
    """Fill pages of height `room` with items (each with a `.height`) in order; an item taller
    than a page gets a page of its own. Returns the pages and the height used on the last."""
    pages: list[list] = [[]]
    used = 0.0
    for item in items:
        if used + item.height > room and pages[-1]:
            pages.append([])
            used = 0.0
        pages[-1].append(item)
        used += item.height
    return pages, used


def label_rows(canvas: Canvas, m: Measure, rows: list[tuple[str, str]], x: float, y: float,
               width: float, label_w: float, label_align: str = "center") -> float:
    """A bordered label/value grid `width` wide from (x, y) downwards (the package cover, the
    recovery sheet); a value wraps to two lines and shrinks to fit. Returns its bottom."""
    value_w = width - label_w
    top = y
    for label, value in rows:
        size, lines = m.fit(value, value_w - 8, 2 * 11 * 1.2, 11, 7)
        h = max(24.0, len(lines) * size * 1.2 + 8)
        y -= h
        canvas.setFillGray(LABEL_GRAY)
        canvas.rect(x, y, label_w, h, stroke=0, fill=1)
        canvas.setFillGray(0)
        canvas.setLineWidth(0.5)
        canvas.rect(x, y, label_w, h, stroke=1, fill=0)
        canvas.rect(x + label_w, y, value_w, h, stroke=1, fill=0)
        lx = x + (8 if label_align == "left" else 0)
        draw_lines(canvas, m, lx, y + h / 2 - 3.5, label_w - 8, 10, [label], label_align)
        base = y + h / 2 + (len(lines) * size * 1.2) / 2 - size * 0.93
        draw_lines(canvas, m, x + label_w + 4, base, value_w - 8, size, lines)
    canvas.setLineWidth(1.2)
    canvas.rect(x, y, width, top - y, stroke=1, fill=0)
    return y
