"""The workbooks of the cleanup's paper: the 统计表 in the notice's layout (附件2, A4
landscape, with 分单位明细 when it sums other units' tables) and the 通报 for the members."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from desktop.domain.society.results import Notice, zh_date
from desktop.domain.society.stats import (
    ACTUAL,
    COLUMNS,
    CONTACT,
    ENTRIES,
    FILED,
    FILLER,
    TITLE,
    TOTAL,
    UNIT,
    CleanupStats,
)
from desktop.reports.xlsx.cells import put_text

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def stats_workbook(stats: CleanupStats) -> Workbook:
    """The 统计表 in the notice's layout (附件2): title, header lines, 项目 | six columns | 数量,
    A4 landscape; with a second sheet 分单位明细 when it sums other units' tables."""
    wb = Workbook()
    ws = wb.active
    ws.title = "统计表"
    ncols = 1 + len(COLUMNS)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    title = put_text(ws["A1"], TITLE)
    title.font, title.alignment = Font(size=16, bold=True), _CENTER
    ws.row_dimensions[1].height = 32
    for r, (key, value) in enumerate(((UNIT, stats.unit), (FILLER, stats.filler),
                                      (CONTACT, stats.contact),
                                      (FILED, zh_date(stats.filed))), start=2):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncols)
        put_text(ws.cell(r, 1), f"{key}：{value}")
    head = 7
    for c, title in enumerate(("项目", *COLUMNS), start=1):
        cell = put_text(ws.cell(head, c), title)
        cell.font, cell.alignment, cell.border = Font(bold=True), _CENTER, _BOX
    ws.row_dimensions[head].height = 36
    for c, value in enumerate(("数量", *stats.columns().values()), start=1):
        cell = _put(ws.cell(head + 1, c), value)
        cell.alignment, cell.border = _CENTER, _BOX
    ws.row_dimensions[head + 1].height = 24
    ws.merge_cells(start_row=head + 2, start_column=1, end_row=head + 2, end_column=ncols)
    put_text(ws.cell(head + 2, 1), f"{ENTRIES}：{stats.entries}（{ACTUAL} = {ENTRIES} − {TOTAL}）")
    put_text(ws.cell(head + 4, ncols - 2), "填报单位（盖章）：")
    put_text(ws.cell(head + 5, ncols), zh_date(stats.filed)).alignment = Alignment(
        horizontal="right")
    ws.column_dimensions["A"].width = 10
    for c in range(2, ncols + 1):
        ws.column_dimensions[chr(ord("A") + c - 1)].width = 17
    _a4_landscape(ws)
    if stats.parts:
        ps = wb.create_sheet("分单位明细")
        titles = (UNIT, ENTRIES, *COLUMNS)
        rows = [titles, *([p.unit, p.entries, *p.columns().values()] for p in stats.parts),
                ["合计", stats.entries, *stats.columns().values()]]
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values, start=1):
                _put(ps.cell(r, c), value)
        for row in ps.iter_rows():
            for cell in row:
                cell.border, cell.alignment = _BOX, _CENTER
        for cell in ps[1]:
            cell.font = Font(bold=True)
        ps.column_dimensions["A"].width = 24
        for c in range(2, len(titles) + 1):
            ps.column_dimensions[chr(ord("A") + c - 1)].width = 15
        _a4_landscape(ps)
    return wb


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
