"""Import records from a file into the register: all or nothing, or the clean rows only.

What blocks a row: any E about its values, its own rules or the register's unique keys (an
ID number or licence already registered). E findings of cross rules (records that may still be
coming, such as a 党支部 whose members are not yet entered) are reported but do not block the
import; they block export and submission.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from desktop.domain.findings import has_errors
from desktop.domain.identifiers import normalise_id
from desktop.domain.keys import record_keys
from desktop.formspec.model import FormSet, FormSpec
from desktop.services.checking import RowResult, check_file
from desktop.services.progress import Progress, Task
from desktop.storage import Register, append_audit, bulk_insert_records

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
                partial: bool = False, actor: str = "命令行") -> Task[ImportResult]:
    with register.session() as session:
        results = yield from check_file(forms, form, path, register=register, session=session)
        refused = [r for r in results if blocks(r)]
        if refused and not partial:
            return ImportResult(results, 0, len(refused))
        good = [r for r in results if not blocks(r)]
        yield Progress(0, len(good), "写入")
        records, keys = [], []
        for r in good:
            records.append(_record_row(register, form, r))
            keys += [{"record_id": r.record_id, "form_id": form.id, "kind": k.kind,
                      "value": register.key_hash(k.kind, v) if k.hashed else v}
                     for k, v in record_keys(form, r.values)]
        bulk_insert_records(session, records, keys)
        append_audit(session, actor, "import", str(path.name), {
            "form": form.id, "form_version": form.version, "file": str(path),
            "imported": len(good), "refused": len(refused), "partial": partial,
        })
        session.commit()
        yield Progress(len(good), len(good), "写入")
    return ImportResult(results, len(good), len(refused))


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
