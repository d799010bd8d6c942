"""A kill during a handover (services/handover.py) is never half a handover: after the kill
and the next open (which settles what it finds: settle_handover), either nothing changed — the
outgoing clerk's passphrase, recovery key and 经办人, no `register.handover` entry (a dropped
intent leaves one audit line saying so) — or the handover is complete: the incoming clerk's
passphrase, a recovery key that is not the outgoing clerk's (his opens nothing), the new
经办人 and exactly one `register.handover` entry. A second open finds nothing to settle.

The child is forked and killed at every point where the handover reaches the disk or the
server (before and after each rename, after each fsync, before and after each commit), one run
per point until a run gets to the end; on a file register and on PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.errors import WrongPassphrase
from desktop.services import handover, secrets
from desktop.services.unit import save_unit_profile, unit_profile
from desktop.storage import (
    AuditEntry,
    Meta,
    UnitInfo,
    create_register,
    crypto,
    open_register,
    verify_audit_chain,
)
from tests.pg.cluster import pg_cluster  # noqa: F401 (a fixture)
from tests.robustness.conftest import die_at_disk_event
from tests.storage.conftest import FAST_KDF

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL are POSIX")

OLD_PASS = "原来的口令 Correct-Horse-1"
NEW_PASS = "海棠花开的小院子 Garden-2031"
GIVER, TAKER = "张三", "李四"
MAX_POINTS = 80


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)


def prepare(where: str) -> str:
    """A register with a confirmed recovery key and GIVER as its 经办人; the key's text."""
    from desktop.services.registers import passphrase_problem

    passphrase_problem(NEW_PASS)  # zxcvbn's dictionaries loaded once, before the forks
    with create_register(where, OLD_PASS, UnitInfo("31110000MD01234564", "某所党支部", "firm"),
                         kdf=FAST_KDF) as reg:
        key = secrets.make_recovery_key(reg, GIVER)
        secrets.confirm_recovery_saved(reg, key.key_id, GIVER)
        save_unit_profile(reg, GIVER, {"handler": GIVER})
    return key.text


def _child(where: str, point: int | None) -> None:
    crypto.DEFAULT_KDF = FAST_KDF
    die_at_disk_event(point)
    with open_register(where, OLD_PASS) as reg:
        handover.hand_over(reg, OLD_PASS, NEW_PASS, GIVER, TAKER, GIVER)
    os._exit(0)


def fork(where: str, point: int | None) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            _child(where, point)
        except BaseException:
            os._exit(70)
    return pid


def opening(where: str) -> str:
    """The one passphrase that opens the register now."""
    found = []
    for passphrase in (OLD_PASS, NEW_PASS):
        try:
            open_register(where, passphrase, rekey=False).close()
        except WrongPassphrase:
            continue
        found.append(passphrase)
    assert len(found) == 1, f"opened by {len(found)} passphrases"
    return found[0]


def state(where: str, passphrase: str) -> dict:
    with open_register(where, passphrase, rekey=False) as reg, reg.session() as session:
        assert verify_audit_chain(session).ok
        actions = list(session.execute(select(AuditEntry.action).order_by(AuditEntry.seq))
                       .scalars())
        pending = session.get(Meta, handover.PENDING_KEY) is not None
        return {"actions": actions, "pending": pending, "handler": unit_profile(reg).handler,
                "key_id": secrets.recovery_state(reg).key_id}


def check(where: str, old_key: str, before: dict, how: str) -> str:
    """The promise after the kill and the next open; what it was, in words."""
    passphrase = opening(where)
    left = state(where, passphrase)
    with open_register(where, passphrase) as reg:  # the next open, as the window's and open_db's
        settled = handover.settle_handover(reg, passphrase, "测试员")
    with open_register(where, passphrase) as reg:  # and the one after: nothing more to do
        assert handover.settle_handover(reg, passphrase, "测试员") is None, how
    after = state(where, passphrase)
    assert not after["pending"], how
    assert opening(where) == passphrase, how
    if passphrase == OLD_PASS:  # nothing changed: at most the dropped intent's line
        assert after["handler"] == GIVER and after["key_id"] == before["key_id"], how
        added = after["actions"][len(before["actions"]):]
        assert after["actions"][:len(before["actions"])] == before["actions"], how
        assert added in ([], [handover.DROPPED]), (how, added)
        assert (added == [handover.DROPPED]) is left["pending"], how
        assert settled is None or not settled.finished, how
        assert secrets.recovery_problem(where, old_key) is None, how  # the old key still opens
        return "nothing" if not added else "dropped"
    assert after["handler"] == TAKER, how
    assert after["actions"].count(handover.ACTION) == 1, how
    assert handover.DROPPED not in after["actions"], how
    assert after["key_id"] != before["key_id"], how
    assert secrets.recovery_problem(where, old_key) is not None, how  # the giver's key is void
    if left["pending"]:
        assert settled is not None and settled.finished and settled.to_name == TAKER, how
        return "finished at open"
    assert settled is None, how
    return "complete"


def kill_at_every_point(fresh, old_key: str) -> list[str]:
    outcomes, before = [], None
    for point in range(1, MAX_POINTS):
        where = fresh()
        if before is None:
            before = state(where, OLD_PASS)
        _, status = os.waitpid(fork(where, point), 0)
        code = os.waitstatus_to_exitcode(status)
        assert code in (0, 9), f"the child failed at point {point} (exit {code})"
        outcomes.append(check(where, old_key, before, f"killed at point {point}"))
        if code == 0:
            break
    else:
        pytest.fail(f"the handover did not finish in {MAX_POINTS} points")
    print(outcomes)
    assert outcomes[0] == "nothing" and outcomes[-1] == "complete"
    # both halves of the gap were reached: a kill before the re-key, dropped at the next
    # open, and one after it, finished at the next open
    assert "dropped" in outcomes and "finished at open" in outcomes
    return outcomes


def test_a_killed_handover_on_a_file_is_complete_or_undone(tmp_path: Path) -> None:
    template = tmp_path / "template"
    template.mkdir()
    old_key = prepare(str(template / "r.dengji"))

    def fresh() -> str:
        work = tmp_path / "w"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(template, work)
        return str(work / "r.dengji")

    kill_at_every_point(fresh, old_key)


def test_a_killed_handover_on_postgresql_is_complete_or_undone(pg_cluster) -> None:  # noqa: F811
    template = f"t_{uuid.uuid4().hex[:12]}"
    pg_cluster.admin(f"CREATE DATABASE {template}")
    made = [template]
    try:
        old_key = prepare(pg_cluster.url(template))

        def fresh() -> str:
            name = f"t_{uuid.uuid4().hex[:12]}"
            pg_cluster.admin(f"CREATE DATABASE {name} TEMPLATE {template}")
            made.append(name)
            return pg_cluster.url(name)

        kill_at_every_point(fresh, old_key)
    finally:
        for name in made:
            pg_cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_handover_left_by_a_kill_is_settled_before_the_next_one(tmp_path: Path) -> None:
    """The intent of a handover killed before its re-key, found by the next handover itself
    (not by an open): dropped first, then the new handover runs whole."""
    where = str(tmp_path / "r.dengji")
    prepare(where)
    _, status = os.waitpid(fork(where, 2), 0)  # after the intent's commit, before the re-key
    assert os.waitstatus_to_exitcode(status) == 9 and state(where, OLD_PASS)["pending"]
    with open_register(where, OLD_PASS) as reg:
        handover.hand_over(reg, OLD_PASS, NEW_PASS, GIVER, "王五", GIVER)
    after = state(where, NEW_PASS)
    assert after["handler"] == "王五" and not after["pending"]
    assert after["actions"][-2:] == [handover.ACTION, "unit.profile"]  # one transaction
    assert after["actions"].count(handover.DROPPED) == 1


def test_a_damaged_intent_is_dropped_not_finished(tmp_path: Path) -> None:
    where = str(tmp_path / "r.dengji")
    prepare(where)
    with open_register(where, OLD_PASS) as reg:
        with reg.session() as session:
            session.merge(Meta(key=handover.PENDING_KEY, value="{not json"))
            session.commit()
        settled = handover.settle_handover(reg, OLD_PASS, "测试员")
    assert settled is not None and not settled.finished and "没有完成" in settled.message
    after = state(where, OLD_PASS)
    assert after["handler"] == GIVER and not after["pending"]
    assert after["actions"][-1] == handover.DROPPED




def test_a_handover_under_way_on_a_server_is_left_to_its_clerk(pg_cluster) -> None:  # noqa: F811
    """Another clerk's open while a handover runs (its session holds the advisory lock) does
    not drop the intent that handover is about to finish; nor may a second handover start.
    Once that session ends (a kill ends it too), the next open settles."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_cluster.admin(f"CREATE DATABASE {name}")
    url = pg_cluster.url(name)
    try:
        prepare(url)
        with open_register(url, OLD_PASS) as reg, reg.session() as session:
            session.merge(Meta(key=handover.PENDING_KEY, value="{}"))
            session.commit()
        with psycopg.connect(url, autocommit=True) as running:  # the handover's session
            running.execute("SELECT pg_advisory_lock(%s)", (0x646A686F,))
            with open_register(url, OLD_PASS) as reg:
                assert handover.settle_handover(reg, OLD_PASS, "测试员") is None
                with pytest.raises(Exception, match="另一位经办人正在移交"):
                    handover.hand_over(reg, OLD_PASS, NEW_PASS, GIVER, TAKER, GIVER)
            assert state(url, OLD_PASS)["pending"]
        with open_register(url, OLD_PASS) as reg:
            settled = handover.settle_handover(reg, OLD_PASS, "测试员")
        assert settled is not None and not settled.finished
        assert not state(url, OLD_PASS)["pending"]
    finally:
        pg_cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
