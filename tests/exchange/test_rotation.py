"""Signing-key rotation (issue 19): a unit replaces its key pair with a statement signed by the
old key; the next package carries it and the level above takes the new key without a new
fingerprint check, at any depth. Written as the attacks a statement must withstand: signed by
the wrong key, for another unit, tampered, replayed for a second new key, and the old key
signing after the rotation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from desktop.exchange.format.keys import b64, fingerprint, raw_public
from desktop.exchange.format.manifest import canonical
from desktop.exchange.format.rotation import HOW_ROTATION, ROTATIONS, make_statement, stamp
from desktop.services import packages as svc
from desktop.services.packages import keys
from desktop.storage import AuditEntry, UnitKey
from desktop.storage.keys import own_key_pairs
from desktop.storage.tables import KeyEvent, TrustedKey
from tests.exchange.conftest import CITY, PROVINCE, World, counts, fingerprint_of
from tests.exchange.formats import data_lines, manifest_of, unzip, zipped

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_the_province_follows_a_firm_rotation_inside_the_city_package"}


def x_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signed_by(data: bytes, private: Ed25519PrivateKey, change=None,
              encryption_key: bytes | None = None) -> bytes:
    """The package re-signed by `private` after `change(manifest)`, naming it as the signer
    (what someone holding that key can make; the payload is left as it was)."""
    parts = unzip(data)
    manifest = json.loads(parts["manifest.json"])
    if change:
        change(manifest)
    public = raw_public(private)
    manifest["signer"] = {"signing_key": b64(public),
                          "encryption_key": b64(encryption_key or
                                                b64_bytes(manifest["signer"]["encryption_key"])),
                          "fingerprint": fingerprint(public)}
    raw = canonical(manifest)
    return zipped([("manifest.json", raw), ("manifest.sig", private.sign(raw)),
                   *((n, c) for n, c in parts.items()
                     if n not in ("manifest.json", "manifest.sig"))])


def b64_bytes(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


def trusted_rows(register) -> dict[str, str]:
    with register.session() as session:
        return {k.fingerprint: k.confirmed_how for k in
                session.execute(select(TrustedKey)).scalars()}


def audit_actions(register) -> list[str]:
    with register.session() as session:
        return list(session.execute(select(AuditEntry.action).order_by(AuditEntry.seq))
                    .scalars())


def checks(v) -> dict[str, tuple[bool | None, str]]:
    return {c.name: (c.ok, c.message) for c in v.checks}


def write(world: World, name: str, data: bytes):
    path = world.folder / name
    path.write_bytes(data)
    return path


def signing_key(register, index: int) -> Ed25519PrivateKey:
    with register.session() as session:
        return own_key_pairs(session, register.own_unit_id)[index][0]


def rotated(world: World, city, firm) -> Ed25519PrivateKey:
    """Rotate the firm's key and have the city take the new one; the old private key."""
    old_key = signing_key(firm, 0)
    keys.rotate_key(firm)
    assert [r.status for r in world.merge(city, world.export(firm).path)] == ["merged"]
    return old_key


def three_levels(world: World, seed: int):
    """A city linked to its province, and a firm linked to the city: (city, province, firm)."""
    city = world.register(CITY, "city.dengji")
    province = world.register(PROVINCE, "province.dengji")
    world.link(city, province)
    return city, province, world.firm(seed=seed, parent=city).register


@pytest.fixture
def pair(world: World):
    """A firm linked to its city, its first package merged."""
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=71, parent=city)
    first = world.export(firm.register)
    assert [r.status for r in world.merge(city, first.path)] == ["merged"]
    return world, city, firm.register, first


def test_the_city_takes_the_new_key_from_a_statement_signed_by_the_old_one(pair) -> None:
    world, city, firm, _ = pair
    old = fingerprint_of(firm)
    statement = keys.rotate_key(firm)
    new = fingerprint_of(firm)
    assert (statement.old_fingerprint, statement.new_fingerprint) == (old, new) and old != new
    # the old pair stays in the own register, the new one signs
    with firm.session() as session:
        assert session.execute(select(UnitKey)).scalars().all().__len__() == 4
        assert len(own_key_pairs(session, firm.own_unit_id)) == 2
    assert audit_actions(firm)[-1] == "keys.rotate"
    second = world.export(firm)
    assert [s["old_fingerprint"] for s in manifest_of(second.path.read_bytes())[ROTATIONS]] \
        == [old]
    v = svc.verify_file(second.path, world.forms, city)
    assert v.ok, v.reason()
    assert "由旧公钥签名的换钥声明" in checks(v)["发送单位"][1]
    [report] = world.merge(city, second.path)
    assert report.status == "merged"
    assert trusted_rows(city) == {old: "与盖章纸质封面上的公钥指纹核对一致", new: HOW_ROTATION}
    assert "keys.rotated" in audit_actions(city)
    with city.session() as session:
        [event] = session.execute(select(KeyEvent)).scalars().all()
        assert (event.kind, event.fingerprint, event.new_fingerprint, event.source) == (
            "rotation", old, new, second.package_id)
    # the next package needs no statement to be followed again; it still carries it
    third = world.export(firm)
    assert [r.status for r in world.merge(city, third.path)] == ["merged"]
    assert trusted_rows(city).keys() == {old, new}


def test_packages_signed_before_the_rotation_still_verify(world: World) -> None:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=72, parent=city).register
    before = world.export(firm)  # signed by the old key, not merged yet
    keys.rotate_key(firm)
    after = world.export(firm)
    reports = world.merge(city, before.path, after.path)
    assert [r.status for r in reports] == ["merged", "merged"], [r.reason for r in reports]
    # re-reading the old package later: still signed by a key the city knows
    v = svc.verify_file(before.path, world.forms, city)
    assert v.ok and v.already, v.reason()
    # and the firm still opens its own old package (encrypted for its old key too)
    own = svc.verify_file(before.path, world.forms, firm)
    assert checks(own)["发送单位"][0] is True and checks(own)["加密内容"][0] is True


def test_a_chain_of_rotations_when_the_city_missed_one_package(pair) -> None:
    world, city, firm, _ = pair
    a = fingerprint_of(firm)
    keys.rotate_key(firm)
    b = fingerprint_of(firm)
    world.export(firm)  # carried B's statement: never reaches the city
    keys.rotate_key(firm)
    c = fingerprint_of(firm)
    last = world.export(firm)
    assert len(manifest_of(last.path.read_bytes())[ROTATIONS]) == 2
    [report] = world.merge(city, last.path)
    assert report.status == "merged", report.reason
    assert trusted_rows(city) == {a: "与盖章纸质封面上的公钥指纹核对一致", b: HOW_ROTATION,
                                  c: HOW_ROTATION}
    assert audit_actions(city).count("keys.rotated") == 2


def test_the_old_key_signs_nothing_made_after_the_rotation(pair) -> None:
    world, city, firm, first = pair
    old_key = rotated(world, city, firm)
    third = world.export(firm)  # made after the rotation, then re-signed with the old key
    def after(m: dict) -> None:  # a second later than the statement (times are to the second)
        made = datetime.fromisoformat(m.pop(ROTATIONS)[0]["made_at"])
        m["created"] = stamp(max(made + timedelta(seconds=1),
                                 datetime.fromisoformat(m["created"])))

    forged = write(world, "old-key.djpkg", signed_by(third.path.read_bytes(), old_key, after))
    before = counts(city)
    v = svc.verify_file(forged, world.forms, city)
    assert not v.ok and "此后不再使用旧公钥" in v.reason() and "换为" in v.reason()
    assert world.merge(city, forged)[0].status == "refused"
    assert counts(city) == before


def announced(world: World, firm, old: Ed25519PrivateKey, name: str,
              made: datetime | None = None) -> tuple[Ed25519PrivateKey, Path, dict]:
    """The firm's next package, signed by a fresh key that a statement signed by `old`
    announces (what someone holding `old` can make): (the fresh key, the file, the
    statement)."""
    new, enc = Ed25519PrivateKey.generate(), X25519PrivateKey.generate()
    data = world.export(firm).path.read_bytes()
    sender = manifest_of(data)["sender"]
    statement = make_statement(sender["code"], sender["name"], "firm", old, new, x_public(enc),
                               made or datetime.now(UTC)).document
    forged = write(world, name, signed_by(
        data, new, lambda m: m.__setitem__(ROTATIONS, [statement]), x_public(enc)))
    return new, forged, statement


def test_a_statement_signed_by_a_key_the_city_does_not_know_is_refused(pair) -> None:
    world, city, firm, _ = pair
    new, forged, _ = announced(world, firm, Ed25519PrivateKey.generate(), "stranger.djpkg")
    before = counts(city)
    v = svc.verify_file(forged, world.forms, city)
    assert not v.ok and "不是已核对的" in v.reason() and "换钥声明" in v.reason()
    assert world.merge(city, forged)[0].status == "refused"
    assert counts(city) == before and fingerprint(raw_public(new)) not in trusted_rows(city)


def test_a_statement_for_another_unit_is_refused(pair) -> None:
    world, city, firm, _ = pair
    other = world.firm(seed=73, parent=city).register
    keys.rotate_key(other)
    statement = manifest_of(world.export(other).path.read_bytes())[ROTATIONS]
    package = world.export(firm)
    signer = signing_key(firm, -1)
    forged = write(world, "borrowed.djpkg", signed_by(
        package.path.read_bytes(), signer, lambda m: m.__setitem__(ROTATIONS, statement)))
    before = counts(city)
    v = svc.verify_file(forged, world.forms, city)
    assert not v.ok and "只能携带本单位的换钥声明" in v.reason()
    assert counts(city) == before


@pytest.mark.parametrize("field", ["new_encryption_key", "made_at", "new_fingerprint"])
def test_a_tampered_statement_is_refused(pair, field: str) -> None:
    world, city, firm, _ = pair
    keys.rotate_key(firm)
    package = world.export(firm)
    signer = signing_key(firm, -1)

    def tamper(m: dict) -> None:
        s = m[ROTATIONS][0]
        s[field] = {"new_encryption_key": b64(x_public(X25519PrivateKey.generate())),
                    "made_at": stamp(datetime.now(UTC) - timedelta(days=400)),
                    "new_fingerprint": fingerprint(b"x" * 32)}[field]

    forged = write(world, "tampered.djpkg", signed_by(package.path.read_bytes(), signer, tamper))
    before = counts(city)
    v = svc.verify_file(forged, world.forms, city)
    assert not v.ok and "换钥声明" in v.reason() and "未作任何改动" in v.reason()
    assert world.merge(city, forged)[0].status == "refused"
    assert counts(city) == before and len(trusted_rows(city)) == 1


def test_a_statement_replayed_for_a_second_new_key_is_refused(pair) -> None:
    """Someone who kept the old key announces another new key after the real rotation."""
    world, city, firm, first = pair
    old_key = rotated(world, city, firm)
    real = world.export(firm)
    m = manifest_of(real.path.read_bytes())
    thief, forged, second = announced(world, firm, old_key, "replayed.djpkg",
                                      datetime.now(UTC) - timedelta(days=1))
    before = counts(city)
    v = svc.verify_file(forged, world.forms, city)
    assert not v.ok and "重放或伪造" in v.reason(), v.reason()
    assert counts(city) == before and fingerprint(raw_public(thief)) not in trusted_rows(city)
    # two statements from the same old key in one package: neither is taken
    both = write(world, "both.djpkg", signed_by(
        forged.read_bytes(), thief, lambda d: d.__setitem__(ROTATIONS, [*m[ROTATIONS], second])))
    v = svc.verify_file(both, world.forms, city)
    assert not v.ok and "两份换钥声明" in v.reason()


def test_the_province_follows_a_firm_rotation_inside_the_city_package(world: World) -> None:
    """The province trusts the firm's first key directly; the firm's rotated package reaches
    it inside the city's: the statement in the firm's own manifest is followed there too."""
    city, province, firm = three_levels(world, 74)
    world.trust(province, firm)
    old = fingerprint_of(firm)
    keys.rotate_key(firm)
    sent = world.export(firm)
    assert [r.status for r in world.merge(city, sent.path)] == ["merged"]
    svc.accept_package(city, sent.package_id)
    up = world.export(city)
    v = svc.verify_file(up.path, world.forms, province)
    assert v.ok, v.reason()
    assert [r.status for r in world.merge(province, up.path)] == ["merged"]
    assert trusted_rows(province)[fingerprint_of(firm)] == HOW_ROTATION and old in \
        trusted_rows(province)


def test_a_rotated_city_is_followed_by_the_province_and_still_opens_old_firm_packages(
        world: World) -> None:
    """The city rotates: a firm's package encrypted for the city's old key still merges there
    (the old private key stays), and the province takes the city's new key."""
    city, province, firm = three_levels(world, 75)
    first = world.export(city)
    assert [r.status for r in world.merge(province, first.path)] == ["merged"]
    keys.rotate_key(city)
    sent = world.export(firm)  # for the city's old key, as the firm knows it
    assert [r.status for r in world.merge(city, sent.path)] == ["merged"]
    svc.accept_package(city, sent.package_id)
    up = world.export(city)
    reports = world.merge(province, up.path)
    assert [r.status for r in reports] == ["merged"], reports[0].reason
    assert trusted_rows(province)[fingerprint_of(city)] == HOW_ROTATION


def test_dengji_keys_rotate(world: World, dengji, monkeypatch) -> None:
    from desktop.storage import crypto
    from tests.exchange.conftest import PASSPHRASE

    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    firm = world.register(world_firm_unit(), "cli-firm.dengji", kdf=crypto.DEFAULT_KDF)
    old = fingerprint_of(firm)
    firm.close()
    result = dengji("keys", "--db", firm.path, "rotate")
    assert result.code == 0 and "由旧公钥签名" in result.err and old in result.err
    new = result.out.strip()
    assert new != old and len(new) == 79
    listed = dengji("keys", "--db", firm.path, "list")
    assert f"{old}\t自 " in listed.out and f"换钥为 {new}" in listed.out
    shown = dengji("keys", "--db", firm.path, "show")
    assert new in shown.out


def world_firm_unit():
    from desktop.storage import UnitInfo

    return UnitInfo("91110000MA01ABCD3K", "中共测试律师事务所支部委员会", "firm", CITY.code)


def test_a_firm_follows_its_rotated_city_through_a_return_file(pair) -> None:
    """The city rotates and returns the firm's package: the return file is signed by the new
    key and carries the statement; the firm takes the new key and the comments."""
    world, city, firm, first = pair
    old = fingerprint_of(city)
    rid = next(r["id"] for r in data_lines(first.path.read_bytes(), city)
               if r["form_id"] == "lawyer_member")
    keys.rotate_key(city)
    *_, path = svc.return_package(city, world.forms, first.package_id,
                                  [{"record_id": rid, "comment": "请核对学历"}], world.folder)
    assert [s["old_fingerprint"] for s in manifest_of(path.read_bytes())[ROTATIONS]] == [old]
    [report] = world.merge(firm, path)
    assert report.status == "returned", report.reason
    assert trusted_rows(firm)[fingerprint_of(city)] == HOW_ROTATION
    assert "keys.rotated" in audit_actions(firm)
    # the firm's next package goes to the city's new key and merges there
    again = world.export(firm)
    assert manifest_of(again.path.read_bytes())["recipient"]["fingerprint"] == \
        fingerprint_of(city)
    assert [r.status for r in world.merge(city, again.path)] == ["merged"]


def test_a_manifest_may_not_carry_more_statements_than_a_unit_could_make() -> None:
    """Each statement costs two signature checks: a package cannot make a level above check
    thousands of them (the chain of a hundred is read in about 45 ms)."""
    from desktop.exchange.format.rotation import StatementError, statements_of

    keys_ = [Ed25519PrivateKey.generate() for _ in range(102)]
    docs = [make_statement("X", "甲", "firm", keys_[i], keys_[i + 1], b"\x01" * 32,
                           datetime.now(UTC)).document for i in range(101)]
    assert len(statements_of({ROTATIONS: docs[:100]}, "X").rotations) == 100
    with pytest.raises(StatementError, match="key_rotations"):
        statements_of({ROTATIONS: docs}, "X")
    with pytest.raises(StatementError, match="key_rotations"):
        statements_of({ROTATIONS: {"not": "a list"}}, "X")


def test_rotations_and_revocations_are_taken_from_packages_prepared_in_workers(
        world: World) -> None:
    """A large merge verifies in worker processes: the register's view (older own keys,
    retired keys) travels to them and the statements travel back to be kept."""
    from desktop.progress import run

    city, province, firm = three_levels(world, 76)
    other = world.firm(seed=77, parent=city).register
    for f in (firm, other):
        assert [r.status for r in world.merge(city, world.export(f).path)] == ["merged"]
    keys.rotate_key(firm)
    keys.rotate_key(city)  # the city opens what was sent to its old key in the workers too
    keys.revoke_key(city, svc.own_public_key(other).code, datetime.now(UTC) - timedelta(hours=1))
    sent = [world.export(firm), world.export(other)]
    reports = {r.path: r for r in run(svc.merge_packages(city, world.forms,
                                                         [s.path for s in sent], parallel=True))}
    rotated_, revoked = (reports[s.path] for s in sent)
    assert rotated_.status == "merged", rotated_.reason
    assert revoked.status == "refused" and "吊销" in revoked.reason
    assert trusted_rows(city)[fingerprint_of(firm)] == HOW_ROTATION
