"""`dengji roles`: the SQL of a server register's clerks' and reviewers' roles, as
`role_statements` writes it, ready for `psql` — run on a real database it gives the reviewers
the audited reads and nothing else, and `--again` runs on a database that has the roles."""

from __future__ import annotations

import psycopg
import pytest

from desktop.storage import create_register
from desktop.storage.concurrency import role_statements
from tests.storage.conftest import FAST_KDF, OWN_UNIT, PASSPHRASE


def statements(out: str) -> list[str]:
    assert out.endswith(";\n")
    return [line[:-1] for line in out.splitlines()]


def test_the_output_is_role_statements_and_runs_in_psql_terms(dengji, pg_url, pg_database):
    create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    clerks, reviewers = f"{pg_database}_c", f"{pg_database}_r"
    first = dengji("roles", "--database", pg_database, "--clerks", clerks,
                   "--reviewers", reviewers, "--owner", "dengji_test")
    assert first.code == 0 and first.err == ""
    assert statements(first.out) == role_statements(pg_database, clerks=clerks,
                                                    reviewers=reviewers, owner="dengji_test")
    again = dengji("roles", "--database", pg_database, "--clerks", clerks,
                   "--reviewers", reviewers, "--again")
    assert not any(s.startswith("CREATE ROLE") for s in statements(again.out))
    try:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            for sql in statements(first.out) + statements(again.out):  # twice: repeatable
                conn.execute(sql)
            rights = conn.execute(
                "SELECT has_table_privilege(%(r)s, 'audit_entry', 'INSERT'), "
                "has_table_privilege(%(r)s, 'record', 'UPDATE'), "
                "has_table_privilege(%(c)s, 'record', 'UPDATE'), "
                "has_table_privilege(%(c)s, 'audit_entry', 'DELETE')",
                {"r": reviewers, "c": clerks}).fetchone()
            assert rights == (True, False, True, False)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {clerks}, {reviewers}")
            conn.execute(f"DROP ROLE {clerks}, {reviewers}")


@pytest.mark.parametrize("name", ["x; DROP TABLE record", "库", "a-b", "a b", "", "'x'"])
def test_a_name_that_is_not_plain_is_refused_and_nothing_printed(dengji, name):
    result = dengji("roles", "--database", "dengji_province", "--reviewers", name)
    assert result.code == 2 and result.out == "" and "英文字母" in result.err
