"""Revoking a lost signing key (issue 19): the level responsible for a unit marks one of its
keys revoked from a date; packages that key signs with a creation time on or after it are
refused, here and — once the revoking level's next package carried the revocation — at every
level above, at any depth. Written as attacks: a unit not below, a level not responsible, a
rotation statement from the revoked key, the stolen key's packages after the date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from desktop.errors import KnownError
from desktop.exchange.format.rotation import REVOCATIONS, stamp
from desktop.services import packages as svc
from desktop.services.packages import keys
from desktop.storage import UnitInfo
from desktop.storage.tables import KeyEvent, TrustedKey
from tests.exchange.conftest import CITY, PROVINCE, World, counts, fingerprint_of
from tests.exchange.formats import manifest_of, open_members, reseal
from tests.exchange.test_rotation import (
    announced,
    audit_actions,
    signed_by,
    signing_key,
    three_levels,
    write,
)

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_the_revocation_travels_upward_and_applies_to_inner_packages"}


CITY2 = UnitInfo("11000000CITY00002X", "第二市律师行业党委（测试）", "city", PROVINCE.code)


def events(register) -> int:
    with register.session() as session:
        return session.execute(select(func.count()).select_from(KeyEvent)).scalar_one()


def code_of(register) -> str:
    return svc.own_public_key(register).code


def made_at(data: bytes, register, when: datetime, sequence: int | None = None) -> bytes:
    """The package re-signed by `register`'s own key as if made at `when` (what a holder of
    the key can do)."""
    def change(m: dict) -> None:
        m["created"] = stamp(when)
        if sequence is not None:
            m["sequence"] = sequence
    return signed_by(data, signing_key(register, -1), change)


@pytest.fixture
def pair(world: World):
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=81, parent=city).register
    first = world.export(firm)
    assert [r.status for r in world.merge(city, first.path)] == ["merged"]
    return world, city, firm


def test_packages_of_a_revoked_key_are_refused_from_its_date(pair) -> None:
    world, city, firm = pair
    now = datetime.now(UTC)
    lost = now + timedelta(days=1)
    r = keys.revoke_key(city, code_of(firm), lost)
    assert r.fingerprint == fingerprint_of(firm) and r.by_code == CITY.code
    assert audit_actions(city)[-1] == "keys.revoke"
    with city.session() as session:  # the trusted row says from when
        [key] = session.execute(select(TrustedKey).where(
            TrustedKey.fingerprint == r.fingerprint)).scalars().all()
        assert key.revoked_at == lost.replace(microsecond=0) or key.revoked_at == lost
    # made before the date: still merges
    before = world.export(firm)
    assert [x.status for x in world.merge(city, before.path)] == ["merged"]
    # made on or after it with the lost key: refused, saying which key, by whom, from when
    later = world.export(firm)
    stolen = write(world, "stolen.djpkg", made_at(later.path.read_bytes(), firm,
                                                  lost + timedelta(hours=2)))
    before_counts = counts(city)
    v = svc.verify_file(stolen, world.forms, city)
    reason = v.reason()
    assert not v.ok and "已由 北京市律师行业党委（代码 11000000CITY00001X）吊销" in reason
    assert r.fingerprint in reason and lost.astimezone().strftime("%Y-%m-%d %H:%M") in reason
    assert "重新导出" in reason  # what to do
    at_the_second = write(world, "at.djpkg", made_at(later.path.read_bytes(), firm,
                                                     lost.replace(microsecond=0)))
    assert not svc.verify_file(at_the_second, world.forms, city).ok
    assert world.merge(city, stolen)[0].status == "refused" and counts(city) == before_counts


def test_what_a_backdated_package_of_the_stolen_key_can_still_do(pair) -> None:
    """docs/packages.md: the date is the only limit on a backdated package — it is merged
    like any package made before it (as a newer sequence), and is seen in the 收件看板."""
    world, city, firm = pair
    keys.revoke_key(city, code_of(firm), datetime.now(UTC) - timedelta(hours=1))
    later = world.export(firm)
    backdated = write(world, "backdated.djpkg", made_at(
        later.path.read_bytes(), firm, datetime.now(UTC) - timedelta(hours=2)))
    assert svc.verify_file(backdated, world.forms, city).ok
    fresh = write(world, "fresh.djpkg", made_at(later.path.read_bytes(), firm,
                                                datetime.now(UTC)))
    assert not svc.verify_file(fresh, world.forms, city).ok


def test_a_revoked_key_cannot_announce_a_new_one(pair) -> None:
    world, city, firm = pair
    keys.revoke_key(city, code_of(firm), datetime.now(UTC) + timedelta(days=1))
    _, forged, _ = announced(world, firm, signing_key(firm, 0), "thief.djpkg")
    before = counts(city)
    v = svc.verify_file(forged, world.forms, city)
    assert not v.ok and "出自已吊销的公钥" in v.reason()
    assert counts(city) == before


def test_a_unit_not_below_cannot_be_revoked(pair, world: World) -> None:
    _, city, firm = pair
    province = world.register(PROVINCE, "province.dengji")
    world.link(city, province)
    before, n = counts(city), events(city)
    for code in (PROVINCE.code, CITY.code, "91110000NOSUCHUNIT"):
        with pytest.raises(KnownError) as err:
            keys.revoke_key(city, code, datetime.now(UTC))
        assert "吊销" in str(err.value)
    with pytest.raises(KnownError, match="不是本单位（北京市律师行业党委）的下级单位"):
        keys.revoke_key(city, PROVINCE.code, datetime.now(UTC))
    # the firm cannot revoke its city either
    with pytest.raises(KnownError, match="下级单位"):
        keys.revoke_key(firm, CITY.code, datetime.now(UTC))
    assert counts(city) == before and events(city) == n


def test_a_unit_with_several_keys_needs_the_key_named(pair) -> None:
    world, city, firm = pair
    keys.rotate_key(firm)
    assert [r.status for r in world.merge(city, world.export(firm).path)] == ["merged"]
    old, new = keys.unit_keys(city, code_of(firm))
    with pytest.raises(KnownError, match="请用 --key 指定") as err:
        keys.revoke_key(city, code_of(firm), datetime.now(UTC))
    assert old in str(err.value) and new in str(err.value)
    with pytest.raises(KnownError, match="格式不正确"):
        keys.revoke_key(city, code_of(firm), datetime.now(UTC), "12 34")
    r = keys.revoke_key(city, code_of(firm), datetime.now(UTC), old.replace(" ", "").lower())
    assert r.fingerprint == old
    # the new key keeps working
    assert [r.status for r in world.merge(city, world.export(firm).path)] == ["merged"]
    with pytest.raises(KnownError, match="无需再吊销"):
        keys.revoke_key(city, code_of(firm), datetime.now(UTC) + timedelta(days=1), old)


@pytest.fixture
def chain(world: World):
    """A firm under a city under a province; the firm's first package merged and accepted."""
    city, province, firm = three_levels(world, 82)
    sent = world.export(firm)
    assert [r.status for r in world.merge(city, sent.path)] == ["merged"]
    svc.accept_package(city, sent.package_id)
    return world, city, province, firm


def test_the_revocation_travels_upward_and_applies_to_inner_packages(chain) -> None:
    world, city, province, firm = chain
    # the city learns late that the laptop was lost before the firm's package was made
    r = keys.revoke_key(city, code_of(firm), datetime.now(UTC) - timedelta(days=2))
    up = world.export(city)
    assert manifest_of(up.path.read_bytes())[REVOCATIONS] == [r.document()]
    before = counts(province)
    v = svc.verify_file(up.path, world.forms, province)
    assert not v.ok and "已由 北京市律师行业党委（代码 11000000CITY00001X）吊销" in v.reason()
    assert world.merge(province, up.path)[0].status == "refused"
    assert counts(province) == before and events(province) == 0


def test_the_level_above_keeps_the_revocation(chain) -> None:
    world, city, province, firm = chain
    lost = datetime.now(UTC) + timedelta(days=3)
    keys.revoke_key(city, code_of(firm), lost)
    up = world.export(city)
    assert [x.status for x in world.merge(province, up.path)] == ["merged"]
    with province.session() as session:
        [e] = session.execute(select(KeyEvent)).scalars().all()
    assert (e.kind, e.unit_code, e.fingerprint, e.by_code, e.source) == (
        "revocation", code_of(firm), fingerprint_of(firm), CITY.code, up.package_id)
    assert "keys.revoked" in audit_actions(province)
    # the same revocation in the city's next package is not taken twice
    again = world.export(city)
    assert [x.status for x in world.merge(province, again.path)] == ["merged"]
    assert events(province) == 1
    # a later city package carrying the firm's package made after the date (the stolen key
    # re-signed it) is refused upstairs by the revocation kept there, even without the
    # city's package saying so again
    third = world.export(city)
    parts = open_members(third.path.read_bytes(), city)
    [name] = [n for n in parts if n.startswith("inner/")]
    late = made_at(parts[name], firm, lost + timedelta(days=1))
    forged = write(world, "late.djpkg", reseal(
        third.path.read_bytes(), city, lambda m: m.pop(REVOCATIONS), members={name: late}))
    before = counts(province)
    v = svc.verify_file(forged, world.forms, province)
    assert not v.ok and "转报的数据包被拒绝" in v.reason() and "吊销" in v.reason()
    assert world.merge(province, forged)[0].status == "refused" and counts(province) == before


def test_a_revocation_from_a_level_not_responsible_is_refused(chain) -> None:
    world, city, province, firm = chain
    assert [x.status for x in world.merge(province, world.export(city).path)] == ["merged"]
    other = world.register(CITY2, "city2.dengji")
    world.link(other, province)
    sent = world.export(other)
    fake = {"unit_code": code_of(firm), "fingerprint": fingerprint_of(firm),
            "from": stamp(datetime.now(UTC)), "by_code": CITY2.code, "by_name": CITY2.name,
            "made_at": stamp(datetime.now(UTC))}
    forged = write(world, "meddling.djpkg", reseal(
        sent.path.read_bytes(), other, lambda m: m.__setitem__(REVOCATIONS, [fake])))
    before = counts(province)
    v = svc.verify_file(forged, world.forms, province)
    assert not v.ok and "只接受负责该单位的上级单位作出的吊销" in v.reason()
    assert counts(province) == before and events(province) == 0
    # nor may a package carry a revocation in another unit's name
    fake2 = dict(fake, by_code=CITY.code, by_name=CITY.name)
    forged = write(world, "in-another-name.djpkg", reseal(
        sent.path.read_bytes(), other, lambda m: m.__setitem__(REVOCATIONS, [fake2])))
    assert "只能携带本单位作出的吊销" in svc.verify_file(forged, world.forms, province).reason()


def test_dengji_keys_revoke(world: World, dengji, monkeypatch) -> None:
    from desktop.storage import crypto
    from tests.exchange.conftest import PASSPHRASE

    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    city = world.register(CITY, "cli-city.dengji", kdf=crypto.DEFAULT_KDF)
    firm = world.firm(seed=83, parent=city).register
    code, fp = code_of(firm), fingerprint_of(firm)
    city.close()
    bad = dengji("keys", "--db", city.path, "revoke", "--unit", code, "--from", "2026-13-01")
    assert bad.code != 0 and "格式不正确" in bad.err
    wrong = dengji("keys", "--db", city.path, "revoke", "--unit", PROVINCE.code, "--from",
                   "2026-12-01")
    assert wrong.code != 0 and "下级单位" in wrong.err
    ok = dengji("keys", "--db", city.path, "revoke", "--unit", code, "--from", "2026-12-01")
    assert ok.code == 0 and ok.out.strip() == fp and "2026-12-01 00:00" in ok.err
    listed = dengji("keys", "--db", city.path, "list")
    assert f"{code}\t{fp}\t自 2026-12-01 00:00 起由 北京市律师行业党委" in listed.out


def test_the_revocation_reaches_the_national_level(chain) -> None:
    """Two levels up the firm packages cannot be opened, but the city's signed manifest (read
    inside the province's package) carries the revocation, and the national level keeps it."""
    from tests.exchange.test_upward import NATION

    world, city, province, firm = chain
    nation = world.register(NATION, "nation.dengji")
    world.link(province, nation)
    r = keys.revoke_key(city, code_of(firm), datetime.now(UTC) + timedelta(days=5))
    up = world.export(city)
    assert [x.status for x in world.merge(province, up.path)] == ["merged"]
    svc.accept_package(province, up.package_id)
    top = world.export(province)
    assert REVOCATIONS not in manifest_of(top.path.read_bytes())  # the city's word, not its
    assert [x.status for x in world.merge(nation, top.path)] == ["merged"]
    with nation.session() as session:
        [e] = session.execute(select(KeyEvent)).scalars().all()
    assert (e.unit_code, e.fingerprint, e.by_code, e.source) == (
        r.unit_code, r.fingerprint, CITY.code, top.package_id)
