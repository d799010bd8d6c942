"""The user's own workbook back, with every bad cell marked.

    annotate_workbook(source, out, marks) -> Path

Each marked cell is filled red (E) or yellow (W) — the worse finding wins — and gets a comment
holding the messages (I findings add to the comment without a fill). A sheet 校验结果 at the end
lists every finding with a link to its cell. The source file is never changed; `out` is a new
file written atomically. openpyxl keeps the cells, formats, merges, data validations and
comments; it drops images and charts (the message on the 校验结果 sheet says so), which is why
the original is left untouched.

A large workbook (marked sheets of STREAM_FROM bytes of XML and more) is not read by openpyxl,
which holds about ten times the XML in memory: reports.xlsx.stream_marks marks it as a stream,
in bounded memory, keeping everything else of the file as it is (images and charts too). What
the stream does not handle (a marked sheet with comments of its own) goes to openpyxl when the
sheets are small enough (OPENPYXL_MAX), and is refused plainly when not.

Workbooks openpyxl cannot take as they are: a styles part with an empty fill (`<fill/>`, which
WPS and older tools write; it means no fill) is read from a copy whose empty fills say so; text
XML cannot hold (a cell with `_x0000_` read back as a NUL in a message) is left out of the
comments and the list; anything else openpyxl cannot read or write is said plainly in Chinese,
and nothing is written (the output appears only once it is complete).
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.hyperlink import Hyperlink

from desktop.errors import KnownError, UsageError
from desktop.inputs import check_zip
from desktop.reports.output import atomic_file
from desktop.reports.xlsx.cells import XML_ILLEGAL, put_text
from desktop.reports.xlsx.parts import open_package
from desktop.reports.xlsx.stream_marks import Unstreamable, mark_stream, said_fills

ANNOTATABLE = (".xlsx", ".xlsm")
RESULT_SHEET = "校验结果"
AUTHOR = "登记 Dengji"
FILLS = {"E": PatternFill("solid", fgColor="FFFF8B8B"), "W": PatternFill("solid", fgColor="FFFFE066")}
RANK = {"E": 3, "W": 2, "I": 1}
SEVERITY_NAMES = {"E": "错误", "W": "警告", "I": "提示"}
MAX_COMMENT = 2000
#: marked sheets with this much XML (about 15,000 rows) are marked as a stream (stream_marks)
STREAM_FROM = 16 << 20
#: ... and openpyxl, which holds about ten times the XML in memory, takes none larger than this
OPENPYXL_MAX = 48 << 20


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
    check_zip(source, "工作簿")  # a regular file that does not inflate past its size's limit
    marks = list(marks)
    if _streamed(source, out, marks):
        return out
    wb = _load(source, keep_vba)
    marks = [m for m in marks if m.sheet in wb.sheetnames]
    by_cell: dict[tuple[str, str], list[Mark]] = defaultdict(list)
    for m in marks:
        by_cell[m.sheet, m.cell].append(m)
    for (sheet, ref), found in by_cell.items():
        _mark(wb[sheet], ref, found)
    _result_sheet(wb, marks)
    with atomic_file(out) as part:
        try:
            wb.save(part)
        except (KnownError, OSError):
            raise  # atomic_file words a full disk or a locked file
        except Exception as err:  # openpyxl cannot write something it read
            raise UsageError(_cannot(source, "保存", err)) from None
    return out


def _load(source: Path, keep_vba: bool) -> Any:
    """The workbook as openpyxl reads it; an empty `<fill/>` is read as the no-fill it means."""
    try:
        return load_workbook(source, keep_vba=keep_vba, rich_text=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError) as err:
        raise UsageError(f"无法打开 {source} 进行标注：{err}") from None
    except (TypeError, ValueError) as err:
        first = err
    try:  # the styles part, repaired in a copy (the original is never changed)
        copy = io.BytesIO()
        with zipfile.ZipFile(source) as zin, zipfile.ZipFile(copy, "w",
                                                              zipfile.ZIP_DEFLATED) as zout:
            fixed = False
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename.endswith("styles.xml") and said_fills(data) != data:
                    data, fixed = said_fills(data), True
                zout.writestr(info, data)
        if fixed:
            copy.seek(0)
            return load_workbook(copy, keep_vba=keep_vba, rich_text=True)
    except Exception as err:  # openpyxl raises many kinds on what it cannot take
        first = err
    raise UsageError(_cannot(source, "读取", first)) from None


def _cannot(source: Path, doing: str, err: Exception) -> str:
    return (f"无法在 {source} 上标注问题：用于标注的组件无法{doing}这个工作簿中的某些内容"
            f"（{type(err).__name__}：{str(err)[:200]}）。没有写出标注文件；上面列出的问题不受影响。"
            f"可在 Excel 或 WPS 中打开该工作簿，另存为新的 .xlsx 后再标注")


def _streamed(source: Path, out: Path, marks: list[Mark]) -> bool:
    """Mark a large workbook as a stream (stream_marks); False: openpyxl marks it."""
    package = open_package(source)
    if package is None:
        return False
    try:
        sheets = {m.sheet for m in marks} & set(package.worksheets())
        size = sum(package.sheet(s).size for s in sheets)
        if size < STREAM_FROM:
            return False
        marks = [m for m in marks if m.sheet in sheets]
        by_cell: dict[tuple[str, str], list[Mark]] = defaultdict(list)
        for m in marks:
            by_cell[m.sheet, m.cell].append(m)
        cells = {key: (_worst(found), _comment_text(found, ""))
                 for key, found in by_cell.items()}
        rows = [(f"{m.sheet}!{m.cell}", m.field, SEVERITY_NAMES.get(m.severity, m.severity),
                 m.message) for m in marks]
        names = [s.name for s in package.sheets]
        name = RESULT_SHEET
        n = 2
        while name in names:
            name, n = f"{RESULT_SHEET}{n}", n + 1
        try:
            mark_stream(package, out, cells, rows, _summary(marks, kept=True), name,
                        {sev: fill.fgColor.rgb for sev, fill in FILLS.items()})
        except Unstreamable as err:
            if size > OPENPYXL_MAX:
                raise UsageError(_cannot(source, "逐格标注", err)) from None
            return False
        return True
    finally:
        package.close()


def _worst(marks: list[Mark]) -> str:
    return max(marks, key=lambda m: RANK.get(m.severity, 0)).severity


def _comment_text(marks: list[Mark], before: str) -> str:
    """A cell's comment: its own comment first (if any), then every finding on it."""
    text = "\n".join(f"【{SEVERITY_NAMES.get(m.severity, m.severity)}】{m.message}" for m in marks)
    if before:
        text = f"{before}\n—— {AUTHOR} ——\n{text}"
    return XML_ILLEGAL.sub("", text[:MAX_COMMENT])


def _summary(marks: list[Mark], *, kept: bool) -> str:
    counts = {s: sum(1 for m in marks if m.severity == s) for s in ("E", "W", "I")}
    return (f"共 {counts['E']} 个错误（红色）、{counts['W']} 个警告（黄色）、{counts['I']} 个提示。"
            f"点击单元格地址可跳到该单元格；" + ("原文件中的图片、图表和宏都已保留。" if kept else
                                      "原文件中的图片和图表不会出现在本文件中。"))


def _mark(ws, ref: str, marks: list[Mark]) -> None:
    cell = ws[ref]
    if isinstance(cell, MergedCell):  # mark the visible cell of the merged range
        for rng in ws.merged_cells.ranges:
            if ref in rng:
                cell = ws.cell(rng.min_row, rng.min_col)
                break
    worst = _worst(marks)
    if worst in FILLS:
        cell.fill = FILLS[worst]
    text = _comment_text(marks, cell.comment.text if cell.comment is not None else "")
    lines = text.count("\n") + 1 + len(text) // 30
    cell.comment = Comment(text, AUTHOR, height=min(22 * lines + 20, 400), width=320)


def _result_sheet(wb, marks: list[Mark]) -> None:
    name = RESULT_SHEET
    n = 2
    while name in wb.sheetnames:
        name = f"{RESULT_SHEET}{n}"
        n += 1
    ws = wb.create_sheet(name)
    put_text(ws.cell(1, 1), _summary(marks, kept=False))
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

