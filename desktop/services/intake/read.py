"""The one way into a file's rows: the choice between a .jsonl file and an Excel workbook.

- `read_source(...)`: the local check of every row, in file order, with the batch's unique
  keys — a .jsonl file through services.intake.checking.read_lines, a workbook (.xlsx, .xlsm,
  .xls, .ods) through services.intake.workbook.read_sheet.
- `check_file(...)`: the same and then the unique keys and cross rules (check_context); a
  workbook's results are `CellRowResult`s that know the cell of each finding.

Both refuse at once what is no regular file (a FIFO, a device, a folder, a link to one:
desktop.inputs.regular_file), before anything opens it.

Nothing below this module imports it back: workbook → parts and checking → rowcheck → jsonl.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from desktop.domain.forms import FormSet, FormSpec
from desktop.inputs import regular_file
from desktop.progress import Task
from desktop.reports.xlsx.read import WORKBOOK_SUFFIXES
from desktop.services.intake.checking import BatchKeys, OnRows, RowResult, check_context, read_lines
from desktop.services.intake.workbook import check_workbook, read_sheet


def is_workbook(path: Path) -> bool:
    """Whether `path` is read as an Excel workbook (by its suffix), not as .jsonl."""
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


def check_file(forms: FormSet, form: FormSpec, path: Path, **kwargs) -> Task[list[RowResult]]:
    """Check the records of a .jsonl file or an Excel workbook (.xlsx, .xlsm, .xls, .ods); a
    large file is read and checked on every core. A workbook's results know the cell of each
    finding (services.intake.workbook.CellRowResult.where)."""
    regular_file(path, "工作簿" if is_workbook(path) else "记录文件")
    if is_workbook(path):
        return (yield from check_workbook(forms, form, path, **kwargs))
    today = kwargs.get("today") or date.today()
    results, batch = yield from read_source(forms, form, Path(path), today=today)
    return (yield from check_context(forms, form, results, batch=batch, **kwargs))


def read_source(forms: FormSet, form: FormSpec, path: Path, *, today: date,
                storage: bool = False, on_rows: OnRows | None = None,
                sheet: str | None = None, mapping: Any = None
                ) -> Task[tuple[list[RowResult], BatchKeys]]:
    """Read a .jsonl file or a workbook and run the local rules on every row (every core for a
    large file): the results in file order and their unique keys. `on_rows` gets every
    chunk as soon as it is checked; `storage` also packs the JSON to store."""
    regular_file(path, "工作簿" if is_workbook(path) else "记录文件")
    if is_workbook(path):
        return (yield from read_sheet(form, path, today=today, storage=storage,
                                      on_rows=on_rows, sheet=sheet, mapping=mapping))
    return (yield from read_lines(form, Path(path), today=today, storage=storage,
                                  on_rows=on_rows))
