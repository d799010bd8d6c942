"""Fixtures the report tests share with other folders: a law society register and its legacy
imports (tests/society), registers that send each other packages (tests/exchange).

Both stores (issue 18): a module that sets ``BOTH_STORES = True`` (or a set of its test names)
runs those tests on a register file and on a PostgreSQL register: `db` (the test unit's firm
register, made by `dengji init`) and `sdb` (the 法学会's) are both made at tests/society's
`society_store` (a file or a new database; a test takes one of them, never both), then
parametrised [sqlite] and [postgresql]. Other tests keep a file (the suite's time): only the
tests that read a register to write a workbook or a PDF need both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run, init_register
from tests.exchange.conftest import world  # noqa: F401
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)
from tests.society.conftest import load, sdb, society_store  # noqa: F401

STORES = ["sqlite", "postgresql"]


def on_both_stores(metafunc: pytest.Metafunc) -> bool:
    both = getattr(metafunc.module, "BOTH_STORES", False)
    return both is True or (bool(both) and metafunc.function.__name__ in both)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if on_both_stores(metafunc):
        if "society_store" in metafunc.fixturenames:
            metafunc.parametrize("society_store", STORES, indirect=True)


@pytest.fixture
def db(dengji: Callable[..., Run], society_store: Path | str) -> Path | str:  # noqa: F811
    """The test unit's firm register made by `dengji init` where tests/society puts a
    register: a file, or a new PostgreSQL database."""
    return init_register(dengji, society_store)
