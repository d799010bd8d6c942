"""Exporting what the register holds as Excel: a form's records or a summary in the official
layout, the fill-in template, and the user's own workbook with the findings marked.

- `export_excel(register, forms, target, out, …)`: a form (附件1–3, 法学会会员) or a summary
  (lawyer_summary, staff_summary, org_summary) in the official layout; masked unless `full`;
  logged with append_audit.
- `annotate_results(source, out, form, results)`: the user's workbook with the bad cells marked
  (results from services.intake.read.check_file).
- `write_template(form, out)`: the fill-in template (reports.xlsx.template).

The file formats themselves are written by reports/xlsx.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy import select

from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.levels import LEVELS
from desktop.domain.states import DRAFT, left_out_note
from desktop.domain.summaries import build_summary, cell_text
from desktop.domain.values import upgrade_stored
from desktop.errors import UsageError
from desktop.progress import Progress, Task
from desktop.reports.xlsx.annotate import Mark, annotate_workbook
from desktop.reports.xlsx.tables import doc_props, form_sheet, summary_sheets
from desktop.reports.xlsx.template import write_template
from desktop.reports.xlsx.write import UnitLine, write_tables
from desktop.services.drafts import drafts_left_out
from desktop.services.intake.checking import RowResult
from desktop.services.intake.workbook import CellRowResult
from desktop.storage import Record, Register, Unit, append_audit
from desktop.storage.concurrency import require_audit

__all__ = ["ExportResult", "annotate_results", "export_excel", "write_template"]


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


@dataclass(frozen=True)
class ExportResult:
    path: Path
    title: str
    records: int
    excluded: int  # records in 未转入情形 4/5, listed apart (summaries of members)
    full: bool
    drafts: int = 0  # drafts left out (an official output takes complete records only)


def export_excel(register: Register, forms: FormSet, target: str, out: Path, *,
                 full: bool = False, actor: str = "命令行", today: date | None = None,
                 filler: str = "", phone: str = "", audit: bool = True) -> Task[ExportResult]:
    """Export a form's records or a summary (forms.summaries) in the official layout: records
    marked complete (and later states) only; `drafts` of the result counts the drafts left
    out, and the workbook says so under the table.
    `audit=False` for a workbook that does not leave the program by itself (a package's
    member: the package's own audit entry names it, only if the package is written)."""
    today = today or date.today()
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"导出文件应以 .xlsx 结尾：{out}")
    summary = forms.summaries.get(target)
    if summary is None and target not in forms.forms:
        raise UsageError(f"没有这个表：{target}")
    needed = [summary.source_form, "party_org"] if summary else [target]
    yield Progress(0, 1, "读取记录")
    with register.session() as session:
        if audit:  # a role that may not append to the audit log: refused before any file
            require_audit(session)
        own = session.get(Unit, register.own_unit_id)
        scope = _scope(session, own)
        records = _load(session, forms, scope, needed)
        drafts = drafts_left_out(session, scope, [summary.source_form] if summary else [target])
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
        if drafts:  # said under the table, beside the masking note
            sheets = [replace(s, note="；".join(filter(None, (s.note, left_out_note(drafts)))))
                      for s in sheets]
        props = doc_props(title, unit_name=unit.unit, filler=unit.filler, form_id=target,
                          form_version=form.version, records=count, full=full)
        yield from write_tables(out, sheets, props)
        if audit:
            try:
                append_audit(session, actor, "export_excel", out.name, {
                    "target": target, "title": title, "file": out.name, "records": count,
                    "excluded": excluded, "full": full, "drafts_left_out": drafts})
                session.commit()
            except BaseException:
                Path(out).unlink(missing_ok=True)  # no workbook without its audit entry
                raise
    return ExportResult(out, title, count, excluded, full, drafts)


def _scope(session, own: Unit | None) -> list[str]:
    """The own unit and every unit below its level in the same register (merged packages)."""
    if own is None:
        return []
    ladder = [lv for lv in LEVELS if lv.startswith("society") == own.level.startswith("society")]
    below = set(ladder[:ladder.index(own.level)]) if own.level in ladder else set()
    units = session.exec(select(Unit.id, Unit.level)).all()
    return [uid for uid, level in units if uid == own.id or level in below]


def _load(session, forms: FormSet, scope: list[str], form_ids: list[str]
          ) -> list[tuple[str, str, dict]]:
    out = []
    for i in range(0, len(scope), 500):
        rows = session.exec(select(Record.id, Record.form_id, Record.data)
                            .where(Record.unit_id.in_(scope[i:i + 500]),
                                   Record.form_id.in_(form_ids), Record.state != DRAFT)).all()
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
