"""Repository functions over records. They never commit: services own transactions."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from desktop.domain.states import COMPLETE
from desktop.storage.server.sealing import Blinded, Sealed, sealer_of
from desktop.storage.tables import Record, RecordKey, new_id, utcnow

#: Values per IN (...) query; well under SQLite's 32,766 bound-parameter limit and PostgreSQL's.
LOOKUP_CHUNK = 900

_RECORD_COLUMNS = frozenset(c.name for c in Record.__table__.columns)
_KEY_COLUMNS = frozenset(c.name for c in RecordKey.__table__.columns) - {"id"}


def _connection(connection_or_session: Connection | Session) -> Connection:
    if isinstance(connection_or_session, Session):
        return connection_or_session.connection()
    return connection_or_session


def _record_row(record: dict[str, Any], now: datetime) -> dict[str, Any]:
    unknown = record.keys() - _RECORD_COLUMNS
    if unknown:
        raise ValueError(f"unknown record columns: {sorted(unknown)}")
    row = {
        "person_key": None,
        "state": COMPLETE,  # a file's records come in complete: the import refused every E
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        **record,
    }
    if "id" not in row:
        row["id"] = new_id()
    if not isinstance(row.get("data"), str):
        row["data"] = json.dumps(row.get("data"), ensure_ascii=False)
    return row


def bulk_insert_records(
    connection_or_session: Connection | Session,
    records: list[dict[str, Any]],
    keys: list[dict[str, Any]],
) -> None:
    """Insert many records and their keys with Core executemany (no ORM objects).

    `records` are dicts of Record columns; missing `id`, `state`, `revision`, timestamps and
    `person_key` get their defaults, and a non-string `data` is dumped as JSON. `keys` are dicts
    of record_id, form_id, kind, value. Runs in the caller's transaction and does not commit.
    """
    conn = _connection(connection_or_session)
    now = utcnow()
    if records:
        rows = [_record_row(r, now) for r in records]
        _executemany(conn, Record.__table__, rows)
    if keys:
        for k in keys:
            if k.keys() != _KEY_COLUMNS:
                raise ValueError(
                    f"a record key needs exactly {sorted(_KEY_COLUMNS)}, got {sorted(k)}"
                )
        _executemany(conn, RecordKey.__table__, keys)


#: the columns of bulk_insert_rows' tuples
RECORD_ROW = ("id", "form_id", "form_version", "unit_id", "data", "name", "person_key")
KEY_ROW = ("record_id", "form_id", "kind", "value")


def bulk_insert_rows(
    connection_or_session: Connection | Session,
    records: list[tuple[Any, ...]],
    keys: list[tuple[Any, ...]],
) -> None:
    """bulk_insert_records for rows already in column order (no dict per row): records as
    RECORD_ROW tuples (data already JSON text), keys as KEY_ROW tuples. State, revision and the
    timestamps get their defaults. Runs in the caller's transaction and does not commit."""
    conn = _connection(connection_or_session)
    if conn.dialect.name != "sqlite":  # the general path
        bulk_insert_records(conn, [dict(zip(RECORD_ROW, r, strict=True)) for r in records],
                            [dict(zip(KEY_ROW, k, strict=True)) for k in keys])
        return
    if records:
        now = utcnow()
        fixed = _record_row({}, now)
        tail_names = ["state", "revision", "created_at", "updated_at"]
        table = Record.__table__
        tail = tuple(_processed_once(conn, table.c[n], fixed[n]) for n in tail_names)
        names = [*RECORD_ROW, *tail_names]
        conn.exec_driver_sql(
            f"INSERT INTO record ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            [r + tail for r in records])
    if keys:
        conn.exec_driver_sql(
            f"INSERT INTO record_key ({', '.join(KEY_ROW)}) VALUES (?, ?, ?, ?)", keys)


def _processed_once(conn: Connection, column, value: Any) -> Any:
    """A value as _executemany hands it to the driver."""
    process = column.type.bind_processor(conn.dialect)
    if process is not None:
        value = process(value)
    adapt = getattr(conn.dialect.dbapi, "adapt", None)
    if adapt is not None and isinstance(value, date):
        value = adapt(value)
    return value


def _executemany(conn: Connection, table, rows: list[dict[str, Any]]) -> None:
    """One INSERT executed for many rows by the driver itself.

    SQLAlchemy's Core insert spends about 40 % of a 100,000-row import on per-row parameter
    processing; the driver's executemany with plain tuples does not. SQLite only: other
    databases (PostgreSQL, DESIGN.md §9) take the Core path.
    """
    columns = [c for c in table.columns if c.name in rows[0]]
    if conn.dialect.name != "sqlite":
        copy_rows(conn, table, rows)
        return
    names = [c.name for c in columns]
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
           f"VALUES ({', '.join('?' for _ in names)})")
    processors = [c.type.bind_processor(conn.dialect) for c in columns]
    values = [[r[n] for r in rows] for n in names]  # column by column
    adapt = getattr(conn.dialect.dbapi, "adapt", None)  # what the driver does to a datetime
    for i, process in enumerate(processors):
        column = values[i]
        if process is not None:
            column = _processed(process, column)
        if adapt is not None and isinstance(column[0], date):
            column = _processed(lambda v: adapt(v) if isinstance(v, date) else v, column)
        values[i] = column
    conn.exec_driver_sql(sql, list(zip(*values, strict=True)))


def copy_rows(conn: Connection, table, rows: list[dict[str, Any]]) -> None:
    """Many rows into a PostgreSQL table with COPY (psycopg's cursor.copy) in the caller's
    transaction: about five times faster than executemany of INSERTs (docs/postgresql.md,
    bulk writes). COPY binds no column type, so what the types would do is done here: a
    `Sealed` column's value is sealed with its row's anchor, a `Blinded` one is hashed (the
    engine hook and the type do the same for an INSERT). Other drivers take Core's INSERT."""
    sealer = sealer_of(conn.dialect)
    columns = [c for c in table.columns if c.name in rows[0]]
    unanchored = any(isinstance(c.type, Sealed) and c.type.anchor not in rows[0] for c in columns)
    if sealer is None or conn.dialect.driver != "psycopg" or unanchored:
        conn.execute(insert(table), rows)  # the engine hook seals (and numbers) these
        return
    raw = conn.connection.dbapi_connection
    makers = []
    for col in columns:
        kind = col.type
        if isinstance(kind, Sealed):
            def make(row, c=col, t=kind):
                value = row[c.name]
                anchor = row[t.anchor]
                if value is None or not t.seals(anchor):
                    return value
                return sealer.seal(t.table, t.column, anchor, t.to_text(value))
        elif isinstance(kind, Blinded):
            def make(row, c=col):
                value = row[c.name]
                return sealer.blind(value) if isinstance(value, str) else value
        elif isinstance(kind, DateTime) and not kind.timezone:
            def make(row, c=col):  # UTC, as the column holds it (COPY would drop the offset)
                value = row[c.name]
                if isinstance(value, datetime) and value.tzinfo is not None:
                    return value.astimezone(UTC).replace(tzinfo=None)
                return value
        else:
            def make(row, c=col):
                return row[c.name]
        makers.append(make)
    sql = f"COPY {table.name} ({', '.join(c.name for c in columns)}) FROM STDIN"
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row([make(row) for make in makers])
    except conn.dialect.loaded_dbapi.Error as err:  # as SQLAlchemy's (IntegrityError, ...)
        raise DBAPIError.instance(sql, None, err, conn.dialect.loaded_dbapi.Error) from err
    _analyze_grown(conn, table.name, len(rows))


def _analyze_grown(conn: Connection, name: str, added: int) -> None:
    """ANALYZE a table that this COPY made half as large again as its statistics say.

    A register's first import runs in one transaction that autovacuum cannot see into: with
    no statistics the planner looks record_key values up by `kind` alone and filters the rest
    (each lookup of the next chunk reads every key so far: quadratic). ANALYZE counts the
    transaction's own rows; doubling the threshold keeps it to a few runs per import. A role
    that does not own the table is skipped by PostgreSQL with a warning, nothing else."""
    known = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                         {"t": name}).scalar()
    if known is None or known < 0 or added > known / 2:
        conn.execute(text(f"ANALYZE {name}"))


def _processed(process, column: list[Any]) -> list[Any]:
    """A column through its bind processor; a value repeated from the row before (the same
    timestamp on every row of a batch) is processed once."""
    out = []
    last: Any = out  # no value is this list
    done = None
    for v in column:
        if v is not last:
            last, done = v, process(v)
        out.append(done)
    return out


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def find_keys(
    session: Session | Connection,
    kind: str,
    values: list[str],
    exclude_record_ids: set[str] | frozenset[str] = frozenset(),
) -> dict[str, list[tuple[str, str]]]:
    """Which records already hold these key values: value -> [(record_id, form_id), ...].

    Values with no match are left out. Uses the (kind, value) index, a chunk of values per query.
    """
    conn = _connection(session)
    table = RecordKey.__table__
    found: dict[str, list[tuple[str, str]]] = {}
    sealer = sealer_of(conn.dialect)  # on PostgreSQL the stored values are keyed hashes
    for chunk in _chunks(sorted(set(values)), LOOKUP_CHUNK):
        asked = {sealer.blind(v): v for v in chunk} if sealer is not None else {}
        stmt = (
            select(table.c.value, table.c.record_id, table.c.form_id)
            .where(table.c.kind == kind, table.c.value.in_(chunk))
            .order_by(table.c.value, table.c.record_id)
        )
        for value, record_id, form_id in conn.execute(stmt):
            if record_id not in exclude_record_ids:
                found.setdefault(asked.get(value, value), []).append((record_id, form_id))
    return found
