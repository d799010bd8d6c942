"""Every kind of bad package of the issue is refused with a reason, and nothing is written.

The package attacked here is in the version 1 layout (tests/exchange/formats.py: to_v1), whose
members sit side by side in the outer zip, so the old format's reading stays tested; the same
attacks on a version 2 package's payload are in test_format_v2.py."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop.exchange.format.manifest import RECORDS
from desktop.storage import DEFAULT_KDF, UnitInfo
from tests.exchange.conftest import CITY, Firm, World, counts, resign, rezip, unzip
from tests.exchange.formats import to_v1


@dataclass
class Setup:
    world: World
    city: object
    firm: Firm
    package: Path
    data: bytes


@pytest.fixture
def setup(world: World) -> Setup:
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=11, parent=city)
    result = world.export(firm.register, attachments={"pdf/附件1.pdf": b"%PDF-1.7 test"})
    result.path.write_bytes(to_v1(result.path.read_bytes(), firm.register))
    return Setup(world, city, firm, result.path, result.path.read_bytes())


def refused(setup: Setup, data: bytes, *words: str, name: str = "bad.djpkg") -> str:
    """Merge `data` into the city: it must be refused with `words` in the reason, and the
    register must be unchanged (no row, no audit entry, no backup)."""
    before = counts(setup.city)
    backups = set(setup.city.path.parent.glob("*.bak-*"))
    path = setup.world.folder / name
    path.write_bytes(data)
    [report] = setup.world.merge(setup.city, path)
    assert report.status == "refused", report
    for word in words:
        assert word in report.reason, report.reason
    assert counts(setup.city) == before
    assert set(setup.city.path.parent.glob("*.bak-*")) == backups
    return report.reason


def test_the_good_package_merges(setup: Setup) -> None:
    [report] = setup.world.merge(setup.city, setup.package)
    assert report.status == "merged" and report.outcome.records == 5


@pytest.mark.parametrize("member", ["manifest.json", "manifest.sig", RECORDS,
                                    "audit/audit.jsonl", "pdf/附件1.pdf"])
@pytest.mark.parametrize("where", [0, 0.5, -1])
def test_a_flipped_byte_in_any_member(setup: Setup, member: str, where: float) -> None:
    parts = unzip(setup.data)
    content = bytearray(parts[member])
    i = int(where * (len(content) - 1)) if where >= 0 else len(content) - 1
    content[i] ^= 0x01
    parts[member] = bytes(content)
    reason = refused(setup, rezip(parts))
    assert any(w in reason for w in ("签名", "哈希", "JSON", "清单", "格式")), reason


def test_a_flipped_byte_in_the_file_itself(setup: Setup) -> None:
    data = bytearray(setup.data)
    # inside the stored (uncompressed) ciphertext: zip's own CRC notices first
    at = setup.data.index(unzip(setup.data)[RECORDS][:16]) + 20
    data[at] ^= 0xFF
    refused(setup, bytes(data), "损坏")


def test_a_removed_member(setup: Setup) -> None:
    parts = unzip(setup.data)
    del parts["audit/audit.jsonl"]
    refused(setup, rezip(parts), "缺少文件 audit/audit.jsonl")


def test_the_data_removed(setup: Setup) -> None:
    parts = unzip(setup.data)
    del parts[RECORDS]
    refused(setup, rezip(parts), "缺少文件")


def test_an_added_member(setup: Setup) -> None:
    parts = unzip(setup.data)
    parts["pdf/extra.pdf"] = b"%PDF- not listed"
    refused(setup, rezip(parts), "多出清单未列出的文件 pdf/extra.pdf")


def test_an_added_member_of_an_unknown_kind(setup: Setup) -> None:
    parts = unzip(setup.data)
    parts["run.exe"] = b"MZ"
    refused(setup, rezip(parts), "格式以外的文件 run.exe")


def test_a_duplicated_member(setup: Setup) -> None:
    parts = list(unzip(setup.data).items())
    parts.append(("audit/audit.jsonl", b"{}\n"))
    with pytest.warns(UserWarning):  # zipfile warns about the duplicate name it writes
        data = rezip(parts)
    refused(setup, data, "不止一次")


def test_a_manifest_resigned_with_another_key(setup: Setup) -> None:
    """Someone changes the data and signs again with a key of their own: the sender's trusted
    key does not match."""
    intruder = setup.world.register(UnitInfo("X1", "冒充者", "firm"), "intruder.dengji")
    forged = resign(setup.data, intruder,
                    members={"audit/audit.jsonl": b'{"forged": true}\n'})
    refused(setup, forged, "不是已核对的", "伪造")


def test_hashes_that_match_altered_data(setup: Setup) -> None:
    """The data and the manifest's hashes are changed consistently, the signature is kept."""
    import hashlib

    parts = unzip(setup.data)
    altered = b'{"seq": 1, "action": "nothing to see"}\n'
    manifest = json.loads(parts["manifest.json"])
    manifest["members"]["audit/audit.jsonl"] = {"sha256": hashlib.sha256(altered).hexdigest(),
                                                "size": len(altered)}
    parts["audit/audit.jsonl"] = altered
    parts["manifest.json"] = json.dumps(manifest, ensure_ascii=False, sort_keys=True,
                                        indent=1).encode() + b"\n"
    refused(setup, rezip(parts), "签名不正确")


def test_records_swapped_for_another_packages(setup: Setup) -> None:
    """Ciphertext of another package (same sender, same recipient) under this manifest."""
    second = setup.world.export(setup.firm.register)
    parts = unzip(setup.data)
    parts[RECORDS] = unzip(to_v1(second.path.read_bytes(), setup.firm.register))[RECORDS]
    refused(setup, rezip(parts), "哈希不符")


def test_an_older_sequence_replayed(setup: Setup) -> None:
    newer = setup.world.export(setup.firm.register)
    assert newer.sequence == 2
    assert setup.world.merge(setup.city, newer.path)[0].status == "merged"
    refused(setup, setup.data, "序号 1 比已合并的序号 2 旧", name=setup.package.name)


def test_the_same_sequence_with_another_package(setup: Setup) -> None:
    assert setup.world.merge(setup.city, setup.package)[0].status == "merged"
    from sqlalchemy import update

    from desktop.storage.tables import Package

    with setup.firm.register.session() as session:  # the firm forgets it sent number 1
        session.execute(update(Package).values(sequence=0))
        session.commit()
    again = setup.world.export(setup.firm.register)
    assert again.sequence == 1
    refused(setup, again.path.read_bytes(), "序号 1 已被另一个已合并的数据包使用")


def test_merging_the_same_package_twice_writes_it_once(setup: Setup) -> None:
    assert setup.world.merge(setup.city, setup.package)[0].status == "merged"
    before = counts(setup.city)
    assert setup.world.merge(setup.city, setup.package)[0].status == "already"
    assert counts(setup.city) == before


def test_a_package_for_another_recipient(setup: Setup) -> None:
    other_city = setup.world.register(UnitInfo("CITY2", "别的市律师行业党委", "city"),
                                      "other.dengji")
    setup.world.link(setup.firm.register, other_city)
    to_other = setup.world.folder / "other.djkey"
    from tests.exchange.conftest import key_file

    to_other.write_bytes(key_file(other_city))
    meant_for_other = setup.world.export(setup.firm.register, to=to_other)
    refused(setup, meant_for_other.path.read_bytes(), "这是发给 别的市律师行业党委")


@pytest.mark.parametrize("name, word", [
    ("../../evil.pdf", "../"), ("pdf/../../evil.pdf", "../"), ("/etc/passwd", "绝对路径"),
    ("C:/Windows/evil.pdf", "绝对路径"), ("pdf\\..\\evil.pdf", "反斜杠"),
    ("pdf//x.pdf", "路径格式"), ("pdf/\x01.pdf", "控制字符"),
])
def test_unsafe_member_names(setup: Setup, name: str, word: str) -> None:
    parts = list(unzip(setup.data).items()) + [(name, b"%PDF")]
    refused(setup, rezip(parts), "不安全", word)


def test_a_zip_bomb(setup: Setup) -> None:
    parts = unzip(setup.data)
    parts["pdf/bomb.pdf"] = b"\0" * (64 << 20)  # 64 MiB of zeros deflate to ~64 KiB
    data = rezip(parts)
    assert len(data) < 1 << 20
    refused(setup, data, "压缩炸弹")


def test_a_zip_bomb_that_lies_about_its_size(setup: Setup) -> None:
    """A member that claims a small size but inflates to much more: it is read only up to its
    declared size, and the CRC check refuses it."""
    data = bytearray(rezip({**unzip(setup.data), "pdf/bomb.pdf": b"\0" * (8 << 20)}))
    fake = (100).to_bytes(4, "little")
    start = 0
    while (at := data.find(b"PK", start)) >= 0:
        start = at + 2
        kind = bytes(data[at + 2: at + 4])
        if kind == b"\x03\x04":  # local header: size at 22, name length at 26, name at 30
            n = int.from_bytes(data[at + 26: at + 28], "little")
            if data[at + 30: at + 30 + n] == b"pdf/bomb.pdf":
                data[at + 22: at + 26] = fake
        elif kind == b"\x01\x02":  # central directory: size at 24, name length 28, name 46
            n = int.from_bytes(data[at + 28: at + 30], "little")
            if data[at + 46: at + 46 + n] == b"pdf/bomb.pdf":
                data[at + 24: at + 28] = fake
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("pdf/bomb.pdf").file_size == 100
    refused(setup, bytes(data), "bomb.pdf")


def test_not_a_zip(setup: Setup) -> None:
    refused(setup, b"%PDF-1.7\n" + b"x" * 500, "不是 zip")


def test_an_empty_file(setup: Setup) -> None:
    refused(setup, b"", "文件为空")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95, 0.999])
def test_a_truncated_file(setup: Setup, keep: float) -> None:
    refused(setup, setup.data[: int(len(setup.data) * keep)], "损坏")


def test_a_newer_format_version(setup: Setup) -> None:
    newer = resign(setup.data, setup.firm.register,
                   change=lambda m: m.update(format_version=4, something_new={"x": 1}))
    refused(setup, newer, "格式版本为 4", "请升级")


def test_an_unknown_form_is_refused_whole(setup: Setup) -> None:
    """Correctly signed and encrypted by the trusted sender, but one record names a form this
    software does not know: the whole package is refused, not the other records merged."""
    from desktop.exchange.format import encryption
    from desktop.exchange.format.writer import jsonl
    from tests.exchange.conftest import own_sender

    with setup.firm.register.session() as session:
        _, firm_x = own_sender(session, setup.firm.register)
    manifest = json.loads(unzip(setup.data)["manifest.json"])
    plain = encryption.decrypt(unzip(setup.data)[RECORDS], manifest["encryption"], firm_x,
                               manifest["package_id"].encode())
    lines = [json.loads(line) for line in plain.decode().splitlines()]
    lines[-1]["form_id"] = "future_form"
    envelope_keys = [(r["fingerprint"], __import__("base64").b64decode(r["x25519"]))
                     for r in manifest["encryption"]["recipients"]]
    ciphertext, envelope = encryption.encrypt(jsonl(lines), envelope_keys,
                                              manifest["package_id"].encode())
    forged = resign(setup.data, setup.firm.register, members={RECORDS: ciphertext},
                    change=lambda m: m.update(encryption=envelope))
    refused(setup, forged, "future_form", "请升级")


def test_cli_merge_of_a_bad_package_exits_1(world: World, dengji, monkeypatch) -> None:
    """One refused package among good ones: the good one is merged, the exit status is 1."""
    from tests.exchange.conftest import PASSPHRASE

    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    city = world.register(CITY, "cli-city.dengji", kdf=DEFAULT_KDF)
    firm = world.firm(seed=12, parent=city)
    good = world.export(firm.register).path
    bad = world.folder / "bad.djpkg"
    bad.write_bytes(good.read_bytes()[:100])
    before = counts(city)
    result = dengji("merge", "--db", city.path, bad, good)
    assert result.code == 1
    assert "已拒绝\tbad.djpkg" in result.out and "已合并\t" in result.out
    assert counts(city)["record"] == before["record"] + 5
