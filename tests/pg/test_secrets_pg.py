"""Passphrase change and the recovery key on a PostgreSQL register (storage/server/secrets.py
through services/secrets.py): the data key re-wrapped, never the data; wrong old, weak new,
mistyped, foreign and voided recovery keys refused with nothing written; a session already open
keeps working after a change; the handover on a server."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text

from desktop.errors import KnownError, WrongPassphrase
from desktop.services.handover import hand_over
from desktop.services.secrets import (
    change_passphrase,
    confirm_recovery_saved,
    make_recovery_key,
    recover,
    recovery_problem,
    recovery_state,
)
from desktop.storage import AuditEntry, Record, create_register, crypto, open_register
from desktop.storage import recovery as slots
from desktop.storage.server.secrets import WRAP_KEY
from tests.storage.conftest import FAST_KDF, OWN_UNIT, PASSPHRASE

NEW = "Xin-Kouling 2026 换了的口令 horse"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)


@pytest.fixture
def reg(pg_url):
    register = create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)
    with register.session() as session:
        session.add(Record(form_id="lawyer_member", form_version="1", unit_id=register.own_unit_id,
                           data='{"name": "张三"}', name="张三", state="draft"))
        session.commit()
    yield register
    register.close()


def meta(register) -> dict[str, str]:
    with register.engine.connect() as conn:
        return dict(conn.execute(text("SELECT key, value FROM meta")).all())


def raw_records(register) -> list[str]:
    with register.engine.connect() as conn:
        return list(conn.execute(text("SELECT data FROM record ORDER BY id")).scalars())


def actions(register) -> list[str]:
    with register.session() as session:
        return list(session.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())


def test_change_rewraps_the_key_not_the_data(reg, pg_url):
    sealed, before = raw_records(reg), meta(reg)
    done = change_passphrase(reg, PASSPHRASE, NEW, "张三")
    assert done.backup is None and done.recovery is None
    after = meta(reg)
    assert raw_records(reg) == sealed  # the sealed rows are byte for byte the same
    assert after["server.dek"] != before["server.dek"]
    assert after["server.kdf"] != before["server.kdf"]  # a new salt
    assert actions(reg)[-1] == "register.passphrase"
    with pytest.raises(WrongPassphrase):
        open_register(pg_url, PASSPHRASE)
    again = open_register(pg_url, NEW)
    with again.session() as session:
        assert session.scalar(select(Record.data)) == '{"name": "张三"}'
    again.close()


def test_wrong_old_or_weak_new_changes_nothing(reg):
    before, audit = meta(reg), actions(reg)
    with pytest.raises(WrongPassphrase, match="原口令不正确"):
        change_passphrase(reg, "not-the-passphrase-1", NEW, "张三")
    for weak in ("12345678", PASSPHRASE, ""):
        with pytest.raises(KnownError):
            change_passphrase(reg, PASSPHRASE, weak, "张三")
    assert meta(reg) == before and actions(reg) == audit


def test_an_open_session_keeps_working_after_a_change(reg, pg_url):
    other = open_register(pg_url, PASSPHRASE)  # another clerk, opened before
    try:
        change_passphrase(reg, PASSPHRASE, NEW, "张三")
        with other.session() as session:  # reads and writes still open and seal
            assert session.scalar(select(Record.data)) == '{"name": "张三"}'
            session.add(Record(form_id="lawyer_member", form_version="1",
                               unit_id=other.own_unit_id, data='{"name": "李四"}', name="李四",
                               state="draft"))
            session.commit()
        with reg.session() as session:
            assert session.scalar(select(func.count()).select_from(Record)) == 2
    finally:
        other.close()


def test_recover_with_the_key_sets_a_new_passphrase(reg, pg_url):
    key = make_recovery_key(reg, "张三")
    state = recovery_state(reg)
    assert (state.has_key, state.key_id, state.confirmed) == (True, key.key_id, False)
    assert slots.META_KEK not in meta(reg)  # meta is not encrypted on a server
    assert key.text not in str(meta(reg)) and key.unit_code == OWN_UNIT.code
    confirm_recovery_saved(reg, key.key_id.lower(), "张三")
    assert recovery_state(reg).confirmed
    assert recovery_problem(pg_url, key.text) is None
    reg.close()
    done = recover(pg_url, key.text.replace("-", " "), NEW, "张三")
    try:
        assert done.backup is None
        with done.register.session() as session:
            assert session.scalar(select(Record.data)) == '{"name": "张三"}'
        assert actions(done.register)[-1] == "register.recover"
    finally:
        done.register.close()
    with pytest.raises(WrongPassphrase):
        open_register(pg_url, PASSPHRASE)
    open_register(pg_url, NEW).close()


def test_bad_keys_are_named_and_change_nothing(reg, pg_url, tmp_path):
    assert "还没有恢复密钥" in recovery_problem(pg_url, slots.key_text(slots.new_secret()))
    old = make_recovery_key(reg, "张三")
    new = make_recovery_key(reg, "张三")  # voids the old one
    assert actions(reg)[-2:] == ["recovery.new", "recovery.new"]
    with pytest.raises(KnownError, match="不是本登记库当前的恢复密钥"):
        confirm_recovery_saved(reg, old.key_id, "张三")
    groups = new.text.split("-")
    groups[4] = f"{(int(groups[4]) + 1) % 1000000:06d}"
    assert "第 5 组" in recovery_problem(pg_url, "-".join(groups))
    assert "已被" in recovery_problem(pg_url, old.text)
    other = create_register(tmp_path / "other.dengji", PASSPHRASE, OWN_UNIT, kdf=FAST_KDF)
    foreign = make_recovery_key(other, "张三")
    other.close()
    assert "不是本登记库的恢复密钥" in recovery_problem(pg_url, foreign.text)
    before = meta(reg)
    for typed in (old.text, foreign.text, "-".join(groups)):
        with pytest.raises(KnownError):
            recover(pg_url, typed, NEW, "张三")
    with pytest.raises(KnownError, match="新口令不能使用"):
        recover(pg_url, new.text, "12345678", "张三")
    assert meta(reg) == before
    # a wrap tampered with opens nothing (the tag fails), and is said so
    with reg.engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = :v WHERE key = :k"),
                     {"k": WRAP_KEY, "v": before[WRAP_KEY][:-2] + "00"})
    assert "已被改动或损坏" in recovery_problem(pg_url, new.text)


def test_passphrase_change_keeps_the_recovery_key(reg, pg_url):
    key = make_recovery_key(reg, "张三")
    done = change_passphrase(reg, PASSPHRASE, NEW, "张三", new_recovery=False)
    assert done.recovery is None and recovery_state(reg).key_id == key.key_id
    reg.close()
    recover(pg_url, key.text, "Third passphrase 第三个 2026!", "张三").register.close()


def test_handover_on_a_server(reg, pg_url):
    old = make_recovery_key(reg, "张三")
    done = hand_over(reg, PASSPHRASE, NEW, "张三", "李四", "张三")
    assert done.backup is None and done.recovery.key_id != old.key_id
    assert recovery_state(reg).key_id == done.recovery.key_id
    assert "已被" in recovery_problem(pg_url, old.text)
    done_actions = actions(reg)
    tail = done_actions[done_actions.index("register.passphrase"):]
    assert tail[:2] == ["register.passphrase", "recovery.new"] and "register.handover" in tail
    open_register(pg_url, NEW).close()


def test_the_commands_on_a_server(dengji, pg_url, tmp_path, monkeypatch):
    from tests.cli.test_secrets import printed_key
    from tests.conftest import PASSPHRASE as CLI_PASSPHRASE
    from tests.conftest import UNIT_CODE, UNIT_NAME

    made = dengji("init", "--db", pg_url, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE, "--recovery-sheet", tmp_path / "sheet.pdf", "--yes")
    assert made.code == 0, made.err
    key = printed_key(made.out)
    assert (tmp_path / "sheet.pdf").stat().st_size > 0 and "暂不支持" not in made.err
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", NEW)
    done = dengji("passphrase", "--db", pg_url)
    assert done.code == 0, done.err
    assert "已修改" in done.out and "收回其 PostgreSQL 角色" in done.out
    monkeypatch.delenv("DENGJI_PASSPHRASE")  # forgotten
    third = "Third passphrase 第三个 2026!"
    monkeypatch.setenv("DENGJI_NEW_PASSPHRASE", third)
    typed = tmp_path / "key.txt"
    typed.write_text(key, encoding="utf-8")
    back = dengji("recover", "--db", pg_url, "--key-file", typed)
    assert back.code == 0, back.err
    assert "已用恢复密钥打开" in back.out and "None" not in back.out
    for wrong in (CLI_PASSPHRASE, NEW):
        with pytest.raises(WrongPassphrase):
            open_register(pg_url, wrong)
    monkeypatch.setenv("DENGJI_PASSPHRASE", third)
    newer = dengji("recovery-key", "--db", pg_url, "--sheet", tmp_path / "new.pdf", "--yes")
    assert newer.code == 0 and "已作废" in newer.out, newer.err
    voided = dengji("recover", "--db", pg_url, "--key-file", typed)
    assert voided.code != 0 and "已被" in voided.err and "登记库未作任何改动" in voided.err


def test_an_empty_database_or_a_newer_schema_is_refused_untouched(reg, pg_url, pg_cluster):
    key = make_recovery_key(reg, "张三")
    name = f"t_empty_{uuid.uuid4().hex[:8]}"
    pg_cluster.admin(f"CREATE DATABASE {name}")
    try:
        empty = pg_cluster.url(name)
        assert "没有登记库" in recovery_problem(empty, key.text)
        with pytest.raises(KnownError, match="没有登记库"):
            recover(empty, key.text, NEW, "张三")
    finally:
        pg_cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    with reg.engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '999' WHERE key = 'schema_version'"))
    before = meta(reg)
    with pytest.raises(KnownError, match="999|更新"):
        recover(pg_url, key.text, NEW, "张三")
    assert meta(reg) == before
