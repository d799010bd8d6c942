"""What a receiving clerk does with merged packages: accept or return them (with comments, as a
signed return file), the expected units and the dashboard, the conflicts between units, the
changes of units' details their own packages brought (confirmed here, never applied silently),
and the comments received on own records. UI-free; re-exported by desktop.services.packages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from desktop.domain.forms import FormSet
from desktop.domain.values import parse_date
from desktop.errors import KnownError, UsageError
from desktop.exchange import conflicts as conflict_repo
from desktop.exchange import dashboard as dash
from desktop.exchange import returns, trust
from desktop.exchange.format.manifest import FORM_SETS
from desktop.exchange.format.writer import Written
from desktop.progress import run
from desktop.reports.xlsx.head import named_rows
from desktop.reports.xlsx.write import DocProps, TableSheet, UnitLine, write_tables
from desktop.services.packages.io import ACTOR, write_atomic
from desktop.storage import Record, Register, append_audit
from desktop.storage.concurrency import require_audit_of
from desktop.storage.tables import Package, utcnow

ACCEPTED = "已接收"


def accept_package(register: Register, package: str, actor: str = ACTOR) -> Package:
    """Accept a received package: its records become 已接收 (and go upward with the next
    export)."""
    with register.session() as session:
        p = returns.find_package(session, package)
        if p.superseded_by:
            raise KnownError(f"数据包 {p.id} 已被同一单位更新的数据包取代，请处理最新的数据包。")
        p.status = "accepted"
        n = session.execute(update(Record).where(Record.package_id == p.id)
                            .values(state=ACCEPTED, updated_at=utcnow())).rowcount
        append_audit(session, actor, "package.accept", p.id, {"sender": p.sender_code,
                                                              "records": n})
        session.commit()
    return p


def return_package(register: Register, forms: FormSet, package: str,
                   comments: Path | Sequence[Mapping[str, Any]] | None, out: Path,
                   actor: str = ACTOR) -> tuple[Package, Written, Path]:
    """Return a received package with the comments of a .jsonl file or given as dicts
    (record_id, field label, comment), and those drafted while resolving conflicts; write the
    signed return file to `out` (a file, or a folder)."""
    with register.session() as session:
        p = returns.find_package(session, package)
        if p.superseded_by:
            raise KnownError(f"数据包 {p.id} 已被同一单位更新的数据包取代，请退回最新的数据包。")
        if comments is None:
            notes = []
        elif isinstance(comments, str | Path):
            notes = returns.read_comments(Path(comments), session, forms, p.id)
        else:
            notes = returns.check_comments(enumerate(comments, start=1), session, forms, p.id)
        sender, _ = trust.own_sender(session, register)
        recipient = trust.trusted_info(session, p.sender_code, p.signer_fingerprint)
        if recipient is None:
            raise KnownError(f"{p.sender_name} 的公钥已不在信任列表中，无法为其加密退回文件。")
        form_set = FORM_SETS.get(p.sender_level, "party")
        written = returns.return_package(session, p, notes, sender, recipient, form_set, actor)
        target = Path(out) / written.file_name if Path(out).is_dir() else Path(out)
        write_atomic(target, written.data)
        append_audit(session, actor, "package.return", p.id, {
            "return_id": written.package_id, "file": target.name, "comments":
            written.manifest["record_count"], "to": p.sender_code})
        session.commit()
    return p, written, target


# --- expected units, dashboard, conflicts -----------------------------------------------------


def read_expected(path: Path, deadline: str | None = None) -> list[dash.ExpectedRow]:
    """The expected units of a .xlsx (its header found below title rows as the form import
    finds it), .csv or .jsonl file; problems reported together, nothing half-read."""
    return dash.read_all(Path(path), lambda p: named_rows(p, dash.HEADERS, 2)[1], deadline)


def import_expected_units(register: Register, path: Path, deadline: str | None = None,
                          actor: str = ACTOR) -> tuple[int, int]:
    rows = read_expected(Path(path), deadline)
    with register.session() as session:
        added, updated = dash.save_expected(session, rows)
        append_audit(session, actor, "units.import", Path(path).name,
                     {"added": added, "updated": updated})
        session.commit()
    return added, updated


#: the dashboard's columns as exported, with their types (reports.xlsx.write.WIDTHS)
DASHBOARD_COLUMNS = (("单位代码", "uscc"), ("单位名称", "group"), ("应报", "bool"),
                     ("截止日期", "date"), ("状态", "text"), ("逾期", "bool"), ("序号", "int"),
                     ("收到时间", "landline"), ("记录数", "int"), ("错误", "int"), ("警告", "int"),
                     ("冲突", "int"), ("未答复意见", "int"), ("本次变化", "text"))


def export_dashboard(register: Register, rows: Sequence[dash.UnitStatus], path: Path, *,
                     title: str, received_at: Callable[[dash.UnitStatus], str], unit: str,
                     note: str = "", actor: str = ACTOR) -> Path:
    """The dashboard's rows (as filtered and sorted on screen) as a workbook: a title, the
    unit line, the header and one row per unit; every text cell through put_text."""
    require_audit_of(register)  # may this role append to the audit log: before the file

    def line(r: dash.UnitStatus) -> tuple:
        got = r.package_id is not None
        return (r.code, r.name, "应报" if r.expected else "名单外", r.deadline or "", r.status,
                "逾期" if r.late else "", r.sequence or "", received_at(r),
                *((r.records, r.errors, r.warnings, r.conflicts, r.open_comments) if got
                  else ("",) * 5), r.changes)

    sheet = TableSheet("收件看板", title, [c for c, _ in DASHBOARD_COLUMNS],
                       [t for _, t in DASHBOARD_COLUMNS], [line(r) for r in rows], len(rows),
                       (f"合计：{len(rows)} 个单位", *([""] * (len(DASHBOARD_COLUMNS) - 1))), (),
                       UnitLine(unit=unit, filled_on=date.today()), note, signatures=False)
    out = run(write_tables(Path(path), [sheet], DocProps(title=title, subject=title,
                                                         company=unit, category="收件看板")))
    with register.session() as session:
        append_audit(session, actor, "dashboard.export", out.name, {"units": len(rows)})
        session.commit()
    return out


def add_expected_unit(register: Register, code: str, name: str, deadline: str | None = None,
                      actor: str = ACTOR) -> None:
    day = parse_date(deadline) if deadline else None
    if deadline and day is None:
        raise UsageError(f"截止日期“{deadline}”无法识别，请写成 2026-12-31。")
    if not code.strip() or not name.strip():
        raise UsageError("请填写单位代码和名称。")
    row = dash.ExpectedRow(code.strip(), name.strip(), day.isoformat() if day else None)
    with register.session() as session:
        dash.save_expected(session, [row])
        append_audit(session, actor, "units.add", row.code, {"name": row.name,
                                                            "deadline": row.deadline})
        session.commit()


def dashboard(register: Register, today: date | None = None) -> list[dash.UnitStatus]:
    with register.session() as session:
        return dash.dashboard(session, today or date.today())


def unit_changes(register: Register) -> list[dash.UnitChange]:
    """Changes of units' details (a renamed unit) waiting for the clerk to confirm."""
    with register.session() as session:
        return dash.unit_changes(session)


def confirm_unit_change(register: Register, code: str, actor: str = ACTOR) -> dash.UnitChange:
    """Apply the pending change of unit `code` (its name, level and parent as its own signed
    package states them), with an audit entry."""
    with register.session() as session:
        change = dash.confirm_unit_change(session, code.strip())
        append_audit(session, actor, "unit.confirm", change.code, {
            "name": change.name, "level": change.level, "parent_code": change.parent_code,
            "was": {"name": change.was_name, "level": change.was_level,
                    "parent_code": change.was_parent_code}, "package": change.package_id})
        session.commit()
    return change


def list_conflicts(register: Register, *, open_only: bool = True
                   ) -> list[conflict_repo.ConflictView]:
    with register.session() as session:
        return conflict_repo.list_conflicts(session, open_only=open_only)


def resolve_conflict(register: Register, conflict_id: int, action: str, note: str = "",
                     actor: str = ACTOR) -> None:
    with register.session() as session:
        c = conflict_repo.resolve(session, conflict_id, action, note, actor)
        append_audit(session, actor, "conflict.resolve", str(c.id), {
            "action": action, "note": c.note, "record_a": c.record_a, "record_b": c.record_b})
        session.commit()


def record_notes(register: Register, record_id: str, *, open_only: bool = True
                 ) -> list[returns.NoteView]:
    """Return comments received for one own record (the editor shows them beside fields)."""
    with register.session() as session:
        return returns.notes_for(session, record_id, open_only=open_only)


def received_packages(register: Register) -> list[Package]:
    """Every package received or sent, newest first, without their file contents."""
    cols = [c for c in Package.__table__.columns if c.name != "content"]
    with register.session() as session:
        rows = session.execute(select(*cols).order_by(Package.handled_at.desc())).all()
    return [Package(**row._mapping) for row in rows]
