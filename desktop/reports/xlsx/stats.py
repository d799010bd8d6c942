"""The workbooks of the cleanup's paper: the 统计表 in the notice's layout (附件2, A4
landscape, laid out as its PDF: the tables it sums under 分单位情况 on the same sheet) and the
通报 for the members."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from desktop.domain.society.results import PARTS_HEADING, Notice, stats_paper, zh_date
from desktop.domain.society.stats import CleanupStats
from desktop.reports.xlsx.cells import put_text

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def stats_workbook(stats: CleanupStats) -> Workbook:
    """The 统计表 in the notice's layout (附件2), A4 landscape, laid out as its PDF is
    (domain.society.results.stats_paper): title, header lines, 项目 | six columns over 数量,
    the entries line, the tables it sums under 分单位情况 (with 合计), the stamp line and the
    date, all on the one sheet."""
    paper = stats_paper(stats)
    wb = Workbook()
    ws = wb.active
    ws.title = "统计表"
    ncols = max(len(paper.header), len(paper.parts_header))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    title = put_text(ws["A1"], paper.title)
    title.font, title.alignment = Font(size=16, bold=True), _CENTER
    ws.row_dimensions[1].height = 32
    r = 2
    for line in paper.lines:
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncols)
        put_text(ws.cell(r, 1), line)
        r += 1
    r += 1
    r = _table(ws, r, paper.header, [paper.row], height=36)
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncols)
    put_text(ws.cell(r, 1), paper.entries_line)
    r += 1
    if paper.parts:
        r += 1
        put_text(ws.cell(r, 1), PARTS_HEADING).font = Font(bold=True)
        r = _table(ws, r + 1, paper.parts_header, paper.parts, height=30)
    put_text(ws.cell(r + 1, ncols - 2), paper.stamp)
    put_text(ws.cell(r + 2, ncols), paper.date).alignment = Alignment(horizontal="right")
    ws.column_dimensions["A"].width = 24 if paper.parts else 10
    for c in range(2, ncols + 1):
        ws.column_dimensions[chr(ord("A") + c - 1)].width = 15
    _a4_landscape(ws)
    return wb


def _table(ws, r: int, header, rows, *, height: float) -> int:
    """A bordered table at row `r`: the bold header, then the rows; the row after it."""
    for c, text in enumerate(header, start=1):
        cell = put_text(ws.cell(r, c), text)
        cell.font, cell.alignment, cell.border = Font(bold=True), _CENTER, _BOX
    ws.row_dimensions[r].height = height
    for values in rows:
        r += 1
        for c, value in enumerate(values, start=1):
            cell = _put(ws.cell(r, c), value)
            cell.alignment, cell.border = _CENTER, _BOX
        ws.row_dimensions[r].height = 24
    return r + 1


def _put(cell, value):
    """A number as a number, anything else as text (put_text)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        cell.value = value
        return cell
    return put_text(cell, value)


def _a4_landscape(ws) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"  # as the PDF's footer


def notice_workbook(notice: Notice) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "通报"
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["C"].width = 18
    ws.column_dimensions["D"].width = 26
    ws.merge_cells("A1:D1")
    title = put_text(ws["A1"], notice.title)
    title.font, title.alignment = Font(size=15, bold=True), _CENTER
    ws.row_dimensions[1].height = 40
    r = 2
    for text in notice.paragraphs():
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=4)
        put_text(ws.cell(r, 1), "　　" + text).alignment = Alignment(wrap_text=True,
                                                                   vertical="top")
        ws.row_dimensions[r].height = 18 * (1 + len(text) // 40)
        r += 1
    if notice.names and notice.rows:
        for c, title in enumerate(("序号", "姓名", "会员证号", "清理类别"), start=1):
            cell = put_text(ws.cell(r, c), title)
            cell.font, cell.border, cell.alignment = Font(bold=True), _BOX, _CENTER
        for i, (name, no, category) in enumerate(notice.rows, start=1):
            for c, value in enumerate((i, name, no, category), start=1):
                _put(ws.cell(r + i, c), value).border = _BOX
        r += len(notice.rows) + 1
    put_text(ws.cell(r + 1, 4), notice.unit).alignment = Alignment(horizontal="right")
    put_text(ws.cell(r + 2, 4), zh_date(notice.issued.isoformat())).alignment = Alignment(
        horizontal="right")
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_options.horizontalCentered = True
    return wb
