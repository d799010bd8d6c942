"""The shared vocabulary of the 个人会员清理 use cases (propose, decide, members, paper): the
member form, a clerk's `Decision`, what checking and applying it gives (`CellFinding`,
`Change`, `ApplyResult`, `Write`), and the one reader and writer of the members' stored values.

Nothing is ever deleted: `write_changes` changes `会员状态` and the cleanup fields in
Record.data, bumps Record.revision and updated_at, and appends one audit entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from desktop.domain.context import Environment
from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.society.cleanup import CLEANUP_FIELDS, DUPLICATE, INELIGIBLE, RANK, norm_text
from desktop.domain.validation import Validator
from desktop.errors import KnownError
from desktop.services.cleanup.stored import FORM_ID
from desktop.storage import Record, RecordKey, append_audit
from desktop.storage.audit import content_hashes
from desktop.storage.tables import utcnow

CHUNK = 900


def society_form(forms: FormSet) -> FormSpec:
    try:
        return forms.form(FORM_ID)
    except KeyError:
        raise KnownError("表单定义中没有法学会个人会员登记表（society_member），请重新安装本软件。"
                         ) from None


def load_values(session: Session | Any, record_ids: Iterable[str],
                units: dict[str, str] | None = None) -> dict[str, tuple[dict[str, Any], int]]:
    """Stored values and revision of the given records (of the member form); `units`, when
    given, receives each record's unit id."""
    ids = sorted(set(record_ids))
    out: dict[str, tuple[dict[str, Any], int]] = {}
    conn = session.connection() if isinstance(session, Session) else session
    table = Record.__table__
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        # by primary key only: with "form_id = ?" SQLite may pick the form index and scan;
        # the typed columns open `data` on PostgreSQL
        query = select(table.c.id, table.c.data, table.c.revision, table.c.form_id,
                       table.c.unit_id).where(table.c.id.in_(chunk))
        for rid, data, revision, form_id, unit in conn.execute(query):
            if form_id == FORM_ID:
                out[rid] = (json.loads(data), revision)
                if units is not None:
                    units[rid] = unit
    return out


# --- deciding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """One status change a clerk decided. `record_id` or `member_no` names the entry; `cells`
    maps what the decision says (member_no, record, name, basis, handler, approver, reason,
    decision) to where it was written ("撤销资格!D5"), so a finding names the cell."""

    target: str  # member_status code
    record_id: str = ""
    member_no: str = ""
    name: str = ""  # if given, must be the entry's name (a check against a mistyped number)
    basis: str = ""
    handler: str = ""
    approver: str = ""
    reason: str = ""  # ineligible_reason code (target 4)
    merged_into: str = ""  # record id of the kept entry (target 2)
    row: str = ""  # "撤销资格 第 5 行", for messages
    cells: Mapping[str, str] = field(default_factory=dict)
    proposed: bool = False  # from a proposal sheet: a lower category is skipped, not refused


@dataclass(frozen=True)
class CellFinding:
    cell: str  # "撤销资格!D5", or "" for the whole set
    severity: str  # E, W, I
    message: str


@dataclass(frozen=True)
class Change:
    record_id: str
    member_no: str
    name: str
    before: str
    after: str


@dataclass
class ApplyResult:
    findings: list[CellFinding]
    changes: list[Change]
    skipped: int = 0

    @property
    def refused(self) -> bool:
        return any(f.severity == "E" for f in self.findings)


@dataclass(frozen=True)
class Write:
    """A checked change of one record: its new values and what the audit entry says."""

    record_id: str
    revision: int
    values: dict[str, Any]
    before: str
    detail: dict[str, Any]
    person_key: str | None = None  # set when the ID number changes (re-admission)
    keys: tuple[tuple[str, str], ...] = ()  # (kind, stored value) to add to record_key


def write_changes(session: Session, writes: Sequence[Write], *, actor: str, action: str,
                  target: str, detail: Mapping[str, Any] | None = None) -> list[Change]:
    """Store the new values (revision + 1, updated_at now) and append ONE audit entry for the
    user's action (a workbook applied, a deadline passed, a member re-admitted) that lists
    every record it changed with its before/after status and why. Runs in the caller's
    transaction.

    One entry per action rather than per record: the audit chain costs several milliseconds an
    entry, and a province's cleanup changes tens of thousands of records at once.
    """
    table = Record.__table__
    conn = session.connection()
    stmt = (update(table)
            .where(table.c.id == bindparam("rid"), table.c.revision == bindparam("rev"))
            .values(data=bindparam("new_data"), revision=bindparam("new_rev"),
                    updated_at=bindparam("now")))
    now = utcnow()
    rows = [{"rid": w.record_id, "rev": w.revision, "new_rev": w.revision + 1, "now": now,
             "new_data": json.dumps(w.values, ensure_ascii=False, separators=(",", ":"))}
            for w in writes]
    result = conn.execute(stmt, rows)
    if result.rowcount not in (-1, len(rows)):
        raise KnownError("有记录在处理期间被其他窗口修改，本次未作任何改动，请重新操作。")
    for w in writes:
        if w.person_key is not None:
            conn.execute(update(table).where(table.c.id == w.record_id)
                         .values(person_key=w.person_key))
        for kind, value in w.keys:  # the typed column blinds the value on PostgreSQL
            conn.execute(insert(RecordKey.__table__).values(
                record_id=w.record_id, form_id=FORM_ID, kind=kind, value=value))
    changes = [Change(w.record_id, str(w.values.get("member_no") or ""),
                      str(w.values.get("name") or ""), w.before, w.values["status"])
               for w in writes]
    hashes = content_hashes(session, [w.record_id for w in writes])
    listed = [{"record": w.record_id, "from": w.before, "to": w.values["status"],
               "revision": w.revision + 1, **w.detail, "hash": hashes[w.record_id]}
              for w in writes]
    append_audit(session, actor, action, target,
                 {"form": FORM_ID, **(detail or {}), "count": len(listed), "changes": listed})
    return changes


def cleanup_values(values: Mapping[str, Any], target: str, *, basis: str, handler: str,
                   approver: str, reason: str, batch: str, when: date,
                   merged_into: str = "") -> dict[str, Any]:
    """The stored values after a status change: the status and the cleanup fields set (the
    不符合条件 sub-reason only for that status, 并入会员证号 — the kept entry's member number —
    only for a removed duplicate); every other value kept."""
    new = {k: v for k, v in values.items() if k not in CLEANUP_FIELDS}
    new["status"] = target
    for key, value in (("basis", basis), ("handler", handler), ("approver", approver),
                       ("cleanup_batch", batch), ("cleanup_date", when.isoformat()),
                       ("ineligible_reason", reason if target == INELIGIBLE else ""),
                       ("merged_into", merged_into if target == DUPLICATE else "")):
        if value:
            new[key] = value
    return new


def cleanup_validator(form: FormSpec, when: date) -> Validator:
    """A validator of the form's own rules about the status and the cleanup fields only (who,
    why, approval, sub-reason): the rest of a legacy record is not the cleanup's business, and
    checking it for tens of thousands of decisions would cost seconds."""
    fields = {"status", *CLEANUP_FIELDS}
    sub_fields = tuple(f for f in form.fields if f.id in fields)
    sub_rules = tuple(r for r in form.rules
                      if all(v in fields for k, v in r.params.items() if k.endswith("field")))
    return Validator(replace(form, fields=sub_fields, rules=sub_rules, keys=()),
                     Environment(today=when))


def cleanup_findings(validator: Validator, values: Mapping[str, Any], record_id: str
                     ) -> list[tuple[str, str]]:
    """The errors of `cleanup_validator` as (field id, message)."""
    return [(f.field, f.message) for f in validator.check_local(values, record_id)
            if f.severity == "E"]


def rank_of(status: str) -> int:
    return RANK.get(status, 0)


def same_name(a: str, b: str) -> bool:
    return norm_text(a) == norm_text(b)
