"""Writing a verified package into the register (in the caller's transaction; no commit).

Received records go to the unit that registered them (the sender, or for an upward package the
firm named in it), keep their UUIDs, state and the sender's confirmed warnings, and get this
register's own keyed hashes. A unit new here is described as its own signed package describes
it; a known unit is never renamed by a package: when its own signed package describes it
otherwise, the change is kept in the package's summary for the clerk to confirm
(dashboard.unit_changes). A newer package from the same sender replaces the records of the
older ones, which stay in the package history. The same person (or any unique key) in records
of two units becomes a conflict for the clerk, never a silent overwrite.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, update
from sqlmodel import Session

from desktop.domain.context import Environment, Peer
from desktop.domain.findings import ERROR, WARNING
from desktop.domain.identifiers import normalise_id
from desktop.domain.keys import record_keys
from desktop.domain.validation import Validator
from desktop.exchange import sqlfast as sql
from desktop.exchange.anchor import store_anchor
from desktop.exchange.format import provenance
from desktop.exchange.format.errors import PackageRefused
from desktop.exchange.format.manifest import KIND_REGISTRATION, UnitRef
from desktop.exchange.format.reader import Verification
from desktop.exchange.format.records import Incoming
from desktop.exchange.handovers import SUMMARY_KEY as HANDOVERS
from desktop.exchange.handovers import new_handovers
from desktop.storage import Override, Register, Unit, bulk_insert_records
from desktop.storage.server import blind_value, open_value
from desktop.storage.tables import (
    PACKAGE_RECEIVED,
    Conflict,
    Package,
    ReturnNote,
    new_id,
    utcnow,
)


@dataclass(frozen=True)
class MergeOutcome:
    package_id: str
    source: str
    sender: UnitRef
    sequence: int
    records: int
    replaced: int
    conflicts: int
    errors: int
    warnings: int
    already: bool = False
    #: handovers its audit chain reports since the sender's last package: (entry, time, from, to)
    handovers: tuple[tuple, ...] = ()


class Units:
    """The register's other units by code, read once per merge, made or updated from what
    packages say about them (driver statements, no ORM objects)."""

    def __init__(self, session: Session, own_code: str) -> None:
        self._session, self.own_code = session, own_code
        self.reload()

    def reload(self) -> None:
        """Read again (after a rolled-back package, whose new units are gone)."""
        self._by_code = {row[1]: _UnitRow(*row) for row in sql.query(
            self._session.connection(),
            "SELECT id, code, name, level, parent_code FROM unit WHERE NOT is_own")}

    def changes(self, details: list[provenance.Detail]) -> list[dict[str, Any]]:
        """What the units' own signed packages say of known units that the register holds
        otherwise (a renamed unit): changes for the clerk to confirm, never applied here."""
        out = []
        for d in details:
            known, ref = self._by_code.get(d.unit.code), d.unit
            if known is None or not d.own:
                continue
            was = {"name": known.name, "level": known.level, "parent_code": known.parent_code}
            now = {"name": ref.name, "level": ref.level, "parent_code": ref.parent_code}
            if was != now:
                out.append({"code": ref.code, **now, "was": was})
        return out

    def ids_for(self, refs: list[UnitRef]) -> dict[str, str]:
        """code -> unit id for every ref: new units inserted together (as `refs` describe
        them); known ones keep what the register holds."""
        conn = self._session.connection()
        out, new = {}, []
        for ref in refs:
            if ref.code == self.own_code:  # provenance.refusal refused it before: never here
                raise PackageRefused(f"数据包中含有本单位（代码 {ref.code}）的信息，不能合并。",
                                     reason="含有本单位的信息")
            known = self._by_code.get(ref.code)
            if known is None:
                known = _UnitRow(new_id(), ref.code, ref.name, ref.level, ref.parent_code)
                new.append(dict(id=known.id, code=ref.code, is_own=False, created_at=utcnow(),
                                name=ref.name, level=ref.level, parent_code=ref.parent_code))
                self._by_code[ref.code] = known
            out[ref.code] = known.id
        sql.insert_many(conn, Unit.__table__, new)
        return out


@dataclass(frozen=True)
class _UnitRow:
    id: str
    code: str
    name: str
    level: str
    parent_code: str | None


class _PackagePeers:
    """Cross rules see the other records of the same unit in the package."""

    def __init__(self, records: list[Incoming]) -> None:
        self._by_form: dict[str, list[Peer]] = defaultdict(list)
        for r in records:
            self._by_form[r.form.id].append(Peer(r.id, r.form.id, r.current))

    def records(self, form_id: str) -> list[Peer]:
        return self._by_form.get(form_id, [])


def issue_counts(records: list[Incoming], today: date) -> tuple[int, int]:
    """E findings, and W findings the sender did not confirm, of a unit's own records."""
    env = Environment(today=today, peers=_PackagePeers(records))
    validators: dict[str, Validator] = {}
    errors = warnings = 0
    for r in records:
        validator = validators.get(r.form.id)
        if validator is None:
            validator = validators[r.form.id] = Validator(r.form, env)
        confirmed = {(o["field"], o["rule"]) for o in r.overrides}
        for f in validator.check(r.current, r.id):
            if f.severity == ERROR:
                errors += 1
            elif f.severity == WARNING and (f.field, f.code) not in confirmed:
                warnings += 1
    return errors, warnings


def package_issues(v: Verification, today: date) -> tuple[int, int]:
    """Issue counts of a verified registration package: its records are checked with every
    rule when they reach a level for the first time (a firm's package); records forwarded
    from below (with inner packages) were checked there and are not counted again."""
    m = v.manifest
    if m is None or v.records is None or m.inner or m.kind != KIND_REGISTRATION:
        return 0, 0
    return issue_counts(v.records, today)


def apply_package(session: Session, register: Register, v: Verification, file_name: str,
                  data: bytes, today: date, units: Units,
                  issues: tuple[int, int] | None = None,
                  extra: dict[str, Any] | None = None) -> MergeOutcome:
    """Write the verified package `v` (all checks passed, records read) into `session`.

    What can still refuse a package (a unit that is the own unit, a record id that belongs to
    another unit) is checked before anything is written, so a PackageRefused leaves no trace.
    `issues` are the (errors, warnings) of its records when already counted elsewhere; `extra`
    goes into the package's summary (the society's statistics table and its finding)."""
    m, records = v.manifest, v.records
    assert m is not None and records is not None and m.kind == KIND_REGISTRATION and v.ok
    conn = session.connection()
    ids = [r.id for r in records]
    why = provenance.refusal(m.sender, units.own_code, v.named_units(), ids,
                             record_owners(conn, ids))
    if why is not None:
        raise PackageRefused(f"数据包 {v.source} 被拒绝，未写入任何内容：{why}。", reason=why)
    needed = sorted({r.unit_code for r in records} | {m.sender.code})
    if not set(needed) <= set(v.units):  # verification makes this impossible; never guess
        raise PackageRefused(f"数据包 {v.source} 被拒绝，未写入任何内容：包内没有单位自己签名的"
                             "单位信息。", reason="缺少单位信息")
    details = [v.units[code] for code in needed]
    older = [row[0] for row in sql.query(
        conn, "SELECT id FROM package WHERE direction = ? AND kind = ? AND sender_code = ?",
        (PACKAGE_RECEIVED, KIND_REGISTRATION, m.sender.code))]
    replaced: set[str] = set()
    for chunk in sql.pieces(conn, older):
        where, params = sql.among(conn, "package_id", chunk)
        replaced.update(row[0] for row in sql.query(
            conn, f"SELECT id FROM record WHERE {where}", params))

    # every check passed: from here on nothing refuses the package
    unit_changes = units.changes(details)
    unit_ids = units.ids_for([d.unit for d in details])
    kept = _forget_conflicts(conn, replaced)
    for chunk in sql.pieces(conn, older):
        where, params = sql.among(conn, "package_id", chunk)
        sql.execute(conn, f"DELETE FROM record WHERE {where}", params)

    rows, keys, overrides = [], [], []
    now = utcnow()
    key_hash = register.key_hash
    person_fields = {}
    for r in records:
        form = r.form
        person_field = person_fields.get(form.id, 0)
        if person_field == 0:
            person_field = person_fields[form.id] = next(
                (k.field for k in form.keys if k.kind.endswith("person")), None)
        person = r.current.get(person_field) if person_field else None
        rows.append({
            "id": r.id, "form_id": form.id, "form_version": r.form_version,
            "unit_id": unit_ids[r.unit_code],
            "data": r.values_json,
            "name": str(r.current.get(form.name_field) or ""),
            "person_key": key_hash("person", normalise_id(str(person))) if person else None,
            "state": r.state, "revision": r.revision, "package_id": m.package_id,
            "created_at": now, "updated_at": now})
        keys += [{"record_id": r.id, "form_id": form.id, "kind": k.kind,
                  "value": key_hash(k.kind, value) if k.hashed else value}
                 for k, value in record_keys(form, r.current)]
        overrides += [{"record_id": r.id, "field": o["field"], "rule": o["rule"],
                       "reason": o["reason"], "actor": o["actor"],
                       "created_at": datetime.fromisoformat(o["created_at"]).astimezone(UTC)}
                      for o in r.overrides]
    conflicts = _find_conflicts(conn, records, keys, unit_ids, m.package_id, kept)
    bulk_insert_records(conn, rows, keys)
    sql.insert_many(conn, Override.__table__, overrides)

    errors, warnings = issues if issues is not None else package_issues(v, today)
    handed = new_handovers(session, m.sender.code, v.audit_chain)
    summary = {"forms": [list(f) for f in m.forms], "inner": len(m.inner),
               "checks": [[c.name, c.ok, c.message] for c in v.checks], **(extra or {}),
               **({"unit_changes": unit_changes} if unit_changes else {}),
               **({HANDOVERS: handed} if handed else {})}
    sql.insert_many(conn, Package.__table__, [dict(
        id=m.package_id, kind=m.kind, direction=PACKAGE_RECEIVED, sender_code=m.sender.code,
        sender_name=m.sender.name, sender_level=m.sender.level,
        sender_unit_id=unit_ids[m.sender.code], recipient_code=m.recipient.code,
        recipient_fingerprint=m.recipient_fingerprint, sequence=m.sequence,
        supersedes=m.supersedes, created=datetime.fromisoformat(m.created).astimezone(UTC),
        file_name=file_name, file_sha256=v.sha256, signer_fingerprint=m.signer_fingerprint,
        record_count=len(records), errors=errors, warnings=warnings, status="received",
        summary=json.dumps(summary, ensure_ascii=False),
        handled_at=now, superseded_by=None, returns=None, content=data)])
    if older:
        session.execute(update(Package).where(Package.id.in_(older),
                                              Package.superseded_by.is_(None))
                        .values(superseded_by=m.package_id, status="superseded"))
        session.execute(update(ReturnNote).where(
            ReturnNote.package_id.in_(older), ReturnNote.status == "open")
            .values(status="answered", answered_in=m.package_id, answered_at=now))
    store_anchor(session, m.sender.code, v.audit_chain, m.package_id)
    return MergeOutcome(m.package_id, v.source, m.sender, m.sequence, len(records),
                        len(replaced), conflicts, errors, warnings,
                        handovers=tuple(tuple(h) for h in handed))


def record_owners(conn: Connection, ids: list[str]) -> dict[str, tuple[str | None, str]]:
    """provenance.Owners of `ids`: for each one the register holds, the sender of the
    received registration package it came in (None: the register's own record) and its
    name; one indexed query per chunk of ids."""
    out: dict[str, tuple[str | None, str]] = {}
    for chunk in sql.pieces(conn, ids):
        where, params = sql.among(conn, "r.id", chunk)
        for rid, name, sender in sql.query(
                conn, "SELECT r.id, r.name, p.sender_code FROM record r LEFT JOIN package p "
                f"ON p.id = r.package_id AND p.direction = ? AND p.kind = ? WHERE {where}",
                [PACKAGE_RECEIVED, KIND_REGISTRATION, *params]):
            out[rid] = (sender, open_value(conn.engine, "record", "name", rid, name))
    return out


def _forget_conflicts(conn: Connection, replaced: set[str]) -> dict[tuple, tuple[str, str]]:
    """Delete the conflicts of records about to be replaced; return the "keep both" decisions
    (by key and pair of units), which the replacing records inherit."""
    kept: dict[tuple, tuple[str, str]] = {}
    for chunk in sql.pieces(conn, sorted(replaced)):
        a, params = sql.among(conn, "record_a", chunk)
        b, _same = sql.among(conn, "record_b", chunk)
        where, params = f"{a} OR {b}", params + params
        for cid, kind, value, unit_a, unit_b, resolution, note, by in sql.query(
                conn, "SELECT id, kind, key_value, unit_a, unit_b, resolution, note, "
                f"resolved_by FROM record_conflict WHERE {where}", params):
            if resolution == "keep_both":  # value: as stored (blinded on a server register)
                note = open_value(conn.engine, "record_conflict", "note", cid, note)
                kept[(kind, value, frozenset((unit_a, unit_b)))] = (note, by or "")
        sql.execute(conn, f"DELETE FROM record_conflict WHERE {where}", params)
    return kept


def _find_conflicts(conn: Connection, records: list[Incoming], keys: list[dict],
                    unit_ids: dict[str, str], package_id: str,
                    kept: dict[tuple, tuple[str, str]]) -> int:
    """Record a conflict for every unique key an incoming record shares with another record.

    Runs before the package's records are inserted: `keys` are their keys (already hashed),
    so the register is asked only for the records that were there before."""
    incoming = {r.id: i for i, r in enumerate(records)}
    unit_of = {r.id: unit_ids[r.unit_code] for r in records}
    unique = {k.kind for r in records for k in r.form.keys if k.unique}
    wanted: dict[str, set[str]] = defaultdict(set)
    arriving: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for k in keys:
        if k["kind"] in unique:
            wanted[k["kind"]].add(k["value"])
            arriving[k["kind"], k["value"]].append((k["record_id"], unit_of[k["record_id"]]))
    holders: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    kinds = sorted(wanted)
    # as record_key stores them: blinded on a server register (the same values on SQLite)
    stored = {blind_value(conn.engine, v): v
              for v in sorted({v for values in wanted.values() for v in values})}
    for chunk in sql.pieces(conn, list(stored)):  # one indexed query for all kinds
        of_kind, kind_params = sql.among(conn, "k.kind", kinds)
        of_value, value_params = sql.among(conn, "k.value", chunk)
        for kind, found_value, rid, unit in sql.query(
                conn, "SELECT k.kind, k.value, k.record_id, r.unit_id FROM record_key k "
                f"JOIN record r ON r.id = k.record_id WHERE {of_kind} AND {of_value}",
                [*kind_params, *value_params]):
            value = stored[found_value]
            if value in wanted[kind]:
                holders[kind, value].append((rid, unit))
    for key, found in arriving.items():
        if len(found) > 1 or key in holders:
            holders[key] += found
    made, now, rows = 0, utcnow(), []
    for (kind, value), found in holders.items():
        if len(found) < 2:
            continue
        # records already there first, then incoming ones in package order
        found.sort(key=lambda h: (h[0] in incoming, incoming.get(h[0], 0)))
        for j, (rid, unit) in enumerate(found):
            if rid not in incoming:
                continue
            for other, other_unit in found[:j]:
                decision = kept.get((kind, blind_value(conn.engine, value),
                                     frozenset((other_unit, unit))))
                rows.append(dict(
                    kind=kind, key_value=value, record_a=other, unit_a=other_unit,
                    record_b=rid, unit_b=unit, package_b=package_id,
                    status="resolved" if decision else "open",
                    resolution="keep_both" if decision else None,
                    note=decision[0] if decision else "",
                    resolved_by=decision[1] if decision else None,
                    resolved_at=now if decision else None, created_at=now))
                made += 0 if decision else 1
    sql.insert_many(conn, Conflict.__table__, rows)
    return made
