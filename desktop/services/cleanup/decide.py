"""Checking a set of cleanup decisions against the register before anything is written.

Each decision is resolved to its entry (by 记录编号, or by 会员证号 when that names one entry),
checked against the form's own rules for the cleanup fields (依据, 经办人, 审批人, 不符合条件情形)
and against the precedence of the categories, in the order of that precedence — so a workbook
gives the same result whatever order its rows are in. Every problem is a finding on the cell
that holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from desktop.domain.forms import FormSpec
from desktop.domain.society.cleanup import DUPLICATE, NO_ID, RANK, transition
from desktop.domain.validation import Validator
from desktop.services.cleanup.model import (
    CHUNK,
    FORM_ID,
    CellFinding,
    Decision,
    Write,
    cleanup_findings,
    cleanup_values,
    load_values,
    same_name,
)
from desktop.storage import Record, RecordKey
from desktop.storage.server import blind_value

#: the item of a decision that holds each cleanup field (Decision.cells keys)
_ITEM = {"basis": "basis", "handler": "handler", "approver": "approver",
         "ineligible_reason": "reason", "status": "decision"}


@dataclass
class Plan:
    findings: list[CellFinding] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    skipped: int = 0

    @property
    def refused(self) -> bool:
        return any(f.severity == "E" for f in self.findings)


def _cell(d: Decision, item: str) -> str:
    return d.cells.get(item) or d.cells.get("row") or ""


def resolve_numbers(session: Session, numbers: Sequence[str], unit_id: str
                    ) -> dict[str, list[tuple[str, str]]]:
    """会员证号 -> [(record id, name)] of the unit's member entries holding it."""
    out: dict[str, list[tuple[str, str]]] = {}
    values = sorted(set(n for n in numbers if n))
    conn = session.connection()
    k, r = RecordKey.__table__, Record.__table__
    for i in range(0, len(values), CHUNK):
        chunk = values[i:i + CHUNK]
        # the typed columns blind the asked numbers and open the name on PostgreSQL, where
        # k.value reads back as its keyed hash: map it to the number asked for
        asked = {blind_value(conn.engine, v): v for v in chunk}
        query = (select(k.c.value, r.c.id, r.c.name).join(r, r.c.id == k.c.record_id)
                 .where(k.c.kind == "member_no", r.c.form_id == FORM_ID, r.c.unit_id == unit_id,
                        k.c.value.in_(chunk)).order_by(r.c.id))
        for value, rid, name in conn.execute(query):
            out.setdefault(asked.get(value, value), []).append((rid, name))
    return out


def check_decisions(session: Session, form: FormSpec, validator: Validator,
                    decisions: Sequence[Decision], unit_id: str, *, batch: str, when: date
                    ) -> Plan:
    """Resolve and check every decision; the writes are empty when any finding is an E."""
    plan = Plan()
    statuses = form.field("status").codes
    label = statuses.label_of if statuses else str
    numbers = resolve_numbers(session, [d.member_no for d in decisions if not d.record_id],
                              unit_id)
    wanted = {d.record_id for d in decisions if d.record_id} | {
        d.merged_into for d in decisions if d.merged_into}
    wanted |= {rid for held in numbers.values() for rid, _ in held}
    units: dict[str, str] = {}
    stored = load_values(session, wanted, units)

    # a number shared by a person's copies names the entry that stays
    removing = {d.record_id for d in decisions if d.target == DUPLICATE and d.record_id}
    gone = {rid for rid, (values, _) in stored.items()
            if rid in removing or values.get("status") == DUPLICATE}
    resolved: list[tuple[Decision, str]] = []
    for d in decisions:
        rid = _resolve(d, numbers, stored, units, unit_id, plan, gone)
        if rid:
            resolved.append((d, rid))

    state = {rid: str(values.get("status") or "1") for rid, (values, _) in stored.items()}
    decided: dict[str, Decision] = {}
    dup_writes: list[tuple[Decision, Write]] = []
    # strongest category first: a copy removed as a duplicate is not also moved out, etc.
    for d, rid in sorted(resolved, key=lambda p: -RANK.get(p[0].target, 0)):
        values, revision = stored[rid]
        name = str(values.get("name") or "")
        if d.name and not same_name(d.name, name):
            plan.findings.append(CellFinding(_cell(d, "name"), "E",
                                 f"{d.row}：会员证号 {d.member_no or values.get('member_no', '')} "
                                 f"登记的姓名是“{name}”，不是“{d.name}”，请核对"))
            continue
        before = state[rid]
        earlier = decided.get(rid)
        if earlier is not None and earlier.target != d.target and not (
                earlier.proposed or d.proposed):
            plan.findings.append(CellFinding(_cell(d, "row"), "E",
                                 f"{d.row}：{name}在{earlier.row}已决定为“{label(earlier.target)}”，"
                                 f"同一会员只能归入一个清理类别"))
            continue
        step = transition(before, d.target)
        if step != "apply":
            plan.skipped += 1
            message = _not_applied(d, name, before, step, label)
            severity = "I" if d.proposed or step == "same" else "W"
            if step == "removed" and not d.proposed:
                severity = "E"
            plan.findings.append(CellFinding(_cell(d, "decision"), severity, message))
            continue
        if d.target == DUPLICATE and not _kept_ok(d, rid, stored, state, plan, label):
            continue
        if d.target == NO_ID and values.get("id_number"):
            plan.skipped += 1
            plan.findings.append(CellFinding(_cell(d, "decision"), "I",
                                 f"{d.row}：{name}已有公民身份号码，不再移出"))
            continue
        kept_no = ""
        if d.target == DUPLICATE and d.merged_into in stored:
            kept_no = str(stored[d.merged_into][0].get("member_no") or "")
        new = cleanup_values(values, d.target, basis=d.basis, handler=d.handler,
                             approver=d.approver, reason=d.reason, batch=batch, when=when,
                             merged_into=kept_no)
        problems = cleanup_findings(validator, new, rid)
        for field_id, message in problems:
            plan.findings.append(CellFinding(_cell(d, _ITEM.get(field_id, "row")), "E",
                                             f"{d.row}：{name}：{message}"))
        if problems:
            continue
        detail = {"member_no": str(values.get("member_no") or ""), "basis": d.basis,
                  "handler": d.handler, "approver": d.approver, "batch": batch,
                  "date": when.isoformat()}
        if d.reason:
            detail["ineligible_reason"] = d.reason
        if d.merged_into:
            detail["merged_into"] = d.merged_into
            if kept_no:
                detail["merged_into_member_no"] = kept_no
        if d.cells.get("row"):
            detail["cell"] = d.cells["row"]
        write = Write(rid, revision, new, before, detail)
        plan.writes.append(write)
        state[rid], decided[rid] = d.target, d
        if d.target == DUPLICATE:
            dup_writes.append((d, write))
    # a removed copy must not take a category with it that the kept entry does not reach
    for d, write in dup_writes:
        kept = d.merged_into
        if RANK.get(write.before, 0) > RANK.get(state.get(kept, "1"), 0):
            plan.findings.append(CellFinding(_cell(d, "decision"), "E",
                                 f"{d.row}：该条目已按“{label(write.before)}”处理，而保留的条目仍为"
                                 f"“{label(state.get(kept, '1'))}”；请重新生成清理表后再决定"))
    if plan.refused:
        plan.writes = []
    return plan


def _resolve(d: Decision, numbers: dict, stored: dict, units: dict, unit_id: str, plan: Plan,
             gone: set[str]) -> str | None:
    if d.record_id:
        if d.record_id not in stored or units.get(d.record_id) != unit_id:
            plan.findings.append(CellFinding(_cell(d, "record"), "E",
                                 f"{d.row}：记录编号“{d.record_id}”不在本会的会员登记库中"
                                 "（清理表是否来自另一个登记库，或被改动过？）"))
            return None
        return d.record_id
    if not d.member_no:
        plan.findings.append(CellFinding(_cell(d, "member_no"), "E",
                                         f"{d.row}：请填写会员证号"))
        return None
    held = numbers.get(d.member_no, [])
    if not held:
        plan.findings.append(CellFinding(_cell(d, "member_no"), "E",
                             f"{d.row}：会员证号“{d.member_no}”不在会员登记库中，请核对"))
        return None
    if len(held) > 1 and d.target != DUPLICATE:
        staying = [h for h in held if h[0] not in gone]
        if len(staying) == 1:
            return staying[0][0]
    if len(held) > 1:
        names = "、".join(n for _, n in held)
        plan.findings.append(CellFinding(_cell(d, "member_no"), "E",
                             f"{d.row}：会员证号“{d.member_no}”登记了 {len(held)} 条（{names}），"
                             "请在“记录编号”列填写要处理的那一条（见清理表“重复录入”页或会员列表）"))
        return None
    return held[0][0]


def _kept_ok(d: Decision, rid: str, stored: dict, state: dict, plan: Plan, label) -> bool:
    kept = d.merged_into
    if not kept or kept not in stored:
        plan.findings.append(CellFinding(_cell(d, "kept"), "E",
                             f"{d.row}：找不到要保留的条目（记录编号“{kept}”），请重新生成清理表"))
        return False
    if kept == rid:
        plan.findings.append(CellFinding(_cell(d, "kept"), "E",
                             f"{d.row}：条目不能并入它自己"))
        return False
    if state.get(kept) == DUPLICATE:
        plan.findings.append(CellFinding(_cell(d, "kept"), "E",
                             f"{d.row}：要保留的条目已作为重复录入清理，请重新生成清理表"))
        return False
    return True


def _not_applied(d: Decision, name: str, before: str, step: str, label) -> str:
    if step == "same":
        return f"{d.row}：{name}已是“{label(before)}”，不再重复处理"
    if step == "removed":
        return (f"{d.row}：{name}的这一条目已作为重复录入清理，"
                "请对保留的条目作出决定" if not d.proposed else
                f"{d.row}：{name}的这一条目已作为重复录入清理，本项不再处理")
    return (f"{d.row}：{name}已是“{label(before)}”，优先于“{label(d.target)}”"
            "（一人只计入一个清理类别），本项不再处理")
