"""The few statements a merge runs per package, through the driver itself.

A merge of 500 packages runs a handful of statements per package; through SQLAlchemy's Core
each one costs more in compiling, cache keys and parameter processing than in SQLite. Here the
SQL is written once and executed by the driver (SQLite's qmark style), with the column types'
own bind processors (aware datetimes stored as every other writer stores them). Other
databases (DESIGN.md §9) take the Core path. No commits here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

from desktop.storage.records import copy_rows


def _sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def query(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Rows of a SELECT written with `?` placeholders, as the driver's own tuples (SQLAlchemy's
    Row objects cost more than the query itself for a list of 200,000 keys)."""
    result = conn.exec_driver_sql(*_driver(conn, sql, params))
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def execute(conn: Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """Run an UPDATE or DELETE written with `?` placeholders; the number of rows it changed."""
    return conn.exec_driver_sql(*_driver(conn, sql, params)).rowcount


def _driver(conn: Connection, sql: str, params: Sequence[Any]) -> tuple[str, tuple]:
    """`sql` in the driver's parameter style: SQLite's `?` as written; psycopg's `%s` (a `%`
    of the statement itself doubled). Statements here hold no `?` but their placeholders."""
    if _sqlite(conn):
        return sql, tuple(params)
    return sql.replace("%", "%%").replace("?", "%s"), tuple(params)


#: the most values one `among` piece holds on SQLite (its limit on a statement's variables is
#: 32,766; a few other parameters share the statement)
PIECE = 900


def pieces(conn: Connection, values: Sequence[Any]) -> list[list[Any]]:
    """`values` in pieces for `among`: at most PIECE each on SQLite; one on PostgreSQL (an
    array parameter of any length)."""
    if not values:
        return []
    if not _sqlite(conn):
        return [list(values)]
    return [list(values[i:i + PIECE]) for i in range(0, len(values), PIECE)]


def among(conn: Connection, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """The condition "`column` is one of `values`" and its parameters: ``column IN (?, …)`` on
    SQLite; ``column = ANY(?)`` with one array on PostgreSQL, where a statement's text is then
    the same for any number of values (parsed and planned once, not once per list length)."""
    if _sqlite(conn):
        return f"{column} IN ({marks(values)})", list(values)
    return f"{column} = ANY(?)", [list(values)]


def marks(values: Iterable[Any]) -> str:
    """`?, ?, ?` for an IN list of `values`."""
    return ", ".join("?" for _ in values)


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """One INSERT of `rows` (dicts with the same keys) executed by the driver."""
    if not rows:
        return
    if not _sqlite(conn):
        copy_rows(conn, table, rows)  # PostgreSQL: COPY, sealed as the types would
        return
    columns = [c for c in table.columns if c.name in rows[0]]
    names = [c.name for c in columns]
    processors = [c.type.bind_processor(conn.dialect) for c in columns]
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
           f"VALUES ({', '.join('?' for _ in names)})")
    if any(processors):
        params = [tuple(p(r[n]) if p else r[n] for p, n in zip(processors, names, strict=True))
                  for r in rows]
    else:
        params = [tuple(r[n] for n in names) for r in rows]
    conn.exec_driver_sql(sql, params)
