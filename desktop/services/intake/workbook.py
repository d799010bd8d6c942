"""Reading an Excel workbook (.xlsx, .xlsm, .xls, .ods) into checked rows.

- `check_workbook(forms, form, path, **check_kwargs)`: what `read.check_file` does for a
  .jsonl file, for a workbook: read it (reports.xlsx.read), run the local rules on every core
  for large sheets, then the unique keys and cross rules. Each result is a `CellRowResult` that
  knows the cell of each finding (`where(f)` → "附件1!D17"). What is said about the sheet
  (extra columns, …) is added to the first row's findings, located at its header cell.
- `read_sheet(...)`: the local check only (services.intake.read.read_source for a workbook); a
  large .xlsx sheet is read in parts (services.intake.parts).

Exporting tables and marking the user's workbook are in services/exporting.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from desktop.domain.findings import Finding
from desktop.domain.forms import FormSet, FormSpec
from desktop.errors import UsageError
from desktop.progress import Progress, Task
from desktop.reports.xlsx.parts import Unusable, open_package
from desktop.reports.xlsx.read import (
    WORKBOOK_SUFFIXES,
    Layout,
    filled_in,
    no_data,
    open_sheet,
    pick_sheet,
    scan_rows,
    sheet_layout,
    where,
)
from desktop.services.intake import parts as sheetparts
from desktop.services.intake import rowcheck
from desktop.services.intake.checking import BatchKeys, Collector, OnRows, RowResult, check_context
from desktop.services.intake.parts import PartsRead
from desktop.services.intake.rowcheck import gc_paused

__all__ = ["WORKBOOK_SUFFIXES", "CellRowResult", "check_workbook", "read_sheet"]

#: sheets with at least this many rows are converted and checked on every core
PARALLEL_FROM = 4000


@dataclass
class CellRowResult(RowResult):
    """A checked row of a workbook: also knows where each finding's cell is."""

    layout: Layout | None = None
    note_cells: dict[Finding, str] = field(default_factory=dict)

    def where(self, finding: Finding) -> str:
        """"附件1!D17", or "附件1!第17行" for a finding about the whole record."""
        assert self.layout is not None
        return where(self.layout, self.no, finding, self.note_cells)

    def cell(self, finding: Finding) -> str:
        """The cell to mark for a finding ("D17"); the row's first cell if no column fits."""
        assert self.layout is not None
        ref = self.note_cells.get(finding)
        if ref is None:
            letter = self.layout.letter(finding.field)
            ref = f"{letter or _first_letter(self.layout)}{self.no}"
        return ref


def _first_letter(layout: Layout) -> str:
    return next((rc.letter for rc in layout.columns if rc.path), "A")


def check_workbook(forms: FormSet, form: FormSpec, path: Path, *, sheet: str | None = None,
                   mapping: Mapping[int, str | None] | None = None, **kwargs
                   ) -> Task[list[CellRowResult]]:
    """Check the records of a workbook (see the module docstring); kwargs as check_rows
    (register, session, unit_id, today); `sheet` and `mapping` as read_workbook."""
    today = kwargs.get("today") or date.today()
    kwargs["today"] = today
    with gc_paused():  # a few hundred thousand acyclic objects: collecting them is all cost
        results, batch = yield from read_sheet(form, path, today=today, sheet=sheet,
                                               mapping=mapping)
        return (yield from check_context(forms, form, results, batch=batch, **kwargs))


def read_sheet(form: FormSpec, path: Path, *, today: date, storage: bool = False,
               on_rows: OnRows | None = None, sheet: str | None = None,
               mapping: Mapping[int, str | None] | None = None
               ) -> Task[tuple[list[CellRowResult], BatchKeys]]:
    """Read a sheet and run the local rules on its rows, on every core for a large sheet
    (services.intake.rowcheck; a large .xlsx sheet is also read in parts, services.intake.parts): the
    results in sheet order and each row's key values. What is said about the sheet goes to the
    first row's findings."""
    yield Progress(0, 1, "读取工作簿")
    with gc_paused():
        read = _in_parts(form, Path(path), sheet, mapping)
    if read is not None:
        try:
            return (yield from _read_parts(read, Path(path), today, storage, on_rows))
        except Unusable as err:  # read whole below, unless rows were handed on already
            if read.handed_on:
                raise UsageError(f"无法读取工作簿 {path}：文件可能已损坏（{err}）") from None
        finally:
            read.package.close()
    with gc_paused():
        layout, data, notes, note_cells = open_sheet(path, form, sheet=sheet, mapping=mapping)

    def first(row: RowResult) -> None:
        row.findings[:0] = notes

    collect = Collector(form, _maker(layout, note_cells), on_rows, first)
    with gc_paused():
        if len(data) >= PARALLEL_FROM and rowcheck.workers() > 1 and form.path is not None:
            yield from rowcheck.parallel_sheet(form, layout, data, today, storage, collect,
                                               fork=_use_fork())
        else:
            checker = rowcheck.RowChecker(form, today, storage)
            yield from rowcheck.serial_rows(
                checker, lambda: rowcheck.check_sheet_rows(checker, layout, data), collect)
    if not collect.results:
        raise no_data(path, layout)
    return collect.results, collect.batch  # type: ignore[return-value]


def _in_parts(form: FormSpec, path: Path, sheet: str | None,
              mapping: Mapping[int, str | None] | None) -> PartsRead | None:
    """A large .xlsx sheet to be read in parts, its header and columns found from its first
    rows as open_sheet finds them; None: read the workbook whole."""
    if (path.suffix.lower() not in (".xlsx", ".xlsm") or rowcheck.workers() < 2
            or form.path is None):
        return None
    package = open_package(path)
    if package is None:
        return None
    try:
        names = package.worksheets(sheet)
        if names and max(package.sheet(n).size for n in names) >= sheetparts.SPLIT_FROM_BYTES:
            name, hrow, grid = pick_sheet(path, form, [(n, package.head(n)) for n in names],
                                          sheet, mapping)
            if package.sheet(name).size >= sheetparts.SPLIT_FROM_BYTES:
                header, chosen = grid[hrow], dict(mapping or {})
                layout, _, _ = sheet_layout(
                    form, name, hrow, header, max(len(header), max(chosen, default=-1) + 1),
                    filled_in(scan_rows(grid, hrow + 2).data), chosen)
                return PartsRead(package, name, form, layout, header, chosen)
    except (Unusable, UsageError):  # read whole: that also words what is wrong
        pass
    package.close()
    return None


def _read_parts(read: PartsRead, path: Path, today: date, storage: bool,
                on_rows: OnRows | None) -> Task[tuple[list[CellRowResult], BatchKeys]]:
    note_cells: dict[Finding, str] = {}
    layout = read.layout
    collect = Collector(read.form, _maker(layout, note_cells), on_rows)
    with gc_paused():
        yield from sheetparts.parallel_parts(read, today, storage, collect)
        notes, cells = read.finish()
    note_cells.update(cells)
    if not collect.results:
        raise no_data(path, layout)
    collect.results[0].findings[:0] = notes
    return collect.results, collect.batch  # type: ignore[return-value]


def _maker(layout: Layout, note_cells: dict[Finding, str]) -> Callable[..., CellRowResult]:
    """What makes the Collector's results: rows that know their sheet's cells."""
    def make(no: int, rid: str, values: dict | None, findings: list[Finding]) -> CellRowResult:
        return CellRowResult(no, rid, values, findings, layout, note_cells)
    return make


def _use_fork() -> bool:
    """Fork (workers see the parent's rows without copying) where it is safe and available."""
    return rowcheck.use_fork()
