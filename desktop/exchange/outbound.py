"""What an export puts in a package, read from the register (no commits).

A package carries the own unit's records that are no draft (domain.states: a draft stays in the
register) and, at a city or province, every accepted record of the units below it with their
original packages unchanged under inner/. The services refuse an
export while an own record has an E or an included record is in an open conflict.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import Session

from desktop.domain.forms import FormSet
from desktop.domain.states import ACCEPTED, DRAFT
from desktop.domain.states import SENT as SUBMITTED
from desktop.exchange import keyevents
from desktop.exchange.format.keys import PublicKeyInfo
from desktop.exchange.format.manifest import FORM_SETS, KIND_REGISTRATION
from desktop.exchange.format.records import digest, record_line
from desktop.exchange.format.writer import PackageContent, Written, file_name, inner_ref
from desktop.storage import AuditEntry, Override, Record, Register, Unit
from desktop.storage.tables import PACKAGE_RECEIVED, PACKAGE_SENT, Conflict, Package, ReturnNote

CHUNK = 900


@dataclass(frozen=True)
class Blocker:
    """Why a record keeps the package from being exported."""

    record_id: str
    form_title: str
    name: str
    field: str  # label
    message: str


def next_sequence(session: Session, own_code: str) -> tuple[int, str | None]:
    """The sequence of the next export and the package it supersedes."""
    last = session.execute(
        select(Package.sequence, Package.id)
        .where(Package.direction == PACKAGE_SENT, Package.kind == KIND_REGISTRATION,
               Package.sender_code == own_code)
        .order_by(Package.sequence.desc()).limit(1)).first()
    return (last[0] + 1, last[1]) if last else (1, None)


def _chunks(values: list[str]):
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def _included(session: Session, register: Register) -> list[Any]:
    current = select(Package.id).where(Package.direction == PACKAGE_RECEIVED,
                                       Package.kind == KIND_REGISTRATION,
                                       Package.superseded_by.is_(None))
    return list(session.execute(
        select(Record.id, Record.unit_id, Record.form_id, Record.form_version, Record.state,
               Record.revision, Record.data, Record.package_id)
        .where(or_((Record.unit_id == register.own_unit_id) & (Record.state != DRAFT),
                   (Record.state == ACCEPTED) & Record.package_id.in_(current)))
        .order_by(Record.unit_id, Record.form_id, Record.created_at)))


def included_records(session: Session, register: Register) -> list[Any]:
    """The records the next package takes (id, unit_id, form_id, form_version, state,
    revision, data, package_id): what the own change report compares (exchange/changes.py)."""
    return _included(session, register)


def included_ids(session: Session, register: Register) -> set[str]:
    """The ids of the records the next package takes (what open conflicts are checked on)."""
    return {r.id for r in _included(session, register)}


def open_conflicts(session: Session, record_ids: set[str]) -> list[Conflict]:
    """Open conflicts that touch any of `record_ids`."""
    rows = session.execute(select(Conflict).where(Conflict.status == "open")).scalars()
    return [c for c in rows if c.record_a in record_ids or c.record_b in record_ids]


def build_content(session: Session, register: Register, forms: FormSet, sequence: int,
                  supersedes: str | None, attachments: dict[str, bytes]) -> PackageContent:
    """Everything the package will hold, read in a few queries."""
    rows = _included(session, register)
    units = {u.id: u for u in session.execute(select(Unit)).scalars()}
    own = units[register.own_unit_id]
    overrides: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for chunk in _chunks([r.id for r in rows]):
        for o in session.execute(select(Override).where(Override.record_id.in_(chunk))
                                 .order_by(Override.id)).scalars():
            overrides[o.record_id].append({
                "field": o.field, "rule": o.rule, "reason": o.reason, "actor": o.actor,
                "created_at": o.created_at.isoformat()})
    lines, digests, used_units, counts = [], [], {}, Counter()
    for r in rows:
        values = json.loads(r.data)
        own_record = r.unit_id == register.own_unit_id
        lines.append(record_line(r.id, units[r.unit_id].code, r.form_id, r.form_version,
                                 SUBMITTED if own_record else r.state, r.revision, values,
                                 overrides.get(r.id, []), None if own_record else r.package_id))
        digests.append(digest(r.id, r.form_id, r.form_version, r.revision, values))
        used_units[r.unit_id] = units[r.unit_id]
        counts[r.form_id] += 1
    used_units[own.id] = own
    inner = _inner(session, {r.package_id for r in rows if r.unit_id != own.id})
    audit = [{"seq": a.seq, "ts": a.ts, "actor": a.actor, "action": a.action,
              "target": a.target, "detail": json.loads(a.detail), "prev_hash": a.prev_hash,
              "hash": a.hash}
             for a in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]
    answers = sorted({rid for (rid,) in session.execute(
        select(ReturnNote.return_id).where(ReturnNote.direction == PACKAGE_RECEIVED,
                                           ReturnNote.status == "open"))} - {None})
    return PackageContent(
        form_set=FORM_SETS.get(own.level, "party"), sequence=sequence, supersedes=supersedes,
        records=lines,
        forms=[{"id": f, "version": forms.forms[f].version if f in forms.forms else "",
                "records": n} for f, n in sorted(counts.items())],
        units=[{"code": u.code, "name": u.name, "level": u.level, "parent_code": u.parent_code}
               for u in used_units.values()],
        digests=digests, audit=audit, attachments=dict(attachments), inner=inner,
        answers=answers, key_statements=keyevents.carried(session, own.code))


def _inner(session: Session, package_ids: set[str]) -> list[tuple[dict[str, Any], bytes]]:
    out = []
    for chunk in _chunks(sorted(package_ids)):
        for p in session.execute(
                select(Package.id, Package.sender_code, Package.created, Package.sequence,
                       Package.signer_fingerprint, Package.content)
                .where(Package.id.in_(chunk)).order_by(Package.sender_code)):
            name = file_name(p.sender_code, "inner", p.created.isoformat(), p.sequence)
            name = f"inner/{name.removesuffix('.djpkg')}-{p.id[:8]}.djpkg"
            out.append((inner_ref(name, p.id, p.sender_code, p.signer_fingerprint), p.content))
    return out


def record_sent(session: Session, register: Register, written: Written,
                recipient: PublicKeyInfo, inner: int) -> None:
    """Add the Package row of a package just written (its sequence is taken from now on).

    The register keeps the newest sent package's file (older ones' are dropped): the next
    change report compares with it (exchange/changes.py; the sender can open its own
    package)."""
    m = written.manifest
    session.execute(update(Package).where(Package.direction == PACKAGE_SENT,
                                          Package.kind == KIND_REGISTRATION,
                                          Package.content.is_not(None)).values(content=None))
    session.add(Package(
        id=written.package_id, kind=KIND_REGISTRATION, direction=PACKAGE_SENT,
        sender_code=m["sender"]["code"], sender_name=m["sender"]["name"],
        sender_level=m["sender"]["level"], sender_unit_id=register.own_unit_id,
        recipient_code=recipient.code, recipient_fingerprint=recipient.fingerprint,
        sequence=m["sequence"], supersedes=m["supersedes"],
        created=datetime.fromisoformat(m["created"]), file_name=written.file_name,
        file_sha256=hashlib.sha256(written.data).hexdigest(),
        signer_fingerprint=m["signer"]["fingerprint"], record_count=m["record_count"],
        status="sent", summary=json.dumps({"forms": m["forms"], "inner": inner},
                                          ensure_ascii=False), content=written.data))
    session.flush()
