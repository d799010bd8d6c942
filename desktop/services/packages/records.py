"""Read-only look-ups of the package dialogs: the records a received package delivered, and
records by id with their values (conflicts side by side)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from desktop.domain.forms import FormSet
from desktop.domain.values import upgrade_stored
from desktop.reports.pdf.content import print_text
from desktop.storage import Record, Register, Unit


@dataclass(frozen=True)
class RecordView:
    """A record as the package dialogs show it."""

    id: str
    form_id: str
    name: str
    state: str
    unit_name: str
    package_id: str | None
    values: dict[str, Any]


def read_records(register: Register, forms: FormSet, ids: list[str]) -> dict[str, RecordView]:
    """Records by id (missing ids are left out)."""
    out: dict[str, RecordView] = {}
    with register.session() as session:
        units = {u.id: u.name for u in session.execute(select(Unit)).scalars()}
        for i in range(0, len(ids), 900):
            rows = session.execute(select(Record.id, Record.form_id, Record.name, Record.state,
                                          Record.unit_id, Record.package_id, Record.data)
                                   .where(Record.id.in_(ids[i:i + 900])))
            for rid, form_id, name, state, unit_id, package_id, data in rows:
                form = forms.forms.get(form_id)
                values = json.loads(data)
                if form is not None:
                    values = upgrade_stored(form.fields, values)
                out[rid] = RecordView(rid, form_id, name or "", state, units.get(unit_id, ""),
                                      package_id, values)
    return out


def package_records(register: Register, package_id: str) -> list[tuple[str, str, str]]:
    """(record id, form id, name) of the records a received package delivered, by form and
    name. Sorted here, not by the database: on PostgreSQL the names are sealed (an ORDER BY
    would order ciphertext)."""
    with register.session() as session:
        rows = session.execute(select(Record.id, Record.form_id, Record.name)
                               .where(Record.package_id == package_id)).all()
    return sorted(((rid, form_id, name or "") for rid, form_id, name in rows),
                  key=lambda row: (row[1], row[2]))


def drafted_notes(register: Register, package_id: str) -> list[tuple[str, str, str]]:
    """(record name, field label, comment) of the comments drafted for a package's next return
    (a conflict returned to its sender)."""
    from desktop.storage.tables import ReturnNote

    with register.session() as session:
        rows = session.execute(
            select(Record.name, ReturnNote.label, ReturnNote.comment)
            .join(Record, Record.id == ReturnNote.record_id, isouter=True)
            .where(ReturnNote.package_id == package_id, ReturnNote.status == "draft",
                   ReturnNote.direction == "sent").order_by(ReturnNote.id)).all()
    return [(name or "", label or "", comment) for name, label, comment in rows]


def shown_values(forms: FormSet, view: RecordView) -> list[tuple[str, str]]:
    """(label, text) of every top-level field as a clerk reads it; ID numbers and phones
    masked."""
    form = forms.forms.get(view.form_id)
    if form is None:
        return [(k, str(v)) for k, v in view.values.items()]
    out = []
    for spec in form.fields:
        value = view.values.get(spec.id)
        if spec.type == "group":
            text = f"{len(value)} 行" if isinstance(value, list) and value else ""
        elif value is None or value == "":
            text = ""
        else:
            text = str(print_text(spec, value, masked=True))
        out.append((spec.label, text))
    return out
