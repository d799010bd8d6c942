"""`dengji changes` and the summary `dengji export` prints, as a clerk runs them: the city's
change list of a firm before accepting (text, JSON, workbook), the firm's own changes, and
bad input (an unknown unit, a unit with one package, an --out in a missing folder)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from desktop.storage import AuditEntry, Register, crypto
from tests.exchange.changing import NEW_MOBILE, Changed, changed_firm
from tests.exchange.conftest import CITY, PASSPHRASE, World


def changed_scene(world: World, monkeypatch) -> tuple[World, Register, Changed]:
    """The firm and the city after the firm's first package was merged and accepted and the
    firm changed its records."""
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)  # the registers' (World's) passphrase
    # the cost the `dengji` fixture makes the command use: these registers are not re-keyed
    kdf = crypto.DEFAULT_KDF
    city = world.register(CITY, "city.dengji", kdf=kdf)
    changed = changed_firm(world, city, kdf=kdf)
    return world, city, changed


@pytest.fixture
def scene(upper_world: World, dengji, monkeypatch):
    """The city on each store (the commands read the city's register; the firm's is a file)."""
    return changed_scene(upper_world, monkeypatch)


@pytest.fixture
def own_scene(store_world: World, dengji, monkeypatch):
    """The firm and the city both on each store, for the firm's own change list."""
    return changed_scene(store_world, monkeypatch)


def sent_again(world: World, city, changed: Changed, dengji) -> str:
    """The firm exports with the command (its summary on stderr) and the city merges it."""
    out = world.folder / "out2"
    result = dengji("export", "--db", changed.firm.path, "--out", out, "--no-files")
    assert result.code == 0, result.err
    assert "与上一个数据包（序号 1）相比：新增 1 条，减少 3 条（作废 1，停止党籍 1，转出 1），" \
           "修改 2 条。" in result.err
    merged = dengji("merge", "--db", city.path, result.out.strip())
    assert merged.code == 0, merged.err
    return result.out.strip()


def audit_count(reg, action: str) -> int:
    with reg.session() as session:
        return session.execute(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == action)).scalar_one()


def test_the_firm_sees_its_own_changes_before_exporting(own_scene, dengji) -> None:
    world, city, changed = own_scene
    result = dengji("changes", "--db", changed.firm.path)
    assert result.code == 0, result.err
    out = result.out
    assert "本单位现有记录（下次上报的内容）与上一个数据包（序号 1" in out
    assert "新增 1 条，减少 3 条（作废 1，停止党籍 1，转出 1），修改 2 条" in out
    assert f"手机号码：{changed.old_mobile[:3]}****{changed.old_mobile[-4:]} → 139****5678" in out
    assert NEW_MOBILE not in out and changed.old_mobile not in out


def test_the_city_reads_the_change_list_before_accepting(scene, dengji) -> None:
    world, city, changed = scene
    sent_again(world, city, changed, dengji)
    result = dengji("changes", "--db", city.path, "--unit", changed.code)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("中共") and "数据包（序号 2" in lines[0]
    assert any(line.startswith("减少\t") and "停止党籍" in line for line in lines)
    assert any(line.startswith("减少\t") and "报送单位已作废这条记录" in line for line in lines)
    assert any(line.startswith("减少\t") and "转出" in line for line in lines)
    assert any(line.startswith("新增\t") for line in lines)
    assert "报送单位随数据包自报的变化：单位 " in result.out
    assert NEW_MOBILE not in result.out


def test_json_has_the_documented_shape(scene, dengji) -> None:
    world, city, changed = scene
    package = sent_again(world, city, changed, dengji)
    result = dengji("changes", "--db", city.path, "--unit", changed.code, "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["format"] == "dengji-changes-1" and doc["compared"] is True
    assert doc["unit"]["code"] == changed.code and doc["own"] is False
    assert doc["before"]["sequence"] == 1 and doc["after"]["sequence"] == 2
    assert package.endswith(".djpkg")
    assert doc["totals"] == {"added": 1, "changed": 2,
                             "removed": {"作废": 1, "停止党籍": 1, "转出": 1}}
    assert doc["masked"] is True and doc["records_before"] == 6 and doc["records_after"] == 6
    kinds = {c["record_id"]: (c["change"], c["reason"]) for c in doc["changes"]}
    assert kinds[changed.suspended] == ("减少", "停止党籍")
    [mobile] = [c for c in doc["changes"] if c["record_id"] == changed.mobile]
    assert mobile["fields"] == [{"field": "mobile", "label": "手机号码",
                                 "old": changed.old_mobile[:3] + "****" + changed.old_mobile[-4:],
                                 "new": "139****5678"}]
    assert {r["form"] for r in doc["summary"]} == {"lawyer_member", "party_org"}
    assert doc["carried"] == [{k: v for k, v in r.items() if k != "form_title"}
                              for r in doc["summary"]]


def test_the_workbook_and_a_missing_folder(scene, dengji) -> None:
    world, city, changed = scene
    sent_again(world, city, changed, dengji)
    missing = world.folder / "没有这个文件夹" / "变更.xlsx"
    result = dengji("changes", "--db", city.path, "--unit", changed.code, "--out", missing)
    assert result.code == 2 and "文件夹" in result.err and "不存在" in result.err
    assert not missing.parent.exists() and audit_count(city, "changes.export") == 0
    out = world.folder / "变更.xlsx"
    result = dengji("changes", "--db", city.path, "--unit", changed.code, "--out", out)
    assert result.code == 0, result.err
    assert out.is_file() and f"变化清单已写出：{out}" in result.out
    assert audit_count(city, "changes.export") == 1
    wrong = dengji("changes", "--db", city.path, "--unit", changed.code, "--out",
                   world.folder / "变更.csv")
    assert wrong.code == 2 and ".xlsx" in wrong.err


def test_an_unknown_unit_and_a_unit_with_one_package(scene, dengji) -> None:
    world, city, changed = scene
    unknown = dengji("changes", "--db", city.path, "--unit", "NO-SUCH-UNIT")
    assert unknown.code == 2 and "没有单位代码为“NO-SUCH-UNIT”的单位" in unknown.err
    one = dengji("changes", "--db", city.path, "--unit", changed.code)
    assert one.code == 0 and "只报送过一个数据包" in one.out
    doc = json.loads(dengji("changes", "--db", city.path, "--unit", changed.code,
                            "--format", "json").out)
    assert doc["compared"] is False and "还没有可以比较的上一个数据包" in doc["message"]
    out = world.folder / "变更.xlsx"
    nothing = dengji("changes", "--db", city.path, "--unit", changed.code, "--out", out)
    assert nothing.code == 0 and "未写出工作簿" in nothing.out and not out.exists()


def test_full_numbers_on_request_are_audited(own_scene, dengji) -> None:
    world, city, changed = own_scene
    result = dengji("changes", "--db", changed.firm.path, "--full")
    assert result.code == 0 and f"{changed.old_mobile} → {NEW_MOBILE}" in result.out
    assert "请勿外传" in result.out
    assert audit_count(changed.firm, "changes.full") == 1
