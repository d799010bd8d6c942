"""Excel use cases: check a workbook, mark the user's workbook, export tables, write templates.

- `check_workbook(forms, form, path, **check_kwargs)`: what `checking.check_file` does for a
  .jsonl file, for a workbook: read it (reports.xlsx_read), run the local rules on every core
  for large sheets, then the unique keys and cross rules. Each result is a `CellRowResult` that
  knows the cell of each finding (`where(f)` → "附件1!D17"). What is said about the sheet
  (extra columns, …) is added to the first row's findings, located at its header cell.
- `annotate_results(source, out, form, results)`: the user's workbook with the bad cells marked.
- `export_excel(register, forms, target, out, …)`: a form (附件1–3, 法学会会员) or a summary
  (lawyer_summary, staff_summary, org_summary) in the official layout; masked unless `full`;
  logged with append_audit.
- `write_template(form, out)`: the fill-in template (reports.xlsx_template).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from desktop.domain.findings import Finding
from desktop.domain.levels import LEVELS
from desktop.domain.summaries import SUMMARIES, build_summary, cell_text
from desktop.domain.values import upgrade_stored
from desktop.errors import UsageError
from desktop.formspec.model import FormSet, FormSpec
from desktop.progress import Progress, Task
from desktop.reports.xlsx.annotate import Mark, annotate_workbook
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
from desktop.reports.xlsx.tables import doc_props, form_sheet, summary_sheets
from desktop.reports.xlsx.template import write_template
from desktop.reports.xlsx.write import UnitLine, write_tables
from desktop.services.intake import parts as sheetparts
from desktop.services.intake import rowcheck
from desktop.services.intake.checking import BatchKeys, Collector, OnRows, RowResult, check_context
from desktop.services.intake.parts import PartsRead
from desktop.services.intake.rowcheck import gc_paused
from desktop.storage import Record, Register, Unit, append_audit

__all__ = ["EXPORT_TARGETS", "WORKBOOK_SUFFIXES", "CellRowResult", "ExportResult",
           "annotate_results", "check_workbook", "export_excel", "is_workbook", "write_template"]

#: sheets with at least this many rows are converted and checked on every core
PARALLEL_FROM = 4000


def is_workbook(path: Path) -> bool:
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


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
    (services.rowcheck; a large .xlsx sheet is also read in parts, services.sheetparts): the
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


# --- marking the user's workbook -------------------------------------------------------------


def annotate_results(source: Path, out: Path, form: FormSpec,
                     results: Sequence[RowResult]) -> Path:
    """The user's workbook with each finding's cell filled and commented, saved as `out`."""
    marks = []
    for row in results:
        if not isinstance(row, CellRowResult):
            continue
        sheet = row.layout.sheet if row.layout else ""
        for f in row.findings:
            label = form.label_of(f.field) if f.field else ""
            marks.append(Mark(sheet, row.cell(f), f.severity, label, f.message))
    return annotate_workbook(source, out, marks)


# --- exporting tables ------------------------------------------------------------------------

#: what export_excel accepts besides the form ids: the summaries 附件4–6
EXPORT_TARGETS = tuple(SUMMARIES)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    title: str
    records: int
    excluded: int  # records in 未转入情形 4/5, listed apart (summaries of members)
    full: bool


def export_excel(register: Register, forms: FormSet, target: str, out: Path, *,
                 full: bool = False, actor: str = "命令行", today: date | None = None,
                 filler: str = "", phone: str = "") -> Task[ExportResult]:
    """Export a form's records or a summary (EXPORT_TARGETS) in the official layout."""
    today = today or date.today()
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"导出文件应以 .xlsx 结尾：{out}")
    summary = SUMMARIES.get(target)
    if summary is None and target not in forms.forms:
        raise UsageError(f"没有这个表：{target}")
    needed = [summary.source_form, "party_org"] if summary else [target]
    yield Progress(0, 1, "读取记录")
    with register.session() as session:
        own = session.get(Unit, register.own_unit_id)
        scope = _scope(session, own)
        records = _load(session, forms, scope, needed)
        contact, contact_phone = _contact(forms, records, own, full)
        unit = UnitLine(own.name if own else "", filler or contact, phone or contact_phone,
                        today)
        if summary is not None:
            built = build_summary(forms, target, records, today=today, full=full)
            sheets = summary_sheets(built, unit)
            title, count, excluded = built.title, built.count, len(built.excluded_rows)
            form = forms.form(summary.source_form)
        else:
            form = forms.form(target)
            values = sorted((v for _, fid, v in records if fid == target),
                            key=lambda v: str(v.get(form.name_field) or ""))
            sheets = [form_sheet(form, values, unit, full=full)]
            title, count, excluded = form.display_title, len(values), 0
        props = doc_props(title, unit_name=unit.unit, filler=unit.filler, form_id=target,
                          form_version=form.version, records=count, full=full)
        yield from write_tables(out, sheets, props)
        append_audit(session, actor, "export_excel", out.name, {
            "target": target, "title": title, "file": str(out), "records": count,
            "excluded": excluded, "full": full})
        session.commit()
    return ExportResult(out, title, count, excluded, full)


def _scope(session, own: Unit | None) -> list[str]:
    """The own unit and every unit below its level in the same register (merged packages)."""
    from sqlalchemy import select

    if own is None:
        return []
    ladder = [lv for lv in LEVELS if lv.startswith("society") == own.level.startswith("society")]
    below = set(ladder[:ladder.index(own.level)]) if own.level in ladder else set()
    units = session.exec(select(Unit.id, Unit.level)).all()
    return [uid for uid, level in units if uid == own.id or level in below]


def _load(session, forms: FormSet, scope: list[str], form_ids: list[str]
          ) -> list[tuple[str, str, dict]]:
    from sqlalchemy import select

    out = []
    for i in range(0, len(scope), 500):
        rows = session.exec(select(Record.id, Record.form_id, Record.data)
                            .where(Record.unit_id.in_(scope[i:i + 500]),
                                   Record.form_id.in_(form_ids))).all()
        for rid, fid, data in rows:
            spec = forms.forms.get(fid)
            values = json.loads(data)
            out.append((rid, fid, upgrade_stored(spec.fields, values) if spec else values))
    return out


def _contact(forms: FormSet, records, own: Unit | None, full: bool) -> tuple[str, str]:
    """填报人 and 联系电话 from the own organisation's 附件3 record, when there is exactly one."""
    if own is None or own.level != "firm" or "party_org" not in forms.forms:
        return "", ""
    orgs = [v for _, fid, v in records if fid == "party_org"]
    if len(orgs) != 1:
        return "", ""
    form = forms.form("party_org")
    phone = (cell_text(form.field("contact_phone"), orgs[0].get("contact_phone"), full)
             if form.has_field("contact_phone") else "")
    return str(orgs[0].get("contact") or ""), phone
