"""The same register on both stores: a SQLCipher file and a PostgreSQL database (`store`).

Create, open, records round trip, keyed-hash lookups, the audit chain (a wrong passphrase and
a newer schema refused with nothing changed: test_engine.py, on both stores);
and on PostgreSQL what only it has: the sealed personal columns, the role in the audit log,
migrations with a pg_dump backup first, pg_dump backups that pg_restore brings back.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import StatementError

from desktop.errors import KnownError, NotARegister, UsageError, WrongPassphrase
from desktop.storage import (
    SCHEMA_VERSION,
    Meta,
    Record,
    append_audit,
    bulk_insert_records,
    create_register,
    find_keys,
    open_register,
    verify_audit_chain,
)
from desktop.storage.backup import auto_backup, backup_register, restore_register
from desktop.storage.server import SealingError, blind_value, open_value, seal_value
from desktop.storage.server.datakey import DEK_KEY, KDF_KEY, SECRET_KEY
from desktop.storage.server.dump import client_program
from desktop.storage.server.location import ServerLocation, register_location
from desktop.storage.tables import AuditEntry, Conflict, ReturnNote, SpotItem
from tests.storage.conftest import FAST_KDF, OWN_UNIT, PASSPHRASE

PEOPLE = [("张三丰", "110101199003070011", "13800138000"), ("李四光", "310101198512120023",
                                                             "13912345678")]


def _fill(register) -> list[str]:
    ids = []
    with register.session() as session:
        records, keys = [], []
        for name, id_no, phone in PEOPLE:
            rid = f"00000000-0000-7000-8000-{len(records):012d}"
            records.append({"id": rid, "form_id": "fujian4", "form_version": "1",
                            "unit_id": register.own_unit_id, "name": name,
                            "data": {"name": name, "id_number": id_no, "phone": phone},
                            "person_key": register.person_hash(id_no)})
            keys.append({"record_id": rid, "form_id": "fujian4", "kind": "person",
                         "value": register.person_hash(id_no)})
            ids.append(rid)
        bulk_insert_records(session, records, keys)
        session.commit()
    return ids


def _psql_rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_create_open_and_round_trip_on_both_stores(store):
    with create_register(store, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        assert register.kind == ("server" if store.startswith("postgresql") else "file")
        ids = _fill(register)
        with register.session() as session:
            record = session.get(Record, ids[0])
            record.name = "张三丰（改）"
            append_audit(session, "王经办", "record.save", record.id, {"name": record.name})
            session.commit()
    with open_register(store, PASSPHRASE, kdf=FAST_KDF) as register:
        with register.session() as session:
            rows = session.execute(select(Record.id, Record.name, Record.data)
                                   .order_by(Record.id)).all()
            assert [(r.name, json.loads(r.data)["phone"]) for r in rows] == [
                ("张三丰（改）", "13800138000"), ("李四光", "13912345678")]
            # keyed-hash lookups find the person without reading any personal column
            found = find_keys(session, "person", [register.person_hash("310101198512120023")])
            assert list(found.values()) == [[(ids[1], "fujian4")]]
            assert find_keys(session, "person", [register.person_hash("110101199003070012")]) == {}
            check = verify_audit_chain(session)
            assert check.ok, check.message
            assert check.entries == 2


def test_on_postgresql_the_personal_columns_hold_no_plain_text(pg_url):
    with create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        ids = _fill(register)
        with register.session() as session:
            session.add(ReturnNote(package_id="p1", record_id=ids[0], comment="张三丰的电话不对",
                                   direction="sent"))
            session.add(Conflict(kind="person", key_value="k", record_a=ids[0], unit_a="a",
                                 record_b=ids[1], unit_b="b", note="李四光是同一人"))
            session.add(SpotItem(sample_id="s", position=1, record_id=ids[0], unit_code="c",
                                 form_id="fujian4", note="本人张三丰电话核实"))
            session.add(Meta(key="unit.handler", value="王经办"))
            session.add(Meta(key="unit.phone", value="13700001111"))
            session.commit()
        with register.session() as session:  # read back through the ORM: the plain values
            assert session.get(ReturnNote, 1).comment == "张三丰的电话不对"
            assert session.get(Conflict, 1).note == "李四光是同一人"
            assert session.get(SpotItem, 1).note == "本人张三丰电话核实"
            assert session.get(Meta, "unit.phone").value == "13700001111"
    dumped = repr(_psql_rows(pg_url, "SELECT * FROM record") + _psql_rows(
        pg_url, "SELECT * FROM return_note") + _psql_rows(pg_url, "SELECT * FROM record_conflict")
        + _psql_rows(pg_url, "SELECT * FROM spot_item") + _psql_rows(pg_url, "SELECT * FROM meta"))
    for needle in ["张三丰", "李四光", "13800138000", "110101199003070011", "王经办",
                   "13700001111", "电话"]:
        assert needle not in dumped
    # not personal: stays readable for the administrator
    assert "schema_version" in dumped and "fujian4" in dumped


def test_a_sealed_value_moved_to_another_row_does_not_open(pg_url):
    with create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        ids = _fill(register)
    # a DBA copies one person's sealed data into the other's row
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE record SET data = (SELECT data FROM record WHERE id = %s) "
                     "WHERE id = %s", (ids[0], ids[1]))
    with open_register(pg_url, PASSPHRASE, kdf=FAST_KDF) as register, register.session() as s:
        assert json.loads(s.get(Record, ids[0]).data)["name"] == "张三丰"
        with pytest.raises(SealingError, match="moved from another row"):
            s.execute(select(Record.data).where(Record.id == ids[1])).all()


def test_a_plain_value_never_reaches_a_sealed_column(pg_url):
    with create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        ids = _fill(register)
        with register.session() as session:
            # an UPDATE that names no row cannot be sealed: refused, nothing written
            with pytest.raises((SealingError, StatementError)):
                session.execute(update(Record).where(Record.form_id == "fujian4")
                                .values(name="王五"))
            session.rollback()
            # by its row it is sealed (inline value and WHERE id = …)
            session.execute(update(Record).where(Record.id == ids[1]).values(name="王五"))
            session.commit()
            assert session.execute(select(Record.name).where(Record.id == ids[1])).scalar() \
                == "王五"
        # raw SQL seals and opens with the documented pair
        with register.engine.begin() as conn:
            conn.execute(text("UPDATE record SET name = :n WHERE id = :i"), {
                "n": seal_value(register.engine, "record", "name", ids[0], "赵六"), "i": ids[0]})
            stored = conn.execute(text("SELECT name FROM record WHERE id = :i"),
                                  {"i": ids[0]}).scalar()
        assert stored.startswith("dj1.") and "赵六" not in stored
        assert open_value(register.engine, "record", "name", ids[0], stored) == "赵六"
        with pytest.raises(SealingError):
            open_value(register.engine, "record", "name", ids[1], stored)
        # a plain value written behind the program's back is refused when read
        with register.engine.begin() as conn:
            conn.execute(text("UPDATE record SET name = '明文' WHERE id = :i"), {"i": ids[0]})
        with register.session() as session, pytest.raises(SealingError, match="not sealed"):
            session.get(Record, ids[0])


def test_the_pair_passes_values_through_on_sqlite(register):
    assert seal_value(register.engine, "record", "name", "x", "张三") == "张三"
    assert open_value(register.engine, "record", "name", "x", "张三") == "张三"


def test_on_postgresql_the_audit_log_names_the_role(pg_url):
    with create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        with register.session() as session:
            append_audit(session, "王经办", "record.save", "r1", {})
            session.commit()
            actors = session.execute(select(AuditEntry.actor).order_by(AuditEntry.seq)).scalars()
            assert list(actors) == ["dengji_test", "王经办@dengji_test"]
            assert verify_audit_chain(session).ok


def test_damaged_keys_are_told_apart_from_a_wrong_passphrase(pg_url):
    create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    with psycopg.connect(pg_url) as conn:
        secret = conn.execute("SELECT value FROM meta WHERE key = %s", (SECRET_KEY,)).fetchone()[0]
        conn.execute("UPDATE meta SET value = %s WHERE key = %s",
                     (secret[:-2] + ("00" if secret[-2:] != "00" else "11"), SECRET_KEY))
    with pytest.raises(NotARegister, match="密钥信息已损坏"):
        open_register(pg_url, PASSPHRASE, kdf=FAST_KDF)
    with psycopg.connect(pg_url) as conn:
        conn.execute("DELETE FROM meta WHERE key = %s", (KDF_KEY,))
    with pytest.raises(NotARegister, match="密钥信息已损坏"):
        open_register(pg_url, PASSPHRASE, kdf=FAST_KDF)
    assert DEK_KEY in dict(_psql_rows(pg_url, "SELECT key, value FROM meta"))


def test_a_tampered_kdf_cannot_ask_for_a_huge_derivation(pg_url):
    create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    with psycopg.connect(pg_url) as conn:
        kdf = json.loads(conn.execute("SELECT value FROM meta WHERE key = %s",
                                      (KDF_KEY,)).fetchone()[0])
        kdf["n"] = 2**30
        conn.execute("UPDATE meta SET value = %s WHERE key = %s", (json.dumps(kdf), KDF_KEY))
    with pytest.raises(NotARegister):
        open_register(pg_url, PASSPHRASE, kdf=FAST_KDF)


def test_init_refuses_a_database_that_is_not_empty_or_already_a_register(pg_url):
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE payroll (id int)")
    with pytest.raises(KnownError, match="不是空的.*payroll"):
        create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)
    assert [r[0] for r in _psql_rows(pg_url, "SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'public'")] == ["payroll"]
    with psycopg.connect(pg_url) as conn:
        conn.execute("DROP TABLE payroll")
    create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    with pytest.raises(KnownError, match="已经有登记库"):
        create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)


def test_an_empty_database_is_not_a_register(pg_url):
    with pytest.raises(NotARegister, match="dengji init"):
        open_register(pg_url, PASSPHRASE, kdf=FAST_KDF)


def test_a_url_with_a_password_is_refused():
    for url in ["postgresql://clerk:secret@db.example/dengji",
                "postgresql:///dengji?host=/run/postgresql&password=secret"]:
        with pytest.raises(UsageError, match="pgpass") as err:
            register_location(url)
        assert "secret" not in str(err.value)
    assert register_location("postgresql://?service=dengji").name == "dengji"
    assert register_location("postgresql://张三@db.example/省登记库?sslmode=verify-full"
                             ).url.endswith("sslmode=verify-full")
    assert register_location("postgresql:///dj?host=/tmp/x").name == "dj"
    assert register_location("登记库.dengji") == Path("登记库.dengji")
    with pytest.raises(UsageError, match="没有写数据库名"):
        ServerLocation.parse("postgresql://db.example")


def _schema(url: str) -> list[tuple]:
    """Every column (type, nullability) and index of the register's tables."""
    return _psql_rows(url, "SELECT table_name, column_name, data_type, is_nullable FROM "
                           "information_schema.columns WHERE table_schema = 'public' "
                           "ORDER BY 1, 2") + _psql_rows(
        url, "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
             "ORDER BY 1, 2")


def _tables(url: str) -> set[str]:
    return {r[0] for r in _psql_rows(url, "SELECT table_name FROM information_schema.tables "
                                          "WHERE table_schema = 'public'")}


def as_version_4(url: str) -> None:
    """Make a new PostgreSQL register what version 4 made: without version 5's tables and
    with version 6's indexes undone."""
    with psycopg.connect(url) as conn:
        conn.execute("DROP INDEX ix_record_form_created")
        conn.execute("CREATE INDEX ix_record_name ON record (name)")
        for table in ("key_event", "spot_sample", "spot_item"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")


def test_an_older_schema_is_backed_up_with_pg_dump_then_migrated(pg_url, tmp_path):
    with create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        _fill(register)
    new_tables = _tables(pg_url)
    # make it a version-4 register: the version-5 tables did not exist then
    new_schema = _schema(pg_url)
    as_version_4(pg_url)
    from desktop.paths import user_data_dir

    folder = user_data_dir() / "备份"
    before = set(folder.glob("*.dump")) if folder.exists() else set()
    with open_register(pg_url, PASSPHRASE, kdf=FAST_KDF) as register, register.session() as s:
        assert s.get(Meta, "schema_version").value == str(SCHEMA_VERSION)
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
        assert last.action == "migrate" and json.loads(last.detail)["from"] == 4
        assert verify_audit_chain(s).ok
    assert _tables(pg_url) == new_tables
    assert _schema(pg_url) == new_schema  # the frozen migration makes what tables.py makes
    made = set(folder.glob("*.dump")) - before
    assert len(made) == 1 and json.loads(last.detail)["backup"] == made.pop().name


def test_a_failed_migration_leaves_the_schema_as_it_was(pg_url, monkeypatch):
    from desktop.storage import migrations

    create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    as_version_4(pg_url)
    old = _tables(pg_url)

    def broken(connection):
        migrations.MIGRATIONS[4].__wrapped__(connection)
        raise RuntimeError("power cut in the middle of the migration")

    real = migrations.MIGRATIONS[4]
    broken.__wrapped__ = real  # type: ignore[attr-defined]
    monkeypatch.setitem(migrations.MIGRATIONS, 4, broken)
    with pytest.raises(RuntimeError, match="power cut"):
        open_register(pg_url, PASSPHRASE, kdf=FAST_KDF)
    assert _tables(pg_url) == old  # the tables the step created are gone with it
    assert dict(_psql_rows(pg_url, "SELECT key, value FROM meta"))["schema_version"] == "4"


def test_backup_with_pg_dump_and_restore_with_pg_restore(pg_url, pg_cluster, pg_database,
                                                         tmp_path):
    with create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        ids = _fill(register)
        info = backup_register(register, tmp_path / "省登记库.dump")
        assert (info.records, info.schema_version) == (2, SCHEMA_VERSION)
        auto = auto_backup(register, "manual")
        assert auto.path.suffix == ".dump" and auto.path.parent.name == "备份"
        with pytest.raises(KnownError, match="pg_restore"):
            restore_register(register, info.path)
    raw = info.path.read_bytes()
    assert raw.startswith(b"PGDMP")
    for name, id_no, phone in PEOPLE:
        for needle in (name, id_no, phone):
            assert needle.encode() not in raw
    restored = f"{pg_database}_r"
    pg_cluster.admin(f"CREATE DATABASE {restored}")
    try:
        url = pg_cluster.url(restored)
        subprocess.run([client_program("pg_restore"), "--no-owner", f"--dbname={url}",
                        str(info.path)], check=True, capture_output=True)
        with pytest.raises(WrongPassphrase):
            open_register(url, "another passphrase", kdf=FAST_KDF)
        with open_register(url, PASSPHRASE, kdf=FAST_KDF) as register, \
                register.session() as session:
            assert session.get(Record, ids[1]).name == "李四光"
            assert verify_audit_chain(session).ok
            assert find_keys(session, "person", [register.person_hash(PEOPLE[0][1])])
    finally:
        pg_cluster.admin(f"DROP DATABASE IF EXISTS {restored} WITH (FORCE)")


def test_weaker_key_derivation_is_rewrapped_without_touching_the_data(pg_url):
    with create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        _fill(register)
    sealed = _psql_rows(pg_url, "SELECT id, data FROM record ORDER BY id")
    stronger = type(FAST_KDF)(n=2**11, r=8, p=1)
    with open_register(pg_url, PASSPHRASE, kdf=stronger) as register:
        assert register.person_hash("x")
    kdf = json.loads(dict(_psql_rows(pg_url, "SELECT key, value FROM meta"))[KDF_KEY])
    assert kdf["n"] == 2**11
    assert _psql_rows(pg_url, "SELECT id, data FROM record ORDER BY id") == sealed
    with open_register(pg_url, PASSPHRASE, kdf=stronger) as register, register.session() as s:
        assert s.get(Record, sealed[0][0]).name == "张三丰"


def test_unique_key_values_are_found_and_kept_as_keyed_hashes_on_postgresql(store):
    licence = "14403198210857212"
    with create_register(store, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        ids = _fill(register)
        with register.session() as session:
            bulk_insert_records(session, [], [{"record_id": ids[0], "form_id": "fujian4",
                                               "kind": "licence", "value": licence}])
            session.commit()
            assert find_keys(session, "licence", [licence, "14403198210857213"]) == {
                licence: [(ids[0], "fujian4")]}
            stored = session.execute(text("SELECT value FROM record_key WHERE kind = 'licence'")
                                     ).scalar_one()
            # raw SQL compares with blind_value (the value itself on SQLite)
            assert stored == blind_value(register.engine, licence)
            assert (licence in stored) is (register.kind == "file")
            # a conflict keeps the value as record_key holds it, never hashed twice
            session.add(Conflict(kind="licence", key_value=stored, record_a=ids[0], unit_a="a",
                                 record_b=ids[1], unit_b="b"))
            session.commit()
            assert session.execute(select(Conflict.id).where(Conflict.key_value == licence)
                                   ).scalar_one() == 1


def test_the_private_keys_are_sealed_on_postgresql_and_still_sign(store):
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    from desktop.storage import own_keys

    with create_register(store, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        with register.session() as session:
            signing, encrypting = own_keys(session, register.own_unit_id)
            stored = session.execute(text("SELECT private_key FROM unit_key")).scalars().all()
    assert len(stored) == 2
    raw_keys = [k.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
                for k in (signing, encrypting)]
    held = b"".join(bytes(s) for s in stored)
    for raw_key in raw_keys:
        assert (raw_key in held) is (not store.startswith("postgresql"))
    signing.public_key().verify(signing.sign(b"manifest"), b"manifest")


def test_a_dump_that_does_not_read_back_is_no_backup(pg_url, tmp_path, monkeypatch):
    from desktop.storage.server import dump

    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\nfor a; do case $a in --file=*) printf 'PGDMP?' > "
                    "\"${a#--file=}\";; esac; done\nexit 0\n")
    fake.chmod(0o755)
    real = dump.client_program
    monkeypatch.setattr(dump, "client_program",
                        lambda name: str(fake) if name == "pg_dump" else real(name))
    out = tmp_path / "backup.dump"
    with create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        with pytest.raises(KnownError, match="读不回来"):
            backup_register(register, out)
    assert not out.exists() and list(tmp_path.glob("*.part")) == []


def test_updates_by_key_and_revision_are_sealed_for_their_rows(store):
    """The patterns an optimistic-concurrency save uses: WHERE id = … AND revision = …, and
    one statement executed for many rows with the id as a bound parameter."""
    from sqlalchemy import bindparam

    with create_register(store, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        ids = _fill(register)
        with register.session() as session:
            done = session.execute(update(Record).where(Record.id == ids[0], Record.revision == 1)
                                   .values(name="甲", data='{"n": 1}', revision=2))
            assert done.rowcount == 1
            stale = session.execute(update(Record).where(Record.id == ids[0],
                                                         Record.revision == 1)
                                    .values(name="乙", revision=2))
            assert stale.rowcount == 0
            session.connection().execute(
                update(Record).where(Record.id == bindparam("rid")).values(
                    name=bindparam("new_name")),
                [{"rid": ids[0], "new_name": "丙"}, {"rid": ids[1], "new_name": "丁"}])
            session.commit()
            if register.kind == "server":  # one literal for several rows: no row to seal it for
                with pytest.raises((SealingError, StatementError)):
                    session.connection().execute(
                        update(Record).where(Record.id == bindparam("rid")).values(name="戊"),
                        [{"rid": ids[0]}, {"rid": ids[1]}])
                session.rollback()
        with register.session() as session:
            rows = session.execute(select(Record.id, Record.name, Record.data, Record.revision)
                                   .order_by(Record.id)).all()
    assert [(r.name, r.revision) for r in rows] == [("丙", 2), ("丁", 1)]
    assert json.loads(rows[0].data) == {"n": 1}


def test_a_server_that_cannot_be_reached_is_said_so(pg_cluster, tmp_path):
    for url in [pg_cluster.url("no_such_database"),
                f"postgresql:///dj?host={tmp_path}&connect_timeout=2"]:
        with pytest.raises(KnownError, match="无法连接 PostgreSQL 登记库") as err:
            open_register(url, PASSPHRASE, kdf=FAST_KDF)
        assert ".pgpass" in str(err.value)
        with pytest.raises(KnownError, match="无法连接 PostgreSQL 登记库"):
            create_register(url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)
