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

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import delete, func, select, text
from sqlmodel import Session

from desktop.domain.forms import FormSet
from desktop.domain.states import RECORD_STATES
from desktop.errors import KnownError, WrongPassphrase
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
from desktop.services.registers import passphrase_problem
from desktop.services.secrets import (
    RecoveryKey,
    change_passphrase,
    make_recovery_key,
    recovery_state,
)
from desktop.services.unit import MAX_LENGTH, read_profile, write_profile
from desktop.storage import AuditEntry, Meta, Record, Register, Unit, append_audit, crypto
from desktop.storage.audit import HEAD_KEY
from desktop.storage.concurrency import can_write
from desktop.storage.secrets import secrets_of
from desktop.storage.server.secrets import WRONG_OLD
from desktop.storage.tables import PACKAGE_RECEIVED, PACKAGE_SENT, Conflict, Package, ReturnNote

#: the audit action of a handover (the receiving level reads it from the carried chain)
ACTION = HANDOVER

#: the audit action when a handover a kill interrupted before its re-key is dropped
DROPPED = "register.handover_dropped"
#: `meta`: the handover under way (JSON, Pending), committed before the re-key and removed in
#: the handover's own transaction; what the next open finds there it finishes or drops
PENDING_KEY = "handover.pending"
_CHECK = b"dengji-handover-old-passphrase-1"
_LOCK = 0x646A686F  # PostgreSQL advisory lock of a handover under way ("djho")

__all__ = ["ACTION", "DROPPED", "FormCount", "HandedOver", "HandoverFacts", "PENDING_KEY",
           "ReportedHandover", "ReturnedBelow", "SentPackage", "Settled", "TrustedUnit",
           "hand_over", "handover_facts", "names_problem", "received_handovers",
           "settle_handover", "write_handover_pdf"]


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
    open, on the new key.

    Complete or resumable: the handover's intent (Pending) is committed before the re-key, so
    a kill anywhere leaves either the old passphrase with the intent (the next open drops it,
    audited) or the new one with it (the next open finishes the handover: settle_handover)."""
    problem = names_problem(from_name, to_name)
    if problem:
        raise KnownError(f"未移交：{problem}")
    outgoing, incoming = _clean_name(from_name), _clean_name(to_name)
    if forms is None:
        from desktop.formspec import shipped_forms

        forms = shipped_forms()
    with _handover_lock(register) as free:
        if not free:
            raise KnownError(BUSY)
        _check_passphrases(register, old_passphrase, new_passphrase)  # nothing written yet
        # one left by a killed handover is settled first (this open's passphrase is the old one)
        _settle(register, old_passphrase, actor)
        pending = _record_intent(register, old_passphrase, outgoing, incoming, actor)
        try:
            # refuses a wrong old, a weak or unchanged new passphrase before re-keying
            changed = change_passphrase(register, old_passphrase, new_passphrase, actor,
                                        new_recovery=True)
        except BaseException:
            _after_failure(register, pending, old_passphrase, new_passphrase, actor)
            raise
        recovery = changed.recovery
        if recovery is None:  # the contract: new_recovery=True always makes one
            raise KnownError("口令已更改，但没有生成新的恢复密钥。"
                             "请在 登记库 → 修改口令… 中生成新的恢复密钥。")
        with register.session() as session:
            _finish(session, register, pending, actor, recovery.key_id,
                    changed.backup.name if changed.backup else None)
            facts = _facts(session, register, forms, recovery.key_id, recovery.made_at)
    return HandedOver(changed.backup, recovery,
                      replace(facts, from_name=outgoing, to_name=incoming))


# --- a handover a kill interrupted ----------------------------------------------------------

BUSY = ("未移交：另一位经办人正在移交这个登记库。请等对方完成后重新打开登记库查看"
        "（登记库 → 本单位信息 中的经办人）。")


@dataclass(frozen=True)
class Pending:
    """A handover under way, as `meta` keeps it: the names, the audit chain's length and the
    recovery key in force when it began, and a check of the old passphrase (an HMAC under
    a key scrypt derives from it: no faster to guess than the register's own key wrap)."""

    from_name: str
    to_name: str
    actor: str
    audit_seq: int
    key_id: str | None
    salt: str
    check: str

    def as_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Settled:
    """What the open did with a handover a kill interrupted: finished (the new passphrase
    opened the register) or dropped (the old one did); `recovery` is the key made to void
    the outgoing clerk's, shown once; `message` says it in Chinese."""

    finished: bool
    from_name: str
    to_name: str
    recovery: RecoveryKey | None
    message: str


def _verifier(passphrase: str, salt: bytes) -> str:
    kdf = crypto.kdf_for_salt(salt)
    if kdf is None or crypto.cost(kdf) > crypto.cost(crypto.DEFAULT_KDF):
        raise ValueError("the check's salt names no usable parameters")
    key = crypto.derive_key(passphrase, salt, kdf)
    return hmac.new(key, _CHECK, hashlib.sha256).hexdigest()


def _read_pending(session: Session) -> Pending | None:
    row = session.get(Meta, PENDING_KEY, populate_existing=True)
    if row is None:
        return None
    try:
        found = json.loads(row.value)
        return Pending(**{k: found[k] for k in Pending.__dataclass_fields__})
    except (ValueError, TypeError, KeyError):
        return Pending("", "", "", 0, None, "", "")  # damaged: dropped as not finished


def _record_intent(register: Register, old_passphrase: str, outgoing: str, incoming: str,
                   actor: str) -> Pending:
    state = recovery_state(register)
    salt = crypto.new_salt(crypto.DEFAULT_KDF)
    with register.session() as session:
        seq = session.execute(select(func.max(AuditEntry.seq))).scalar() or 0
        pending = Pending(outgoing, incoming, actor, seq, state.key_id if state.has_key else None,
                          salt.hex(), _verifier(old_passphrase, salt))
        session.merge(Meta(key=PENDING_KEY, value=pending.as_json()))
        session.commit()
    return pending


def _finish(session: Session, register: Register, pending: Pending, actor: str,
            key_id: str | None, backup: str | None, *, resumed: bool = False) -> None:
    """The handover's own transaction: its audit entry, the new 经办人, the intent removed."""
    code = read_profile(session, register).code
    append_audit(session, actor, ACTION, code, {
        "from": pending.from_name, "to": pending.to_name, "recovery_key_id": key_id,
        "backup": backup, **({"resumed": True} if resumed else {})})
    write_profile(session, register, actor, {"handler": pending.to_name})
    session.execute(delete(Meta).where(Meta.key == PENDING_KEY))
    session.commit()


def _drop(register: Register, pending: Pending, actor: str, why: str) -> None:
    with register.session() as session:
        append_audit(session, actor, DROPPED, read_profile(session, register).code,
                     {"from": pending.from_name, "to": pending.to_name, "why": why})
        session.execute(delete(Meta).where(Meta.key == PENDING_KEY))
        session.commit()


def _check_passphrases(register: Register, old: str, new: str) -> None:
    """change_passphrase's refusals, said before the intent is written: a handover refused
    leaves the register as it was, byte for byte."""
    if not secrets_of(register).opens_with(old):
        raise WrongPassphrase(WRONG_OLD)
    if new == old:
        raise KnownError("新口令与原口令相同，口令未修改。请设置一个不同的新口令。")
    with register.session() as session:
        unit = session.get(Unit, register.own_unit_id)
        name, code = (unit.name, unit.code) if unit is not None else ("", "")
    problem = passphrase_problem(new, name, code)
    if problem:
        raise KnownError(f"新口令不能使用：{problem}口令未修改。")


def _after_failure(register: Register, pending: Pending, old: str, new: str,
                   actor: str) -> None:
    """change_passphrase raised (a refusal, a full disk): the intent goes when nothing was
    changed (the error says so); after the re-key the handover is finished if it can be, or
    left for the next open."""
    try:
        if secrets_of(register).opens_with(old):
            with register.session() as session:
                session.execute(delete(Meta).where(Meta.key == PENDING_KEY))
                session.commit()
        elif secrets_of(register).opens_with(new):
            _settle(register, new, actor)
    except Exception:  # noqa: BLE001 (the first error is the one to report; the next open settles)
        pass


@contextmanager
def _handover_lock(register: Register) -> Iterator[bool]:
    """On a server, a session advisory lock held while a handover runs or is settled (a kill
    ends the session and so frees it): another clerk's open does not drop a handover that is
    still under way. A file register is held by one process already."""
    if register.kind != "server":
        yield True
        return
    with register.engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK})
                conn.commit()


def settle_handover(register: Register, passphrase: str, actor: str) -> Settled | None:
    """At open (`passphrase`: the one that opened it): finish or drop a handover a kill
    interrupted. Opened with the outgoing clerk's passphrase, the re-key never happened: the
    intent is dropped with an audit line (DROPPED) and nothing else changed. Opened with
    another, the re-key happened: the outgoing clerk's recovery key is replaced if it is
    still in force (the new key is in `recovery`, to be shown once), then the handover's
    audit entry and the new 经办人 are written and the intent removed, in one transaction.
    None when there is nothing to settle, another clerk's handover is still running, or the
    role may only read (a reviewer: a clerk's next open settles it)."""
    with register.session() as session:
        if _read_pending(session) is None:
            return None
    if not can_write(register.engine):
        return None
    with _handover_lock(register) as free:
        return _settle(register, passphrase, actor) if free else None


def _settle(register: Register, passphrase: str, actor: str) -> Settled | None:
    with register.session() as session:
        pending = _read_pending(session)
        if pending is None:
            return None
        recovered = session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.seq > pending.audit_seq, AuditEntry.action == "register.recover")
        ).scalar_one()
    names = f"{pending.from_name or '原经办人'} → {pending.to_name or '新经办人'}"
    try:
        old = hmac.compare_digest(_verifier(passphrase, bytes.fromhex(pending.salt)),
                                  pending.check)
    except ValueError:
        old = None  # a damaged intent: nothing tells, so nothing is finished
    if old is None or old or recovered:
        why = ("recovered" if recovered else "damaged" if old is None else "not re-keyed")
        _drop(register, pending, actor, why)
        return Settled(False, pending.from_name, pending.to_name, None, (
            f"上次的移交（{names}）没有完成，已撤销并记入操作日志：登记库的口令、恢复密钥和经办人"
            "都没有改变。如仍要移交，请重新办理 登记库 → 移交…。" if not recovered else
            f"上次的移交（{names}）没有完成，之后登记库用恢复密钥设了新口令；移交已撤销并记入"
            "操作日志，经办人没有改变。如仍要移交，请重新办理 登记库 → 移交…。"))
    state = recovery_state(register)
    key = None
    if (state.key_id if state.has_key else None) == pending.key_id:
        key = make_recovery_key(register, actor)  # the outgoing clerk's sheet opens no more
    with register.session() as session:
        done = recovery_state(register)
        _finish(session, register, pending, actor, done.key_id, None, resumed=True)
    return Settled(True, pending.from_name, pending.to_name, key, (
        f"上次的移交（{names}）在更换口令之后中断，现已完成：经办人改为 {pending.to_name}，"
        "移交已记入操作日志。" + ("原恢复密钥已作废。" if key else "")))


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
