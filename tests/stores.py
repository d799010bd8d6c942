"""Both stores for the test modules of a path that runs on SQLite and on PostgreSQL.

A module imports `store` (and the cluster fixtures it needs) and builds its register on it:
each test runs twice, on a register file and on a new PostgreSQL database
(tests/pg/cluster.py; skipped, saying why, only when no initdb exists). Parametrise the tests
that exercise SQL, not every test: the suite's time matters. `another_store` gives more new
places of the same kind as `store` (a second register beside the first).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pg.cluster import pg_cluster, pg_database, pg_url

__all__ = ["another_store", "is_server", "pg_cluster", "pg_database", "pg_url", "store"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new register goes, on each store: a file path (SQLCipher) or the URL of a new,
    empty PostgreSQL database (tests/pg/cluster.py)."""
    if request.param == "sqlite":
        return str(tmp_path / "register.dengji")
    return request.getfixturevalue("pg_url")


def is_server(store: str) -> bool:
    """Whether `store` (a `store` value) is a PostgreSQL URL."""
    return str(store).startswith("postgresql")


@pytest.fixture
def another_store(request: pytest.FixtureRequest, store: str,
                  tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """another_store(name): a new place of the kind `store` is — the file `name` beside it, or a
    new empty database (dropped after the test)."""
    made: list[str] = []

    def make(name: str) -> str:
        if not is_server(store):
            return str(tmp_path / name)
        cluster = request.getfixturevalue("pg_cluster")
        database = f"t_{uuid.uuid4().hex[:12]}"
        cluster.admin(f"CREATE DATABASE {database}")
        made.append(database)
        return cluster.url(database)

    yield make
    if made:
        cluster = request.getfixturevalue("pg_cluster")
        for database in made:
            cluster.admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
