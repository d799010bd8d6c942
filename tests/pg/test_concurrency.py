"""Several clerks at once (issue 18): the record's revision checked on save (both stores, in
one process), then two real processes on one PostgreSQL register — different records do not
wait for each other, the same record tells the second clerk who changed it and how and loses
nothing, an import is seen whole or not at all by a reader — and the reviewer role refused
with a Chinese message (service, command line), the audit log naming each role."""

from __future__ import annotations

import json
import multiprocessing
import queue
import time
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from desktop.errors import KnownError
from desktop.formspec import shipped_forms
from desktop.services import editing
from desktop.services.editing import EditSession
from desktop.storage import AuditEntry, Record, create_register, open_register, verify_audit_chain
from desktop.storage.concurrency import (
    RecordChanged,
    can_write,
    claim_revision,
    refusal,
    role_statements,
)
from tests.pg.cluster import new_database
from tests.storage.conftest import FAST_KDF, OWN_UNIT, PASSPHRASE

FORM = "lawyer_member"
WAIT = 120  # seconds a child may take before the test calls it hung (never a timing assertion)
SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "register.dengji")
    return request.getfixturevalue("pg_url")


def editor(register, actor: str) -> EditSession:
    forms = shipped_forms()
    return EditSession(register, forms, forms.form(FORM), register.own_unit_id, actor=actor)


def field(session: EditSession, label: str) -> str:
    return session.form.field_by_label(label).id


def new_record(url: str) -> str:
    with open_register(url, PASSPHRASE, kdf=FAST_KDF) as register:
        s = editor(register, "建档员")
        s.set_raw(s.form.name_field, "王小明", check=False)
        s.set_raw(field(s, "手机号码"), "13800000001", check=False)
        assert s.save()
        rid = s.record_id
        s.close()
    return rid


def audit_ok(register) -> bool:
    with register.session() as session:
        return verify_audit_chain(session).ok


def stored(url: str, rid: str) -> tuple[int, dict]:
    with open_register(url, PASSPHRASE, kdf=FAST_KDF) as register, register.session() as session:
        rec = session.get(Record, rid)
        return rec.revision, json.loads(rec.data)


# -- one process, both stores ----------------------------------------------------------------


def test_the_second_save_of_a_record_is_told_and_chooses(url):
    create_register(url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    rid = new_record(url)
    with open_register(url, PASSPHRASE, kdf=FAST_KDF) as register:
        a, b = editor(register, "甲"), editor(register, "乙")
        a.load(rid)
        b.load(rid)
        name, mobile = a.form.name_field, field(a, "手机号码")
        a.set_raw(mobile, "13900000002", check=False)
        assert a.save()
        b.set_raw(name, "王晓明", check=False)
        with pytest.raises(RecordChanged) as caught:
            b.save()
        conflict = caught.value
        assert conflict.by.startswith("甲") and conflict.revision == 2
        assert "此记录已被甲" in str(conflict) and conflict.at in str(conflict)
        diff = {f: (mine, theirs) for f, mine, theirs in conflict.differences(b.values)}
        assert diff == {name: ("王晓明", "王小明"), mobile: ("13800000001", "13900000002")}
        assert stored(url, rid) == (2, {**a.values})  # nothing of b's was written

        # take theirs: b now shows a's record, nothing to save
        b.resolve(conflict, keep_mine=False)
        assert b.values == a.values and not b.dirty and not b.save()

        # a saves again on top; b, still at 2, keeps its own this time
        a.set_raw(name, "王明", check=False)
        assert a.save()
        b.set_raw(name, "王晓明", check=False)
        with pytest.raises(RecordChanged) as caught:
            b.save()
        b.resolve(caught.value, keep_mine=True)
        assert b.dirty and b.save()
        revision, data = stored(url, rid)
        assert revision == 4 and data[name] == "王晓明" and data[mobile] == "13900000002"
        # and a, at 3, is told in its turn: nothing is overwritten without the clerk knowing
        a.set_raw(mobile, "13700000003", check=False)
        with pytest.raises(RecordChanged):
            a.save()
        with register.session() as session:
            saves = session.execute(select(AuditEntry.actor).where(
                AuditEntry.target == rid, AuditEntry.action == "record.save")).scalars().all()
        assert [s.split("@")[0] for s in saves] == ["建档员", "甲", "甲", "乙"]
        assert audit_ok(register)
        a.close()
        b.close()


def test_claim_revision(url):
    create_register(url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    rid = new_record(url)
    with open_register(url, PASSPHRASE, kdf=FAST_KDF) as register, register.session() as session:
        assert claim_revision(session, rid, 1).id == rid
        assert claim_revision(session, "no-such-record", 1) is None
        with pytest.raises(RecordChanged) as caught:
            claim_revision(session, rid, 7)
        assert caught.value.theirs["name" if "name" in caught.value.theirs else
                                   next(iter(caught.value.theirs))]
        assert can_write(register.engine)


# -- two processes on PostgreSQL -------------------------------------------------------------


def _child(url: str, actor: str, rid: str, changes: dict[str, str], pause: bool, events, out):
    """A clerk in its own process: load `rid`, change fields by label, save. `pause`: stop
    inside the save with the row claimed (before the audit entry and the commit) until told."""
    try:
        held, release, loaded, go = events
        register = open_register(url, PASSPHRASE, kdf=FAST_KDF)
        s = editor(register, actor)
        s.load(rid)
        loaded.set()
        go.wait(WAIT)
        if pause:
            original = editing.append_audit

            def paused(*args, **kwargs):
                held.set()
                release.wait(WAIT)
                return original(*args, **kwargs)

            editing.append_audit = paused
        for label, value in changes.items():
            s.set_raw(field(s, label) if label != "name" else s.form.name_field, value,
                      check=False)
        try:
            s.save()
        except RecordChanged as conflict:
            out.put(("conflict", conflict.by, conflict.revision,
                     [[f, m, t] for f, m, t in conflict.differences(s.values)]))
            s.resolve(conflict, keep_mine=True)
            s.save()
        out.put(("saved", actor, s.revision))
        s.close()
        register.close()
    except BaseException as err:  # noqa: BLE001 (the parent reports it)
        out.put(("error", actor, repr(err)))


def _events():
    return tuple(SPAWN.Event() for _ in range(4))


#: every event handed to a child stays referenced here until the session ends (an event the
#: parent dropped before the spawned child unpickled it is gone: FileNotFoundError there)
_KEPT: list = []


def _start(url, actor, rid, changes, pause, out):
    events = _events()
    _KEPT.append(events)
    proc = SPAWN.Process(target=_child, args=(url, actor, rid, changes, pause, events, out))
    proc.start()
    return proc, events


def _get(out) -> tuple:
    try:
        got = out.get(timeout=WAIT)
    except queue.Empty:
        pytest.fail("a clerk's process said nothing")
    assert got[0] != "error", got
    return got


@pytest.fixture
def office(pg_cluster, pg_url, pg_database):
    """A register on PostgreSQL with the clerks' and reviewers' groups (role_statements) and
    three login roles: clerk_a, clerk_b (clerks), reviewer_c (reviewers)."""
    yield from office_with(pg_cluster, pg_url, pg_database, role_statements)


def office_with(pg_cluster, pg_url, pg_database, statements):
    """`office` with the groups made by `statements` (role_statements, or an older version's)."""
    create_register(pg_url, PASSPHRASE, OWN_UNIT, kdf=FAST_KDF).close()
    names = {"clerks": f"{pg_database}_clerks", "reviewers": f"{pg_database}_reviewers"}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for sql in statements(pg_database, **names):
            conn.execute(sql)
        for login, group in (("clerk_a", "clerks"), ("clerk_b", "clerks"),
                             ("reviewer_c", "reviewers")):
            role = f"{pg_database}_{login}"
            conn.execute(f"CREATE ROLE {role} LOGIN IN ROLE {names[group]}")
    roles = {login: f"{pg_database}_{login}" for login in ("clerk_a", "clerk_b", "reviewer_c")}
    yield {login: pg_cluster.url(pg_database, role) for login, role in roles.items()} | {
        "owner": pg_url, "roles": roles}
    with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {pg_database} WITH (FORCE)")
        for role in [*roles.values(), *names.values()]:
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def _lock_waits(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database()").fetchone()[0]


def test_two_clerks_on_different_records_do_not_wait_for_each_other(office):
    first, second = new_record(office["owner"]), new_record(office["owner"])
    out = SPAWN.Queue()
    a, (held, release, loaded_a, go_a) = _start(office["clerk_a"], "甲", first,
                                                {"手机号码": "13900000002"}, True, out)
    b, (_, _, loaded_b, go_b) = _start(office["clerk_b"], "乙", second,
                                       {"name": "李四"}, False, out)
    try:
        assert loaded_a.wait(WAIT) and loaded_b.wait(WAIT)
        go_a.set()
        assert held.wait(WAIT)  # a is inside its save, its record's row locked
        go_b.set()
        done = _get(out)  # b's whole save finishes while a still holds its row
        assert done[:2] == ("saved", "乙") and not release.is_set()
        release.set()
        assert _get(out)[:2] == ("saved", "甲")
    finally:
        release.set()
        a.join(WAIT)
        b.join(WAIT)
    assert stored(office["owner"], first)[0] == 2 and stored(office["owner"], second)[0] == 2
    roles = office["roles"]
    with open_register(office["owner"], PASSPHRASE, kdf=FAST_KDF) as register:
        with register.session() as session:
            actors = dict(session.execute(select(AuditEntry.target, AuditEntry.actor).where(
                AuditEntry.action == "record.save", AuditEntry.target.in_([first, second]),
                AuditEntry.actor != "建档员@dengji_test")).all())
        assert actors == {first: f"甲@{roles['clerk_a']}", second: f"乙@{roles['clerk_b']}"}
        assert audit_ok(register)


def test_two_clerks_on_the_same_record_the_second_is_told_and_nothing_is_lost(office):
    rid = new_record(office["owner"])
    out = SPAWN.Queue()
    a, (held, release, loaded_a, go_a) = _start(office["clerk_a"], "甲", rid,
                                                {"手机号码": "13900000002"}, True, out)
    b, (_, _, loaded_b, go_b) = _start(office["clerk_b"], "乙", rid, {"name": "王晓明"}, False,
                                       out)
    try:
        assert loaded_a.wait(WAIT) and loaded_b.wait(WAIT)  # both read revision 1
        go_a.set()
        assert held.wait(WAIT)
        go_b.set()
        for _ in range(WAIT * 10):  # b waits for a's row lock (no timing assertion: a poll)
            if _lock_waits(office["owner"]):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the second save never waited for the first one's row")
        assert out.empty()
        release.set()
        got = [_get(out) for _ in range(3)]
    finally:
        release.set()
        a.join(WAIT)
        b.join(WAIT)
    assert ("saved", "甲", 2) in got
    conflict = next(g for g in got if g[0] == "conflict")
    assert conflict[1] == f"甲@{office['roles']['clerk_a']}" and conflict[2] == 2
    diff = {f: (m, t) for f, m, t in conflict[3]}
    assert diff.get("name", next(iter(diff.values()))) and len(diff) == 2
    assert ("13800000001", "13900000002") in diff.values()  # b sees a's phone
    assert ("王晓明", "王小明") in diff.values()  # and its own name against a's
    assert ("saved", "乙", 3) in got  # kept its own, on the new revision
    revision, data = stored(office["owner"], rid)
    assert revision == 3 and "王晓明" in data.values()


def _reader(url: str, started, stop, out, passphrase: str = PASSPHRASE):
    """Count the records again and again, each count one statement; report every count."""
    try:
        register = open_register(url, passphrase, kdf=FAST_KDF)
        seen = set()
        started.set()
        while not stop.is_set():
            with register.session() as session:
                seen.add(session.execute(select(func.count()).select_from(Record)).scalar_one())
        out.put(sorted(seen))
        register.close()
    except BaseException as err:  # noqa: BLE001
        out.put(repr(err))


def test_an_import_is_seen_whole_or_not_at_all_while_a_clerk_reads_and_edits(office, tmp_path):
    import subprocess
    import sys

    from tests.conftest import make_firm_records, write_jsonl

    rid = new_record(office["owner"])
    people = make_firm_records(seed=1818, members=300)
    rows = write_jsonl(tmp_path / "m.jsonl", people.members)
    started, stop, out = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
    reader = SPAWN.Process(target=_reader, args=(office["reviewer_c"], started, stop, out))
    reader.start()
    edits = SPAWN.Queue()
    clerk, (_, _, loaded, go) = _start(office["clerk_b"], "乙", rid, {"name": "赵六"}, False,
                                       edits)
    try:
        assert started.wait(WAIT) and loaded.wait(WAIT)
        env = {"DENGJI_PASSPHRASE": PASSPHRASE, "PATH": "/usr/bin:/bin",
               "DENGJI_HOME": str(tmp_path / "home")}
        importer = subprocess.Popen(
            [sys.executable, "-m", "desktop", "import", "--db", office["clerk_a"], "--form",
             FORM, str(rows)], env=env, cwd=Path(__file__).parents[2],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        go.set()  # the other clerk saves while the import runs
        assert _get(edits)[:2] == ("saved", "乙")
        _, err = importer.communicate(timeout=WAIT * 3)
        assert importer.returncode == 0, err
    finally:
        stop.set()
        reader.join(WAIT)
        clerk.join(WAIT)
    seen = out.get(timeout=WAIT)
    assert isinstance(seen, list), seen
    assert set(seen) <= {1, 1 + 300} and 1 in seen  # never part of the import
    assert stored(office["owner"], rid)[1][shipped_forms().form(FORM).name_field] == "赵六"
    with open_register(office["owner"], PASSPHRASE, kdf=FAST_KDF) as register:
        with register.session() as session:
            assert session.execute(select(func.count()).select_from(Record)).scalar_one() == 301
        assert audit_ok(register)


def test_a_merge_is_seen_whole_or_not_at_all_by_a_reader(tmp_path, forms, pg_cluster):
    from tests.exchange.conftest import CITY, World
    from tests.exchange.conftest import PASSPHRASE as WORLD_PASSPHRASE

    with ExitStack() as databases:  # the firm in a file, the city in a new database
        world = World(tmp_path, forms, server=lambda: pg_cluster.url(
            databases.enter_context(new_database(pg_cluster))))
        try:
            town = world.register(CITY)
            firm = world.firm(seed=1803, members=120, parent=town)
            sent = world.export(firm.register)
            with town.session() as session:
                before = session.execute(select(func.count()).select_from(Record)).scalar_one()
            started, stop, out = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
            reader = SPAWN.Process(target=_reader,
                                   args=(str(town.path), started, stop, out, WORLD_PASSPHRASE))
            reader.start()
            try:
                assert started.wait(WAIT)
                [report] = world.merge(town, sent.path)
                assert report.status == "merged"
            finally:
                stop.set()
                reader.join(WAIT)
            seen = out.get(timeout=WAIT)
            assert isinstance(seen, list), seen
            after = before + report.outcome.records
            assert after > before and set(seen) <= {before, after} and before in seen
        finally:
            for register in world.opened:
                register.close()


@pytest.fixture
def forms():
    return shipped_forms()


# -- the reviewer role -------------------------------------------------------------------


def test_a_reviewer_reads_and_is_refused_in_chinese_when_writing(office, dengji, jsonl,
                                                                 monkeypatch):
    rid = new_record(office["owner"])
    with open_register(office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        assert not can_write(register.engine)
        s = editor(register, "审阅员")
        s.load(rid)  # reading works: the sealed data opens
        assert s.values[s.form.name_field] == "王小明"
        s.set_raw(s.form.name_field, "改不了", check=False)
        with pytest.raises(Exception) as caught:
            s.save()
        said = refusal(caught.value)
        assert isinstance(said, KnownError) and "只有查看权限" in str(said)
        s.close()
    with open_register(office["clerk_a"], PASSPHRASE, kdf=FAST_KDF) as register:
        assert can_write(register.engine)
    assert stored(office["owner"], rid)[1][shipped_forms().form(FORM).name_field] == "王小明"
    from tests.conftest import make_firm_records

    people = make_firm_records(seed=7, members=2)
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    from desktop.storage import crypto

    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)  # no re-wrap at open: the write refused
    result = dengji("import", "--db", office["reviewer_c"], "--form", FORM,
                    jsonl(people.members))
    assert result.code == 1 and "只有查看权限" in result.err and "程序内部错误" not in result.err


def test_role_statements_refuse_what_is_not_a_plain_name():
    with pytest.raises(ValueError):
        role_statements("db; DROP TABLE record")
    assert any("GRANT SELECT ON ALL TABLES" in s for s in role_statements("dengji_province"))
