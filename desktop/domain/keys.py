"""The lookup keys a form promotes to the register's index (FormSpec.keys)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from desktop.domain.forms import FormSpec, KeySpec
from desktop.domain.identifiers import normalise_id


def key_value(form: FormSpec, key: KeySpec, values: Mapping[str, Any]) -> str | None:
    """The normalised value of a key, or None when the field is empty."""
    value = values.get(key.field)
    if value in (None, ""):
        return None
    if form.field(key.field).type == "id_number":
        value = str(value)
        # parsed values are already compact; only a legacy 15-digit number still changes
        return value if len(value) == 18 and value.isalnum() else normalise_id(value)
    return str(value).strip()


def record_keys(form: FormSpec, values: Mapping[str, Any]) -> Iterator[tuple[KeySpec, str]]:
    for key in form.keys:
        value = key_value(form, key, values)
        if value is not None:
            yield key, value
