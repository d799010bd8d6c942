"""Creating and opening registers: encryption, wrong passphrases, wrong files, schema versions.

What holds on both stores runs on both (`store_register`, `store`: a SQLCipher file and a
PostgreSQL database); what is about the file itself (its encryption, SQLite's pragmas, the salt
in its header, paths that are not registers) runs on a file only.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from desktop.errors import KnownError, NewerSchema, NotARegister, WrongPassphrase
from desktop.storage import Meta, Register, Unit, create_register, migrations, open_register
from desktop.storage import engine as engine_module
from desktop.storage.files import list_backups
from tests.storage.conftest import FAST_KDF, OWN_UNIT, PASSPHRASE
from tests.stores import is_server


def snapshot(path: object) -> tuple:
    """What a refusal must leave as it was: a file's bytes, its mtime and the names in its
    folder; a database's tables and every row of meta and of the audit log."""
    if is_server(str(path)):
        with psycopg.connect(str(path)) as conn:
            return tuple(conn.execute(sql).fetchall() for sql in (
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "ORDER BY 1", "SELECT key, value FROM meta ORDER BY key",
                "SELECT seq, hash, detail FROM audit_entry ORDER BY seq"))
    path = Path(path)
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(p.name for p in path.parent.iterdir())


def test_create_then_open_roundtrip(store_register: Register) -> None:
    register = store_register
    path, unit_id = register.path, register.own_unit_id
    register.close()
    with open_register(path, PASSPHRASE, kdf=FAST_KDF) as reopened:
        assert reopened.own_unit_id == unit_id
        with reopened.session() as session:
            own = session.get(Unit, unit_id)
            assert own is not None and own.is_own
            assert (own.code, own.name, own.level, own.parent_code) == (
                OWN_UNIT.code, OWN_UNIT.name, OWN_UNIT.level, OWN_UNIT.parent_code)
            facts = {m.key: m.value for m in session.exec(select(Meta))}
    assert facts["schema_version"] == str(migrations.SCHEMA_VERSION)
    assert facts["own_unit_id"] == unit_id
    if register.kind == "file":
        assert len(bytes.fromhex(facts["person_key_secret"])) == 32
    else:  # never in clear in a database: wrapped under the data key (server/datakey.py)
        assert "person_key_secret" not in facts and facts["server.hash_secret"]
    assert facts["created_at"].endswith("Z")


def test_file_is_encrypted(register: Register) -> None:
    register.close()
    data = register.path.read_bytes()
    assert not data.startswith(b"SQLite format 3")
    assert OWN_UNIT.name.encode("utf-8") not in data
    assert OWN_UNIT.code.encode("ascii") not in data
    assert b"person_key_secret" not in data
    assert sorted(p.name for p in register.path.parent.iterdir()) == ["register.dengji"]


def test_pragmas_on_every_connection(register: Register) -> None:
    with register.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert conn.execute(text("PRAGMA cache_size")).scalar() == -64 * 1024


def test_wrong_passphrase_changes_nothing(store_register: Register) -> None:
    register = store_register
    register.close()
    before = snapshot(register.path)
    with pytest.raises(WrongPassphrase) as caught:
        open_register(register.path, "错误的口令", kdf=FAST_KDF)
    assert str(register.path) in str(caught.value)
    assert "口令不正确" in str(caught.value)
    assert snapshot(register.path) == before  # bytes, mtime, and no -wal/-shm left behind


def test_passphrase_is_case_sensitive(store_register: Register) -> None:
    register = store_register
    register.close()
    with pytest.raises(WrongPassphrase):
        open_register(register.path, PASSPHRASE.lower(), kdf=FAST_KDF)


def test_the_kdf_params_are_read_from_the_file_not_the_caller(register: Register) -> None:
    """A register opens with the parameters its salt records, whatever the caller asks for;
    asking for stronger ones re-keys it (tests/storage/test_kdf_rekey.py), weaker ones do not."""
    from desktop.storage import crypto

    register.close()
    with open_register(register.path, PASSPHRASE, kdf=type(FAST_KDF)(n=2**9, r=8, p=1)):
        pass
    assert crypto.kdf_for_salt(crypto.read_header(register.path)[:16]) == FAST_KDF
    with pytest.raises(WrongPassphrase):
        open_register(register.path, PASSPHRASE + "x", kdf=FAST_KDF)


def test_plain_sqlite_file_is_not_a_register(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(NotARegister, match="不是登记库文件"):
        open_register(path, PASSPHRASE, kdf=FAST_KDF)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        "姓名,身份证号\n张三,110101199003071234\n".encode() * 200,  # a CSV of 8 KiB
        "姓名,身份证号\n".encode("gbk") * 400,
        b"hello",
        b"PK\x03\x04" + bytes(8188),  # an .xlsx or a package picked by mistake
    ],
    ids=["empty", "utf8-text", "gbk-text", "short", "zip"],
)
def test_other_files_are_not_registers(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "other.dengji"
    path.write_bytes(content)
    with pytest.raises(NotARegister) as caught:
        open_register(path, PASSPHRASE, kdf=FAST_KDF)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == content


def test_missing_file_suggests_init(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.dengji"
    with pytest.raises(KnownError) as caught:
        open_register(path, PASSPHRASE, kdf=FAST_KDF)
    assert str(path) in str(caught.value) and "dengji init" in str(caught.value)
    assert not path.exists()


def test_folder_is_not_a_register(tmp_path: Path) -> None:
    with pytest.raises(NotARegister):
        open_register(tmp_path, PASSPHRASE, kdf=FAST_KDF)


def test_create_refuses_existing_file(store_register: Register) -> None:
    register = store_register
    register.close()
    before = snapshot(register.path)
    with pytest.raises(KnownError, match="已存在" if register.kind == "file" else "已经有登记库"):
        create_register(register.path, "另一个口令", OWN_UNIT, kdf=FAST_KDF)
    assert snapshot(register.path) == before


def test_create_makes_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "register.dengji"
    with create_register(path, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        assert register.path == path
    assert path.is_file()


def nothing_made(store: str, tmp_path: Path) -> bool:
    """Whether the folder (of a file store) or the database holds nothing."""
    if not is_server(store):
        return list(tmp_path.iterdir()) == []
    with psycopg.connect(store) as conn:
        return conn.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = 'public'").fetchone() == (0,)


def test_create_refuses_bad_input(store: str, tmp_path: Path) -> None:
    with pytest.raises(KnownError, match="口令不能为空"):
        create_register(store, "", OWN_UNIT, kdf=FAST_KDF)
    bad_level = type(OWN_UNIT)(code="1", name="某单位", level="county")
    with pytest.raises(KnownError, match="单位级别"):
        create_register(store, PASSPHRASE, bad_level, kdf=FAST_KDF)
    blank = type(OWN_UNIT)(code=" ", name="某单位", level="firm")
    with pytest.raises(KnownError, match="代码和名称"):
        create_register(store, PASSPHRASE, blank, kdf=FAST_KDF)
    assert nothing_made(store, tmp_path)


def test_interrupted_create_leaves_nothing(store: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object) -> None:
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(engine_module, "add_own_keys", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        create_register(store, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)
    assert nothing_made(store, tmp_path)
    monkeypatch.undo()  # and the place is as good as new: a register can be made there
    create_register(store, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()


def test_salt_is_the_file_header_and_differs_per_register(make_register) -> None:
    first, second = make_register("one.dengji"), make_register("two.dengji")
    first.close()
    second.close()
    assert first.path.read_bytes()[:16] != second.path.read_bytes()[:16]


def set_schema_version(register: Register, version: int) -> None:
    with register.session() as session:
        session.get(Meta, "schema_version").value = str(version)
        session.commit()
    register.close()


def test_newer_schema_is_refused_untouched(store_register: Register) -> None:
    register = store_register
    current = migrations.SCHEMA_VERSION
    set_schema_version(register, current + 1)
    before = snapshot(register.path)
    with pytest.raises(NewerSchema) as caught:
        open_register(register.path, PASSPHRASE, kdf=FAST_KDF)
    message = str(caught.value)
    assert f"版本 {current + 1}" in message and f"只支持到 {current}" in message
    # a database is not called a file
    assert ("文件" if register.kind == "file" else "数据库") + "未作任何改动" in message
    assert str(register.path) in message
    assert snapshot(register.path) == before


def made_backups(register: Register) -> set[Path]:
    """The backups in the register's backup folder: beside a file, in the user data folder
    for a database (pg_dump's, storage/server/dump.py)."""
    if register.kind == "file":
        return set(list_backups(register.path))
    from desktop.storage.server import dump

    return set(dump.backup_folder().glob("*.dump"))


def test_older_schema_is_backed_up_then_migrated(
    store_register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = store_register
    path = register.path
    register.close()
    original = snapshot(path)
    before = made_backups(register)
    calls: list[int] = []
    current = migrations.SCHEMA_VERSION

    def fake_next(connection) -> None:
        calls.append(1)
        connection.execute(text("CREATE TABLE added_in_next (x INTEGER)"))

    monkeypatch.setattr(migrations, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(migrations, "MIGRATIONS", {current: fake_next})
    with open_register(path, PASSPHRASE, kdf=FAST_KDF) as migrated:
        with migrated.session() as session:
            assert session.get(Meta, "schema_version").value == str(current + 1)
            session.execute(text("SELECT count(*) FROM added_in_next")).scalar_one()
    assert calls == [1]
    backups = made_backups(register) - before
    assert len(backups) == 1
    backup = backups.pop()
    if register.kind == "file":
        assert backup.read_bytes() == original[0]
    else:
        assert backup.read_bytes().startswith(b"PGDMP")

    # The migration is recorded in the audit log and runs only once.
    with open_register(path, PASSPHRASE, kdf=FAST_KDF) as again:
        with again.session() as session:
            from desktop.storage import AuditEntry, verify_audit_chain

            last = session.exec(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
            assert last.action == "migrate"
            assert f'"from":{current}' in last.detail and f'"to":{current + 1}' in last.detail
            assert f'"backup":"{backup.name}"' in last.detail
            assert verify_audit_chain(session).ok
    assert calls == [1]


def test_failed_migration_keeps_the_old_version(
    store_register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = store_register
    path = register.path
    register.close()

    def broken(connection) -> None:
        connection.execute(text("CREATE TABLE half_done (x INTEGER)"))
        raise RuntimeError("migration bug")

    current = migrations.SCHEMA_VERSION
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(migrations, "MIGRATIONS", {current: broken})
    with pytest.raises(RuntimeError, match="migration bug"):
        open_register(path, PASSPHRASE, kdf=FAST_KDF)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", current)
    with open_register(path, PASSPHRASE, kdf=FAST_KDF) as reopened:
        with reopened.session() as session:
            assert session.get(Meta, "schema_version").value == str(current)
            tables = inspect(session.connection()).get_table_names()
            assert "half_done" not in tables and "audit_entry" in tables


def test_session_rolls_back_and_supports_savepoints(store_register: Register) -> None:
    register = store_register
    with register.session() as session:
        session.add(Unit(code="A", name="甲", level="city"))
        with session.begin_nested():
            session.add(Unit(code="B", name="乙", level="city"))
        nested = session.begin_nested()
        session.add(Unit(code="C", name="丙", level="city"))
        session.flush()
        nested.rollback()
        session.commit()
    with register.session() as session:
        codes = set(session.exec(select(Unit.code)).all())
    assert codes == {OWN_UNIT.code, "A", "B"}


def test_passphrase_is_unicode_normalised(make_store_register) -> None:
    composed = "café 口令"  # é as one code point
    decomposed = "cafe\u0301 口令"  # e + combining acute, as some keyboards hand it over
    register = make_store_register(passphrase=composed)
    register.close()
    with open_register(register.path, decomposed, kdf=FAST_KDF) as reopened:
        assert reopened.own_unit_id == register.own_unit_id


def test_encrypted_database_that_is_not_a_register(tmp_path: Path) -> None:
    from desktop.storage import crypto

    path = tmp_path / "other.db"
    salt = crypto.new_salt(FAST_KDF)
    literal = crypto.raw_key(crypto.derive_key(PASSPHRASE, salt, FAST_KDF), salt)
    conn = crypto.connect(path, literal)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.close()
    with pytest.raises(NotARegister, match="不是登记库"):
        open_register(path, PASSPHRASE, kdf=FAST_KDF)


def test_storage_imports_no_qt() -> None:
    import subprocess
    import sys

    code = "import sys, desktop.storage; sys.exit('PySide6' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
