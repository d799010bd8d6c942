"""Reading the member entries' fields for the cleanup, on both stores.

On SQLite (SQLCipher encrypts the whole file) the fields are read by `json_extract` inside the
query, so tens of thousands of entries are never parsed in Python. On PostgreSQL `record.data`
and `record.name` are sealed for their row (docs/postgresql.md): the candidate rows are narrowed
by the clear columns (form, unit), read through the table's typed columns (which open them) and
the fields are picked and filtered in Python. Every caller goes through the functions here, so
the rest of the cleanup is one code path.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection, select

from desktop.storage import Record

FORM_ID = "society_member"
#: the status of an entry whose status was never written (an imported legacy entry)
DEFAULT_STATUS = "1"

_RECORD = Record.__table__


def on_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def member_fields(conn: Connection, fields: Sequence[str], *, unit_id: str | None,
                  status: Collection[str] | None = None
                  ) -> list[tuple[str, str, str, tuple[Any, ...]]]:
    """(record id, unit id, name, the values of `fields`) of every member entry of `unit_id`
    (of every unit when None); with `status`, only the entries whose status (missing: 1) is one
    of those. A missing value is None, as json_extract gives it."""
    if on_sqlite(conn):
        extract = "".join(f", json_extract(data, '$.{f}')" for f in fields)
        sql = f"SELECT id, unit_id, name{extract} FROM record WHERE form_id = ?"
        params: list[Any] = [FORM_ID]
        if unit_id is not None:
            sql += " AND unit_id = ?"
            params.append(unit_id)
        if status is not None:
            wanted = sorted(status)
            sql += (f" AND coalesce(json_extract(data, '$.status'), '{DEFAULT_STATUS}') IN "
                    f"({', '.join('?' for _ in wanted)})")
            params += wanted
        return [(r[0], r[1], r[2], tuple(r[3:]))
                for r in conn.exec_driver_sql(sql, tuple(params))]
    query = select(_RECORD.c.id, _RECORD.c.unit_id, _RECORD.c.name, _RECORD.c.data).where(
        _RECORD.c.form_id == FORM_ID)
    if unit_id is not None:
        query = query.where(_RECORD.c.unit_id == unit_id)
    out = []
    for rid, unit, name, data in conn.execute(query):
        values = json.loads(data) if data else {}
        if status is not None and str(values.get("status") or DEFAULT_STATUS) not in status:
            continue
        out.append((rid, unit, name, tuple(_plain(values.get(f)) for f in fields)))
    return out


def _plain(value: Any) -> Any:
    """A value as json_extract gives it: nested JSON as its text."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def status_counts(conn: Connection, unit_id: str | None = None) -> dict[tuple[str, str], int]:
    """(unit id, status) -> number of member entries, of one unit or of every unit."""
    if on_sqlite(conn):
        sql = (f"SELECT unit_id, coalesce(json_extract(data, '$.status'), '{DEFAULT_STATUS}'), "
               "count(*) FROM record WHERE form_id = ?")
        params: tuple[str, ...] = (FORM_ID,)
        if unit_id is not None:
            sql, params = sql + " AND unit_id = ?", (FORM_ID, unit_id)
        return {(u, str(s)): n for u, s, n in conn.exec_driver_sql(sql + " GROUP BY 1, 2",
                                                                   params)}
    return dict(Counter((unit, str(status or DEFAULT_STATUS)) for _, unit, _, (status,)
                        in member_fields(conn, ("status",), unit_id=unit_id)))


def member_numbers(conn: Connection, prefix: str) -> list[str]:
    """Every 会员证号 of the member form (any unit) starting with `prefix` + "-", as the
    record_key index holds them (stripped)."""
    if on_sqlite(conn):
        return [r[0] for r in conn.exec_driver_sql(
            "SELECT value FROM record_key WHERE kind = 'member_no' AND form_id = ? AND "
            "value >= ? AND value < ?", (FORM_ID, f"{prefix}-", f"{prefix}."))]
    numbers = (str(no).strip() for _, _, _, (no,) in
               member_fields(conn, ("member_no",), unit_id=None) if no not in (None, ""))
    return [n for n in numbers if n.startswith(f"{prefix}-")]
