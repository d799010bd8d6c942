"""The package commands of tests/exchange/test_cli.py on registers in PostgreSQL (issue 18):
`dengji merge`, `accept`, `units`, `conflicts` and `verify` on a city register in a server
database receiving packages of firms on SQLite (tests/exchange/test_merge_server.py's world).
The other command tests run on both stores through tests/cli/conftest.py (`db`, `store_world`,
`upper_world`); these live in tests/exchange, so they are run again here."""

from __future__ import annotations

from tests.exchange.test_cli import (  # noqa: F401 (run again here, on a server register)
    clerk,
    test_conflicts_from_the_command_line,
    test_merge_accept_units_and_upward,
    test_verify_prints_what_the_package_is_and_each_check,
)
from tests.exchange.test_merge_server import world  # noqa: F401 (firms on SQLite, the rest on PG)
from tests.pg.cluster import pg_cluster  # noqa: F401 (fixture)


def test_the_registers_here_are_on_the_server(clerk) -> None:  # noqa: F811
    _world, city_register, firm, _sent = clerk
    assert city_register.engine.dialect.name == "postgresql"
    assert firm.register.engine.dialect.name == "sqlite"
