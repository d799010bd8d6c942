"""Change reports (定期更新): what changed between a unit's packages, for the receiving clerk
before accepting (`changes_of_unit`), and for the own unit before it exports (`own_changes`:
its records as the next package takes them against its last sent package); the change summary
an export carries upward (`summary_for_export`); the report as a workbook (`write_workbook`).
The comparison itself is desktop/exchange/changes.py. UI-free; the dialogs and `dengji
changes` call these."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from desktop.domain.forms import FormSet
from desktop.domain.identifiers import normalise_id
from desktop.errors import KnownError, UsageError
from desktop.exchange import outbound, trust
from desktop.exchange.changes import (
    Comparison,
    Opened,
    compare,
    count_unit,
    differing,
    gone_actions,
    open_kept,
    summary_member,
)
from desktop.exchange.format.manifest import KIND_REGISTRATION
from desktop.progress import run
from desktop.reports.xlsx.write import DocProps, TableSheet, UnitLine, write_tables
from desktop.services.packages.io import ACTOR
from desktop.storage import AuditEntry, Record, Register, Unit, append_audit
from desktop.storage.concurrency import require_audit_of
from desktop.storage.tables import PACKAGE_RECEIVED, PACKAGE_SENT, ExpectedUnit, Package

CHUNK = 900


@dataclass(frozen=True)
class PackageRef:
    package_id: str
    sequence: int
    created: datetime | None

    def describe(self) -> str:
        day = f"，{self.created:%Y-%m-%d}" if self.created else ""
        return f"序号 {self.sequence}{day}"


@dataclass(frozen=True)
class ChangeReport:
    """A unit's change list, or why there is none yet (`message`)."""

    unit_code: str
    unit_name: str
    own: bool  # the own unit: its records now against its last sent package
    before: PackageRef | None = None
    after: PackageRef | None = None  # None for the own unit (not exported yet)
    comparison: Comparison | None = None
    message: str = ""
    #: the counts the later package carried (what its sender reported of its own changes)
    carried: list[dict[str, Any]] | None = None

    @property
    def heading(self) -> str:
        if self.comparison is None:
            return self.message
        later = "本单位现有记录（下次上报的内容）" if self.own else f"数据包（{self.after.describe()}）"
        return (f"{self.unit_name}（{self.unit_code}）：{later}与上一个数据包（"
                f"{self.before.describe()}）相比，{self.comparison.sentence()}。")


def _ref(p: Any) -> PackageRef:
    return PackageRef(p.id, p.sequence, p.created)


def _key(session: Session, register: Register):
    # every own X25519 key: a kept package was encrypted for the key of its time (rotation)
    return trust.own_decrypt_keys(session, register)


def own_changes(register: Register, forms: FormSet, *, full: bool = False) -> ChangeReport:
    """The own unit's changes since its last sent package: its records as the next package
    takes them (no drafts; at a city, the accepted records of its units too)."""
    with register.session() as session:
        unit = trust.own_unit(session, register)
        last = _last_sent(session, unit.code)
        base = ChangeReport(unit.code, unit.name, True)
        if last is None:
            return replace(base, message="本单位还没有上报过数据包：下次上报是第一次，没有可以比较的"
                                       "上一个数据包。")
        if last.content is None:
            return replace(base, before=_ref(last), message=(
                f"上次上报的数据包（{_ref(last).describe()}）是用更早的版本导出的，登记库中没有"
                "保存它，无法比较；本次上报后，下次上报前即可看到变化。"))
        key = _key(session, register)
        old = open_kept(last.content, key, last.file_name)
        lines = _own_lines(session, register)
        comparison = compare(old.lines, lines, forms, masked=not full,
                             gone=gone_actions(_audit_since(session, last.id)),
                             explain=_explainer(session, key))
    return replace(base, before=_ref(last), comparison=comparison)


def _last_sent(session: Session, code: str) -> Package | None:
    return session.execute(
        select(Package).where(Package.direction == PACKAGE_SENT,
                              Package.kind == KIND_REGISTRATION, Package.sender_code == code)
        .order_by(Package.sequence.desc()).limit(1)).scalars().first()


def _own_lines(session: Session, register: Register) -> list[dict[str, Any]]:
    codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    return [{"id": r.id, "unit": codes[r.unit_id], "form_id": r.form_id,
             "values": json.loads(r.data)}
            for r in outbound.included_records(session, register)]


def _explainer(session: Session, key):
    """compare's `explain`: what the audit logs of the units below say of their records that
    are gone (each unit's current package, as this register received it)."""
    def explain(gone: list[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for code in sorted({unit for _, unit in gone}):
            p = session.execute(select(Package.content, Package.file_name).where(
                Package.direction == PACKAGE_RECEIVED, Package.kind == KIND_REGISTRATION,
                Package.sender_code == code, Package.superseded_by.is_(None))).first()
            if p is not None and p.content is not None:
                try:
                    out |= gone_actions(open_kept(p.content, key, p.file_name).audit)
                except KnownError:  # a package this key cannot open says nothing here
                    continue
        return out

    return explain


def _audit_since(session: Session, package_id: str) -> list[dict[str, Any]]:
    """The own audit entries after the export of `package_id` that may say a record is gone
    (and later touches of those records)."""
    start = session.execute(select(AuditEntry.seq).where(
        AuditEntry.action == "export", AuditEntry.target == package_id)).scalar() or 0
    return [{"action": a, "target": t} for a, t in session.execute(
        select(AuditEntry.action, AuditEntry.target).where(AuditEntry.seq > start)
        .order_by(AuditEntry.seq))]


def changes_of_unit(register: Register, forms: FormSet, code: str, *, full: bool = False
                    ) -> ChangeReport:
    """The change list of unit `code` as the receiving clerk sees it: its current package
    against the one it superseded (for a unit whose records come inside another unit's
    packages, that sender's two packages, limited to this unit's records). The own unit's
    code gives `own_changes`."""
    code = (code or "").strip()
    with register.session() as session:
        own_code = trust.own_unit(session, register).code
    if code == own_code:
        return own_changes(register, forms, full=full)
    with register.session() as session:
        unit = session.execute(select(Unit).where(Unit.code == code, Unit.is_own.is_(False))
                               ).scalars().first()
        if unit is None:
            expected = session.execute(select(ExpectedUnit.name).where(
                ExpectedUnit.code == code)).scalar()
            if expected is None:
                raise UsageError(f"登记库中没有单位代码为“{code}”的单位。请核对代码（收件看板中"
                                 "可查）。")
            return ChangeReport(code, expected, False, message=(
                f"{expected}（{code}）还没有报送过数据包，没有可以比较的内容。"))
        sender = _sender_of(session, unit)
        packages = list(session.execute(
            select(Package.id, Package.sequence, Package.created, Package.superseded_by,
                   Package.file_name)
            .where(Package.direction == PACKAGE_RECEIVED, Package.kind == KIND_REGISTRATION,
                   Package.sender_code == sender).order_by(Package.sequence.desc())))
        base = ChangeReport(unit.code, unit.name, False)
        current = next((p for p in packages if p.superseded_by is None), None)
        if current is None:
            return replace(base, message=f"{unit.name}（{code}）还没有报送过数据包，没有可以"
                                       "比较的内容。")
        before = next((p for p in packages if p.superseded_by == current.id), None)
        if before is None:
            return replace(base, after=_ref(current), message=(
                f"{unit.name}（{code}）只报送过一个数据包（{_ref(current).describe()}），"
                "还没有可以比较的上一个数据包。"))
        key = _key(session, register)
        new = _opened(session, current.id, current.file_name, key)
        old = _opened(session, before.id, before.file_name, key)
        keep = None if sender == code else (lambda u: u == code)
        old_lines, new_lines = differing(old.raw, new.raw)
        sizes = (len(old.raw), len(new.raw)) if keep is None else (
            count_unit(old.raw, code), count_unit(new.raw, code))
        comparison = compare(old_lines, new_lines, forms, masked=not full, units=keep,
                             sizes=sizes,
                             gone=gone_actions(new.audit),
                             locate=lambda persons: _locate(session, register, persons,
                                                            current.id))
    carried = new.summary if new.summary is None or keep is None else [
        r for r in new.summary if r["unit"] == code]
    return replace(base, before=_ref(before), after=_ref(current), comparison=comparison,
                 carried=carried)


def _sender_of(session: Session, unit: Unit) -> str:
    """The code of the unit whose packages bring `unit`'s records: itself when it sent any,
    else the sender of the current package its records came in."""
    sent = session.execute(select(Package.id).where(
        Package.direction == PACKAGE_RECEIVED, Package.kind == KIND_REGISTRATION,
        Package.sender_code == unit.code).limit(1)).first()
    if sent is not None:
        return unit.code
    carrier = session.execute(
        select(Package.sender_code).join(Record, Record.package_id == Package.id)
        .where(Record.unit_id == unit.id).limit(1)).scalar()
    return carrier or unit.code


def _opened(session: Session, package_id: str, name: str, key) -> Opened:
    data = session.execute(select(Package.content).where(Package.id == package_id)).scalar()
    if data is None:
        raise KnownError(f"登记库中没有保存数据包 {name} 的内容，无法比较。")
    return open_kept(data, key, name)


def _locate(session: Session, register: Register, persons: list[str], package_id: str
            ) -> dict[str, str]:
    """person id -> "单位 名称（代码）" where the register holds that person outside the
    compared package (one indexed query per chunk of keyed hashes)."""
    hashed = {register.key_hash("person", normalise_id(p)): p for p in persons}
    keys = sorted(hashed)
    out: dict[str, str] = {}
    for i in range(0, len(keys), CHUNK):
        for key, name, code in session.execute(
                select(Record.person_key, Unit.name, Unit.code)
                .join(Unit, Unit.id == Record.unit_id)
                .where(Record.person_key.in_(keys[i:i + CHUNK]),
                       (Record.package_id != package_id) | Record.package_id.is_(None))):
            out.setdefault(hashed[key], f"{name}（{code}）")
    return out


def changes_report(register: Register, forms: FormSet, code: str | None = None, *,
                   full: bool = False, actor: str = ACTOR) -> ChangeReport:
    """`changes_of_unit` for a code, `own_changes` without one; a report with full ID numbers
    and phones is audited (``changes.full``)."""
    if code is None:
        report = own_changes(register, forms, full=full)
    else:
        report = changes_of_unit(register, forms, code, full=full)
    if full and report.comparison is not None:
        with register.session() as session:
            append_audit(session, actor, "changes.full", report.unit_code, {
                "before": report.before.package_id,
                "after": report.after.package_id if report.after else None,
                "records": len(report.comparison.changes)})
            session.commit()
    return report


def summary_for_export(session: Session, register: Register, forms: FormSet, own_code: str,
                       records: list[dict[str, Any]]) -> tuple[bytes | None, Comparison | None]:
    """The change summary member of the package about to be written (its record lines
    `records`) against the last sent one, and the comparison; (None, None) for a first
    package or one whose predecessor the register does not keep or cannot open (the summary
    is information: it never keeps a package from being exported)."""
    last = _last_sent(session, own_code)
    if last is None or last.content is None:
        return None, None
    key = _key(session, register)
    try:
        old = open_kept(last.content, key, last.file_name)
    except KnownError:
        return None, None
    comparison = compare(old.lines, records, forms, gone=gone_actions(
        _audit_since(session, last.id)), explain=_explainer(session, key))
    return summary_member(comparison, last.id), comparison


# --- output -----------------------------------------------------------------------------------

SUMMARY_COLUMNS = (("单位代码", "uscc"), ("表单", "text"), ("新增", "int"), ("减少", "int"),
                   ("减少原因", "text"), ("修改", "int"))
DETAIL_COLUMNS = (("单位代码", "uscc"), ("表单", "text"), ("变化", "code"), ("姓名/名称", "text"),
                  ("原因", "text"), ("栏目", "text"), ("原值", "text"), ("新值", "text"),
                  ("记录编号", "text"))


def form_title(forms: FormSet, form_id: str) -> str:
    form = forms.forms.get(form_id)
    return form.display_title if form is not None else form_id


def reasons_text(removed: dict[str, int]) -> str:
    return "，".join(f"{k} {n}" for k, n in removed.items())


def detail_rows(report: ChangeReport, forms: FormSet) -> list[tuple]:
    """One row per changed field (a record added or removed without field changes: one row)."""
    rows = []
    for c in report.comparison.changes if report.comparison else ():
        head = (c.unit_code, form_title(forms, c.form_id), c.change, c.name, c.why)
        if not c.fields:
            rows.append((*head, "", "", "", c.record_id))
        for f in c.fields:
            rows.append((*head, f.label, f.old, f.new, c.record_id))
    return rows


def write_workbook(register: Register, forms: FormSet, report: ChangeReport, path: Path, *,
                   actor: str = ACTOR) -> Path:
    """The report as a workbook: 变化汇总 (counts per unit and form) and 变化明细 (field by
    field); every text cell through put_text; audited ``changes.export``."""
    path = Path(path)
    if not path.parent.is_dir():
        raise UsageError(f"文件夹 {path.parent} 不存在，变化清单未写出。请先建好文件夹或换一个"
                         "位置。")
    if report.comparison is None:
        raise KnownError(f"没有可写出的变化清单：{report.message}")
    require_audit_of(register)  # may this role append to the audit log: before the file
    counts = report.comparison.counts()
    summary = [(r["unit"], form_title(forms, r["form"]), r["added"],
                sum(r["removed"].values()), reasons_text(r["removed"]), r["changed"])
               for r in counts]
    added, removed, changed = report.comparison.totals()
    note = report.heading + ("" if report.comparison.masked else
                             "本表含完整的身份证号码和电话号码，请妥善保管。")
    title = f"{report.unit_name} 数据变化清单"
    details = detail_rows(report, forms)
    sheets = [
        TableSheet("变化汇总", title, [c for c, _ in SUMMARY_COLUMNS],
                   [t for _, t in SUMMARY_COLUMNS], summary, len(summary),
                   ("合计", "", str(added), str(sum(removed.values())),
                    reasons_text(dict(removed)), str(changed)), (),
                   UnitLine(unit=report.unit_name, filled_on=date.today()), note,
                   signatures=False),
        TableSheet("变化明细", title, [c for c, _ in DETAIL_COLUMNS],
                   [t for _, t in DETAIL_COLUMNS], details, len(details), None, (),
                   UnitLine(unit=report.unit_name, filled_on=date.today()), note,
                   signatures=False)]
    out = run(write_tables(path, sheets, DocProps(title=title, subject=title,
                                                  company=report.unit_name,
                                                  category="数据变化清单")))
    with register.session() as session:
        append_audit(session, actor, "changes.export", out.name, {
            "unit": report.unit_code, "before": report.before.package_id,
            "after": report.after.package_id if report.after else None,
            "records": len(report.comparison.changes), "masked": report.comparison.masked})
        session.commit()
    return out


def as_json(report: ChangeReport, forms: FormSet) -> dict[str, Any]:
    """The documented JSON shape (docs/packages.md, 变化清单)."""
    def ref(p: PackageRef | None) -> dict[str, Any] | None:
        return None if p is None else {"package_id": p.package_id, "sequence": p.sequence,
                                       "created": p.created.isoformat() if p.created else None}

    c = report.comparison
    out: dict[str, Any] = {
        "format": "dengji-changes-1", "unit": {"code": report.unit_code,
                                               "name": report.unit_name},
        "own": report.own, "compared": c is not None, "message": report.heading,
        "before": ref(report.before), "after": ref(report.after)}
    if c is None:
        return out
    added, removed, changed = c.totals()
    out |= {
        "masked": c.masked, "records_before": c.before, "records_after": c.after,
        "totals": {"added": added, "removed": dict(removed), "changed": changed},
        "summary": [{**r, "form_title": form_title(forms, r["form"])} for r in c.counts()],
        "changes": [{"change": x.change, "record_id": x.record_id, "unit": x.unit_code,
                     "form": x.form_id, "name": x.name, "reason": x.reason, "detail": x.detail,
                     "fields": [{"field": f.field, "label": f.label, "old": f.old, "new": f.new}
                                for f in x.fields]} for x in c.changes],
        "carried": report.carried}
    return out
