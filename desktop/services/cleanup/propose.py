"""个人会员清理 use cases: load the register, propose, and change member statuses.

Nothing is ever deleted: a decision changes `会员状态` and the cleanup fields in Record.data,
bumps Record.revision and updated_at, and appends an audit entry saying who, when and why. A
set of decisions (a filled workbook) is applied all or nothing: every decision is checked
first, and one bad cell leaves the register untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from desktop.domain.forms import FormSet
from desktop.domain.society.cleanup import (
    DUPLICATE,
    Member,
    filled_count,
    is_active,
    latest_dates,
    overdue_candidates,
)
from desktop.domain.society.dedupe import duplicate_components, groups_from_components
from desktop.domain.society.member_numbers import SOCIETIES_TABLE, check_member_numbers
from desktop.domain.society.results import Proposal
from desktop.progress import Progress, Task
from desktop.services.cleanup.decide import check_decisions
from desktop.services.cleanup.model import (
    ApplyResult,
    Decision,
    cleanup_validator,
    load_values,
    society_form,
    write_changes,
)
from desktop.services.cleanup.stored import member_fields
from desktop.storage import Register

#: the stored fields `load_members` reads (column order of its query)
_COLUMNS = ("member_no", "id_number", "birth_date", "employer", "mobile", "approved",
            "last_contact", "last_duty", "status", "issuer")


# --- reading the register -------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    members: list[Member]
    issuers: dict[str, str]  # record id -> 发证法学会, where filled


def load_members(register: Register, unit_id: str | None = None) -> Loaded:
    """Every entry of the unit's member register, light: the fields the cleanup compares (on
    SQLite read by json_extract, no JSON parsing in Python: stored.member_fields). `Member.filled`
    is 0 here; it is counted for the few entries that end up in a duplicate group
    (`with_filled`)."""
    members, issuers = [], {}
    with register.engine.connect() as conn:
        rows = member_fields(conn, _COLUMNS, unit_id=unit_id or register.own_unit_id)
    for rid, _, name, fields in rows:
        no, idn, birth, employer, mobile, approved, contact, duty, status, issuer = fields
        members.append(Member(rid, _s(no), _s(name), _id(idn), _s(birth), _s(employer),
                              _s(mobile), _s(approved), _s(contact), _s(duty),
                              _s(status) or "1", 0))
        if issuer:
            issuers[rid] = str(issuer)
    return Loaded(members, issuers)


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _id(value: Any) -> str:
    from desktop.domain.identifiers import normalise_id

    text = "" if value is None else str(value)
    if len(text) == 18 and text.isalnum() and not text.islower():
        return text  # stored numbers are already normalised
    return normalise_id(text) if text else ""


def with_filled(register: Register, components: list[list[Member]]) -> list[list[Member]]:
    """The components with `Member.filled` counted from the stored values."""
    ids = [m.id for c in components for m in c]
    with register.engine.connect() as conn:
        values = load_values(conn, ids)
    return [[replace(m, filled=filled_count(values.get(m.id, ({}, 0))[0])) for m in c]
            for c in components]


# --- proposing ------------------------------------------------------------------------------


def propose(register: Register, forms: FormSet, *, today: date | None = None, years: int = 3,
            unit_id: str | None = None) -> Task[Proposal]:
    """(a) duplicate groups, (b) members without an ID number, (c) members with no contact or
    no fulfilled duty for `years` or more, and the member-number problems found on the way."""
    today = today or date.today()
    yield Progress(0, 4, "读取登记库")
    loaded = load_members(register, unit_id)
    members = loaded.members
    yield Progress(1, 4, "查找重复录入")
    components = with_filled(register, duplicate_components(members))
    groups = [g for g in groups_from_components(components)
              if any(r.member.status != DUPLICATE for r in g.removals)]
    removed = frozenset(r.member.id for g in groups for r in g.removals)
    yield Progress(2, 4, "无身份证号与长期失联")
    no_id = sorted((m for m in members if is_active(m.status) and not m.id_number),
                   key=lambda m: (m.member_no, m.id))
    dates = latest_dates([g.members for g in groups])
    overdue, undated = overdue_candidates((m for m in members if m.id not in removed), today,
                                          years=years, dates_of=dates)
    overdue.sort(key=lambda o: (o.member.member_no, o.member.id))
    yield Progress(3, 4, "核对会员证号")
    issues = check_member_numbers(
        ((m.id, m.member_no, loaded.issuers.get(m.id, ""), m.name) for m in members),
        forms.tables[SOCIETIES_TABLE])
    yield Progress(4, 4, "完成")
    return Proposal(today, years, len(members), sum(is_active(m.status) for m in members),
                    groups, no_id, overdue, undated, issues, removed)


# --- deciding -------------------------------------------------------------------------------


def apply_decisions(register: Register, forms: FormSet, decisions: Sequence[Decision], *,
                    actor: str, batch: str, when: date, source: str = "",
                    unit_id: str | None = None) -> ApplyResult:
    """Check every decision, then apply them all in one transaction, or none if any is bad."""
    form = society_form(forms)
    validator = cleanup_validator(form, when)
    with register.session() as session:
        plan = check_decisions(session, form, validator, decisions,
                               unit_id or register.own_unit_id, batch=batch, when=when)
        if plan.refused or not plan.writes:
            return ApplyResult(plan.findings, [], plan.skipped)
        changes = write_changes(session, plan.writes, actor=actor, action="society.cleanup.apply",
                                target=source or "decisions",
                                detail={"source": source, "batch": batch,
                                        "date": when.isoformat()})
        session.commit()
    return ApplyResult(plan.findings, changes, plan.skipped)
