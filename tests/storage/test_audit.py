"""The hash-chained audit log."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from desktop.storage import AuditEntry, Register, append_audit, verify_audit_chain
from desktop.storage.audit import GENESIS_HASH


@pytest.fixture
def register(store_register: Register) -> Register:
    """These tests hold on both stores: a SQLCipher file and a PostgreSQL database."""
    return store_register


@pytest.fixture
def logged(register: Register) -> Register:
    """A register with five entries: init plus four edits."""
    with register.session() as session:
        for n in range(2, 6):
            append_audit(session, "张三", "record.update", f"record-{n}",
                         {"field": "姓名", "old": "李四", "new": f"李四{n}", "n": n})
        session.commit()
    return register


def raw(register: Register, sql: str) -> None:
    with register.engine.begin() as conn:
        conn.execute(text(sql))


def test_chain_verifies(logged: Register) -> None:
    with logged.session() as session:
        check = verify_audit_chain(session)
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert check.ok and check.entries == 5 and check.first_bad_seq is None
    assert "通过" in check.message and str(logged.path) in check.message
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].action == "init" and entries[0].prev_hash == GENESIS_HASH == "0" * 64
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    assert entries[1].ts.endswith("Z") and "T" in entries[1].ts


def test_hash_is_sha256_of_canonical_json(logged: Register) -> None:
    with logged.session() as session:
        entry = session.get(AuditEntry, 3)
    payload = {"seq": entry.seq, "ts": entry.ts, "actor": entry.actor, "action": entry.action,
               "target": entry.target, "detail": json.loads(entry.detail),
               "prev_hash": entry.prev_hash}
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert entry.hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert "李四3" in entry.detail  # Chinese is kept readable, not \u-escaped


def test_append_does_not_commit(register: Register) -> None:
    with register.session() as session:
        entry = append_audit(session, "张三", "noop", "x", {})
        assert entry.seq == 2
        session.rollback()
    with register.session() as session:
        assert verify_audit_chain(session).entries == 1


def test_tampered_detail_is_reported(logged: Register) -> None:
    raw(logged, """UPDATE audit_entry SET detail = '{"field":"姓名","new":"王五"}' WHERE seq = 3""")
    with logged.session() as session:
        check = verify_audit_chain(session)
    assert not check.ok and check.first_bad_seq == 3 and check.entries == 5
    assert "第 3 条" in check.message and str(logged.path) in check.message


def test_tampered_and_rehashed_entry_breaks_the_next_link(logged: Register) -> None:
    raw(logged, "UPDATE audit_entry SET actor = '某人', hash = 'f' || substr(hash, 2) WHERE seq = 2")
    with logged.session() as session:
        assert verify_audit_chain(session).first_bad_seq == 2


def test_deleted_entry_in_the_middle_is_reported(logged: Register) -> None:
    raw(logged, "DELETE FROM audit_entry WHERE seq = 4")
    with logged.session() as session:
        check = verify_audit_chain(session)
    assert (check.ok, check.first_bad_seq) == (False, 4)


def test_cut_off_tail_is_reported(logged: Register) -> None:
    raw(logged, "DELETE FROM audit_entry WHERE seq >= 4")
    with logged.session() as session:
        check = verify_audit_chain(session)
    assert (check.ok, check.first_bad_seq, check.entries) == (False, 4, 3)


def test_chain_continues_across_reopen(logged: Register, kdf) -> None:
    from desktop.storage import open_register
    from tests.storage.conftest import PASSPHRASE

    logged.close()
    with open_register(logged.path, PASSPHRASE, kdf=kdf) as reopened:
        with reopened.session() as session:
            assert append_audit(session, "张三", "export", "pkg", {"records": 3}).seq == 6
            session.commit()
        with reopened.session() as session:
            assert verify_audit_chain(session).ok


def test_details_swapped_between_entries_are_reported(logged: Register) -> None:
    # on PostgreSQL the sealed details are moved as they are stored (they do not open in
    # another row); on SQLite the hashes no longer fit
    raw(logged, "UPDATE audit_entry SET detail = CASE seq WHEN 2 THEN "
                "(SELECT detail FROM audit_entry WHERE seq = 3) ELSE "
                "(SELECT detail FROM audit_entry WHERE seq = 2) END WHERE seq IN (2, 3)")
    with logged.session() as session:
        check = verify_audit_chain(session)
    assert not check.ok and check.first_bad_seq == 2 and "第 2 条" in check.message
