"""移交 (services/handover.py): the facts of the 移交清单 against the register, a handover that
re-keys to the successor's passphrase with a new recovery key and names the new 经办人 in the
audit log, refusals that change nothing (file bytes compared; a server register's facts), and
the handover travelling upward: a firm's next package merged at the city reports it once. On
files and on PostgreSQL (tests/services/conftest.py)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.domain.states import COMPLETE, SENT
from desktop.errors import KnownError, WrongPassphrase
from desktop.formspec import shipped_forms
from desktop.services.handover import (
    ACTION,
    hand_over,
    handover_facts,
    names_problem,
    received_handovers,
    write_handover_pdf,
)
from desktop.services.secrets import make_recovery_key, recovery_problem, recovery_state
from desktop.services.unit import save_unit_profile, unit_profile
from desktop.storage import (
    AuditEntry,
    Meta,
    Record,
    crypto,
    open_register,
    verify_audit_chain,
)
from tests.exchange.conftest import CITY, FAST_KDF, PASSPHRASE, World, fingerprint_of
from tests.reports.test_pdf_helpers import pdf_text, squeeze
from tests.services.conftest import on_server

NEW = "Jiaojie-2026 接收人的新口令 horse"


@pytest.fixture(autouse=True)
def cheap_rekey(monkeypatch):
    """The re-key derives the new key with these parameters (today's cost is tested by
    tests/storage/test_kdf_rekey.py)."""
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)


@pytest.fixture
def world(store_world: World) -> World:
    """Every test with registers runs on files and on PostgreSQL (tests/services/conftest.py)."""
    return store_world


@pytest.fixture
def chain(world: World):
    return make_chain(world)


@pytest.fixture
def file_chain(tmp_path: Path):
    """make_chain on files only, for refusals decided before the register is read."""
    w = World(tmp_path, shipped_forms())
    try:
        yield make_chain(w)
    finally:
        for r in w.opened:
            r.close()


def make_chain(world: World):
    """A city and a firm that trust each other; the firm has sent one package and has one
    record taken back to 已完成（待上报） since, and a 经办人 and a recovery key."""
    city = world.register(CITY)
    firm = world.firm(parent=city, members=5)
    world.export(firm.register)
    reg = firm.register
    with reg.session() as session:  # one member edited since: complete, not yet sent
        rec = session.execute(select(Record).where(Record.form_id == "lawyer_member")
                              .limit(1)).scalar_one()
        rec.state = COMPLETE
        session.commit()
    save_unit_profile(reg, "张三", {"handler": "张三"})
    old_key = make_recovery_key(reg, "张三")
    return world, city, firm.register, old_key


def audit_rows(register) -> list[AuditEntry]:
    with register.session() as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def folder_state(folder: Path) -> dict[str, str]:
    """Every file below `folder` with the SHA-256 of its bytes (the shared-memory index that
    SQLite rewrites on every read left out)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith("-shm")}


def meta_rows(register) -> dict[str, str]:
    """The register's facts (its keys' wraps, the recovery key, the unit's people)."""
    with register.session() as session:
        return {m.key: m.value for m in session.execute(select(Meta)).scalars()}


def test_the_facts_are_what_the_register_holds(chain):
    world, city, reg, old_key = chain
    facts = handover_facts(reg)
    assert (facts.unit_code, facts.level, facts.register_file, facts.handler) == (
        unit_profile(reg).code, "firm", reg.path.name, "张三")
    members = next(f for f in facts.own_records if f.form_id == "lawyer_member")
    org = next(f for f in facts.own_records if f.form_id == "party_org")
    assert (members.count(SENT), members.count(COMPLETE), members.total) == (4, 1, 5)
    assert (org.count(SENT), org.total) == (1, 1)
    assert members.title.startswith("附件1")
    assert facts.received_records == ()
    assert facts.packages_sent == 1 and facts.last_sent.sequence == 1
    assert facts.last_sent.records == 6
    assert facts.last_sent.recipient == f"{CITY.name}（{CITY.code}）"
    assert [(t.code, t.fingerprint) for t in facts.trusted] == [(CITY.code,
                                                                 fingerprint_of(city))]
    assert facts.fingerprint == fingerprint_of(reg)
    assert facts.recovery_key_id == old_key.key_id == recovery_state(reg).key_id
    entries = audit_rows(reg)
    assert facts.audit_entries == len(entries)
    assert facts.audit_head == f"{entries[-1].seq}:{entries[-1].hash}"
    assert (facts.notes_to_answer, facts.open_conflicts, facts.returned_below) == (0, 0, ())


def test_the_city_sees_its_firm_records_and_returns(chain):
    world, city, reg, _ = chain
    out = world.export(reg)
    world.merge(city, out.path)
    facts = handover_facts(city)
    assert facts.own_records == ()
    received = {f.form_id: f for f in facts.received_records}
    assert received["lawyer_member"].total == 5 and received["party_org"].total == 1
    assert [t.code for t in facts.trusted] == [unit_profile(reg).code]
    assert facts.last_sent is None and facts.packages_sent == 0


def test_a_handover_rekeys_names_the_successor_and_is_audited(chain, tmp_path):
    world, city, reg, old_key = chain
    before = len(audit_rows(reg))
    done = hand_over(reg, PASSPHRASE, NEW, "张三", " 李四 ", "张三")

    # the register stays open on the new key, with the successor as 经办人
    assert unit_profile(reg).handler == "李四"
    # a file is backed up before its re-key; on a server only the data key's wrap changes
    assert done.backup is None if on_server(reg) else done.backup.is_file()
    state = recovery_state(reg)
    assert done.recovery.key_id == state.key_id != old_key.key_id
    assert done.facts.recovery_key_id == state.key_id
    assert (done.facts.from_name, done.facts.to_name, done.facts.handler) == ("张三", "李四",
                                                                              "李四")
    entries = audit_rows(reg)[before:]
    actions = [e.action for e in entries]
    assert actions.count(ACTION) == 1 and "unit.profile" in actions
    handover = next(e for e in entries if e.action == ACTION)
    assert json.loads(handover.detail) == {"from": "张三", "to": "李四",
                                           "recovery_key_id": state.key_id,
                                           "backup": done.backup and done.backup.name}
    profile = next(e for e in entries if e.action == "unit.profile")
    assert json.loads(profile.detail) == {"changed": ["经办人"]}
    with reg.session() as session:
        assert verify_audit_chain(session).ok
    assert done.facts.audit_entries == len(audit_rows(reg))

    # the new recovery key opens the register, the old sheet's key is void
    assert recovery_problem(reg.path, done.recovery.text) is None
    assert recovery_problem(reg.path, old_key.text) is not None

    # the checklist names both and the new key's id, never the key itself
    pdf = write_handover_pdf(done, tmp_path / "移交清单.pdf")
    text = squeeze(pdf_text(pdf.read_bytes(), tmp_path))
    assert "移交人（原经办人）张三" in text and "接收人（新经办人）李四" in text
    assert f"编号{state.key_id}" in text
    for group in done.recovery.text.split("-"):
        assert group not in text

    # only the successor's passphrase opens the register now
    path = reg.path
    reg.close()
    with pytest.raises(WrongPassphrase):
        open_register(path, PASSPHRASE)
    with open_register(path, NEW) as again:
        assert unit_profile(again).handler == "李四"


#: refused after the passphrases are checked against the register: on both stores
REFUSED = [
    pytest.param(dict(old="not the passphrase 1"), "原口令不正确", id="wrong-old"),
    pytest.param(dict(new="12345678"), "新口令不能使用", id="weak-new"),
    pytest.param(dict(new=PASSPHRASE), "新口令与原口令相同", id="new-as-old"),
]
#: refused for the names, before any passphrase or the register is read: on a file
NAMES_REFUSED = [
    pytest.param(dict(giver=""), "请填写移交人", id="no-giver"),
    pytest.param(dict(taker=" \t "), "请填写接收人", id="blank-taker"),
    pytest.param(dict(taker=" 张三"), "同一个人", id="same-person"),
    pytest.param(dict(giver="Li  Si", taker="li si"), "同一个人", id="same-person-case"),
    pytest.param(dict(taker="李\x1b[2J四"), "控制字符", id="control-characters"),
    pytest.param(dict(taker="李\u202e四"), "控制字符", id="bidi-override"),
    pytest.param(dict(taker="李" * 101), "最多 100 个字", id="too-long"),
]


@pytest.mark.parametrize(("bad", "said"), REFUSED)
def test_refusals_say_what_to_fix_and_change_nothing(chain, bad, said):
    refused_and_unchanged(chain, bad, said)


@pytest.mark.parametrize(("bad", "said"), NAMES_REFUSED)
def test_refusals_of_the_names_say_what_to_fix_and_change_nothing(file_chain, bad, said):
    refused_and_unchanged(file_chain, bad, said)


def refused_and_unchanged(chain, bad: dict, said: str) -> None:
    world, city, reg, old_key = chain
    args = dict(old=PASSPHRASE, new=NEW, giver="张三", taker="李四") | bad
    before, entries, keys = folder_state(world.folder), len(audit_rows(reg)), meta_rows(reg)
    with pytest.raises(KnownError) as refused:
        hand_over(reg, args["old"], args["new"], args["giver"], args["taker"], "张三")
    assert said in str(refused.value)
    assert len(audit_rows(reg)) == entries
    assert folder_state(world.folder) == before  # the register, its side file, no backup
    assert meta_rows(reg) == keys  # on a server: the wraps of the data key, the recovery key
    assert unit_profile(reg).handler == "张三"
    assert recovery_state(reg).key_id == old_key.key_id
    path = reg.path
    reg.close()
    with open_register(path, PASSPHRASE) as again:  # the old passphrase still opens it
        assert unit_profile(again).handler == "张三"


def test_names_are_checked_before_any_passphrase():
    assert names_problem("张三", "李四") is None
    assert names_problem("张  三", "张 三") is not None
    assert "移交人" in names_problem(None, "李四")


def test_the_handover_travels_upward_once(chain):
    world, city, reg, _ = chain
    hand_over(reg, PASSPHRASE, NEW, "张三", "李四", "张三")
    first = world.merge(city, world.export(reg).path)[0]
    assert first.status == "merged"
    ((entry, when, giver, taker),) = first.outcome.handovers
    assert (giver, taker) == ("张三", "李四")
    seq = next(e.seq for e in audit_rows(reg) if e.action == ACTION)
    assert entry == seq and when.startswith("20")
    listed = received_handovers(city)
    assert [(h.sender_code, h.from_name, h.to_name, h.sequence) for h in listed] == [
        (unit_profile(reg).code, "张三", "李四", 2)]

    # the next package carries the same chain: the handover is not reported again
    second = world.merge(city, world.export(reg).path)[0]
    assert second.status == "merged" and second.outcome.handovers == ()
    assert len(received_handovers(city)) == 1

    # a second handover is reported with the package after it
    hand_over(reg, NEW, NEW + " 2", "李四", "王五", "李四")
    third = world.merge(city, world.export(reg).path)[0]
    assert [h[2:] for h in third.outcome.handovers] == [("李四", "王五")]
    assert Counter((h.from_name, h.to_name) for h in received_handovers(city)) == Counter(
        {("张三", "李四"): 1, ("李四", "王五"): 1})


def test_a_register_made_before_recovery_keys_gets_its_first_at_the_handover(world):
    reg = world.register(CITY)  # made without a recovery key, as registers before issue 19
    assert not recovery_state(reg).has_key and handover_facts(reg).recovery_key_id is None
    done = hand_over(reg, PASSPHRASE, NEW, "王五", "赵六", "王五")
    assert recovery_state(reg).key_id == done.recovery.key_id == done.facts.recovery_key_id
    assert recovery_problem(reg.path, done.recovery.text) is None
    assert unit_profile(reg).handler == "赵六"
