from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.storage import KdfParams, Register, UnitInfo, create_register
from tests import stores

# the fixtures of both stores (tests/stores.py), for every test module here
store, another_store = stores.store, stores.another_store
pg_cluster, pg_database, pg_url = stores.pg_cluster, stores.pg_database, stores.pg_url

#: Cheap scrypt parameters so each test's register is made in milliseconds.
FAST_KDF = KdfParams(n=2**10, r=8, p=1)
PASSPHRASE = "正确的口令 Correct-Horse-1"
OWN_UNIT = UnitInfo(code="31110000MD0123456X", name="上海市明德律师事务所党支部", level="firm",
                    parent_code="310000")


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
def make_store_register(store: str, another_store: Callable[[str], str]
                        ) -> Iterator[Callable[..., Register]]:
    """make_store_register(name=None, unit=…, passphrase=…): a new register on the store under
    test — at `store` itself when `name` is None, else at another_store(name)."""
    opened: list[Register] = []

    def make(name: str | None = None, unit: UnitInfo = OWN_UNIT,
             passphrase: str = PASSPHRASE) -> Register:
        where = store if name is None else another_store(name)
        register = create_register(where, passphrase, unit, kdf=FAST_KDF)
        opened.append(register)
        return register

    yield make
    for register in opened:
        register.close()


@pytest.fixture
def store_register(store: str) -> Iterator[Register]:
    """A new register on each store (see `store`). A test module whose tests hold on both
    stores overrides `register` with it."""
    register = create_register(store, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)
    try:
        yield register
    finally:
        register.close()
