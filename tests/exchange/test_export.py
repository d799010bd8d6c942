"""Export: refused while a record has an E (listed), numbered, named, signed, encrypted for the
recipient and the sender, with attachments hashed like every member."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from desktop.errors import KnownError
from desktop.exchange.format import encryption
from desktop.exchange.format.manifest import PAYLOAD, PLAIN_RECORDS, parse_manifest
from desktop.exchange.format.payload import aad
from desktop.exchange.trust import own_sender
from desktop.services import packages as svc
from desktop.services.packages import ExportBlocked
from desktop.storage import UnitInfo
from desktop.storage.tables import Package
from tests.exchange.conftest import CITY, World, counts, key_file, overstate_members, unzip
from tests.exchange.formats import open_payload

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_package_name_layout_and_manifest",
               "test_export_is_refused_while_a_record_has_an_error"}


def test_package_name_layout_and_manifest(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=41, parent=city)
    result = world.export(firm.register, attachments={"xlsx/附件1.xlsx": b"PK fake workbook",
                                                      "pdf/附件1.pdf": b"%PDF-1.7"})
    code = svc.own_public_key(firm.register).code
    assert re.fullmatch(rf"{code}-party-{date.today():%Y%m%d}-1\.djpkg", result.path.name)
    parts = unzip(result.path.read_bytes())
    assert set(parts) == {"manifest.json", "manifest.sig", PAYLOAD}  # format 2
    inside = open_payload(result.path.read_bytes(), firm.register)
    assert set(inside) == {PLAIN_RECORDS, "audit/audit.jsonl", "xlsx/附件1.xlsx",
                           "pdf/附件1.pdf"}
    m = parse_manifest(parts["manifest.json"])
    assert m.format_version == 3 and m.sealed
    assert m.sequence == 1 and m.supersedes is None and m.record_count == 5
    assert m.forms == (("lawyer_member", "2026.1", 4), ("party_org", "2026.1", 1))
    assert m.sender.code == code and m.recipient.code == CITY.code
    assert m.recipient_fingerprint == svc.own_public_key(city).fingerprint
    assert m.signer_fingerprint == svc.own_public_key(firm.register).fingerprint
    assert set(m.members) == set(inside)
    for name, content in inside.items():
        assert m.members[name] == (hashlib.sha256(content).hexdigest(), len(content))
    assert m.payload == (hashlib.sha256(parts[PAYLOAD]).hexdigest(), len(parts[PAYLOAD]))
    # nothing personal in clear text: everything but the manifest is encrypted
    for member in firm.members:
        assert member["公民身份号码"].encode() not in result.path.read_bytes()
        assert member["姓名"].encode() not in parts[PAYLOAD]
    # both the recipient and the sender can decrypt
    for reg in (city, firm.register):
        with reg.session() as session:
            _, x = own_sender(session, reg)
        plain = encryption.decrypt(parts[PAYLOAD], m.encryption, x, aad(m.package_id))
        assert unzip(plain)[PLAIN_RECORDS].count(b"\n") == 5
    parts = inside
    audit = [json.loads(line) for line in parts["audit/audit.jsonl"].splitlines()]
    assert [a["action"] for a in audit][:3] == ["init", "import", "import"]


def test_sequence_increases_and_names_the_superseded(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=42, parent=city)
    first, second, third = (world.export(firm.register) for _ in range(3))
    assert (first.sequence, second.sequence, third.sequence) == (1, 2, 3)
    assert second.supersedes == first.package_id and third.supersedes == second.package_id
    with firm.register.session() as session:
        sent = session.execute(select(Package.sequence, Package.direction, Package.content)
                               .order_by(Package.sequence)).all()
    # the newest sent package is kept whole (the next change report compares with it); the
    # older ones are not
    assert sent == [(1, "sent", None), (2, "sent", None),
                    (3, "sent", third.path.read_bytes())]


def test_export_is_refused_while_a_record_has_an_error(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=43, parent=city)
    org_id = overstate_members(firm.register)  # 附件3 says 9 members; there are 4
    before = counts(firm.register)
    with pytest.raises(ExportBlocked) as caught:
        world.export(firm.register)
    blockers = caught.value.blockers
    assert blockers and all(b.record_id == org_id for b in blockers)
    assert any("律师党员" in b.field or "律师党员" in b.message for b in blockers)
    assert "改正后才能导出" in str(caught.value)
    assert counts(firm.register) == before
    assert not (world.folder / "out").exists() or not list((world.folder / "out").iterdir())


def test_without_a_trusted_parent_export_says_what_to_do(world: World) -> None:
    firm = world.firm(seed=44)
    with pytest.raises(KnownError, match="还没有核对过市级律师行业党委的公钥"):
        world.export(firm.register)


def test_to_a_key_file(world: World) -> None:
    firm = world.firm(seed=45)
    other = world.register(UnitInfo("C9", "某市律师行业党委", "city"))
    key = world.folder / "c9.djkey"
    key.write_bytes(key_file(other))
    result = world.export(firm.register, to=key)
    assert result.recipient.code == "C9"


def test_a_tampered_key_file_is_refused(world: World) -> None:
    """Swapping the encryption key in a key file (keeping the signing key, so the fingerprint
    would still match) breaks its self-signature."""
    firm = world.firm(seed=46)
    other = world.register(UnitInfo("C9", "某市律师行业党委", "city"))
    doc = json.loads(key_file(other))
    doc["encryption_key"] = json.loads(key_file(firm.register))["encryption_key"]
    key = world.folder / "swapped.djkey"
    key.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(KnownError, match="自签名不正确"):
        world.export(firm.register, to=key)


def test_attachment_names_are_checked(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=47, parent=city)
    with pytest.raises(ValueError):
        world.export(firm.register, attachments={"../附件4.xlsx": b"x"})


def test_cli_export_lists_errors_and_prints_the_path(world: World, dengji, monkeypatch,
                                                     tmp_path) -> None:
    from desktop.storage import DEFAULT_KDF
    from tests.exchange.conftest import PASSPHRASE

    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    city = world.register(CITY)
    firm_reg = world.register(UnitInfo("F1", "某所党支部", "firm", CITY.code), "firm.dengji",
                              kdf=DEFAULT_KDF)
    from tests.conftest import make_firm_records

    records = make_firm_records(seed=48, today=date.today())
    world.import_records(firm_reg, records.members, None)  # 附件3 missing: an E per member
    world.link(firm_reg, city)
    result = dengji("export", "--db", firm_reg.path, "--out", tmp_path / "out")
    assert result.code == 1
    assert len(result.lines) == 4 and all("尚未在附件3" in line for line in result.lines)
    assert "改正后才能导出数据包" in result.err
    world.import_records(firm_reg, [], records.org)
    result = dengji("export", "--db", firm_reg.path, "--out", tmp_path / "out")
    assert result.code == 0, result.err
    assert result.out.strip().endswith("F1-party-" + f"{date.today():%Y%m%d}-1.djpkg")
    assert "加密发给 北京市律师行业党委" in result.err
