"""Checking a batch of rows against a form, the file itself and (optionally) the register.

The register's unique keys are looked up once for the whole batch (an indexed IN query per
chunk), so a row costs no query of its own; cross rules see the unit's stored records plus the
rows of the batch, so the order in which forms are imported never matters.

A file is read and checked locally chunk by chunk on every core (services.intake.rowcheck); the
workers also give each row's normalised key values, so the batch's keys are never computed
twice, and only the rows whose key value occurs twice (or is in the register) are looked at
again for the unique-key findings.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from desktop.domain.context import Environment, KeyHit, Peer
from desktop.domain.findings import Finding
from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.keys import record_keys
from desktop.domain.sources import SourceRow
from desktop.domain.validation import Validator, unparsed_fields
from desktop.domain.values import upgrade_stored
from desktop.errors import UsageError
from desktop.progress import Progress, Task
from desktop.services.ids import IdMaker
from desktop.services.intake import rowcheck
from desktop.services.intake.jsonl import check_readable, open_record
from desktop.storage import Record, Register, find_keys

PROGRESS_EVERY = 2000


@dataclass
class RowResult:
    no: int
    record_id: str
    values: dict[str, Any] | None
    findings: list[Finding] = field(default_factory=list)


#: what a source hands on per chunk: its results and the rows as the workers packed them
OnRows = Callable[[list[RowResult], list[rowcheck.Packed]], None]


class BatchKeys:
    """Unique keys among the rows of one file, from the rows' values; or, with `keys`, from
    each row's normalised key values in the order of form.keys as the workers computed them
    (then `keys` keeps them, and more rows can be `add`ed as they arrive)."""

    def __init__(self, form: FormSpec, rows: Sequence[RowResult] = (),
                 keys: Sequence[tuple] | None = None) -> None:
        self._form_id = form.id
        self._map: dict[tuple[str, str], list[RowResult]] = defaultdict(list)
        self._unique = [(i, k.kind) for i, k in enumerate(form.keys) if k.unique]
        self.keys: list[tuple] | None = None
        if keys is None:
            for row in rows:
                if row.values is not None:
                    for key, value in record_keys(form, row.values):
                        self._map[key.kind, value].append(row)
            return
        self.keys = []
        self.add(rows, keys)

    def add(self, rows: Sequence[RowResult], keys: Sequence[tuple]) -> None:
        """More rows, with their key values (see the class docstring)."""
        assert self.keys is not None, "rows without key values"
        self.keys += keys
        found = self._map
        for row, values in zip(rows, keys, strict=True):
            for i, kind in self._unique:
                if i < len(values) and values[i] is not None:
                    found[kind, values[i]].append(row)

    def values(self, kind: str) -> list[str]:
        return [v for (k, v) in self._map if k == kind]

    def repeated(self) -> set[tuple[str, str]]:
        """(kind, value) of the keys that more than one row of the file has."""
        return {key for key, rows in self._map.items() if len(rows) > 1}

    def hits(self, kind: str, value: str, exclude_id: str | None) -> list[KeyHit]:
        return [KeyHit(r.record_id, self._form_id, f"第 {r.no} 行", False)
                for r in self._map.get((kind, value), ()) if r.record_id != exclude_id]


class RegisterKeys:
    """Unique keys already in the register, fetched once for every value of the batch.

    Without `batch`, nothing is looked up yet: `look_up` then fetches a chunk's values as they
    arrive (the import, before it writes the chunk) and `finish` the names of the records found.
    """

    def __init__(self, register: Register, session: Session, forms: FormSet, form: FormSpec,
                 batch: BatchKeys | None = None) -> None:
        self._hits: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._asked: set[tuple[str, str]] = set()
        self._names: dict[str, str] = {}
        self._titles = {f.id: f.display_title for f in forms.forms.values()}
        if batch is None:
            return
        for key in form.keys:
            if not key.unique:
                continue
            plain = batch.values(key.kind)
            stored = {register.key_hash(key.kind, v) if key.hashed else v: v for v in plain}
            self.look_up(session, key.kind, stored)
        self.finish(session)

    def look_up(self, session: Session, kind: str, stored: dict[str, str],
                exclude: Collection[str] = frozenset()) -> None:
        """Fetch the records holding these values (stored form → plain value) of a key, leaving
        out the records of `exclude`; a value asked for before is not asked again."""
        new = [v for v in stored if (kind, v) not in self._asked]
        self._asked.update((kind, v) for v in new)
        for value, found in find_keys(session, kind, new, exclude).items():
            self._hits.setdefault((kind, stored[value]), []).extend(found)
            self._names.update({rid: "" for rid, _ in found})

    def found(self) -> set[tuple[str, str]]:
        """(kind, plain value) of the keys the register holds."""
        return set(self._hits)

    @property
    def found_keys(self) -> Collection[tuple[str, str]]:
        """The same, as it grows (no copy)."""
        return self._hits.keys()

    def finish(self, session: Session) -> None:
        """Fetch the names of the records found (for the messages)."""
        ids = [rid for rid, name in self._names.items() if not name]
        for i in range(0, len(ids), 900):
            rows = session.exec(select(Record.id, Record.name)
                                .where(Record.id.in_(ids[i:i + 900]))).all()
            self._names.update(dict(rows))

    def hits(self, kind: str, value: str, exclude_id: str | None) -> list[KeyHit]:
        return [KeyHit(rid, fid, f"{self._titles.get(fid, fid)}中“{self._names.get(rid, '')}”",
                       True)
                for rid, fid in self._hits.get((kind, value), ()) if rid != exclude_id]


class CombinedKeys:
    def __init__(self, *indexes) -> None:
        self._indexes = indexes

    def hits(self, kind: str, value: str, exclude_id: str | None) -> list[KeyHit]:
        return [h for index in self._indexes for h in index.hits(kind, value, exclude_id)]


class UnitPeers:
    """The unit's stored records (loaded per form on first use) plus the rows of the batch.
    `exclude`: ids of stored records to leave out (the batch's own rows, already written)."""

    def __init__(self, session: Session, forms: FormSet, unit_id: str,
                 batch_form: str | None = None, batch: Sequence[RowResult] = (),
                 exclude: Collection[str] = frozenset()) -> None:
        self._session, self._forms, self._unit_id = session, forms, unit_id
        self._batch_form = batch_form
        self._batch = [Peer(r.record_id, batch_form or "", r.values) for r in batch
                       if r.values is not None]
        self._exclude = exclude
        self._cache: dict[str, list[Peer]] = {}

    def records(self, form_id: str) -> Sequence[Peer]:
        if form_id not in self._cache:
            spec = self._forms.forms.get(form_id)
            rows = self._session.exec(
                select(Record.id, Record.data)
                .where(Record.unit_id == self._unit_id, Record.form_id == form_id)).all()
            exclude = self._exclude if form_id == self._batch_form else ()
            stored = [Peer(rid, form_id, upgrade_stored(spec.fields, json.loads(data))
                           if spec else json.loads(data)) for rid, data in rows
                      if rid not in exclude]
            if form_id == self._batch_form:
                stored += self._batch
            self._cache[form_id] = stored
        return self._cache[form_id]


#: files at least this large are parsed and checked on every core
PARALLEL_FROM_BYTES = 2 << 20


def read_lines(form: FormSpec, path: Path, *, today: date, storage: bool = False,
               on_rows: OnRows | None = None) -> Task[tuple[list[RowResult], BatchKeys]]:
    """Read a .jsonl file and run the local rules on every row (every core for a large file):
    the results in file order and their unique keys. `on_rows` gets every chunk as soon as it
    is checked; `storage` also packs the JSON to store. (services.intake.read chooses between
    this and a workbook.)"""
    size = check_readable(path)
    collect = Collector(form, RowResult, on_rows)
    if size >= PARALLEL_FROM_BYTES and rowcheck.workers() > 1 and form.path is not None:
        yield from rowcheck.parallel_lines(form, path, size, today, storage, collect)
    else:
        checker = rowcheck.RowChecker(form, today, storage)
        yield from rowcheck.serial_rows(
            checker, lambda: rowcheck.check_lines_here(checker, path), collect)
    if not collect.results:
        raise UsageError(f"文件中没有任何记录：{path}")
    return collect.results, collect.batch


class Collector:
    """Turns the packed chunks into results (with new record ids) in file order, and gathers
    their unique keys (`batch`) as they arrive."""

    def __init__(self, form: FormSpec, make: Callable[..., RowResult],
                 on_rows: OnRows | None = None,
                 first: Callable[[RowResult], None] | None = None) -> None:
        self.make, self.on_rows, self.first = make, on_rows, first
        self.results: list[RowResult] = []
        self.batch = BatchKeys(form, (), [])
        self._ids = IdMaker()

    def __call__(self, chunk: list[rowcheck.Packed]) -> None:
        new_id, make = self._ids.next, self.make
        made = [make(p[0], new_id() if p[1] is not None else "", p[1], p[2]) for p in chunk]
        if made and not self.results and self.first is not None:
            self.first(made[0])
        self.results += made
        self.batch.add(made, [p[3] for p in chunk])
        if self.on_rows is not None:
            self.on_rows(made, chunk)


def check_rows(forms: FormSet, form: FormSpec, rows: Sequence[SourceRow], **kwargs
               ) -> Task[list[RowResult]]:
    """Parse and check rows already read; with a register, also against it."""
    results = yield from _serial_local(form, rows, kwargs.get("today") or date.today())
    return (yield from check_context(forms, form, results, **kwargs))


def check_context(forms: FormSet, form: FormSpec, results: list[RowResult], *,
                  register: Register | None = None, session: Session | None = None,
                  unit_id: str | None = None, today: date | None = None,
                  batch: BatchKeys | None = None, looked_up: RegisterKeys | None = None,
                  written: Collection[str] = frozenset()) -> Task[list[RowResult]]:
    """Unique keys within the file and the register; cross rules against the unit's records.

    Optional, from a pipeline that did part of the work already: `batch`, the file's unique
    keys (Collector.batch, from each row's key values as rowcheck packed them); `looked_up`,
    the register's keys for them; `written`, ids of the batch's rows already in the register
    (not counted twice by cross rules)."""
    env = Environment(today=today or date.today(), convert_legacy=True)
    validator = Validator(form, env)
    total = len(results)
    if batch is None:
        batch = BatchKeys(form, results)
    in_register: set[tuple[str, str]] = set()
    if register is not None and session is not None:
        found = looked_up or RegisterKeys(register, session, forms, form, batch)
        in_register = found.found()
        env.keys = CombinedKeys(found, batch)
        env.peers = UnitPeers(session, forms, unit_id or register.own_unit_id, form.id, results,
                              exclude=written)
    else:
        env.keys = batch
    hot = _hot_rows(form, results, batch.keys, batch.repeated() | in_register)
    cross = validator.has_cross_rules and env.peers is not None
    for i, result in enumerate(results):
        values = result.values
        if values is not None:
            if hot is None or i in hot:
                result.findings += validator.check_keys(values, result.record_id)
            if cross:
                result.findings += validator.check_cross(values, result.record_id)
            if len(result.findings) > 1:
                result.findings = validator.sort(result.findings)
        if i % PROGRESS_EVERY == 0:
            yield Progress(total + i, total * 2, "校验")
    yield Progress(total * 2, total * 2, "完成")
    return results


def _hot_rows(form: FormSpec, results: list[RowResult], keys: Sequence[tuple] | None,
              hot_keys: set[tuple[str, str]]) -> set[int] | None:
    """Indexes of the rows with a unique key value that occurs elsewhere (None: every row,
    when the key values are not known)."""
    if keys is None:
        return None
    unique = [(i, k.kind) for i, k in enumerate(form.keys) if k.unique]
    if not unique or not hot_keys:
        return set()
    return {n for n, values in enumerate(keys)
            if any(i < len(values) and (kind, values[i]) in hot_keys for i, kind in unique)}


def _serial_local(form: FormSpec, rows: Sequence[SourceRow], today: date
                  ) -> Task[list[RowResult]]:
    validator = Validator(form, Environment(today=today, convert_legacy=True))
    results = []
    ids = IdMaker()
    for i, row in enumerate(rows):
        raw, other = (None, row.problem) if row.raw is None else \
            open_record(form, row.no, row.raw)
        if raw is None or other is not None:
            results.append(RowResult(row.no, "", None, [other] if other else []))
        else:
            values, findings = _check_one(validator, form, raw)
            results.append(RowResult(row.no, ids.next(), values, findings))
        if i % PROGRESS_EVERY == 0:
            yield Progress(i, len(rows) * 2, "读取")
    return results


def _check_one(validator: Validator, form: FormSpec, raw: dict) -> tuple[dict, list[Finding]]:
    values, findings = validator.parse(raw)
    _apply_defaults(form, values)
    if rowcheck.filled_by_id(form):  # as the import's workers do
        rowcheck.fill_from_id(validator, values, findings)
    return values, findings + validator.check_local(values, unparsed=unparsed_fields(findings))


def _apply_defaults(form: FormSpec, values: dict[str, Any]) -> None:
    for spec in form.fields:
        if spec.default is not None and spec.id not in values:
            values[spec.id] = spec.default


class LiveRegisterKeys:
    """Unique-key lookups against the register one record at a time (the editor, on change)."""

    def __init__(self, register: Register, session: Session, forms: FormSet) -> None:
        self._register, self._session = register, session
        self._hashed = {k.kind: k.hashed for f in forms.forms.values() for k in f.keys}
        self._titles = {f.id: f.display_title for f in forms.forms.values()}

    def hits(self, kind: str, value: str, exclude_id: str | None) -> list[KeyHit]:
        stored = self._register.key_hash(kind, value) if self._hashed.get(kind) else value
        found = find_keys(self._session, kind, [stored], {exclude_id} if exclude_id else set())
        out = []
        for rid, fid in found.get(stored, ()):
            # scalar(): the name itself (a Row prints as "('王敏',)" inside a message)
            name = self._session.scalar(select(Record.name).where(Record.id == rid)) or ""
            out.append(KeyHit(rid, fid, f"{self._titles.get(fid, fid)}中“{name}”", True))
        return out

