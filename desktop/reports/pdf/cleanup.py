"""PDF of the 统计表 (A4 landscape, the notice's layout) and of the 通报 (A4 portrait), with the
embedded CJK font of desktop/reports/pdf/fonts.py.

Pages are laid out first (a list of drawing operations per page) and drawn afterwards, so each
footer can say 第 x 页 共 y 页.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from desktop.domain.society.results import PARTS_HEADING, Notice, stats_paper, zh_date
from desktop.domain.society.stats import CleanupStats
from desktop.reports.pdf.fonts import Measure, register_fonts

MM = 72 / 25.4
MARGIN = 18 * MM
Op = Callable[[Canvas], None]


class _Doc:
    """Pages of drawing operations, top-down with a cursor `y`."""

    def __init__(self, pagesize: tuple[float, float]) -> None:
        self.w, self.h = pagesize
        self.m = Measure(register_fonts())
        self.pages: list[list[Op]] = []
        self.new_page()

    @property
    def bottom(self) -> float:
        return MARGIN + 14  # room for the page number

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.h - MARGIN

    def need(self, height: float) -> bool:
        """Start a new page unless `height` fits; True when a page was started."""
        if self.y - height < self.bottom:
            self.new_page()
            return True
        return False

    def text(self, x: float, y: float, s: str, size: float, align: str = "left") -> None:
        font = self.m.font

        def op(c: Canvas) -> None:
            c.setFont(font, size)
            if align == "center":
                c.drawCentredString(x, y, s)
            elif align == "right":
                c.drawRightString(x, y, s)
            else:
                c.drawString(x, y, s)

        self.pages[-1].append(op)

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        self.pages[-1].append(lambda c: c.rect(x, y, w, h, stroke=1, fill=0))

    def paragraph(self, s: str, size: float, *, indent: bool = True, align: str = "left",
                  leading: float = 1.6) -> None:
        width = self.w - 2 * MARGIN
        lines = _no_leading_punctuation(self.m.wrap(("　　" if indent else "") + s, size, width))
        for line in lines:
            self.need(size * leading)
            self.y -= size * leading
            x = {"left": MARGIN, "center": self.w / 2, "right": self.w - MARGIN}[align]
            self.text(x, self.y, line, size, align)

    def table(self, widths: Sequence[float], header: Sequence[str], rows: Sequence[Sequence[str]],
              *, size: float = 10.5, head_size: float = 10.5) -> None:
        """A grid with the header repeated on every page; cells wrap and are centred."""
        def height(cells: Sequence[str], s: float) -> tuple[float, list[list[str]]]:
            wrapped = [self.m.wrap(str(v), s, w - 6) for v, w in zip(cells, widths, strict=True)]
            return max(len(x) for x in wrapped) * s * 1.3 + 10, wrapped

        def row(cells: Sequence[str], s: float) -> None:
            h, wrapped = height(cells, s)
            x = MARGIN
            self.y -= h
            for lines, w in zip(wrapped, widths, strict=True):
                self.rect(x, self.y, w, h)
                top = self.y + h / 2 + (len(lines) * s * 1.3) / 2 - s
                for k, line in enumerate(lines):
                    self.text(x + w / 2, top - k * s * 1.3 + 1, line, s, "center")
                x += w

        head_h, _ = height(header, head_size)
        self.need(head_h + 30)
        row(header, head_size)
        for cells in rows:
            h, _ = height(cells, size)
            if self.need(h):
                row(header, head_size)
            row(cells, size)

    def render(self, title: str) -> bytes:
        buf = io.BytesIO()
        c = Canvas(buf, pagesize=(self.w, self.h), invariant=1, pageCompression=1,
                   initialFontName=self.m.font)
        c.setTitle(title)
        c.setCreator("登记 Dengji")
        c.setAuthor("登记 Dengji")
        total = len(self.pages)
        for n, ops in enumerate(self.pages, start=1):
            c.setLineWidth(0.6)
            for op in ops:
                op(c)
            c.setFont(self.m.font, 9)
            c.drawCentredString(self.w / 2, MARGIN - 4, f"第 {n} 页　共 {total} 页")
            c.showPage()
        c.save()
        return buf.getvalue()


_CLOSING = "，。、；：？！）》」』”’,.;:?!)"


def _no_leading_punctuation(lines: list[str]) -> list[str]:
    """Chinese typesetting never starts a line with closing punctuation: carry the previous
    line's last character down with it."""
    out = list(lines)
    for i in range(1, len(out)):
        if out[i][:1] in _CLOSING and len(out[i - 1]) > 1:
            out[i - 1], out[i] = out[i - 1][:-1], out[i - 1][-1] + out[i]
    return out


def stats_pdf(stats: CleanupStats) -> bytes:
    """The 统计表 on A4 landscape, laid out as its workbook is (domain.society.results.
    stats_paper): title, header lines, 项目 | six columns over 数量, the entries line, the
    tables it sums under 分单位情况 (with 合计), the stamp line and the date."""
    paper = stats_paper(stats)
    doc = _Doc(landscape(A4))
    doc.y -= 20
    doc.text(doc.w / 2, doc.y, paper.title, 18, "center")
    doc.y -= 14
    for line in paper.lines:
        doc.paragraph(line, 11.5, indent=False)
    doc.y -= 8
    width = doc.w - 2 * MARGIN
    first = 70.0
    doc.table([first] + [(width - first) / (len(paper.header) - 1)] * (len(paper.header) - 1),
              list(paper.header), [[str(v) for v in paper.row]], size=13)
    doc.y -= 4
    doc.paragraph(paper.entries_line, 10.5, indent=False)
    if paper.parts:
        doc.y -= 10
        doc.paragraph(PARTS_HEADING, 12, indent=False)
        doc.y -= 4
        unit_w, entries_w = 150.0, 72.0
        rest = (width - unit_w - entries_w) / (len(paper.parts_header) - 2)
        doc.table([unit_w, entries_w] + [rest] * (len(paper.parts_header) - 2),
                  list(paper.parts_header), [[str(v) for v in row] for row in paper.parts],
                  size=10, head_size=9.5)
    doc.need(60)
    doc.y -= 36
    doc.text(doc.w - MARGIN - 260, doc.y, paper.stamp, 11.5)
    doc.y -= 22
    doc.text(doc.w - MARGIN, doc.y, paper.date, 11.5, "right")
    return doc.render(paper.title)


def notice_pdf(notice: Notice) -> bytes:
    """The 通报 on A4 portrait: title, the numbers, the re-admission deadline, the list of
    names and categories when chosen, the issuing society and date."""
    doc = _Doc(A4)
    doc.y -= 16
    for line in doc.m.wrap(notice.title, 17, doc.w - 2 * MARGIN):
        doc.y -= 26
        doc.text(doc.w / 2, doc.y, line, 17, "center")
    doc.y -= 14
    for text in notice.paragraphs():
        doc.paragraph(text, 12)
    if notice.names and notice.rows:
        doc.y -= 8
        width = doc.w - 2 * MARGIN
        doc.table([40, (width - 40) * 0.28, (width - 40) * 0.32, (width - 40) * 0.40],
                  ["序号", "姓名", "会员证号", "清理类别"],
                  [[str(i), n, no, cat] for i, (n, no, cat) in enumerate(notice.rows, start=1)])
    doc.need(70)
    doc.y -= 40
    doc.text(doc.w - MARGIN, doc.y, notice.unit, 12, "right")
    doc.y -= 22
    doc.text(doc.w - MARGIN, doc.y, zh_date(notice.issued.isoformat()), 12, "right")
    return doc.render(notice.title)
