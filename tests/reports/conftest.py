"""Fixtures the report tests share with other folders: a law society register and its legacy
imports (tests/society), registers that send each other packages (tests/exchange)."""

from tests.exchange.conftest import world  # noqa: F401
from tests.society.conftest import load, sdb, society_store  # noqa: F401
