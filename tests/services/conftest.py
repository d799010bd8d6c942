"""The services tests' registers on both stores (issue 18): every test that reads or writes a
register runs on a SQLCipher file and on a new PostgreSQL database (tests/pg/cluster.py).

- `db` (overriding tests/conftest.py's): a register made through `dengji init` on each store,
  its file path or its URL;
- `store_world`: a World (tests/exchange/conftest.py) whose registers all live on one store,
  the firms' included; a module takes it as its `world`;
- `on_server`, `stored_actor`, `plain`: what a test that reads the tables itself needs to
  say the same on both stores.

Pure tests (parsing, passphrase strength, a form's printed texts) ask for none of these and
run once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from desktop.formspec import FormSet
from desktop.storage import KdfParams, Register, UnitInfo, create_register
from desktop.storage.server.sealing import open_value
from tests.conftest import UNIT_CODE, UNIT_NAME
from tests.exchange.conftest import FAST_KDF, PASSPHRASE, World
from tests.pg.cluster import Cluster
from tests.stores import is_server, pg_cluster, pg_database, pg_url, store  # noqa: F401

STORES = ["sqlite", "postgresql"]


def on_server(register: Register) -> bool:
    return register.engine.dialect.name == "postgresql"


def stored_actor(register: Register, actor: str) -> str:
    """The audit log's actor of a use case run by `actor`: on PostgreSQL the clerk's name and
    the connection's role (storage/audit.append_audit), on a file the name."""
    if not on_server(register):
        return actor
    with register.session() as session:
        role = session.execute(text("SELECT current_user")).scalar_one()
    return role if actor in ("system", role) else f"{actor}@{role}"


def plain(register: Register, table: str, column: str, anchor: object,
          stored: str | None) -> str | None:
    """A sealed column's value read by raw SQL, opened (as it is on a file register)."""
    return open_value(register.engine, table, column, anchor, stored)


def server_tables(url: str) -> list[str]:
    """The tables a PostgreSQL database holds (read beside the program, as its owner)."""
    import psycopg

    with psycopg.connect(url) as conn:
        return [name for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() ORDER BY table_name")]


@pytest.fixture
def db(dengji, store: str) -> str | Path:  # noqa: F811 (the fixture)
    """A fresh register made through `dengji init`, on each store: its path or its URL."""
    result = dengji("init", "--db", store, "--level", "firm", "--unit-name", UNIT_NAME,
                    "--unit-code", UNIT_CODE)
    assert result.code == 0, result.err
    return store if is_server(store) else Path(store)


def create_database(cluster: Cluster, made: list[str], template: str | None = None) -> str:
    """A new database's URL (a copy of the database `template`, if given), its name noted in
    `made` to drop it afterwards (`drop_databases`)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    cluster.admin(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    made.append(name)
    return cluster.url(name)


def drop_databases(cluster: Cluster, made: list[str]) -> None:
    for name in made:
        cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def new_database(request: pytest.FixtureRequest) -> Iterator[Callable[..., str]]:
    """new_database(template=None): the URL of a new PostgreSQL database (a copy of the
    database named `template`); all dropped after the test."""
    made: list[str] = []
    cluster: list[Cluster] = []  # asked for on the first call: a file-only test starts none

    def database(template: str | None = None) -> str:
        cluster[:] = cluster or [request.getfixturevalue("pg_cluster")]
        return create_database(cluster[0], made, template)

    yield database
    if made:
        drop_databases(cluster[0], made)


class StoreWorld(World):
    """A World whose registers all go to `server` (each a new database) when it is given,
    the firms' too; files otherwise."""

    def register(self, unit: UnitInfo, name: str | None = None, *, kdf: KdfParams = FAST_KDF
                 ) -> Register:
        if self.server is None:
            return super().register(unit, name, kdf=kdf)
        self.n += 1
        reg = create_register(self.server(), PASSPHRASE, unit, kdf=kdf)
        self.opened.append(reg)
        return reg


@pytest.fixture(params=STORES)
def store_world(request: pytest.FixtureRequest, tmp_path: Path, forms: FormSet,
                new_database: Callable[[], str]) -> Iterator[World]:
    """Registers that know each other's keys, all on one store (each test runs on both)."""
    w = StoreWorld(tmp_path, forms, server=new_database if request.param == "postgresql"
                   else None)
    try:
        yield w
    finally:
        for r in w.opened:
            r.close()
