"""What the window's 导入Excel dialog needs besides the services: a quick look at a workbook
(its sheets, header row, first rows and the field each column is taken for), the problems of a
column mapping a person is editing.

- `preview_workbook(path, form, sheet=None, rows=20)` reads only the first rows of one sheet
  (reports.xlsx.head) and guesses each column's field from its header as the reader does
  (reports.xlsx.columns.HeaderMatcher: labels, aliases, 身份证号码/出生年月 …). Not a workbook, password
  protected, no header row: a UsageError with the reader's clear message.
- `effective_mapping(preview, chosen)` → the `mapping` argument of check_workbook/read_workbook
  (only the columns a person changed; the others keep the reader's own choice), and
  `mapping_problems(form, preview, chosen)` → what is wrong with it (a field taken by two columns,
  a required field no column fills), in Chinese.

The import itself is importing.import_file with the chosen `sheet` and `mapping`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from desktop.domain.forms import FormSpec
from desktop.errors import UsageError
from desktop.reports.xlsx.columns import (
    FormColumn,
    HeaderMatcher,
    column_letter,
    form_columns,
)
from desktop.reports.xlsx.head import first_rows, first_rows_whole
from desktop.reports.xlsx.read import HEADER_SCAN_ROWS, header_row

PREVIEW_ROWS = 20
#: a choice in the mapping: this column is not imported
SKIP = ""


@dataclass(frozen=True)
class PreviewColumn:
    """One column of the sheet and the field the reader takes it for."""

    index: int  # 0-based
    letter: str
    header: str
    auto: FormColumn | None  # what the header names (None: no field of the form)
    row_number: bool  # a 序号 column: ignored without a note


@dataclass(frozen=True)
class WorkbookPreview:
    path: Path
    sheets: tuple[str, ...]  # the visible worksheets
    sheet: str
    header_row: int  # 1-based; 0 when the sheet has no header row
    columns: tuple[PreviewColumn, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (Excel row number, shown cell texts)
    data_rows: int  # rows below the header (empty rows and the foot included)

    @property
    def has_header(self) -> bool:
        return self.header_row > 0


def cell_text(value: Any) -> str:
    """A cell as a clerk sees it in Excel: 12 not 12.0, dates as 2020-01-05."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return f"{value:g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time() else \
            value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).replace("\r\n", "\n").strip()


def preview_workbook(path: Path, form: FormSpec, sheet: str | None = None,
                     rows: int = PREVIEW_ROWS) -> WorkbookPreview:
    """The first rows of a sheet and the field each column is taken for (see the module
    docstring). Without `sheet`, the visible sheet whose header names most fields."""
    path = Path(path)
    matcher = HeaderMatcher(form)
    needed = min(2, len(form.fields))
    nrows = HEADER_SCAN_ROWS + rows + 1
    quick = first_rows(path, sheet, nrows)
    visible, heads = quick if quick is not None else first_rows_whole(path, sheet, nrows)
    found: list[tuple[int, str, int, list[list[Any]], int]] = []
    for name, grid, height in heads:
        score, hrow = header_row(grid, matcher, 0)
        found.append((score if score >= needed else 0, name, hrow, grid, height))
    names = [name for name, _, _ in heads]
    if not found:
        raise UsageError(f"{path} 中没有可读取的工作表")
    if sheet is None and all(score == 0 for score, *_ in found):
        raise UsageError(
            f"{path}：在各工作表的前 {HEADER_SCAN_ROWS} 行中没有找到表头行（应有一行写着本表的栏目"
            f"名称，如 {'、'.join(f.label for f in form.fields[:3])}）。请确认选择的表单是"
            f"{form.display_title}，或在数据上方加上栏目名称")
    score, name, hrow, grid, height = max(found, key=lambda f: f[0])
    if sheet is not None:
        score, name, hrow, grid, height = found[0]
    if score == 0:  # the sheet asked for has no header row: shown, nothing can be read
        return WorkbookPreview(path, tuple(visible or names), name, 0, (), _rows(grid, 0, rows),
                               0)
    header = grid[hrow]
    width = max([len(header), *(len(r) for r in grid[hrow + 1:])])
    columns = []
    for j in range(width):
        text = cell_text(header[j]) if j < len(header) else ""
        columns.append(PreviewColumn(j, column_letter(j), text.replace("\n", " "),
                                     matcher.match(text) if text else None,
                                     bool(text) and matcher.is_row_number(text)))
    return WorkbookPreview(path, tuple(visible or names), name, hrow + 1, tuple(columns),
                           _rows(grid, hrow + 1, rows), max(height - hrow - 1, 0))


def _rows(grid: list[list[Any]], start: int, count: int
          ) -> tuple[tuple[int, tuple[str, ...]], ...]:
    out = []
    for i in range(start, len(grid)):
        cells = tuple(cell_text(v) for v in grid[i])
        if any(cells):
            out.append((i + 1, cells))
        if len(out) >= count:
            break
    return tuple(out)


def field_choices(form: FormSpec) -> list[tuple[str, str]]:
    """(field path, label) of every column a workbook column can be imported as."""
    return [(c.path, c.label) for c in form_columns(form)]


def effective_mapping(preview: WorkbookPreview, chosen: Mapping[int, str | None]
                      ) -> dict[int, str | None]:
    """The `mapping` for check_workbook: column → field path, or None (not imported), for the
    columns whose choice differs from the reader's own (`chosen`: None = 自动识别,
    SKIP = 不导入, else a field path)."""
    out: dict[int, str | None] = {}
    for col in preview.columns:
        choice = chosen.get(col.index)
        if choice is None:
            continue
        out[col.index] = choice or None
    return out


def mapped_paths(preview: WorkbookPreview, chosen: Mapping[int, str | None]
                 ) -> dict[int, str | None]:
    """The field path each column will fill (None: not imported)."""
    out: dict[int, str | None] = {}
    for col in preview.columns:
        choice = chosen.get(col.index)
        if choice is None:
            out[col.index] = col.auto.path if col.auto else None
        else:
            out[col.index] = choice or None
    return out


def mapping_problems(form: FormSpec, preview: WorkbookPreview,
                     chosen: Mapping[int, str | None]) -> tuple[list[str], list[str]]:
    """(errors, notes) of a mapping: a field filled by two columns and a required field that no
    column fills are errors; extra columns that are not imported are notes."""
    errors: list[str] = []
    notes: list[str] = []
    paths = mapped_paths(preview, chosen)
    labels = dict(field_choices(form))
    by_path: dict[str, list[str]] = {}
    for col in preview.columns:
        path = paths[col.index]
        if path:
            by_path.setdefault(path, []).append(col.letter)
        elif col.header and not col.row_number:
            notes.append(f"列 {col.letter}“{col.header}”不导入")
    for path, letters in by_path.items():
        if len(letters) > 1:
            errors.append(f"列 {'、'.join(letters)} 都对应“{labels.get(path, path)}”：请把多余的列"
                          f"改为“不导入”")
    filled = {p.split("[", 1)[0] for p in by_path}
    for spec in form.fields:
        if spec.required and spec.default is None and spec.id not in filled:
            errors.append(f"必填栏目“{spec.label}”没有对应的列")
    return errors, notes
