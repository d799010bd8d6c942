"""The command tests on both stores (issue 18): `db` is the register `dengji init` made on a
file or in a new PostgreSQL database (the one parametrised `store`, tests/stores.py), so every
test that takes `db` runs twice, `[sqlite]` and `[postgresql]`; `place` is where such a register
goes, for the tests that make it themselves. `another_db` gives a second new
register place on the same store, and `store_world` the package tests' World (firms, a city)
with every register on that store. A test about the file itself (its bytes, modes, side files,
SQLCipher) takes `file_db` and says why.

The `dengji` fixture makes scrypt cheap on both stores alike: it lowers crypto.DEFAULT_KDF
(read at call time by the file's key derivation and by the server's data-key wrap).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.formspec import FormSet
from tests.cli.store_world import StoreWorld
from tests.conftest import Run, init_register, is_url
from tests.stores import pg_cluster, pg_database, pg_url, store  # noqa: F401 (fixtures)


@pytest.fixture
def place(store: str) -> Path | str:  # noqa: F811
    """Where a new register goes on each store, not made yet: a file's Path, or the URL of a
    new, empty database."""
    return store if is_url(store) else Path(store)


@pytest.fixture
def db(dengji: Callable[..., Run], place: Path | str) -> Path | str:
    """A fresh register made by `dengji init` on each store: a file's Path, or the URL."""
    return init_register(dengji, place)


@pytest.fixture
def file_db(dengji: Callable[..., Run], tmp_path: Path) -> Path:
    """A fresh register file, for the tests about the file itself."""
    return init_register(dengji, tmp_path / "register.dengji")


@pytest.fixture
def another_db(request: pytest.FixtureRequest, store: str,  # noqa: F811
               tmp_path: Path) -> Iterator[Callable[[str], Path | str]]:
    """another_db(name): where a second new register goes on the store of `db`: a file `name`
    in tmp_path, or the URL of another new database (dropped after the test)."""
    made: list[str] = []
    cluster = request.getfixturevalue("pg_cluster") if is_url(store) else None

    def where(name: str) -> Path | str:
        if cluster is None:
            return tmp_path / name
        database = f"t_{uuid.uuid4().hex[:12]}"
        cluster.admin(f"CREATE DATABASE {database}")
        made.append(database)
        return cluster.url(database)

    yield where
    for database in made:
        cluster.admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@pytest.fixture
def store_world(tmp_path: Path, forms: FormSet,
                another_db: Callable[[str], Path | str]) -> Iterator[StoreWorld]:
    """Registers of firms and a city that know each other's keys, all on the store of the
    test's parameter (tests/exchange/conftest.py World)."""
    world = StoreWorld(tmp_path / "world", forms, another_db)
    world.folder.mkdir()
    try:
        yield world
    finally:
        for register in world.opened:
            register.close()
