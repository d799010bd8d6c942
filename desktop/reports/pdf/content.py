"""What a printed record page shows, and the print hash over exactly that.

A page shows the form's fields in the form's order, grouped by its sections, each value as
`display_value` shows it, with ID numbers, phones and birth dates masked (domain.masking) unless
the user chose full printing.
The print hash is SHA-256 over a canonical serialisation of that content (format tag, form id and
version, record id, and every field's id with its printed text, empty fields included), so the
hash changes when any printed value changes, and a masked and a full print differ. The QR code
carries the first 16 hex characters of it; archive-check recomputes it from the register.

No reportlab here: archive-check needs the content without drawing it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from desktop.domain.forms import FieldSpec, FormSpec
from desktop.domain.masking import masked_text
from desktop.domain.values import display_value, upgrade_stored

#: bump when the serialisation below changes (old paper then reads as 不一致, never as a match)
HASH_FORMAT = "dengji-print-1"
#: label of the trailing section holding fields whose section the form does not list
OTHER_SECTION = "其他信息"
#: a text field this long (max_length) gets a full row; shorter ones share a row
WIDE_TEXT = 100
#: a code field whose longest label is longer than this gets a full row
WIDE_CODE_LABEL = 12


@dataclass(frozen=True)
class PrintedField:
    """One field as printed: its label and text, or for a group its sub-labels and rows."""

    id: str
    label: str
    text: str
    wide: bool
    columns: tuple[str, ...] = ()  # group: sub-field labels
    rows: tuple[tuple[str, ...], ...] = ()  # group: printed sub-values per row


@dataclass(frozen=True)
class PrintedSection:
    label: str
    fields: tuple[PrintedField, ...]


@dataclass(frozen=True)
class PrintedRecord:
    """Everything a record page prints that depends on the record (and its hash)."""

    form_id: str
    form_version: str
    attachment: str
    title: str
    record_id: str
    sections: tuple[PrintedSection, ...]
    masked: bool
    digest: str  # first 16 hex characters (upper case) of the print hash
    signatures: tuple[str, ...] = ()  # the form's [print] section: lines under the grid
    stamp: str = ""


#: `masked=` of a page printed before birth dates were masked (archive-check still reads it)
BIRTH_SHOWN = "birth-shown"


def print_text(spec: FieldSpec, value: Any, *, masked: bool | str) -> str:
    """The text printed for a (non-group) stored value, masked where the field says so
    (domain.masking: ID numbers, phones, birth dates to the month). `masked=BIRTH_SHOWN` is
    the masking of earlier versions, for checking their paper only."""
    text = display_value(spec, value)
    if masked == BIRTH_SHOWN and spec.mask == "birth":
        return text
    return masked_text(spec.mask, text) if masked else text


def is_wide(spec: FieldSpec) -> bool:
    """Whether a field takes a whole row of the grid (decided from the form, not the value)."""
    if spec.type == "group":
        return True
    if spec.type == "text":
        return (spec.max_length or 0) >= WIDE_TEXT
    if spec.type == "code" and spec.codes is not None:
        return max((len(c.label) for c in spec.codes.codes), default=0) > WIDE_CODE_LABEL
    return False


def printed_field(spec: FieldSpec, value: Any, *, masked: bool | str) -> PrintedField:
    if spec.type == "group":
        rows = value if isinstance(value, list) else []
        printed = tuple(
            tuple(print_text(sub, row.get(sub.id) if isinstance(row, dict) else None,
                             masked=masked) for sub in spec.fields)
            for row in rows
        )
        return PrintedField(spec.id, spec.label, "", True,
                            tuple(sub.label for sub in spec.fields), printed)
    return PrintedField(spec.id, spec.label, print_text(spec, value, masked=masked), is_wide(spec))


def printed_record(form: FormSpec, record_id: str, values: dict[str, Any], *,
                   masked: bool | str = True) -> PrintedRecord:
    """The printed content of one record, in the form's section and field order."""
    values = upgrade_stored(form.fields, dict(values))
    by_section: dict[str | None, list[PrintedField]] = {}
    for spec in form.fields:
        by_section.setdefault(spec.section, []).append(
            printed_field(spec, values.get(spec.id), masked=masked))
    sections = [PrintedSection(s.label, tuple(by_section.pop(s.id)))
                for s in form.sections if s.id in by_section]
    rest = [f for fields in by_section.values() for f in fields]
    if rest:
        sections.append(PrintedSection(OTHER_SECTION, tuple(rest)))
    digest = content_digest(form.id, form.version, record_id, sections)
    return PrintedRecord(form.id, form.version, form.attachment, form.title, record_id,
                         tuple(sections), bool(masked), digest, form.printing.signatures,
                         form.printing.stamp)


def content_digest(form_id: str, form_version: str, record_id: str,
                   sections: list[PrintedSection] | tuple[PrintedSection, ...]) -> str:
    """The first 16 hex characters (upper case) of SHA-256 over the canonical serialisation."""
    fields: list[list[Any]] = []
    for section in sections:
        for f in section.fields:
            fields.append([f.id, [list(r) for r in f.rows] if f.columns else f.text])
    return digest_of([HASH_FORMAT, "R", form_id, form_version, record_id, fields])


def digest_of(payload: Any) -> str:
    """SHA-256 (first 16 hex characters, upper case) of the canonical JSON of `payload`
    (lists keep their order, keys are sorted, no spaces, UTF-8)."""
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16].upper()
