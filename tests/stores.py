"""Both stores for the test modules of a path that runs on SQLite and on PostgreSQL.

A module imports `store` (and the cluster fixtures it needs) and builds its register on it:
each test runs twice, on a register file and on a new PostgreSQL database
(tests/pg/cluster.py; skipped, saying why, only when no initdb exists). Parametrise the tests
that exercise SQL, not every test: the suite's time matters.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pg.cluster import pg_cluster, pg_database, pg_url

__all__ = ["pg_cluster", "pg_database", "pg_url", "store"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new register goes: a file path, or the URL of a new, empty database."""
    if request.param == "sqlite":
        return str(tmp_path / "register.dengji")
    return request.getfixturevalue("pg_url")
