"""Provenance at every depth, tried as an attacker would: a unit's records and details come
only from a package signed by that unit's own key as the receiving level knows it; a package
carries only packages of units below it, addressed to it; a package never renames a unit that
is not its sender; and whatever merge refuses, verify refuses too.

The forged packages are written with the application's own writer, as a sender who controls
its own copy of the software would write them."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, text, update

from desktop.exchange.format.keys import PublicKeyInfo, raw_public
from desktop.exchange.format.records import digest, record_line
from desktop.exchange.format.writer import (
    PackageContent,
    Sender,
    Written,
    inner_ref,
    write_registration,
)
from desktop.exchange.trust import own_sender
from desktop.progress import run
from desktop.services import packages as svc
from desktop.storage import DEFAULT_KDF, AuditEntry, Record, RecordKey, Register, Unit, UnitInfo
from tests.exchange.conftest import CITY, PASSPHRASE, PROVINCE, Firm, World, counts, unzip

NATION = UnitInfo("100000NATION", "全国律师行业党委（测试）", "national")
CITY2 = UnitInfo("11000000CITY00002X", "另一个市级律师行业党委", "city", PROVINCE.code)


# --- writing packages as an attacker would -------------------------------------------------


def signer(register: Register) -> Sender:
    with register.session() as session:
        return own_sender(session, register)[0]


def code_of(firm: Firm) -> str:
    return signer(firm.register).info.code


def fresh_key(code: str, name: str, level: str = "firm", parent: str | None = CITY.code
              ) -> Sender:
    """A key pair made by the forger, claiming to be unit `code`."""
    signing, x = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    info = PublicKeyInfo(code, name, level, raw_public(signing),
                         x.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    return Sender(info, parent, signing)


def same_key(sender: Sender, code: str, name: str, level: str = "firm") -> Sender:
    """The forger's own (trusted) key, claiming to be unit `code`."""
    return Sender(replace(sender.info, code=code, name=name, level=level), sender.parent_code,
                  sender.signing_private)


def lines_of(register: Register, unit_code: str, origin: str | None = None, *,
             fresh_ids: bool = False) -> list[dict]:
    """Record lines of every record in `register`, as of unit `unit_code`."""
    with register.session() as session:
        rows = list(session.execute(select(Record).order_by(Record.id)).scalars())
    return [record_line(str(uuid.uuid4()) if fresh_ids else r.id, unit_code, r.form_id,
                        r.form_version, "已提交", r.revision, json.loads(r.data), [], origin)
            for r in rows]


def build(world: World, sender: Sender, recipient: PublicKeyInfo, lines: list[dict], *,
          inner: tuple[Written, ...] = (), units: list[dict] | None = None, sequence: int = 1
          ) -> Written:
    """A package signed by `sender` with exactly these records, units and inner packages."""
    n = Counter(line["form_id"] for line in lines)
    content = PackageContent(
        form_set="party", sequence=sequence, supersedes=None, records=lines,
        forms=[{"id": f, "version": world.forms.forms[f].version, "records": k}
               for f, k in sorted(n.items())],
        units=units if units is not None else [sender.unit()],
        digests=[digest(x["id"], x["form_id"], x["form_version"], x["revision"], x["values"])
                 for x in lines],
        inner=[(inner_ref(f"inner/{w.manifest['sender']['code']}-{w.package_id[:8]}.djpkg",
                          w.package_id, w.manifest["sender"]["code"],
                          w.manifest["signer"]["fingerprint"]), w.data) for w in inner])
    return write_registration(content, sender, recipient)


def save(world: World, written: Written, name: str) -> Path:
    path = world.folder / name
    path.write_bytes(written.data)
    return path


def reroute(lines: list[dict], origin: str) -> list[dict]:
    return [{**line, "origin": origin} for line in lines]


def unit_names(register: Register) -> dict[str, str]:
    with register.session() as session:
        return dict(session.execute(select(Unit.code, Unit.name)).all())


def refused_everywhere(world: World, register: Register, path: Path, *words: str) -> str:
    """verify fails and merge (in process and prepared in a worker) refuses, writing nothing,
    each with a reason holding every one of `words`; the reason."""
    v = svc.verify_file(path, world.forms, register)
    assert not v.ok
    for word in words:
        assert word in v.reason(), (word, v.reason())
    before = counts(register)
    for parallel in (False, True):
        [report] = run(svc.merge_packages(register, world.forms, [path], parallel=parallel))
        assert report.status == "refused"
        for word in words:
            assert word in report.reason, (word, report.reason)
    assert counts(register) == before
    return v.reason()


@pytest.fixture
def city_world(world: World):
    """A city linked to a province; firms a and b of the city (b's package merged there, so
    the city knows b), and a firm c whose records a forger may copy."""
    city = world.register(CITY, "city.dengji")
    province = world.register(PROVINCE, "province.dengji")
    world.link(city, province)
    a = world.firm(seed=61, parent=city)
    b = world.firm(seed=62, parent=city)
    c = world.firm(seed=63)
    [report] = world.merge(city, world.export(b.register).path)
    assert report.status == "merged"
    return world, city, province, a, b, c


# --- a firm speaking for another firm ---------------------------------------------------


@pytest.mark.parametrize("key", ["its own key", "a key it made"])
def test_a_firm_cannot_pass_off_a_package_it_signed_as_another_firms(city_world, key) -> None:
    world, city, province, a, b, c = city_world
    a_signer, to_city = signer(a.register), signer(city).info
    victim, names = code_of(b), unit_names(city)
    fake = (same_key(a_signer, victim, "乙所（被冒名改名）") if key == "its own key"
            else fresh_key(victim, "乙所（被冒名改名）"))
    stolen = lines_of(c.register, victim, fresh_ids=True)
    forged = build(world, fake, to_city, stolen)
    outer = build(world, a_signer, to_city,
                  lines_of(a.register, code_of(a)) + reroute(stolen, forged.package_id),
                  inner=(forged,), units=[a_signer.unit(), fake.unit()])
    path = save(world, outer, "a-speaks-for-b.djpkg")
    reason = refused_everywhere(world, city, path, code_of(a), a_signer.info.name, victim)
    assert "不能转报" in reason
    assert unit_names(city) == names  # b keeps its name; nothing of a arrived either
    with city.session() as session:
        assert not session.execute(select(Record).where(
            Record.id.in_([x["id"] for x in stolen]))).first()


def test_the_same_forgery_forwarded_by_a_city_is_refused_by_the_province(city_world) -> None:
    """A city that carried the firm's package up (as it came) cannot make the province accept
    what the city itself would have refused: the rule holds at every depth, even where the
    province cannot open the firm's package."""
    world, city, province, a, b, c = city_world
    a_signer, city_signer = signer(a.register), signer(city)
    victim = code_of(b)
    fake = fresh_key(victim, "乙所（被冒名）")
    stolen = lines_of(c.register, victim, fresh_ids=True)
    forged = build(world, fake, city_signer.info, stolen)
    own_a = lines_of(a.register, code_of(a))
    outer = build(world, a_signer, city_signer.info, own_a + reroute(stolen, forged.package_id),
                  inner=(forged,), units=[a_signer.unit(), fake.unit()])
    up = build(world, city_signer, signer(province).info,
               reroute(own_a + stolen, outer.package_id), inner=(outer,),
               units=[city_signer.unit(), a_signer.unit(), fake.unit()])
    path = save(world, up, "city-forwards.djpkg")
    refused_everywhere(world, province, path, code_of(a), victim, "不能转报")
    assert victim not in unit_names(province)


def test_a_city_cannot_pass_off_its_own_key_as_a_firm_the_province_knows(city_world) -> None:
    """Vouching does not replace what the receiving level checked itself: the province trusts
    firm a's key directly, so a package of a signed by another key is a forgery."""
    world, city, province, a, b, c = city_world
    world.trust(province, a.register)
    city_signer = signer(city)
    fake = fresh_key(code_of(a), signer(a.register).info.name)
    lines = lines_of(c.register, code_of(a), fresh_ids=True)
    forged = build(world, fake, city_signer.info, lines)
    up = build(world, city_signer, signer(province).info, reroute(lines, forged.package_id),
               inner=(forged,), units=[city_signer.unit(), fake.unit()])
    refused_everywhere(world, province, save(world, up, "city-forges-a.djpkg"), code_of(a),
                       "冒充")


def test_a_city_carries_only_packages_of_units_below_it_addressed_to_it(city_world) -> None:
    world, city, province, a, b, c = city_world
    city_signer, to_province = signer(city), signer(province).info
    # a province-level unit's package, addressed to the city, listed or not in its units
    upper = fresh_key("120000PROV", "另一个省级律师行业党委", "province", None)
    lines = lines_of(c.register, "120000PROV", fresh_ids=True)
    carried = build(world, upper, city_signer.info, lines)
    for units in ([city_signer.unit(), upper.unit()], [city_signer.unit()]):
        up = build(world, city_signer, to_province, reroute(lines, carried.package_id),
                   inner=(carried,), units=units)
        refused_everywhere(world, province, save(world, up, "city-carries-province.djpkg"),
                           "只能转报下级单位", "120000PROV")
    # an honest firm package, but addressed to another city
    other_city = world.register(CITY2, "city2.dengji")
    d = world.firm(seed=64, parent=other_city)
    sent = world.export(d.register)
    d_manifest = json.loads(unzip(sent.path.read_bytes())["manifest.json"])
    d_lines = lines_of(d.register, code_of(d), sent.package_id)
    theirs = Written(sent.package_id, sent.path.name, sent.path.read_bytes(), d_manifest)
    up = build(world, city_signer, to_province, d_lines, inner=(theirs,),
               units=[city_signer.unit(), signer(d.register).unit()])
    refused_everywhere(world, province, save(world, up, "city-carries-other.djpkg"),
                       "不是发给", code_of(d))


def test_a_firm_package_naming_another_unit_in_its_list_is_refused(city_world) -> None:
    """Only a's own records, but its unit list renames firm b: refused, b keeps its name."""
    world, city, province, a, b, c = city_world
    a_signer = signer(a.register)
    names = unit_names(city)
    renamed = {**signer(b.register).unit(), "name": "乙所（被别人改名）"}
    sent = build(world, a_signer, signer(city).info, lines_of(a.register, code_of(a)),
                 units=[a_signer.unit(), renamed])
    refused_everywhere(world, city, save(world, sent, "a-lists-b.djpkg"), "报送范围",
                       code_of(b), a_signer.info.name)
    assert unit_names(city) == names


def test_a_record_of_another_unit_without_its_package_is_refused(city_world) -> None:
    world, city, province, a, b, c = city_world
    a_signer = signer(a.register)
    lines = lines_of(a.register, code_of(a)) + lines_of(c.register, code_of(b), fresh_ids=True)
    sent = build(world, a_signer, signer(city).info, lines,
                 units=[a_signer.unit(), signer(b.register).unit()])
    refused_everywhere(world, city, save(world, sent, "a-records-of-b.djpkg"), code_of(b))


# --- verify and merge agree ------------------------------------------------------------------


def test_a_record_id_used_by_another_unit_fails_verify_as_merge_refuses_it(city_world) -> None:
    world, city, province, a, b, c = city_world
    stolen = lines_of(b.register, code_of(b))[0]["id"]  # merged at the city as firm b's
    with a.register.session() as session:
        rec = session.execute(select(Record).where(Record.form_id == "lawyer_member")
                              .limit(1)).scalar_one()
        session.execute(text("PRAGMA defer_foreign_keys = ON"))
        session.execute(Record.__table__.update().where(Record.id == rec.id).values(id=stolen))
        session.execute(RecordKey.__table__.update().where(RecordKey.record_id == rec.id)
                        .values(record_id=stolen))
        session.commit()
    path = world.export(a.register).path
    reason = refused_everywhere(world, city, path, stolen, "记录归属")
    [report] = world.merge(city, path)
    assert report.reason == reason  # one decision, one wording
    # and a newer package of b itself may reuse its own ids
    assert world.merge(city, world.export(b.register).path)[0].status == "merged"


def test_a_package_speaking_for_the_receiving_unit_fails_verify_as_merge_refuses_it(
        city_world) -> None:
    """A firm package inside a city's package that claims the province's own code."""
    world, city, province, a, b, c = city_world
    city_signer = signer(city)
    fake = fresh_key(PROVINCE.code, "冒用省级代码的律所")
    lines = lines_of(c.register, PROVINCE.code, fresh_ids=True)
    carried = build(world, fake, city_signer.info, lines)
    up = build(world, city_signer, signer(province).info, reroute(lines, carried.package_id),
               inner=(carried,), units=[city_signer.unit(), fake.unit()])
    refused_everywhere(world, province, save(world, up, "city-speaks-for-province.djpkg"),
                       "本单位", PROVINCE.code)


# --- unit details: only the unit itself, and only when the clerk confirms ------------------


def rename_own_unit(register: Register, name: str) -> None:
    with register.session() as session:
        session.execute(update(Unit).where(Unit.is_own.is_(True)).values(name=name))
        session.commit()


def test_a_renamed_sender_is_a_change_for_the_clerk_to_confirm(city_world) -> None:
    world, city, province, a, b, c = city_world
    code, old = code_of(b), unit_names(city)[code_of(b)]
    rename_own_unit(b.register, "中共新名称律师事务所支部委员会")
    [report] = world.merge(city, world.export(b.register).path)
    assert report.status == "merged"
    assert unit_names(city)[code] == old  # not applied silently
    [change] = svc.unit_changes(city)
    assert (change.code, change.name, change.was_name) == (code, "中共新名称律师事务所支部委员会", old)
    assert "改为“中共新名称律师事务所支部委员会”" in change.describe()
    [row] = [r for r in svc.dashboard(city) if r.code == code]
    assert row.unit_changes == (change,)
    with city.session() as session:  # the records still arrived, under the unit it was
        unit_id = session.execute(select(Unit.id).where(Unit.code == code)).scalar_one()
        assert session.execute(select(Record.unit_id).where(
            Record.package_id == report.outcome.package_id)).scalars().all()
        assert set(session.execute(select(Record.unit_id).where(
            Record.package_id == report.outcome.package_id)).scalars()) == {unit_id}
    svc.confirm_unit_change(city, code)
    assert unit_names(city)[code] == "中共新名称律师事务所支部委员会"
    assert svc.unit_changes(city) == []
    with city.session() as session:
        entry = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())
                                .limit(1)).scalar_one()
    assert (entry.action, entry.target) == ("unit.confirm", code)
    with pytest.raises(Exception, match="没有待确认的信息变更"):
        svc.confirm_unit_change(city, code)
    # the next package with the confirmed name brings no change
    world.merge(city, world.export(b.register).path)
    assert svc.unit_changes(city) == []


def test_only_a_units_own_package_describes_it_upward(city_world) -> None:
    """The city's list of units says something else of firm b than b's own signed package:
    the province takes b's own word, and what the city says later changes nothing."""
    world, city, province, a, b, c = city_world
    [b_package] = [p for p in svc.received_packages(city) if p.sender_code == code_of(b)]
    svc.accept_package(city, b_package.id)
    own_name = signer(b.register).info.name
    with city.session() as session:
        session.execute(update(Unit).where(Unit.code == code_of(b)).values(name="市里改的名字"))
        session.commit()
    assert world.merge(province, world.export(city).path)[0].status == "merged"
    assert unit_names(province)[code_of(b)] == own_name
    with city.session() as session:
        session.execute(update(Unit).where(Unit.code == code_of(b)).values(name="又改了一次"))
        session.commit()
    assert world.merge(province, world.export(city).path)[0].status == "merged"
    assert unit_names(province)[code_of(b)] == own_name
    assert svc.unit_changes(province) == []


def test_the_honest_chain_merges_at_every_level(city_world) -> None:
    world, city, province, a, b, c = city_world
    nation = world.register(NATION, "nation.dengji")
    world.link(province, nation)
    assert world.merge(city, world.export(a.register).path)[0].status == "merged"
    for p in svc.received_packages(city):
        svc.accept_package(city, p.id)
    up = world.export(city)
    for level in (province, nation):
        v = svc.verify_file(up.path, world.forms, level)
        assert v.ok, v.reason()
        assert ("记录归属", True) in [(x.name, x.ok) for x in v.checks]
        [report] = world.merge(level, up.path)
        assert report.status == "merged", report.reason
        svc.accept_package(level, up.package_id)
        if level is province:
            up = world.export(province)
    firms = {code_of(a): signer(a.register).info.name, code_of(b): signer(b.register).info.name}
    names = unit_names(nation)
    assert {code: names[code] for code in firms} == firms
    with nation.session() as session:
        stored = Counter(session.execute(select(Unit.code).join(Record, Record.unit_id == Unit.id))
                         .scalars())
    assert set(stored) == set(firms) and sum(stored.values()) == up.records
    assert svc.unit_changes(nation) == []


def test_unit_changes_on_the_command_line(world: World, dengji, monkeypatch) -> None:
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    city = world.register(CITY, "city.dengji", kdf=DEFAULT_KDF)
    firm = world.firm(seed=65, parent=city)
    world.merge(city, world.export(firm.register).path)
    rename_own_unit(firm.register, "中共改过名的律师事务所支部委员会")
    world.merge(city, world.export(firm.register).path)
    listed = dengji("units", "changes", "--db", city.path)
    assert listed.code == 0 and code_of(firm) in listed.out
    assert "改为“中共改过名的律师事务所支部委员会”" in listed.out
    assert dengji("units", "confirm", code_of(firm), "--db", city.path).code == 0
    assert unit_names(city)[code_of(firm)] == "中共改过名的律师事务所支部委员会"
    again = dengji("units", "confirm", code_of(firm), "--db", city.path)
    assert again.code != 0 and "没有待确认的信息变更" in again.err
