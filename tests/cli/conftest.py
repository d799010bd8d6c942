"""The command tests on both stores (issue 18): `db` is the register `dengji init` made on a
file or in a new PostgreSQL database (the one parametrised `store`, tests/stores.py), so every
test that takes `db` runs twice, `[sqlite]` and `[postgresql]`; `place` is where such a register
goes, for the tests that make it themselves, and `another_store` (tests/stores.py) a second one
of the same kind. `store_world` is the package tests' World with every register on that store
(tests/services/conftest.py StoreWorld), `upper_world` the same with the firms on files (for
commands that work on the city's register only). A test about the file itself (its bytes,
modes, side files, SQLCipher) takes `file_db` and says why.

The `dengji` fixture makes scrypt cheap on both stores alike: it lowers crypto.DEFAULT_KDF
(read at call time by the file's key derivation and by the server's data-key wrap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.formspec import FormSet
from tests.conftest import Run, init_register
from tests.exchange.conftest import World
from tests.services.conftest import StoreWorld
from tests.stores import (  # noqa: F401 (fixtures)
    another_store,
    is_server,
    pg_cluster,
    pg_database,
    pg_url,
    store,
)


@pytest.fixture
def place(store: str) -> Path | str:  # noqa: F811
    """Where a new register goes on each store, not made yet: a file's Path, or the URL of a
    new, empty database."""
    return store if is_server(store) else Path(store)


@pytest.fixture
def db(dengji: Callable[..., Run], place: Path | str) -> Path | str:
    """A fresh register made by `dengji init` on each store: a file's Path, or the URL."""
    return init_register(dengji, place)


@pytest.fixture
def file_db(dengji: Callable[..., Run], tmp_path: Path) -> Path:
    """A fresh register file, for the tests about the file itself."""
    return init_register(dengji, tmp_path / "register.dengji")


def _world(kind: type[World], where: str, another: Callable[[str], str], folder: Path,
           forms: FormSet) -> Iterator[World]:
    folder.mkdir()
    world = kind(folder, forms, server=(lambda: another("server")) if is_server(where) else None)
    try:
        yield world
    finally:
        for register in world.opened:
            register.close()


@pytest.fixture
def store_world(store: str, another_store: Callable[[str], str],  # noqa: F811
                tmp_path: Path, forms: FormSet) -> Iterator[World]:
    """Registers of firms and a city that know each other's keys, all on the store of the
    test's parameter, the firms' too."""
    yield from _world(StoreWorld, store, another_store, tmp_path / "world", forms)


@pytest.fixture
def upper_world(store: str, another_store: Callable[[str], str],  # noqa: F811
                tmp_path: Path, forms: FormSet) -> Iterator[World]:
    """The same with the firms on files and the levels above them on the test's store."""
    yield from _world(World, store, another_store, tmp_path / "world", forms)
