from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.storage import KdfParams, Register, UnitInfo, create_register
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)

#: Cheap scrypt parameters so each test's register is made in milliseconds.
FAST_KDF = KdfParams(n=2**10, r=8, p=1)
PASSPHRASE = "正确的口令 Correct-Horse-1"
OWN_UNIT = UnitInfo(code="31110000MD0123456X", name="上海市明德律师事务所党支部", level="firm",
                    parent_code="310000")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new register goes, on each store: a file path (SQLCipher) or the URL of a new,
    empty PostgreSQL database (tests/pg/cluster.py)."""
    if request.param == "sqlite":
        return str(tmp_path / "register.dengji")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def kdf() -> KdfParams:
    return FAST_KDF


@pytest.fixture
def make_register(tmp_path: Path) -> Iterator[Callable[..., Register]]:
    opened: list[Register] = []

    def make(name: str = "register.dengji", unit: UnitInfo = OWN_UNIT,
             passphrase: str = PASSPHRASE) -> Register:
        register = create_register(tmp_path / name, passphrase, unit, kdf=FAST_KDF)
        opened.append(register)
        return register

    yield make
    for register in opened:
        register.close()


@pytest.fixture
def register(make_register: Callable[..., Register]) -> Register:
    return make_register()


@pytest.fixture
def store_register(store: str) -> Iterator[Register]:
    """A new register on each store (see `store`). A test module whose tests hold on both
    stores overrides `register` with it."""
    register = create_register(store, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)
    try:
        yield register
    finally:
        register.close()
