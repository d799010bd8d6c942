"""`sqlfast.among`/`pieces`: "column is one of these values" on both stores — SQLite in pieces
under its limit of variables, PostgreSQL as one array parameter (one statement text for any
number of values, so it is parsed and planned once). The same rows either way, also for values
that look like SQL or placeholders."""

from __future__ import annotations

from sqlalchemy import text

from desktop.exchange import sqlfast as sql
from desktop.storage import create_register
from tests.storage.conftest import FAST_KDF, OWN_UNIT, PASSPHRASE
from tests.stores import store  # noqa: F401 (the fixture)

ODD = ["a'b", "?", "%s", "%", "x) OR (1=1", "名字", ""]


def test_among_finds_the_same_rows_on_both_stores(store):  # noqa: F811
    with create_register(store, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        values = [f"v{i:05d}" for i in range(2500)] + ODD
        with register.engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (v TEXT)"))
            conn.execute(text("INSERT INTO probe (v) VALUES (:v)"),
                         [{"v": v} for v in values[::2]])
        wanted = values + ["absent"]
        with register.engine.connect() as conn:
            parts = sql.pieces(conn, wanted)
            assert len(parts) == (1 if conn.dialect.name != "sqlite" else 3)
            found = []
            for part in parts:
                where, params = sql.among(conn, "v", part)
                found += [v for (v,) in sql.query(conn, f"SELECT v FROM probe WHERE {where} "
                                                  "AND v <> ?", [*params, "never"])]
            assert sorted(found) == sorted(values[::2])
            assert sql.pieces(conn, []) == []
