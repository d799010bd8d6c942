"""A reviewer role (SELECT only) opens a PostgreSQL register whose data key is wrapped under
older scrypt parameters than today's: the open works and changes nothing (the role may not
re-wrap), and the next clerk's open upgrades the wrap with its audit entry (issue 18)."""

from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy import select

from desktop.storage import Record, open_register, verify_audit_chain
from desktop.storage.concurrency import can_write, refusal
from desktop.storage.crypto import KdfParams
from desktop.storage.server import store
from desktop.storage.server.datakey import KDF_KEY
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)
from tests.pg.test_concurrency import editor, new_record, office  # noqa: F401 (a fixture)
from tests.storage.conftest import FAST_KDF, PASSPHRASE

STRONGER = KdfParams(n=2**11, r=8, p=1)  # "today's" parameters; the office was made with 2^10


def meta(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def audit(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT action, actor FROM audit_entry ORDER BY seq").fetchall()


def wrapped_n(url: str) -> int:
    return json.loads(meta(url)[KDF_KEY])["n"]


def reads(url: str, kdf: KdfParams) -> list[str]:
    with open_register(url, PASSPHRASE, kdf=kdf) as register, register.session() as session:
        assert verify_audit_chain(session).ok
        return list(session.execute(select(Record.name)).scalars())


def test_a_reviewer_opens_an_older_wrap_and_a_clerk_upgrades_it(office):  # noqa: F811
    rid = new_record(office["owner"])
    before, log = meta(office["owner"]), audit(office["owner"])
    assert wrapped_n(office["owner"]) == FAST_KDF.n
    # the reviewer: opens, reads the sealed records, leaves the wrap and the log as they were
    assert reads(office["reviewer_c"], STRONGER) == ["王小明"]
    assert reads(office["reviewer_c"], STRONGER) == ["王小明"]  # and again: nothing was half done
    assert meta(office["owner"]) == before and audit(office["owner"]) == log
    # what the reviewer may not do is still refused, in Chinese, nothing written
    with open_register(office["reviewer_c"], PASSPHRASE, kdf=STRONGER) as register:
        assert not can_write(register.engine) and not store.may_change_keys(register.engine)
        s = editor(register, "审阅员")
        s.load(rid)
        s.set_raw(s.form.name_field, "改不了", check=False)
        with pytest.raises(Exception) as caught:
            s.save()
        assert "只有查看权限" in str(refusal(caught.value))
        s.close()
    assert meta(office["owner"]) == before and audit(office["owner"]) == log
    # a clerk's open upgrades it, audited under the clerk's role
    assert reads(office["clerk_a"], STRONGER) == ["王小明"]
    assert wrapped_n(office["owner"]) == STRONGER.n
    action, actor = audit(office["owner"])[-1]
    assert action == "rekey" and actor.endswith(office["roles"]["clerk_a"])
    # the reviewer opens the upgraded wrap too, and the clerk's next open changes nothing
    upgraded = meta(office["owner"])
    assert reads(office["reviewer_c"], STRONGER) == ["王小明"]
    assert reads(office["clerk_a"], STRONGER) == ["王小明"]
    assert meta(office["owner"]) == upgraded and len(audit(office["owner"])) == len(log) + 1


def test_a_refusal_the_check_did_not_foresee_keeps_the_old_wrap(office, monkeypatch):  # noqa: F811
    """A role the privilege check lets through but the server refuses (a grant revoked
    between the check and the write, a policy): the re-wrap's transaction is rolled back
    whole and the register opens with the old wrap."""
    new_record(office["owner"])
    before, log = meta(office["owner"]), audit(office["owner"])
    monkeypatch.setattr(store, "may_change_keys", lambda engine: True)
    assert reads(office["reviewer_c"], STRONGER) == ["王小明"]
    assert meta(office["owner"]) == before and audit(office["owner"]) == log


def test_a_read_only_session_is_not_asked_to_rewrap(office, pg_cluster):  # noqa: F811
    """A clerk's role whose sessions are read-only (default_transaction_read_only, as on a
    standby) holds the grants but may not write: it opens, the wrap stays."""
    role = office["roles"]["clerk_b"]
    with psycopg.connect(office["owner"], autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {role} SET default_transaction_read_only = on")
    before = meta(office["owner"])
    assert reads(office["clerk_b"], STRONGER) == []
    assert meta(office["owner"]) == before


def test_other_errors_of_the_rewrap_are_not_swallowed(office, monkeypatch):  # noqa: F811
    """Only a refused write is taken as 'may not': any other failure of the re-wrap stops the
    open as before."""
    from sqlalchemy.exc import OperationalError

    def failing(engine, keys, passphrase, kdf, *, action, actor="system"):
        raise OperationalError("UPDATE meta", {}, psycopg.errors.DiskFull("no space left"))

    monkeypatch.setattr(store, "rewrap", failing)
    with pytest.raises(OperationalError):
        open_register(office["clerk_a"], PASSPHRASE, kdf=STRONGER)
    assert wrapped_n(office["owner"]) == FAST_KDF.n
