"""Record use cases behind the data-entry window, without Qt.

- listing the records of a form is in services/listing.py;
- `EditSession`: one record being edited: parse what is typed, validate live (field, record,
  register and cross rules), propose birth date and sex from the ID number, save a draft on
  every change, mark complete (`submit`: no E, every W confirmed with a reason), undo-friendly
  `set_raw`; voiding a draft and taking a record back to draft are in services/drafts.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, select

from desktop.domain.context import Environment, Peer
from desktop.domain.findings import ERROR, WARNING, Finding
from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.identifiers import normalise_id
from desktop.domain.keys import record_keys
from desktop.domain.messages import render
from desktop.domain.rules import RULES
from desktop.domain.states import COMPLETE as READY
from desktop.domain.states import DRAFT, word
from desktop.domain.validation import Validator
from desktop.domain.values import filled_from_id, parse_value, upgrade_stored
from desktop.errors import KnownError
from desktop.progress import Progress, Task
from desktop.services.intake.checking import (
    LiveRegisterKeys,
)
from desktop.services.listing import on_file, select_rows
from desktop.storage import Override, Record, RecordKey, Register, append_audit
from desktop.storage.audit import RECORD_HASH, content_hashes
from desktop.storage.concurrency import RecordChanged, claim_revision
from desktop.storage.server import open_value
from desktop.storage.tables import utcnow

CHUNK = 900


# --- one record -------------------------------------------------------------------------


class LivePeers:
    """The unit's stored records per form, for cross rules (as checking.UnitPeers), read through
    the form index, so the few 附件3 records among 200,000 members are found without reading
    every record row. Kept for the editing session: the editor's own saves update it."""

    def __init__(self, session: Session, forms: FormSet, unit_id: str) -> None:
        self._session, self._forms, self._unit_id = session, forms, unit_id
        self._cache: dict[str, list[Peer]] = {}

    def records(self, form_id: str) -> Sequence[Peer]:
        if form_id not in self._cache:
            self._cache[form_id] = read_peers(self._session, self._forms, self._unit_id, form_id)
        return self._cache[form_id]

    def preloaded(self, cache: Mapping[str, list[Peer]]) -> None:
        self._cache.update(cache)

    def update(self, form_id: str, record_id: str, values: Mapping[str, Any]) -> None:
        """A record this session saved: its peer copy follows (a copy, never the live dict)."""
        if form_id in self._cache:
            rest = [p for p in self._cache[form_id] if p.id != record_id]
            self._cache[form_id] = [*rest, Peer(record_id, form_id, dict(values))]

    def remove(self, form_id: str, record_id: str) -> None:
        """A record left the register (a voided draft): cross rules no longer see it."""
        if form_id in self._cache:
            self._cache[form_id] = [p for p in self._cache[form_id] if p.id != record_id]


class CachedKeys:
    """Unique-key lookups for the editor: each (kind, value) is asked of the register once per
    change of the register (a keystroke elsewhere in the record asks nothing), and a value that
    is itself invalid (a half-typed ID number) is not looked up at all."""

    def __init__(self, live: LiveRegisterKeys) -> None:
        self._live = live
        self._cache: dict[tuple[str, str, str | None], list] = {}
        self.skip: set[tuple[str, str]] = set()

    def hits(self, kind: str, value: str, exclude_id: str | None) -> list:
        if (kind, value) in self.skip:
            return []
        key = (kind, value, exclude_id)
        if key not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = self._live.hits(kind, value, exclude_id)
        return self._cache[key]

    def forget(self) -> None:
        """The register changed (a save here or in another tab)."""
        self._cache.clear()


def read_peers(session: Session, forms: FormSet, unit_id: str, form_id: str) -> list[Peer]:
    spec = forms.forms.get(form_id)
    rows = session.exec(select(Record.id, Record.data)
                        .with_hint(Record, "INDEXED BY ix_record_form_id", "sqlite")
                        .where(Record.form_id == form_id, Record.unit_id == unit_id)).all()
    return [Peer(rid, form_id, upgrade_stored(spec.fields, json.loads(data)) if spec
                 else json.loads(data)) for rid, data in rows]


def peer_forms(forms: FormSet, form: FormSpec) -> list[str]:
    """The forms whose records cross rules of `form` may read (none without cross rules)."""
    if not any(RULES[r.rule].scope == "cross" for r in form.rules):
        return []
    return [f.id for f in forms.forms.values() if set(f.levels) & set(form.levels)]


def load_peers(register: Register, forms: FormSet, form_ids: Sequence[str], unit_id: str,
               chunk: int = 250) -> Task[dict[str, list[Peer]]]:
    """Read ahead what cross rules need (`peer_forms`), for a large unit on a worker thread:
    a chunk of records per step (newest first, through the form index), so the thread that runs
    it can give way between steps."""
    out: dict[str, list[Peer]] = {}
    # SQLite pages by rowid through the form index; PostgreSQL by id (its data sealed)
    key, hint = (("rowid", " INDEXED BY ix_record_form_id") if on_file(register)
                 else ("id", ""))
    with register.engine.connect() as conn:
        for i, form_id in enumerate(form_ids):
            spec = forms.forms.get(form_id)
            peers: list[Peer] = []
            last = None
            while True:
                yield Progress(i, len(form_ids), "读取本单位记录")
                after = "" if last is None else f" AND {key} < ?"
                rows = list(select_rows(
                    conn, f"SELECT {key}, id, data FROM record{hint} WHERE form_id = ? AND "
                    f"unit_id = ?{after} ORDER BY {key} DESC LIMIT ?",
                    (form_id, unit_id, *(() if last is None else (last,)), chunk)))
                opened = [(rid, json.loads(open_value(register.engine, "record", "data", rid,
                                                      data))) for _r, rid, data in rows]
                peers += [Peer(rid, form_id, upgrade_stored(spec.fields, values) if spec
                               else values) for rid, values in opened]
                if len(rows) < chunk:
                    break
                last = rows[-1][0]
            out[form_id] = peers
    yield Progress(len(form_ids), len(form_ids), "读取本单位记录")
    return out


@dataclass(frozen=True)
class SubmitCheck:
    """What stands between a record and 标记完成 (its state 已完成（待上报）)."""

    errors: list[Finding]
    warnings: list[Finding]
    reasons: dict[tuple[str, str], str]  # (field, code) → reason already given

    @property
    def blocked(self) -> bool:
        return bool(self.errors)


class EditSession:
    """One record of one form being edited, validated and saved.

    The window calls `set_raw` on every keystroke (it returns the record's findings), `save`
    when a field is done (a draft, so a crash loses at most the field being typed), and
    `submit` with the reasons of the confirmed warnings.
    """

    def __init__(self, register: Register, forms: FormSet, form: FormSpec, unit_id: str, *,
                 actor: str, today: date | None = None, defer_peers: bool = False) -> None:
        self.register, self.forms, self.form, self.unit_id = register, forms, form, unit_id
        self.actor = actor
        self._today = today
        self._live = register.session()  # reads for live checks; rolled back after each
        self.env = Environment(today=today or date.today(),
                               keys=CachedKeys(LiveRegisterKeys(register, self._live, forms)))
        self.peers = LivePeers(self._live, forms, unit_id)
        #: deferred: cross rules wait until `attach_peers` (a large unit read on a worker)
        self.env.peers = None if defer_peers else self.peers
        self.validator = Validator(form, self.env)
        self.record_id: str | None = None
        self.state = DRAFT
        self.revision = 0
        self.values: dict[str, Any] = {}
        self._problems: dict[str, list[Finding]] = {}  # parse problems per field id
        self._saved: dict[str, Any] = {}
        self.reasons: dict[tuple[str, str], str] = {}
        self.findings: list[Finding] = []
        self.new()

    # -- lifecycle --

    def new(self, initial: Mapping[str, Any] | None = None) -> None:
        """Start a new record with the form's defaults and `initial` (stored values, such as the
        next free member number), all stored on the record's first change."""
        self.record_id, self.state, self.revision = None, DRAFT, 0
        self.values = {f.id: f.default for f in self.form.fields if f.default is not None}
        self.values.update({k: v for k, v in (initial or {}).items() if v not in (None, "")})
        self._saved, self._problems, self.reasons = dict(self.values), {}, {}
        self._refresh_peers()

    def load(self, record_id: str) -> None:
        with self.register.session() as session:
            rec = session.get(Record, record_id)
            if rec is None:
                raise KnownError("这条记录已不存在（可能已被删除或替换），请刷新列表。")
            overrides = session.exec(select(Override).where(Override.record_id == record_id)).all()
        self.record_id, self.state, self.revision = rec.id, rec.state, rec.revision
        self.values = upgrade_stored(self.form.fields, json.loads(rec.data))
        self._saved, self._problems = dict(self.values), {}
        self.reasons = {(o.field, o.rule): o.reason for o in overrides}
        self._refresh_peers()

    def close(self) -> None:
        self._live.close()

    def _refresh_peers(self) -> None:
        self._live.rollback()
        self.env.memo.clear()  # another record: what cross rules derived from peers is redone

    def attach_peers(self, cache: Mapping[str, list[Peer]]) -> None:
        """Hand over what `load_peers` read; cross rules run from now on."""
        self.peers.preloaded(cache)
        self.env.peers = self.peers
        self.env.memo.clear()

    def peer_saved(self, form_id: str, record_id: str, values: Mapping[str, Any]) -> None:
        """Another editor saved a record of the unit: cross rules see it from now on."""
        self.peers.update(form_id, record_id, values)
        self.env.memo.clear()
        self.env.keys.forget()

    def peer_removed(self, form_id: str, record_id: str) -> None:
        """A record of the unit was voided (this form's or another's): rules forget it."""
        self.peers.remove(form_id, record_id)
        self.env.memo.clear()
        self.env.keys.forget()

    @property
    def state_word(self) -> str:
        """What the record's state is called (domain.states)."""
        return word(self.state)

    @property
    def cross_ready(self) -> bool:
        return self.env.peers is not None

    # -- typing --

    def set_raw(self, field_id: str, raw: Any, *, check: bool = True) -> list[Finding]:
        """Take what is in a field editor now; return the record's findings (`check=False`:
        several fields at once, then one `check`)."""
        spec = self.form.field(field_id)
        value, problems = parse_value(spec, raw)
        if value is None:
            self.values.pop(field_id, None)
        else:
            self.values[field_id] = value
        self._problems[field_id] = [Finding(p.field or field_id, p.severity, p.code,
                                            render(p.code, self.form.label_of(p.field or field_id),
                                                   p.params), "value") for p in problems]
        return self.check() if check else self.findings

    def check(self) -> list[Finding]:
        """Every rule against the record as it is now. The memo is kept: cross rules derive
        from the peers only while the record is as the peers hold it (domain/rules/party)."""
        keys: CachedKeys = self.env.keys
        try:
            found = self.validator.check_local(self.values, self.record_id)
            invalid = {f.field for f in found if f.severity == ERROR and f.scope == "field"}
            keys.skip = {(k.kind, v) for k, v in record_keys(self.form, self.values)
                         if k.field in invalid}
            found += self.validator.check_context(self.values, self.record_id)
        finally:
            self._live.rollback()  # end the read, so the next check sees later saves
        parsed = [f for fs in self._problems.values() for f in fs]
        bad = {f.field for f in parsed}
        found = [f for f in found if not (f.code == "required" and f.field in bad)]
        self.findings = self.validator.sort(parsed + found)
        return self.findings

    def proposals(self) -> dict[str, Any]:
        """Birth date and sex read from a valid ID number, for fields that are still empty."""
        bad = {f.field for f in self.findings if f.severity == ERROR}
        return filled_from_id(self.form, self.values, lambda id_field: id_field not in bad)

    @property
    def id_fields(self) -> set[str]:
        """The ID number fields that birth date and sex are read from."""
        return {ref.params["id_field"] for ref in self.form.rules if "id_field" in ref.params}

    @property
    def dirty(self) -> bool:
        return self.values != self._saved

    # -- saving --

    def save(self) -> bool:
        """Keep the record as a draft if it changed; returns whether anything was written."""
        if not self.dirty:
            return False
        changed = sorted(k for k in set(self.values) | set(self._saved)
                         if self.values.get(k) != self._saved.get(k))
        with self.register.session() as session:
            self._write(session, DRAFT)
            append_audit(session, self.actor, "record.save", self.record_id,
                         {"form": self.form.id, "fields": changed, "revision": self.revision,
                          RECORD_HASH: content_hashes(session, [self.record_id])[self.record_id]})
            session.commit()
        self.state, self._saved = DRAFT, dict(self.values)
        self.peers.update(self.form.id, self.record_id, self.values)
        self.env.keys.forget()
        return True

    def resolve(self, conflict: RecordChanged, *, keep_mine: bool) -> None:
        """After `RecordChanged`: go on from the record as it is now. `keep_mine`: the values
        typed here stay and the next save writes them on the new revision (every field that
        differs counts as changed); else the other clerk's values are taken."""
        self.revision, self.state = conflict.revision, conflict.state
        theirs = upgrade_stored(self.form.fields, dict(conflict.theirs))
        if not keep_mine:
            self.values, self._problems = dict(theirs), {}
        self._saved = theirs
        self.peers.update(self.form.id, conflict.record_id, theirs)
        self.env.keys.forget()

    def _write(self, session: Session, state: str) -> None:
        data = json.dumps(self.values, ensure_ascii=False, separators=(",", ":"))
        name = str(self.values.get(self.form.name_field) or "")
        person = next((self.values.get(k.field) for k in self.form.keys
                       if k.kind.endswith("person")), None)
        person_key = self.register.person_hash(normalise_id(str(person))) if person else None
        if self.record_id is None:
            rec = Record(form_id=self.form.id, form_version=self.form.version,
                         unit_id=self.unit_id, data=data, name=name, person_key=person_key,
                         state=state)
            session.add(rec)
            self.record_id, self.revision = rec.id, 1
        else:
            rec = claim_revision(session, self.record_id, self.revision)  # RecordChanged
            if rec is None:
                raise KnownError("这条记录已不存在（可能已被删除或替换），无法保存。")
            self.revision = rec.revision + 1
            rec.data, rec.name, rec.person_key, rec.state = data, name, person_key, state
            rec.revision, rec.updated_at = self.revision, utcnow()
            rec.form_version = self.form.version
            session.exec(delete(RecordKey).where(RecordKey.record_id == self.record_id))
        session.flush()
        for key, value in record_keys(self.form, self.values):
            session.add(RecordKey(record_id=self.record_id, form_id=self.form.id, kind=key.kind,
                                  value=self.register.key_hash(key.kind, value) if key.hashed
                                  else value))

    def submit_check(self) -> SubmitCheck:
        findings = self.check()
        return SubmitCheck([f for f in findings if f.severity == ERROR],
                           [f for f in findings if f.severity == WARNING], dict(self.reasons))

    def submit(self, reasons: Mapping[tuple[str, str], str]) -> None:
        """Mark the record complete (domain.states COMPLETE, 已完成（待上报）): no E, and a
        reason for every W."""
        check = self.submit_check()
        if check.errors:
            raise KnownError(f"还有 {len(check.errors)} 个错误（E），改正后才能标记完成。")
        missing = [w for w in check.warnings if not (reasons.get((w.field, w.code)) or "").strip()]
        if missing:
            raise KnownError(f"请为每个警告（W）填写确认理由：{missing[0].message}")
        with self.register.session() as session:
            self._write(session, READY)
            session.exec(delete(Override).where(Override.record_id == self.record_id))
            kept = {}
            for w in check.warnings:
                reason = reasons[(w.field, w.code)].strip()
                kept[(w.field, w.code)] = reason
                session.add(Override(record_id=self.record_id, field=w.field, rule=w.code,
                                     reason=reason, actor=self.actor))
            append_audit(session, self.actor, "record.submit", self.record_id, {
                "form": self.form.id, "revision": self.revision,
                "overrides": [{"field": f, "rule": c} for f, c in sorted(kept)],
                RECORD_HASH: content_hashes(session, [self.record_id])[self.record_id]})
            session.commit()
        self.state, self._saved, self.reasons = READY, dict(self.values), kept
        self.peers.update(self.form.id, self.record_id, self.values)

