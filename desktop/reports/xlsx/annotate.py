"""The user's own workbook back, with every bad cell marked.

    annotate_workbook(source, out, marks) -> Path

Each marked cell is filled red (E) or yellow (W) — the worse finding wins — and gets a comment
holding the messages (I findings add to the comment without a fill). A sheet 校验结果 at the end
lists every finding with a link to its cell. The source file is never changed; `out` is a new
file written atomically. openpyxl keeps the cells, formats, merges, data validations and
comments; it drops images and charts (the message on the 校验结果 sheet says so), which is why
the original is left untouched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.hyperlink import Hyperlink

from desktop.errors import UsageError
from desktop.reports.output import atomic_file
from desktop.reports.xlsx.cells import put_text

ANNOTATABLE = (".xlsx", ".xlsm")
RESULT_SHEET = "校验结果"
AUTHOR = "登记 Dengji"
FILLS = {"E": PatternFill("solid", fgColor="FFFF8B8B"), "W": PatternFill("solid", fgColor="FFFFE066")}
RANK = {"E": 3, "W": 2, "I": 1}
SEVERITY_NAMES = {"E": "错误", "W": "警告", "I": "提示"}
MAX_COMMENT = 2000


@dataclass(frozen=True, slots=True)
class Mark:
    sheet: str
    cell: str  # "D17"
    severity: str  # E / W / I
    field: str  # the field's label, for the list
    message: str


def annotate_workbook(source: Path, out: Path, marks: Iterable[Mark]) -> Path:
    """Write `source` with the marks to `out` (see the module docstring)."""
    source, out = Path(source), Path(out)
    if source.suffix.lower() not in ANNOTATABLE:
        raise UsageError(f"只能在 .xlsx 或 .xlsm 工作簿上标注问题：{source}。请先在 Excel 或 WPS 中"
                         f"另存为 .xlsx")
    if out.suffix.lower() not in ANNOTATABLE:
        raise UsageError(f"标注结果应保存为 .xlsx 文件：{out}")
    if out.resolve() == source.resolve():
        raise UsageError(f"请为标注结果另选一个文件名，以免覆盖原文件 {source}")
    if not out.parent.is_dir():
        raise UsageError(f"文件夹不存在：{out.parent}")
    keep_vba = source.suffix.lower() == ".xlsm" and out.suffix.lower() == ".xlsm"
    try:
        wb = load_workbook(source, keep_vba=keep_vba, rich_text=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as err:
        raise UsageError(f"无法打开 {source} 进行标注：{err}") from None
    marks = [m for m in marks if m.sheet in wb.sheetnames]
    by_cell: dict[tuple[str, str], list[Mark]] = defaultdict(list)
    for m in marks:
        by_cell[m.sheet, m.cell].append(m)
    for (sheet, ref), found in by_cell.items():
        _mark(wb[sheet], ref, found)
    _result_sheet(wb, marks)
    with atomic_file(out) as part:
        wb.save(part)
    return out


def _mark(ws, ref: str, marks: list[Mark]) -> None:
    cell = ws[ref]
    if isinstance(cell, MergedCell):  # mark the visible cell of the merged range
        for rng in ws.merged_cells.ranges:
            if ref in rng:
                cell = ws.cell(rng.min_row, rng.min_col)
                break
    worst = max(marks, key=lambda m: RANK.get(m.severity, 0)).severity
    if worst in FILLS:
        cell.fill = FILLS[worst]
    text = "\n".join(f"【{SEVERITY_NAMES.get(m.severity, m.severity)}】{m.message}" for m in marks)
    if cell.comment is not None and cell.comment.text:
        text = f"{cell.comment.text}\n—— {AUTHOR} ——\n{text}"
    text = text[:MAX_COMMENT]
    lines = text.count("\n") + 1 + len(text) // 30
    cell.comment = Comment(text, AUTHOR, height=min(22 * lines + 20, 400), width=320)


def _result_sheet(wb, marks: list[Mark]) -> None:
    name = RESULT_SHEET
    n = 2
    while name in wb.sheetnames:
        name = f"{RESULT_SHEET}{n}"
        n += 1
    ws = wb.create_sheet(name)
    counts = {s: sum(1 for m in marks if m.severity == s) for s in ("E", "W", "I")}
    put_text(ws.cell(1, 1), f"共 {counts['E']} 个错误（红色）、{counts['W']} 个警告（黄色）、"
             f"{counts['I']} 个提示。点击单元格地址可跳到该单元格；原文件中的图片和图表不会出现在"
             f"本文件中。")
    for col, title in enumerate(("单元格", "栏目", "级别", "说明"), start=1):
        put_text(ws.cell(2, col), title).font = Font(bold=True)
    for row, m in enumerate(marks, start=3):
        link = put_text(ws.cell(row, 1), f"{m.sheet}!{m.cell}")
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{m.sheet}'!{m.cell}")
        link.font = Font(color="FF0563C1", underline="single")
        for col, text in ((2, m.field), (3, SEVERITY_NAMES.get(m.severity, m.severity)),
                          (4, m.message)):
            put_text(ws.cell(row, col), text)
    for col, width in (("A", 18), ("B", 22), ("C", 8), ("D", 90)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"

