"""Drafts stay drafts: voiding a mistaken draft, taking a complete record back to draft, and
counting the drafts an official output leaves out (domain/states.py has the states' words).

- `describe(register, forms, record_id)`: who a record is (name, masked ID number, form, state)
  for the confirmation that names the person;
- `void_draft(...)`: a draft of the own unit is removed from the register (its keys, confirmed
  warnings and the record row), after an audit entry ``record.void`` that holds its content
  digest like every record change; it is never listed, exported or counted again;
- `reopen(...)`: an own record that is no draft becomes a draft again (audited
  ``record.reopen``); it leaves the outputs until it is marked complete again;
- `drafts_left_out(session, unit_ids, form_ids)`: how many drafts an output did not take.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlmodel import Session

from desktop.domain.forms import FormSet
from desktop.domain.masking import mask_id
from desktop.domain.states import DRAFT, VOIDED, word
from desktop.errors import KnownError
from desktop.storage import Override, Record, RecordKey, Register, append_audit
from desktop.storage.audit import RECORD_HASH, content_hashes
from desktop.storage.tables import utcnow

CHUNK = 500


@dataclass(frozen=True)
class RecordWho:
    """What a confirmation says about a record."""

    record_id: str
    form_title: str
    name: str
    masked_id: str  # "" when the form has no ID number or it is empty
    state: str  # code

    @property
    def person(self) -> str:
        """张三（110105********002X）, or the name alone."""
        name = self.name or "（未填姓名）"
        return f"{name}（{self.masked_id}）" if self.masked_id else name


def describe(register: Register, forms: FormSet, record_id: str) -> RecordWho:
    with register.session() as session:
        rec = _own(session, register, record_id)
        return _who(forms, rec)


def _who(forms: FormSet, rec: Record) -> RecordWho:
    form = forms.forms.get(rec.form_id)
    values = json.loads(rec.data)
    number = ""
    if form is not None:
        number = next((str(values.get(k.field) or "") for k in form.keys
                       if k.kind.endswith("person")), "")
    title = form.display_title if form is not None else rec.form_id
    return RecordWho(rec.id, title, rec.name or "", mask_id(number) if number else "", rec.state)


def _own(session: Session, register: Register, record_id: str) -> Record:
    rec = session.get(Record, (record_id or "").strip().lower())
    if rec is None:
        raise KnownError(f"登记库中没有编号为 {record_id} 的记录（可能已作废或已被替换），"
                         "请刷新列表后再试。")
    if rec.unit_id != register.own_unit_id:
        raise KnownError("这条记录是下级单位上报的，只能审核（接收或退回），不能在本单位作废或"
                         "退回草稿。")
    return rec


def void_draft(register: Register, forms: FormSet, record_id: str, *, actor: str) -> RecordWho:
    """Remove a draft of the own unit; the audit log keeps its content digest."""
    with register.session() as session:
        rec = _own(session, register, record_id)
        who = _who(forms, rec)
        if rec.state != DRAFT:
            raise KnownError(f"{who.person} 的记录是“{word(rec.state)}”，只有草稿可以作废。"
                             "如确需作废，请先把它退回草稿。")
        digest = content_hashes(session, [rec.id])[rec.id]
        append_audit(session, actor, "record.void", rec.id, {
            "form": rec.form_id, "revision": rec.revision, "state": VOIDED,
            RECORD_HASH: digest})
        session.execute(delete(RecordKey).where(RecordKey.record_id == rec.id))
        session.execute(delete(Override).where(Override.record_id == rec.id))
        session.execute(delete(Record).where(Record.id == rec.id))
        session.commit()
    return who


def reopen(register: Register, forms: FormSet, record_id: str, *, actor: str) -> RecordWho:
    """Take an own record that is no draft back to draft (its confirmed warnings are kept)."""
    with register.session() as session:
        rec = _own(session, register, record_id)
        who = _who(forms, rec)
        if rec.state == DRAFT:
            raise KnownError(f"{who.person} 的记录已经是草稿。")
        before = rec.state
        rec.state, rec.updated_at = DRAFT, utcnow()
        session.flush()
        append_audit(session, actor, "record.reopen", rec.id, {
            "form": rec.form_id, "revision": rec.revision, "from": before,
            RECORD_HASH: content_hashes(session, [rec.id])[rec.id]})
        session.commit()
    return who


def drafts_left_out(session: Session, unit_ids: Iterable[str] | None,
                    form_ids: Iterable[str] | None) -> int:
    """Drafts among the records of `unit_ids` (None: every unit) and `form_ids` (None: every
    form): what an official output of them leaves out."""
    forms = None if form_ids is None else list(form_ids)
    units = None if unit_ids is None else list(unit_ids)
    total = 0
    for i in range(0, max(len(units or [None]), 1), CHUNK):
        query = select(func.count()).select_from(Record).where(Record.state == DRAFT)
        if forms is not None:
            query = query.where(Record.form_id.in_(forms))
        if units is not None:
            query = query.where(Record.unit_id.in_(units[i:i + CHUNK]))
        total += session.execute(query).scalar_one()
    return total
