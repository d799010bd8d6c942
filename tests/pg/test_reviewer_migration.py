"""A register on PostgreSQL whose schema is older than this version: only the owner of its
tables may migrate it (PostgreSQL refuses DDL to anyone else). A clerk or reviewer role is told
in Chinese which role must open it first — before any backup, with nothing changed; the owner's
open backs it up and migrates it, and everyone opens it afterwards (issue 18)."""

from __future__ import annotations

import psycopg
import pytest

from desktop.errors import KnownError
from desktop.paths import user_data_dir
from desktop.storage import SCHEMA_VERSION, open_register
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)
from tests.pg.test_concurrency import new_record, office  # noqa: F401 (a fixture)
from tests.storage.conftest import FAST_KDF, PASSPHRASE


def as_version_5(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("DROP INDEX ix_record_form_created")
        conn.execute("CREATE INDEX ix_record_name ON record (name)")
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")


def schema(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return (conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone(),
                sorted(conn.execute("SELECT indexname FROM pg_indexes "
                                    "WHERE tablename = 'record'").fetchall()),
                conn.execute("SELECT count(*) FROM audit_entry").fetchone())


def dumps() -> set:
    folder = user_data_dir() / "备份"
    return set(folder.glob("*.dump")) if folder.exists() else set()


@pytest.mark.parametrize("who", ["reviewer_c", "clerk_a"])
def test_only_the_owner_migrates_the_others_are_told_who(office, who):  # noqa: F811
    new_record(office["owner"])
    as_version_5(office["owner"])
    before, backups = schema(office["owner"]), dumps()
    with pytest.raises(KnownError) as caught:
        open_register(office[who], PASSPHRASE, kdf=FAST_KDF)
    said = str(caught.value)
    owner = psycopg.conninfo.conninfo_to_dict(office["owner"])["user"]
    assert "需要升级" in said and f"数据库角色 {owner}" in said and "未作任何改动" in said, said
    assert "pg_dump" not in said
    assert schema(office["owner"]) == before and dumps() == backups  # nothing, not even a dump
    with open_register(office["owner"], PASSPHRASE, kdf=FAST_KDF):
        pass
    assert schema(office["owner"])[0] == (str(SCHEMA_VERSION),)
    assert len(dumps() - backups) == 1
    for role in ("reviewer_c", "clerk_a"):
        with open_register(office[role], PASSPHRASE, kdf=FAST_KDF):
            pass
