"""`dengji verify`, `merge`, `accept`, `units` and `conflicts` as a clerk runs them."""

from __future__ import annotations

import pytest

from desktop.services import packages as svc
from desktop.storage import DEFAULT_KDF
from tests.exchange.conftest import CITY, PASSPHRASE, World, rezip, unzip

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_verify_prints_what_the_package_is_and_each_check",
               "test_merge_accept_units_and_upward", "test_conflicts_from_the_command_line"}


@pytest.fixture
def clerk(world: World, dengji, monkeypatch):
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    city = world.register(CITY, "city.dengji", kdf=DEFAULT_KDF)
    firm = world.firm(seed=91, parent=city)
    return world, city, firm, world.export(firm.register)


def test_verify_prints_what_the_package_is_and_each_check(clerk, dengji) -> None:
    world, city, firm, sent = clerk
    result = dengji("verify", sent.path, "--db", city.path)
    assert result.code == 0, result.err
    out = result.out
    assert f"编号：{sent.package_id}" in out and "序号：1" in out
    assert "记录：5 条（lawyer_member 4 条，party_org 1 条）" in out
    for check in ("文件", "格式", "签名", "完整性", "发送单位", "接收单位", "序号", "数据"):
        assert f"[通过] {check}：" in out
    assert "核验通过" in result.err


def test_verify_without_a_register_cannot_vouch_for_the_sender(clerk, dengji) -> None:
    world, city, firm, sent = clerk
    result = dengji("verify", sent.path)
    assert result.code == 0
    fp = svc.own_public_key(firm.register).fingerprint
    assert f"[未检查] 发送单位：未核对（未指定登记库）。请对照纸质封面上印的公钥指纹：{fp}" in result.out
    assert dengji("verify", sent.path, "--fingerprint", fp.replace(" ", "")).code == 0
    other = "0" * 64
    wrong = dengji("verify", sent.path, "--fingerprint", other)
    assert wrong.code == 1 and "[未通过] 签名者" in wrong.out
    assert dengji("verify", sent.path, "--fingerprint", "xyz").code == 2


@pytest.mark.parametrize("damage, word", [
    (lambda d: d[: len(d) // 2], "文件已损坏或不完整"),
    (lambda d: b"", "文件为空"),
    (lambda d: b"hello", "不是 zip 格式"),
    (lambda d: rezip({k: v for k, v in unzip(d).items() if k != "manifest.sig"}),
     "缺少清单 manifest.json 或签名 manifest.sig"),
])
def test_verify_of_a_damaged_package_exits_1(clerk, dengji, damage, word) -> None:
    world, city, firm, sent = clerk
    bad = world.folder / "bad.djpkg"
    bad.write_bytes(damage(sent.path.read_bytes()))
    result = dengji("verify", bad)
    assert result.code == 1 and word in result.out and "核验未通过" in result.err


def test_verify_json(clerk, dengji) -> None:
    world, city, firm, sent = clerk
    doc = dengji("verify", sent.path, "--db", city.path, "--format", "json").json()
    assert doc["ok"] is True and doc["package_id"] == sent.package_id
    assert doc["sequence"] == 1 and doc["records"] == 5
    assert doc["sender"]["code"] == sent.path.name.split("-")[0]
    assert [c["ok"] for c in doc["checks"]] == [True] * len(doc["checks"])
    assert {c["name"] for c in doc["checks"]} >= {"文件", "格式", "签名", "加密内容", "完整性",
                                                  "发送单位", "接收单位", "序号", "数据"}


def test_verify_of_a_missing_file(dengji, tmp_path) -> None:
    result = dengji("verify", tmp_path / "nowhere.djpkg")
    assert result.code == 2 and "找不到文件" in result.err and "（数据包）" in result.err
    assert "nowhere.djpkg" in result.err


def test_merge_accept_units_and_upward(clerk, dengji, tmp_path) -> None:
    world, city, firm, sent = clerk
    listing = tmp_path / "名单.csv"
    listing.write_text(f"单位代码,单位名称\n{sent.path.name.split('-')[0]},甲所\nX9,乙所\n",
                       "utf-8")
    assert dengji("units", "--db", city.path, "import", listing).code == 0
    merged = dengji("merge", "--db", city.path, sent.path)
    assert merged.code == 0 and "已合并\t" in merged.out and "序号 1\t5 条记录" in merged.out
    again = dengji("merge", "--db", city.path, sent.path)
    assert again.code == 0 and "已合并过" in again.out
    units = dengji("units", "--db", city.path, "list")
    assert units.code == 0
    assert "已收到（待审核）" in units.out and "未收到" in units.out
    assert "应报 2 个单位：已收到 1 个，未收到 1 个" in units.err
    accepted = dengji("accept", "--db", city.path, "--package", sent.package_id[:8])
    assert accepted.code == 0 and "已接收" in accepted.out
    rows = dengji("units", "--db", city.path, "list", "--format", "json").json()
    assert [r["status"] for r in rows] == ["已接收", "未收到"]
    assert dengji("accept", "--db", city.path, "--package", "nope-nope").code == 2
    assert dengji("conflicts", "--db", city.path, "list").code == 0


def test_conflicts_from_the_command_line(world: World, dengji, monkeypatch) -> None:
    from tests.exchange.test_merge import two_firms_sharing_a_person

    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    city, a, b = two_firms_sharing_a_person(world)
    city_cli = world.register(CITY, "cli.dengji", kdf=DEFAULT_KDF)
    for f in (a, b):
        world.link(f.register, city_cli)
    pa = world.export(a.register, to=_key(world, city_cli))
    pb = world.export(b.register, to=_key(world, city_cli))
    merged = dengji("merge", "--db", city_cli.path, pa.path, pb.path)
    assert merged.code == 0 and "重复登记冲突 1 个" in merged.out
    assert "dengji conflicts --db 登记库 list" in merged.err
    listed = dengji("conflicts", "--db", city_cli.path, "list", "--format", "json").json()
    [c] = listed
    assert c["kind"] == "person" and c["status"] == "open"
    need_note = dengji("conflicts", "--db", city_cli.path, "resolve", c["id"], "--keep", "both")
    assert need_note.code == 1 and "理由" in need_note.err
    done = dengji("conflicts", "--db", city_cli.path, "resolve", c["id"], "--keep", "both",
                  "--note", "两所兼职，已核实")
    assert done.code == 0
    assert dengji("conflicts", "--db", city_cli.path, "list", "--format", "json").json() == []
    assert dengji("conflicts", "--db", city_cli.path, "list", "--all",
                  "--format", "json").json()[0]["resolution"] == "keep_both"


def _key(world: World, register):
    from tests.exchange.conftest import key_file

    path = world.folder / f"{register.path.stem}.djkey"
    path.write_bytes(key_file(register))
    return path
