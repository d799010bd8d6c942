"""Checking a batch of rows against a form, the file itself and (optionally) the register.

The register's unique keys are looked up once for the whole batch (an indexed IN query per
chunk), so a row costs no query of its own; cross rules see the unit's stored records plus the
rows of the batch, so the order in which forms are imported never matters.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from desktop.domain.context import Environment, KeyHit, Peer
from desktop.domain.findings import Finding
from desktop.domain.keys import record_keys
from desktop.domain.validation import Validator, unparsed_fields
from desktop.domain.values import upgrade_stored
from desktop.errors import UsageError
from desktop.formspec.model import FormSet, FormSpec
from desktop.services.progress import Progress, Task
from desktop.services.sources import Segment, SourceRow, check_readable, read_segment, split_lines
from desktop.storage import Record, Register, find_keys

PROGRESS_EVERY = 2000


@dataclass
class RowResult:
    no: int
    record_id: str
    values: dict[str, Any] | None
    findings: list[Finding] = field(default_factory=list)


class BatchKeys:
    """Unique keys among the rows of one file."""

    def __init__(self, form: FormSpec, rows: Sequence[RowResult]) -> None:
        self._form_id = form.id
        self._map: dict[tuple[str, str], list[RowResult]] = defaultdict(list)
        for row in rows:
            if row.values is not None:
                for key, value in record_keys(form, row.values):
                    self._map[key.kind, value].append(row)

    def values(self, kind: str) -> list[str]:
        return [v for (k, v) in self._map if k == kind]

    def hits(self, kind: str, value: str, exclude_id: str | None) -> list[KeyHit]:
        return [KeyHit(r.record_id, self._form_id, f"第 {r.no} 行", False)
                for r in self._map.get((kind, value), ()) if r.record_id != exclude_id]


class RegisterKeys:
    """Unique keys already in the register, fetched once for every value of the batch."""

    def __init__(self, register: Register, session: Session, forms: FormSet, form: FormSpec,
                 batch: BatchKeys) -> None:
        self._hits: dict[tuple[str, str], list[tuple[str, str]]] = {}
        names: dict[str, str] = {}
        for key in form.keys:
            if not key.unique:
                continue
            plain = batch.values(key.kind)
            stored = {register.key_hash(key.kind, v) if key.hashed else v: v for v in plain}
            for value, found in find_keys(session, key.kind, list(stored)).items():
                self._hits[key.kind, stored[value]] = found
                names.update({rid: "" for rid, _ in found})
        if names:
            ids = list(names)
            for i in range(0, len(ids), 900):
                rows = session.exec(select(Record.id, Record.name)
                                    .where(Record.id.in_(ids[i:i + 900]))).all()
                names.update(dict(rows))
        self._names = names
        self._titles = {f.id: f.display_title for f in forms.forms.values()}

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
    """The unit's stored records (loaded per form on first use) plus the rows of the batch."""

    def __init__(self, session: Session, forms: FormSet, unit_id: str,
                 batch_form: str | None = None, batch: Sequence[RowResult] = ()) -> None:
        self._session, self._forms, self._unit_id = session, forms, unit_id
        self._batch_form = batch_form
        self._batch = [Peer(r.record_id, batch_form or "", r.values) for r in batch
                       if r.values is not None]
        self._cache: dict[str, list[Peer]] = {}

    def records(self, form_id: str) -> Sequence[Peer]:
        if form_id not in self._cache:
            spec = self._forms.forms.get(form_id)
            rows = self._session.exec(
                select(Record.id, Record.data)
                .where(Record.unit_id == self._unit_id, Record.form_id == form_id)).all()
            stored = [Peer(rid, form_id, upgrade_stored(spec.fields, json.loads(data))
                           if spec else json.loads(data)) for rid, data in rows]
            if form_id == self._batch_form:
                stored += self._batch
            self._cache[form_id] = stored
        return self._cache[form_id]


#: files at least this long are parsed and checked on every core
PARALLEL_FROM = 4000


#: files at least this large are parsed and checked on every core
PARALLEL_FROM_BYTES = 2 << 20


def check_file(forms: FormSet, form: FormSpec, path: Path, **kwargs) -> Task[list[RowResult]]:
    """Check the records of a .jsonl file or an Excel workbook (.xlsx, .xlsm, .xls, .ods); a
    large file is read and checked on every core. A workbook's results know the cell of each
    finding (services.excel.CellRowResult.where)."""
    from desktop.services.excel import check_workbook, is_workbook

    if is_workbook(path):
        return (yield from check_workbook(forms, form, path, **kwargs))
    size = check_readable(path)
    workers = min(os.cpu_count() or 1, 4)
    if size >= PARALLEL_FROM_BYTES and workers > 1 and form.path is not None:
        local = yield from _parallel_local(form, path, workers, kwargs.get("today") or date.today())
        results = [RowResult(no, str(uuid.uuid4()) if values is not None else "", values, findings)
                   for no, values, findings in local]
    else:
        rows = read_segment(path, Segment(0, None, 1))
        results = yield from _serial_local(form, rows, kwargs.get("today") or date.today())
    if not results:
        raise UsageError(f"文件中没有任何记录：{path}")
    return (yield from check_context(forms, form, results, **kwargs))


def check_rows(forms: FormSet, form: FormSpec, rows: Sequence[SourceRow], **kwargs
               ) -> Task[list[RowResult]]:
    """Parse and check rows already read; with a register, also against it."""
    results = yield from _serial_local(form, rows, kwargs.get("today") or date.today())
    return (yield from check_context(forms, form, results, **kwargs))


def check_context(forms: FormSet, form: FormSpec, results: list[RowResult], *,
                   register: Register | None = None, session: Session | None = None,
                   unit_id: str | None = None, today: date | None = None
                   ) -> Task[list[RowResult]]:
    """Unique keys within the file and the register; cross rules against the unit's records."""
    env = Environment(today=today or date.today(), convert_legacy=True)
    validator = Validator(form, env)
    total = len(results)
    batch = BatchKeys(form, results)
    if register is not None and session is not None:
        env.keys = CombinedKeys(RegisterKeys(register, session, forms, form, batch), batch)
        env.peers = UnitPeers(session, forms, unit_id or register.own_unit_id, form.id, results)
    else:
        env.keys = batch
    for i, result in enumerate(results):
        if result.values is not None:
            result.findings += validator.check_context(result.values, result.record_id)
            if len(result.findings) > 1:
                result.findings = validator.sort(result.findings)
        if i % PROGRESS_EVERY == 0:
            yield Progress(total + i, total * 2, "校验")
    yield Progress(total * 2, total * 2, "完成")
    return results


def _serial_local(form: FormSpec, rows: Sequence[SourceRow], today: date
                  ) -> Task[list[RowResult]]:
    validator = Validator(form, Environment(today=today, convert_legacy=True))
    results = []
    for i, row in enumerate(rows):
        if row.raw is None:
            results.append(RowResult(row.no, "", None, [row.problem] if row.problem else []))
        else:
            values, findings = _check_one(validator, form, row.raw)
            results.append(RowResult(row.no, str(uuid.uuid4()), values, findings))
        if i % PROGRESS_EVERY == 0:
            yield Progress(i, len(rows) * 2, "读取")
    return results


def _parallel_local(form: FormSpec, path: Path, workers: int, today: date
                    ) -> Task[list[tuple[int, dict | None, list[Finding]]]]:
    segments = split_lines(path, workers * 4)
    local: list[tuple[int, dict | None, list[Finding]]] = []
    with ProcessPoolExecutor(workers) as pool:
        jobs = [pool.submit(_check_segment, str(form.path.parent), form.id, str(path), seg, today)
                for seg in segments]
        for k, job in enumerate(jobs, start=1):
            local += job.result()
            yield Progress(k, len(jobs) * 2, "读取")
    return local


def _check_one(validator: Validator, form: FormSpec, raw: dict) -> tuple[dict, list[Finding]]:
    values, findings = validator.parse(raw)
    _apply_defaults(form, values)
    return values, findings + validator.check_local(values, unparsed=unparsed_fields(findings))


def _check_segment(forms_dir: str, form_id: str, path: str, seg: Segment, today: date
                   ) -> list[tuple[int, dict | None, list[Finding]]]:
    """In a worker process: read a segment of the file and run the local rules on it."""
    from desktop.formspec import shipped_forms

    form = shipped_forms(Path(forms_dir)).form(form_id)
    validator = Validator(form, Environment(today=today, convert_legacy=True))
    out: list[tuple[int, dict | None, list[Finding]]] = []
    for row in read_segment(Path(path), seg):
        if row.raw is None:
            out.append((row.no, None, [row.problem] if row.problem else []))
        else:
            out.append((row.no, *_check_one(validator, form, row.raw)))
    return out


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
            name = self._session.exec(select(Record.name).where(Record.id == rid)).first() or ""
            out.append(KeyHit(rid, fid, f"{self._titles.get(fid, fid)}中“{name}”", True))
        return out
