"""A record's content digest: what must stay identical from the firm up to the national level.

SHA-256 of the canonical JSON of {"form_id", "form_version", "id", "revision", "values"}. The
package lists it for every record (exchange/format/records.py), and every audit entry that
changes a record holds it (storage/audit.py), so the same function serves both.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

_PLAIN = re.compile(r'^[0-9A-Za-z._-]*$')


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=256)
def _cached_text(value: str) -> str:
    return canonical(value)


def _canonical_text(value: str) -> str:
    """canonical() of a string: as is in quotes for plain ASCII (a UUID), cached for the few
    form ids and versions, json.dumps otherwise (exactly the same text in every case)."""
    if type(value) is str and _PLAIN.match(value):
        return f'"{value}"'
    return _cached_text(value) if type(value) is str and len(value) <= 100 else canonical(value)


def record_digest(record_id: str, form_id: str, form_version: str, revision: int,
                  values: Mapping[str, Any], values_json: str | None = None) -> str:
    """SHA-256 of the canonical JSON of {"form_id", "form_version", "id", "revision",
    "values"} (built from the values' canonical text when it is already at hand)."""
    body = (f'{{"form_id":{_canonical_text(form_id)},'
            f'"form_version":{_canonical_text(form_version)},'
            f'"id":{_canonical_text(record_id)},"revision":{revision},"values":'
            f'{values_json if values_json is not None else canonical(values)}}}')
    return hashlib.sha256(body.encode()).hexdigest()


def records_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over the sorted "record id:digest" lines of a set of records (a merged package's
    records, held by the merge's audit entry)."""
    lines = sorted(f"{rid}:{d}" for rid, d in pairs)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
