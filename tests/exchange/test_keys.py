"""Fingerprints, public key files and trusting a key once against the paper cover page."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from desktop.errors import KnownError
from desktop.exchange.format.keys import fingerprint, normalise_fingerprint, read_public_key_file
from desktop.services import packages as svc
from desktop.storage import DEFAULT_KDF, UnitInfo
from tests.exchange.conftest import CITY, PASSPHRASE, World, counts, key_file


def test_fingerprint_is_sha256_in_groups_of_four() -> None:
    key = bytes(range(32))
    fp = fingerprint(key)
    assert re.fullmatch(r"([0-9A-F]{4} ){15}[0-9A-F]{4}", fp)
    assert fp.replace(" ", "") == hashlib.sha256(key).hexdigest().upper()


@pytest.mark.parametrize("typed", [
    "{x}", "{x_lower}", "{x_nospace}", "{x_dashes}", " {x_colons} ",
])
def test_fingerprints_are_compared_however_they_were_typed(typed: str) -> None:
    fp = fingerprint(b"k" * 32)
    compact = fp.replace(" ", "")
    text = typed.format(x=fp, x_lower=fp.lower(), x_nospace=compact,
                        x_dashes=fp.replace(" ", "-"), x_colons=fp.replace(" ", ":"))
    assert normalise_fingerprint(text) == fp


@pytest.mark.parametrize("typed", ["", "1234", "G" * 64, "0" * 63, "0" * 65])
def test_malformed_fingerprints(typed: str) -> None:
    assert normalise_fingerprint(typed) is None


def test_key_file_names_its_unit_and_round_trips(world: World) -> None:
    city = world.register(CITY)
    info = read_public_key_file(key_file(city), "city.djkey")
    assert (info.code, info.name, info.level) == (CITY.code, CITY.name, CITY.level)
    assert info.fingerprint == svc.own_public_key(city).fingerprint
    doc = json.loads(key_file(city))
    assert doc["fingerprint"] == info.fingerprint and doc["unit"]["code"] == CITY.code


@pytest.mark.parametrize("change, word", [
    (lambda d: d["unit"].update(name="冒充的市"), "自签名不正确"),
    (lambda d: d.update(signing_key="AAAA"), "格式不正确"),
    (lambda d: d.update(format_version=9), "更新版本"),
    (lambda d: d.pop("unit"), "缺少单位信息"),
    (lambda d: d["unit"].update(level="galaxy"), "层级"),
])
def test_a_changed_key_file_is_refused(world: World, change, word) -> None:
    doc = json.loads(key_file(world.register(CITY)))
    change(doc)
    with pytest.raises(KnownError, match=word):
        read_public_key_file(json.dumps(doc).encode(), "x.djkey")


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b"[]", b"{}", b"not json"])
def test_not_a_key_file(data: bytes) -> None:
    with pytest.raises(KnownError, match="不是有效的登记软件公钥文件"):
        read_public_key_file(data, "x.djkey")


def test_trust_needs_the_matching_fingerprint(world: World) -> None:
    firm = world.firm(seed=81)
    city = world.register(CITY)
    path = world.folder / "city.djkey"
    path.write_bytes(key_file(city))
    before = counts(firm.register)
    wrong = fingerprint(b"x" * 32)
    with pytest.raises(KnownError, match="指纹不一致") as caught:
        svc.trust_key(firm.register, world.forms, path, wrong)
    assert svc.own_public_key(city).fingerprint in str(caught.value)
    assert counts(firm.register) == before
    info, new = svc.trust_key(firm.register, world.forms, path,
                              svc.own_public_key(city).fingerprint.lower())
    assert new and info.code == CITY.code
    assert not svc.trust_key(firm.register, world.forms, path,
                             svc.own_public_key(city).fingerprint)[1]
    with pytest.raises(KnownError, match="本单位自己的公钥"):
        own = world.folder / "own.djkey"
        own.write_bytes(key_file(firm.register))
        svc.trust_key(firm.register, world.forms, own, svc.own_public_key(firm.register)
                      .fingerprint)


def test_trust_a_sender_from_its_package(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=82)
    world.trust(firm.register, city)
    package = world.export(firm.register).path
    info, new = svc.trust_key(city, world.forms, package,
                              svc.own_public_key(firm.register).fingerprint)
    assert new and info.code == svc.own_public_key(firm.register).code
    assert world.merge(city, package)[0].status == "merged"


def test_cli_keys(world: World, dengji, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    city = world.register(CITY, "city.dengji", kdf=DEFAULT_KDF)
    firm = world.register(UnitInfo("F1", "某所党支部", "firm", CITY.code), "firm.dengji",
                          kdf=DEFAULT_KDF)
    shown = dengji("keys", "--db", city.path, "show", "--format", "json")
    assert shown.code == 0
    doc = shown.json()
    assert set(doc) >= {"unit_code", "fingerprint", "public_key"}
    assert doc["unit_code"] == CITY.code
    assert doc["fingerprint"] == svc.own_public_key(city).fingerprint
    text = dengji("keys", "show", "--db", city.path)  # --db after the operation works too
    assert text.code == 0 and doc["fingerprint"] in text.out
    out = tmp_path / "city.djkey"
    assert dengji("keys", "--db", city.path, "export-public", "--out", out).code == 0
    assert read_public_key_file(out.read_bytes(), "x").code == CITY.code
    bad = dengji("keys", "--db", firm.path, "trust", out, "--fingerprint", "0" * 64)
    assert bad.code == 1 and "指纹不一致" in bad.err
    good = dengji("keys", "--db", firm.path, "trust", out, "--fingerprint", doc["fingerprint"])
    assert good.code == 0 and "已信任" in good.out
    listed = dengji("keys", "--db", firm.path, "list")
    assert CITY.code in listed.out and doc["fingerprint"] in listed.out
    assert dengji("keys", "show").code == 2
