"""Package format version 2 (docs/packages.md): nothing personal readable outside the
encryption. The outer zip holds only the signed manifest, its signature and the encrypted
payload; whoever carries a package, a city's upward package or a return file finds none of the
records' names, ID numbers, phones or addresses in it, however deep they look (every zip and
PDF stream unpacked, every usual encoding). Tampering with the payload is refused; version 1
packages are still read; the sender can open its own package, a level that is not a recipient
cannot."""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest

from desktop.exchange.format import encryption, payload
from desktop.exchange.format.manifest import (
    CHANGES,
    FORMAT_VERSION,
    PAYLOAD,
    PLAIN_RECORDS,
    parse_manifest,
)
from desktop.exchange.format.reader import verify_package
from desktop.exchange.trust import register_view
from desktop.services import packages as svc
from desktop.storage import UnitInfo
from tests.exchange.conftest import CITY, PROVINCE, Firm, World, counts, rezip, unzip
from tests.exchange.formats import keys_of, open_payload, reseal, to_v1, to_v2, zipped

OUTER = {"manifest.json", "manifest.sig", PAYLOAD}
PERSONAL = ("姓名", "公民身份号码", "手机号码", "固定电话", "家庭住址", "律师执业证号")


# --- what anyone holding the file can read -------------------------------------------------


def _pdf_streams(data: bytes) -> Iterator[bytes]:
    for match in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", match.end())
        if end > 0:
            try:
                yield zlib.decompress(data[match.end():end])
            except zlib.error:
                yield data[match.end():end]


def readable(data: bytes, depth: int = 0) -> Iterator[bytes]:
    """Every byte string readable without a key: the file, and recursively every member of
    every zip in it (packages, inner packages, workbooks) and every PDF stream, unpacked."""
    yield data
    if depth > 6:
        return
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(BytesIO(data)) as archive:
                members = [archive.read(i) for i in archive.infolist()]
        except (zipfile.BadZipFile, ValueError, EOFError, zlib.error):
            members = []
        for member in members:
            yield from readable(member, depth + 1)
    elif data.startswith(b"%PDF"):
        for stream in _pdf_streams(data):
            yield from readable(stream, depth + 1)


def spellings(value: str) -> set[bytes]:
    """`value` as a file might hold it: UTF-8, UTF-16 either way, GB18030, JSON escapes."""
    return {value.encode(), value.encode("utf-16-le"), value.encode("utf-16-be"),
            value.encode("gb18030"), json.dumps(value)[1:-1].encode()}


def personal_values(firm: Firm) -> set[str]:
    values = {str(m[k]) for m in firm.members for k in PERSONAL if m.get(k)}
    values |= {str(firm.org[k]) for k in ("联系人", "联系电话") if firm.org.get(k)}
    assert len(values) >= 5 * len(firm.members)
    return values


def leaks(data: bytes, values: set[str]) -> set[str]:
    """The values found anywhere readable in `data`."""
    blobs = list(readable(data))
    return {v for v in values for b in blobs for s in spellings(v) if s in b}


# --- the layout and the search --------------------------------------------------------------


@pytest.fixture
def city(world: World):
    return world.register(CITY, "city.dengji")


def test_a_package_shows_nothing_personal(world: World, city) -> None:
    """With the generated workbooks and PDFs: the outer zip is manifest, signature and
    payload; none of the records' personal values is readable anywhere in the file. The same
    package in the version 1 layout does show them (the search can fail)."""
    firm = world.firm(seed=71, members=4, parent=city)
    sent = world.export(firm.register)  # with the official workbooks and PDFs
    data = sent.path.read_bytes()
    assert set(unzip(data)) == OUTER
    values = personal_values(firm)
    assert leaks(data, values) == set()
    inside = open_payload(data, firm.register)
    assert any(n.startswith("xlsx/") for n in inside) and any(n.startswith("pdf/")
                                                             for n in inside)
    assert leaks(to_v1(data, firm.register), values), "the search finds what v1 showed"
    # the manifest holds units, counts and hashes only
    m = parse_manifest(unzip(data)["manifest.json"])
    assert m.format_version == FORMAT_VERSION and m.sealed and set(m.members) == set(inside)
    assert leaks(unzip(data)["manifest.json"], values) == set()


def test_a_city_package_with_inner_packages_shows_nothing_personal(world: World, city
                                                                    ) -> None:
    province = world.register(PROVINCE, "province.dengji")
    world.link(city, province)
    firms = [world.firm(seed=s, members=3, parent=city) for s in (72, 73)]
    sent = [world.export(f.register, attachments={}) for f in firms]
    assert [r.status for r in world.merge(city, *(s.path for s in sent))] == ["merged"] * 2
    for s in sent:
        svc.accept_package(city, s.package_id)
    up = world.export(city)
    data = up.path.read_bytes()
    assert up.inner == 2 and set(unzip(data)) == OUTER
    values = personal_values(firms[0]) | personal_values(firms[1])
    assert leaks(data, values) == set()
    inner = [n for n in open_payload(data, city) if n.startswith("inner/")]
    assert len(inner) == 2
    # the province opens the city's payload and checks both firms' packages inside
    v = svc.verify_file(up.path, world.forms, province)
    assert v.ok, v.reason()
    assert ("内含数据包", True) in [(c.name, c.ok) for c in v.checks]
    [report] = world.merge(province, up.path)
    assert report.status == "merged" and report.outcome.records == 8


def test_a_return_file_shows_nothing_personal(world: World, city) -> None:
    firm = world.firm(seed=74, members=3, parent=city)
    sent = world.export(firm.register, attachments={})
    world.merge(city, sent.path)
    member = firm.members[0]
    with firm.register.session() as session:
        from sqlalchemy import select

        from desktop.storage import Record

        rid = session.execute(select(Record.id).where(Record.name == member["姓名"])
                              ).scalar_one()
    comment = f"{member['姓名']}的手机号码 {member['手机号码']} 与花名册不一致，请核实"
    path = world.folder / "comments.jsonl"
    path.write_text(json.dumps({"record_id": rid, "field": "手机号码", "comment": comment},
                               ensure_ascii=False) + "\n", "utf-8")
    _, _, ret = svc.return_package(city, world.forms, sent.package_id[:8], path, world.folder)
    data = ret.read_bytes()
    assert set(unzip(data)) == OUTER
    assert leaks(data, personal_values(firm) | {comment}) == set()
    assert leaks(to_v1(data, city), {comment}) == set()  # v1 encrypted the comments too
    [report] = world.merge(firm.register, ret)
    assert report.status == "returned" and report.comments == 1
    assert [n.comment for n in svc.record_notes(firm.register, rid)] == [comment]


def test_attached_file_names_do_not_reach_the_manifest(world: World, city, dengji,
                                                      monkeypatch) -> None:
    """A file attached with --attach keeps its content, not its name (a person's name in a
    file name would be readable in the manifest)."""
    from desktop.storage import DEFAULT_KDF
    from tests.exchange.conftest import PASSPHRASE

    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    from tests.conftest import make_firm_records

    records = make_firm_records(seed=75, members=4)
    reg = world.register(UnitInfo("F75", "某所党支部", "firm", CITY.code), "f75.dengji",
                         kdf=DEFAULT_KDF)
    world.import_records(reg, records.members, records.org)
    world.link(reg, city)
    name = records.members[0]["姓名"]
    attached = world.folder / f"{name}入党材料.pdf"
    attached.write_bytes(b"%PDF-1.7 material")
    result = dengji("export", "--db", reg.path, "--out", world.folder / "out", "--attach",
                    attached)
    assert result.code == 0, result.err
    data = Path(result.out.strip()).read_bytes()
    assert leaks(data, {name}) == set()
    assert b"%PDF-1.7 material" in open_payload(data, reg).values()


# --- tampering ------------------------------------------------------------------------------


@pytest.fixture
def sent(world: World, city):
    firm = world.firm(seed=76, members=3, parent=city)
    result = world.export(firm.register, attachments={"pdf/附件1.pdf": b"%PDF-1.7 test"})
    return firm, result.path.read_bytes()


def refused(world: World, city, data: bytes, *words: str) -> str:
    before = counts(city)
    path = world.folder / "bad.djpkg"
    path.write_bytes(data)
    [report] = world.merge(city, path)
    assert report.status == "refused", report
    for word in words:
        assert word in report.reason, report.reason
    assert counts(city) == before
    return report.reason


@pytest.mark.parametrize("where", [0, 0.3, 0.5, -17, -1])
def test_a_flipped_byte_in_the_payload(world: World, city, sent, where: float) -> None:
    _, data = sent
    parts = unzip(data)
    content = bytearray(parts[PAYLOAD])
    i = int(where * (len(content) - 1)) if where >= 0 else len(content) + int(where)
    content[i] ^= 0x01
    parts[PAYLOAD] = bytes(content)
    refused(world, city, rezip(parts), "完整性", f"{PAYLOAD} 的内容与清单中的哈希不符")


def test_a_payload_rehashed_by_an_intruder(world: World, city, sent) -> None:
    """The payload changed and its hash put in a manifest signed with another key."""
    firm, data = sent
    intruder = world.register(UnitInfo("X1", "冒充者", "firm"), "intruder.dengji")
    forged = reseal(data, intruder, members={"pdf/附件1.pdf": b"%PDF- forged"},
                    reader=firm.register)
    refused(world, city, forged, "不是已核对的", "伪造")


@pytest.mark.parametrize("change, words", [
    ({"members": {"pdf/附件1.pdf": b"%PDF- other"}}, ["pdf/附件1.pdf 的内容与清单中的哈希不符"]),
    ({"members": {PLAIN_RECORDS: b""}}, [f"{PLAIN_RECORDS} 的内容与清单中的哈希不符"]),
    ({"remove": ["audit/audit.jsonl"]}, ["缺少文件 audit/audit.jsonl"]),
    ({"members": {"pdf/extra.pdf": b"%PDF- not listed"}}, ["多出清单未列出的文件 pdf/extra.pdf"]),
])
def test_a_payload_whose_members_disagree_with_the_signed_list(world: World, city, sent,
                                                               change, words) -> None:
    """Re-sealed by the trusted sender itself, the manifest's member list left as signed."""
    firm, data = sent
    forged = reseal(data, firm.register, rehash=False, **change)
    refused(world, city, forged, "完整性", *words)


@pytest.mark.parametrize("name, word", [
    ("../../evil.pdf", "../"), ("/etc/passwd", "绝对路径"), ("pdf\\..\\evil.pdf", "反斜杠"),
    ("run.exe", "格式以外的文件"), ("manifest.json", "格式以外的文件"),
])
def test_unsafe_names_inside_the_payload(world: World, city, sent, name, word) -> None:
    firm, data = sent
    inside = open_payload(data, firm.register)
    manifest = json.loads(unzip(data)["manifest.json"])
    plain = zipped([*inside.items(), (name, b"%PDF")])
    refused(world, city, _sealed_as(data, firm, manifest, plain), "加密内容", word)


def _sealed_as(data: bytes, firm: Firm, manifest: dict, plain: bytes) -> bytes:
    """`plain` as the package's payload, encrypted and signed by the trusted sender."""
    import base64
    import hashlib

    keys = [(r["fingerprint"], base64.b64decode(r["x25519"]))
            for r in manifest["encryption"]["recipients"]]
    sealed, envelope = encryption.encrypt(plain, keys, payload.aad(manifest["package_id"]))

    def change(m: dict) -> None:
        m["encryption"] = envelope
        m["payload"] = {"name": PAYLOAD, "sha256": hashlib.sha256(sealed).hexdigest(),
                        "size": len(sealed)}

    parts = unzip(reseal(data, firm.register, change))
    parts[PAYLOAD] = sealed
    return zipped(parts.items())


def test_a_zip_bomb_inside_the_payload(world: World, city, sent) -> None:
    firm, data = sent
    inside = open_payload(data, firm.register)
    manifest = json.loads(unzip(data)["manifest.json"])
    plain = rezip({**inside, "pdf/bomb.txt.pdf": b"\0" * (64 << 20)})
    assert len(plain) < 1 << 20
    refused(world, city, _sealed_as(data, firm, manifest, plain), "压缩炸弹")


def test_members_in_the_clear_beside_the_payload(world: World, city, sent) -> None:
    """A version 2 package must not carry members outside the encryption."""
    firm, data = sent
    inside = open_payload(data, firm.register)
    parts = {**unzip(data), "audit/audit.jsonl": inside["audit/audit.jsonl"]}
    refused(world, city, rezip(parts), "多出清单未列出的文件 audit/audit.jsonl")


def test_another_packages_payload_under_a_resigned_manifest(world: World, city, sent) -> None:
    """The trusted sender's second payload (with its own envelope) under the first package's
    id: the payload's associated data names its package, so it does not decrypt."""
    firm, data = sent
    second = world.export(firm.register, attachments={}).path.read_bytes()
    other = json.loads(unzip(second)["manifest.json"])

    def change(m: dict) -> None:
        m.update(encryption=other["encryption"], payload=other["payload"],
                 members=other["members"])

    parts = unzip(reseal(data, firm.register, change))
    parts[PAYLOAD] = unzip(second)[PAYLOAD]
    refused(world, city, zipped(parts.items()), "加密内容", "无法用本单位的密钥解密")


def test_the_payload_of_a_package_signed_as_version_1(world: World, city, sent) -> None:
    firm, data = sent
    forged = reseal(data, firm.register, lambda m: m.update(format_version=1))
    refused(world, city, forged, "格式")


# --- the old format, the sender, the others ----------------------------------------------


def test_a_version_1_package_still_verifies_and_merges(world: World, city, sent) -> None:
    firm, data = sent
    old = to_v1(data, firm.register)
    parts = unzip(old)
    assert "data/records.jsonl.enc" in parts and "audit/audit.jsonl" in parts
    assert PAYLOAD not in parts
    with city.session() as session:
        view = register_view(session, city)
        v = verify_package(old, "old.djpkg", world.forms, view)
    assert v.ok, v.reason()
    assert v.manifest.format_version == 1 and "加密内容" not in [c.name for c in v.checks]
    path = world.folder / "old.djpkg"
    path.write_bytes(old)
    [report] = world.merge(city, path)
    assert report.status == "merged" and report.outcome.records == 4


def test_a_version_2_package_still_verifies_and_merges(world: World, city, sent) -> None:
    """Version 3 added the change summary (payload) and the key statements (manifest); a
    package written by the version before still merges."""
    firm, data = sent
    old = to_v2(data, firm.register)
    assert FORMAT_VERSION == 3 and parse_manifest(unzip(old)["manifest.json"]).format_version == 2
    path = world.folder / "v2.djpkg"
    path.write_bytes(old)
    [report] = world.merge(city, path)
    assert report.status == "merged" and report.outcome.records == 4


def test_a_version_2_package_cannot_carry_what_version_3_added(world: World, city,
                                                               sent) -> None:
    """A reader of version 2 ignores key statements in silence: they come only with the
    version that says a reader must know them."""
    firm, data = sent
    with_summary = reseal(data, firm.register, lambda m: m.update(format_version=2),
                          members={CHANGES: b'{"units": []}'})
    refused(world, city, with_summary, "格式以外的文件", CHANGES)
    old = to_v2(data, firm.register)
    for entry in ("key_rotations", "key_revocations"):
        forged = reseal(old, firm.register, lambda m, e=entry: m.update({e: []}))
        refused(world, city, forged, "格式版本 2", entry)


def test_the_sender_can_open_its_own_package(world: World, city, sent) -> None:
    firm, data = sent
    inside = open_payload(data, firm.register)
    assert inside[PLAIN_RECORDS].count(b"\n") == 4
    path = world.folder / "own.djpkg"
    path.write_bytes(data)
    v = svc.verify_file(path, world.forms, firm.register)
    assert ("加密内容", True) in [(c.name, c.ok) for c in v.checks], v.reason()
    assert len(v.records) == 4


def test_a_level_that_is_not_a_recipient_cannot_open_it(world: World, city, sent) -> None:
    firm, data = sent
    province = world.register(PROVINCE, "province.dengji")
    world.trust(province, firm.register)
    _, x = keys_of(province)
    manifest = json.loads(unzip(data)["manifest.json"])
    with pytest.raises(encryption.DecryptionFailed):
        encryption.decrypt(unzip(data)[PAYLOAD], manifest["encryption"], x,
                           payload.aad(manifest["package_id"]))
    path = world.folder / "not-mine.djpkg"
    path.write_bytes(data)
    v = svc.verify_file(path, world.forms, province)
    assert not v.ok and v.records is None
    assert "本单位不是接收方" in v.reason() and CITY.name in v.reason()
    before = counts(province)
    [report] = world.merge(province, path)
    assert report.status == "refused" and counts(province) == before


def test_verify_without_a_register_checks_the_outside_only(world: World, city, sent,
                                                          dengji) -> None:
    firm, data = sent
    path = world.folder / "out.djpkg"
    path.write_bytes(data)
    v = svc.verify_file(path, world.forms)
    assert v.ok
    [check] = [c for c in v.checks if c.name == "加密内容"]
    assert check.ok is None and "只有接收单位和发送单位能打开" in check.message
    assert "--db" in check.message
    assert ("发送单位", None) in [(c.name, c.ok) for c in v.checks]
    result = dengji("verify", path)
    assert result.code == 0 and "[未检查] 加密内容：" in result.out
    # the outside is still checked: a changed payload fails without a register too
    parts = unzip(data)
    parts[PAYLOAD] = parts[PAYLOAD][:-1] + bytes([parts[PAYLOAD][-1] ^ 1])
    path.write_bytes(rezip(parts))
    assert not svc.verify_file(path, world.forms).ok
