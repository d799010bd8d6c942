"""移交: one clerk hands a register over to the next (登记库 → 移交…, `dengji handover`).

The outgoing and incoming clerks are named; the incoming one sets a new passphrase and a new
recovery key is made at the same time (services.secrets.change_passphrase with new_recovery,
which backs the register up first and re-keys it in one step a crash cannot leave half done),
so the outgoing clerk's passphrase and recovery sheet open it no more. The 经办人 of 本单位信息
becomes the incoming clerk and the handover is written to the audit log (``register.handover``,
naming both), in one transaction; the audit log travels upward with the next package, where the
receiving level sees the handover (exchange.merge keeps it in the package's summary).

A 移交清单 (reports/pdf/handover.py) states what was handed over: records per form and state,
the last package sent, what is still open, the trusted units and key fingerprints, the
recovery key's id (never the key) and the audit log's head, with lines for 移交人, 接收人 and
监交人 to sign and a box for the stamp.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from desktop.domain.forms import FormSet
from desktop.domain.states import RECORD_STATES
from desktop.errors import KnownError
from desktop.exchange import trust
from desktop.exchange.format.chain import HANDOVER
from desktop.exchange.handovers import ReportedHandover, reported_handovers
from desktop.reports.pdf.handover import (
    FormCount,
    HandoverFacts,
    ReturnedBelow,
    SentPackage,
    TrustedUnit,
    handover_pdf,
)
from desktop.services.packages.io import write_atomic
from desktop.services.secrets import RecoveryKey, change_passphrase, recovery_state
from desktop.services.unit import MAX_LENGTH, read_profile, write_profile
from desktop.storage import AuditEntry, Meta, Record, Register, Unit, append_audit
from desktop.storage.audit import HEAD_KEY
from desktop.storage.tables import PACKAGE_RECEIVED, PACKAGE_SENT, Conflict, Package, ReturnNote

#: the audit action of a handover (the receiving level reads it from the carried chain)
ACTION = HANDOVER

__all__ = ["ACTION", "FormCount", "HandedOver", "HandoverFacts", "ReportedHandover",
           "ReturnedBelow", "SentPackage", "TrustedUnit", "hand_over", "handover_facts",
           "names_problem", "received_handovers", "write_handover_pdf"]


@dataclass(frozen=True)
class HandedOver:
    """A finished handover: the backup made before the re-key, the new recovery key (to print
    on its sheet at once) and the facts of the 移交清单."""

    backup: Path | None  # None on a server: only the data key's wrapping changed
    recovery: RecoveryKey
    facts: HandoverFacts


def handover_facts(register: Register, forms: FormSet | None = None) -> HandoverFacts:
    """What the 移交清单 states about `register` now (the clerks' names left empty)."""
    if forms is None:
        from desktop.formspec import shipped_forms

        forms = shipped_forms()
    state = recovery_state(register)
    with register.session() as session:
        return _facts(session, register, forms, state.key_id if state.has_key else None,
                      state.made_at if state.has_key else None)


def _facts(session: Session, register: Register, forms: FormSet, key_id: str | None,
           key_made: datetime | None) -> HandoverFacts:
    profile = read_profile(session, register)
    own: dict[str, dict[str, int]] = {}
    below: dict[str, dict[str, int]] = {}
    for form_id, state, unit_id, n in session.execute(
            select(Record.form_id, Record.state, Record.unit_id, func.count())
            .group_by(Record.form_id, Record.state, Record.unit_id)):
        into = own if unit_id == register.own_unit_id else below
        into.setdefault(form_id, {})
        into[form_id][state] = into[form_id].get(state, 0) + n

    sent = session.execute(select(Package).where(
        Package.direction == PACKAGE_SENT, Package.kind == "registration")
        .order_by(Package.sequence.desc()).limit(1)).scalars().first()
    packages_sent = session.execute(select(func.count()).select_from(Package).where(
        Package.direction == PACKAGE_SENT, Package.kind == "registration")).scalar_one()
    last = None
    if sent is not None:
        last = SentPackage(sent.id, sent.sequence, sent.created,
                           _unit_called(session, sent.recipient_code), sent.record_count)
    notes = session.execute(select(func.count()).select_from(ReturnNote).where(
        ReturnNote.direction == PACKAGE_RECEIVED, ReturnNote.status == "open")).scalar_one()
    returned = tuple(ReturnedBelow(p.sender_name, p.sender_code, p.sequence) for p in
                     session.execute(select(Package).where(
                         Package.direction == PACKAGE_RECEIVED,
                         Package.kind == "registration", Package.status == "returned")
                         .order_by(Package.sender_code, Package.sequence)).scalars())
    conflicts = session.execute(select(func.count()).select_from(Conflict).where(
        Conflict.status == "open")).scalar_one()
    trusted = tuple(TrustedUnit(k.unit_name, k.unit_code, k.level, k.fingerprint)
                    for k in trust.trusted_keys(session))
    fingerprint = trust.own_sender(session, register)[0].info.fingerprint
    entries = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    head = session.get(Meta, HEAD_KEY)
    return HandoverFacts(
        unit_name=profile.name, unit_code=profile.code, level=profile.level,
        register_file=register.path.name, made_at=datetime.now(UTC), handler=profile.handler,
        own_records=_counts(own, forms), received_records=_counts(below, forms),
        packages_sent=packages_sent, last_sent=last, notes_to_answer=notes,
        returned_below=returned, open_conflicts=conflicts, trusted=trusted,
        fingerprint=fingerprint, recovery_key_id=key_id, recovery_made_at=key_made,
        audit_entries=entries, audit_head=head.value if head else "")


def _counts(found: dict[str, dict[str, int]], forms: FormSet) -> tuple[FormCount, ...]:
    """Per form (in the forms' order; a form this version lacks last), zeros included."""
    def order(form_id: str) -> tuple:
        form = forms.forms.get(form_id)
        return (form is None, *form.order) if form else (True, True, 0, "", form_id)

    out = []
    for form_id in sorted(found, key=order):
        form = forms.forms.get(form_id)
        by_state = found[form_id]
        states = (*RECORD_STATES, *sorted(s for s in by_state if s not in RECORD_STATES))
        out.append(FormCount(form_id, form.display_title if form else form_id,
                             tuple((s, by_state.get(s, 0)) for s in states)))
    return tuple(out)


def _unit_called(session: Session, code: str) -> str:
    """A unit as printed: its name and code, or the code alone when the register lacks it."""
    name = session.execute(select(Unit.name).where(Unit.code == code).limit(1)).scalar()
    if name is None:
        known = trust.trusted_info(session, code)
        name = known.name if known else None
    return f"{name}（{code}）" if name else code


# --- the handover ---------------------------------------------------------------------------


def _clean_name(text: str | None) -> str:
    return " ".join(str(text or "").split())


def names_problem(from_name: str | None, to_name: str | None) -> str | None:
    """Why the two clerks' names cannot be taken (Chinese, saying what to fix); None when
    they can."""
    outgoing, incoming = _clean_name(from_name), _clean_name(to_name)
    for label, name in (("移交人（原经办人）", outgoing), ("接收人（新经办人）", incoming)):
        if not name:
            return f"请填写{label}的姓名。"
        if len(name) > MAX_LENGTH:
            return f"{label}的姓名最多 {MAX_LENGTH} 个字，请只写姓名。"
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in name):
            return f"{label}的姓名中有不可见的控制字符，请重新输入姓名。"
    if outgoing.casefold() == incoming.casefold():
        return ("移交人和接收人是同一个人。移交是把登记库交给另一位经办人；"
                "只想换口令请用 登记库 → 修改口令…（dengji passphrase）。")
    return None


def hand_over(register: Register, old_passphrase: str, new_passphrase: str, from_name: str,
              to_name: str, actor: str, *, forms: FormSet | None = None) -> HandedOver:
    """Hand `register` over from `from_name` to `to_name`: the new passphrase (set by the
    incoming clerk) and a new recovery key replace the old ones, the 经办人 becomes `to_name`,
    audited. Everything that can be refused is checked before anything is written: the names,
    then (change_passphrase) the old passphrase and the new one's strength. `register` stays
    open, on the new key."""
    problem = names_problem(from_name, to_name)
    if problem:
        raise KnownError(f"未移交：{problem}")
    outgoing, incoming = _clean_name(from_name), _clean_name(to_name)
    if forms is None:
        from desktop.formspec import shipped_forms

        forms = shipped_forms()
    # refuses a wrong old, a weak or unchanged new passphrase before writing anything
    changed = change_passphrase(register, old_passphrase, new_passphrase, actor,
                                new_recovery=True)
    recovery = changed.recovery
    if recovery is None:  # the contract: new_recovery=True always makes one
        raise KnownError("口令已更改，但没有生成新的恢复密钥。请在 登记库 → 修改口令… 中生成新的恢复密钥。")
    with register.session() as session:
        code = read_profile(session, register).code
        append_audit(session, actor, ACTION, code, {
            "from": outgoing, "to": incoming, "recovery_key_id": recovery.key_id,
            "backup": changed.backup.name if changed.backup else None})
        write_profile(session, register, actor, {"handler": incoming})
        session.commit()
        facts = _facts(session, register, forms, recovery.key_id, recovery.made_at)
    return HandedOver(changed.backup, recovery,
                      replace(facts, from_name=outgoing, to_name=incoming))


def write_handover_pdf(facts_or_result: HandoverFacts | HandedOver, out: Path, *,
                       today: date | None = None) -> Path:
    """Write the 移交清单 of a handover (or of facts gathered before one) to `out`, whole or
    not at all; returns `out`."""
    facts = (facts_or_result.facts if isinstance(facts_or_result, HandedOver)
             else facts_or_result)
    pdf, _ = handover_pdf(facts, f"打印日期：{(today or date.today()).isoformat()}")
    out = Path(out)
    write_atomic(out, pdf)
    return out


def received_handovers(register: Register) -> list[ReportedHandover]:
    """The handovers units below reported in the packages merged here, oldest first."""
    with register.session() as session:
        return reported_handovers(session)
