"""The party path's commands on a register in PostgreSQL (issue 18): `dengji import` into a
server register, `dengji merge`, `accept`, `units`, `conflicts` and `spotcheck` on a city
register in a server database receiving packages of firms on SQLite. The tests are those of
tests/cli/test_import.py, tests/exchange/test_cli.py and tests/cli/test_spotcheck_cli.py that
run the SQL of that path, run again here (init, export-excel, audit and backup on a server —
where init makes no recovery key yet, so the audit counts one entry less:
tests/pg/test_cli_pg.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.cli.test_import import (  # noqa: F401 (run again here, on a server register)
    one_bad,
    test_clean_import,
    test_duplicate_id_within_the_file_blocks_the_import,
    test_importing_the_same_file_twice,
    test_members_before_their_organisation,
    test_one_bad_row_imports_nothing,
    test_organisation_name_is_unique,
    test_partial_imports_the_good_rows_and_lists_the_bad,
)
from tests.cli.test_spotcheck_cli import (  # noqa: F401
    city,
    test_a_report_before_any_sample_says_so,
    test_draw_fill_record_report,
)
from tests.conftest import UNIT_CODE, UNIT_NAME, Run
from tests.exchange.test_cli import (  # noqa: F401
    clerk,
    test_conflicts_from_the_command_line,
    test_merge_accept_units_and_upward,
    test_verify_prints_what_the_package_is_and_each_check,
)
from tests.exchange.test_merge_server import world  # noqa: F401 (firms on SQLite, the rest on PG)
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)


@pytest.fixture
def db(dengji: Callable[..., Run], pg_url: str) -> str:  # noqa: F811
    """A register made by `dengji init` in a new PostgreSQL database: its URL."""
    result = dengji("init", "--db", pg_url, "--level", "firm", "--unit-name", UNIT_NAME,
                    "--unit-code", UNIT_CODE)
    assert result.code == 0, result.err
    return pg_url


def test_the_registers_here_are_on_the_server(db, clerk) -> None:  # noqa: F811
    from desktop.storage import open_register
    from tests.conftest import PASSPHRASE

    with open_register(db, PASSPHRASE) as reg:
        assert reg.engine.dialect.name == "postgresql"
    _world, city_register, firm, _sent = clerk
    assert city_register.engine.dialect.name == "postgresql"
    assert firm.register.engine.dialect.name == "sqlite"
