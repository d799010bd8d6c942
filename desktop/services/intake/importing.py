"""Import records from a file into the register: all or nothing, or the clean rows only.

What blocks a row: any E about its values, its own rules or the register's unique keys (an
ID number or licence already registered). E findings of cross rules (records that may still be
coming, such as a 党支部 whose members are not yet entered) are reported but do not block the
import; they block export and submission.

The import is one transaction, written while the file is still being checked: the workers
check chunk k+1 while this process looks chunk k's unique keys up in the register and inserts
its rows. Nothing is committed before every row has been checked against the file and the
register; an import that is refused is rolled back, so the register is as it was — also when
the process is killed half way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session

from desktop.domain.digest import record_digest
from desktop.domain.findings import has_errors
from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.identifiers import normalise_id
from desktop.domain.keys import record_keys
from desktop.progress import Progress, Task
from desktop.services.intake.checking import RegisterKeys, RowResult, check_context
from desktop.services.intake.read import read_source
from desktop.services.intake.rowcheck import Packed, gc_paused
from desktop.storage import Record, RecordKey, Register, append_audit, bulk_insert_records
from desktop.storage.audit import RECORD_HASHES, content_hashes
from desktop.storage.records import RECORD_ROW, bulk_insert_rows

BLOCKING_SCOPES = ("value", "field", "record", "register")


@dataclass(frozen=True)
class ImportResult:
    rows: list[RowResult]
    imported: int
    refused: int  # rows with a blocking error

    @property
    def refused_rows(self) -> list[RowResult]:
        return [r for r in self.rows if blocks(r)]


def blocks(row: RowResult) -> bool:
    return row.values is None or has_errors(row.findings, scopes=BLOCKING_SCOPES)


def import_file(register: Register, forms: FormSet, form: FormSpec, path: Path, *,
                partial: bool = False, actor: str = "命令行", sheet: str | None = None,
                mapping: dict[int, str | None] | None = None) -> Task[ImportResult]:
    """Check a .jsonl file or a workbook and import its records (see the module docstring).
    For a workbook, `sheet` and `mapping` as services.intake.workbook.check_workbook."""
    path = Path(path)
    today = date.today()
    with register.session() as session, gc_paused():
        writer = _Writer(register, session, forms, form, partial)
        results, batch = yield from read_source(forms, form, path, today=today, storage=True,
                                               on_rows=writer.chunk, sheet=sheet,
                                               mapping=mapping)
        writer.looked_up.finish(session)
        results = yield from check_context(forms, form, results, register=register,
                                           session=session, today=today, batch=batch,
                                           looked_up=writer.looked_up, written=writer.written)
        refused = [r for r in results if blocks(r)]
        if refused and not partial:
            session.rollback()
            return ImportResult(results, 0, len(refused))
        good = [r for r in results if not blocks(r)]
        yield Progress(0, len(good), "写入")
        writer.settle(good)
        details: dict[str, Any] = {
            "form": form.id, "form_version": form.version, "file": path.name,
            "imported": len(good), "refused": len(refused), "partial": partial,
            RECORD_HASHES: writer.hashes_of(good)}
        if sheet is not None or mapping is not None:  # a workbook read as a person chose
            from desktop.reports.xlsx.columns import column_letter

            layout = getattr(results[0], "layout", None) if results else None
            details["sheet"] = layout.sheet if layout is not None else sheet
            details["mapping"] = {column_letter(k): v for k, v in (mapping or {}).items()}
        append_audit(session, actor, "import", str(path.name), details)
        session.commit()
        yield Progress(len(good), len(good), "写入")
    return ImportResult(results, len(good), len(refused))


class _Writer:
    """Looks each chunk's unique keys up in the register, then inserts the chunk's rows that
    can still be imported. Without `partial`, nothing more is written once a row blocks (the
    import will be refused and rolled back)."""

    def __init__(self, register: Register, session: Session, forms: FormSet, form: FormSpec,
                 partial: bool) -> None:
        self.register, self.session, self.form, self.partial = register, session, form, partial
        self.looked_up = RegisterKeys(register, session, forms, form)
        self.written: set[str] = set()
        #: content digests of the rows written from the workers' canonical JSON (one hash each)
        self._hashes: dict[str, str] = {}
        self.stopped = False
        self._seen: set[tuple[str, str]] = set()  # unique keys of the rows so far
        self._keys = list(enumerate(form.keys))
        self._unique = [(i, k) for i, k in self._keys if k.unique]
        #: the index of the hashed key of kind "person": its value is the person_key's HMAC
        self._person_key = next((i for i, k in self._keys if k.kind == "person" and k.hashed),
                                None)

    def chunk(self, rows: list[RowResult], packed: list[Packed]) -> None:
        stored = [self._stored(p) for p in packed]
        self._look_up(packed, stored)
        if self.stopped:
            return
        records: list[tuple] = []
        keys: list[tuple] = []
        form_id = self.form.id
        for row, p, values in zip(rows, packed, stored, strict=True):
            if self._blocks(row, p):
                if not self.partial:
                    self.stopped = True
                    return
                continue
            records.append(self._record(row, p, values))
            rid = row.record_id
            if p[4] is not None:
                self._hashes[rid] = record_digest(rid, form_id, self.form.version, 1, {},
                                                  values_json=p[4])
            keys += [(rid, form_id, k.kind, values[i]) for i, k in self._keys
                     if values[i] is not None]
        bulk_insert_rows(self.session, records, keys)
        self.written.update(r[0] for r in records)

    def settle(self, good: list[RowResult]) -> None:
        """Make the written rows exactly the good ones: a row found bad only after it was written
        (the first of two rows with the same ID number) goes again, and a good row not yet
        written is written."""
        ids = {r.record_id for r in good}
        extra = [rid for rid in self.written if rid not in ids]
        for i in range(0, len(extra), 900):
            part = extra[i:i + 900]
            conn = self.session.connection()
            conn.execute(delete(RecordKey).where(RecordKey.record_id.in_(part)))
            conn.execute(delete(Record).where(Record.id.in_(part)))
        missing = [r for r in good if r.record_id not in self.written]
        if missing:
            records, keys = [], []
            for r in missing:
                records.append(_record_row(self.register, self.form, r))
                keys += _key_rows(self.register, self.form, r)
            bulk_insert_records(self.session, records, keys)
        self.written = ids

    def hashes_of(self, good: list[RowResult]) -> dict[str, str]:
        """{record id: content digest} of the imported rows, for the audit entry (the few not
        written from canonical JSON are read back)."""
        out = {r.record_id: self._hashes[r.record_id] for r in good
               if r.record_id in self._hashes}
        return out | content_hashes(self.session, [r.record_id for r in good
                                                   if r.record_id not in out])

    # --- internals ---

    def _stored(self, p: Packed) -> tuple:
        """The key values as the register stores them (hashed once here)."""
        if p[1] is None:
            return ()
        key_hash = self.register.key_hash
        return tuple(None if v is None else key_hash(k.kind, v) if k.hashed else v
                     for (_, k), v in zip(self._keys, p[3], strict=True))

    def _look_up(self, packed: list[Packed], stored: list[tuple]) -> None:
        for i, key in self._unique:
            wanted = {values[i]: p[3][i] for p, values in zip(packed, stored, strict=True)
                      if values and values[i] is not None}
            if wanted:
                self.looked_up.look_up(self.session, key.kind, wanted, self.written)

    def _blocks(self, row: RowResult, p: Packed) -> bool:
        """Whether the row will be refused, as far as can be told from the rows so far."""
        clash = False
        for i, key in self._unique:
            value = p[3][i] if p[3] else None
            if value is None:
                continue
            pair = (key.kind, value)
            if pair in self._seen or pair in self.looked_up.found_keys:
                clash = True
            self._seen.add(pair)
        return clash or blocks(row)

    def _record(self, row: RowResult, p: Packed, stored: tuple) -> tuple:
        """The row as records.RECORD_ROW."""
        if p[4] is None:  # the worker could not make the JSON: as before, here
            made = _record_row(self.register, self.form, row)
            return tuple(made[c] for c in RECORD_ROW)
        person = p[5]
        if person is None:
            person_key = None
        elif self._person_key is not None and p[3][self._person_key] == person:
            person_key = stored[self._person_key]  # the same HMAC as the "person" key's
        else:
            person_key = self.register.person_hash(person)
        return (row.record_id, self.form.id, self.form.version, self.register.own_unit_id,
                p[4], str((row.values or {}).get(self.form.name_field) or ""), person_key)


def _key_rows(register: Register, form: FormSpec, row: RowResult) -> list[dict]:
    return [{"record_id": row.record_id, "form_id": form.id, "kind": k.kind,
             "value": register.key_hash(k.kind, v) if k.hashed else v}
            for k, v in record_keys(form, row.values or {})]


def _record_row(register: Register, form: FormSpec, row: RowResult) -> dict:
    values = row.values or {}
    person = next((values.get(k.field) for k in form.keys if k.kind.endswith("person")), None)
    return {
        "id": row.record_id,
        "form_id": form.id,
        "form_version": form.version,
        "unit_id": register.own_unit_id,
        "data": json.dumps(values, ensure_ascii=False, separators=(",", ":")),
        "name": str(values.get(form.name_field) or ""),
        "person_key": register.person_hash(normalise_id(person)) if person else None,
    }
