"""`dengji cleanup propose` and `dengji cleanup apply`: the workbook a clerk fills, applied all
or nothing, with findings per cell; nothing deleted; the statistics that follow."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import assert_no_crash
from tests.society.conftest import (
    audit_entries,
    by_no,
    entry,
    fill,
    ident,
    records,
    sheet_rows,
    years_ago,
)
from tests.society.legacy import to15

BOTH_STORES = True  # tests/society/conftest.py: on a register file and on PostgreSQL

WANG, LI, QIAN = ident("1970-03-15"), ident("1981-06-02", 13), ident("1962-11-30", 15)
SUN, ZHOU, ZHENG, FENG = (ident("1975-01-09", 17), ident("1958-04-21", 19),
                          ident("1985-12-12", 21), ident("1990-02-28", 22))
AGREE_ALL = {"重复录入": "all", "无身份证号": "all", "长期失联或不履行义务": "all"}
REVOKE = [["0024-000005", "孙丽", "严重违法违纪", None, "2020年被判处有期徒刑（判决书）", "王敏", "李会长"],
          ["0024-000006", None, "不符合条件", "已经死亡", "家属告知，死亡证明", "王敏", "李会长"]]


@pytest.fixture
def register(sdb, load):
    """13 entries: 王伟 entered three times (once with the 15-digit number), 李明 twice (the
    copy without ID), 郑强 twice under one number, 赵敏 and 吴芳 without ID (吴芳 also lost for
    five years), 钱勇 lost for five years, 孙丽, 周杰 and 冯雪 in good standing."""
    load([
        entry("0024-000001", "王伟", idn=WANG, 手机="13912345678", 通讯地址="沈阳市和平区中山路1号",
              专业技术职称="教授"),
        entry("0024-000050", "王伟", idn=to15(WANG)),
        entry("0024-000051", "王 伟", idn=WANG),
        entry("0024-000002", "李明", idn=LI),
        entry("0024-000060", "李明", 出生日期="1981-06-02"),
        entry("0024-000003", "赵敏"),
        entry("0024-000004", "钱勇", idn=QIAN, 最近联系日期=years_ago(5)),
        entry("0024-000005", "孙丽", idn=SUN),
        entry("0024-000006", "周杰", idn=ZHOU),
        entry("0024-000007", "吴芳", 最近联系日期=years_ago(5)),
        entry("0024-000008", "郑强", idn=ZHENG),
        entry("0024-000008", "郑强", idn=ZHENG, 工作单位=None),
        entry("0024-000009", "冯雪", idn=FENG),
    ])
    return sdb


def propose(dengji, db, out: Path, *extra):
    result = dengji("cleanup", "propose", "--db", db, "--out", out, *extra)
    assert result.code == 0, result.err
    return result


def apply(dengji, db, path, *extra):
    result = dengji("cleanup", "apply", "--db", db, path, "--handler", "王敏", *extra)
    assert_no_crash(result)
    return result


def stats(dengji, db) -> dict:
    result = dengji("stats", "--db", db, "--format", "json")
    assert result.code == 0, result.err
    return result.json()


def test_propose_writes_the_four_sheets(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    result = propose(dengji, register, out)
    assert "重复录入 3 组、建议清理 4 条" in result.out
    assert "无身份证号 3 人" in result.out and "长期失联或不履行义务 2 人" in result.out
    dup = sheet_rows(out, "重复录入")
    assert sorted(r["会员证号"] for r in dup) == ["0024-000008", "0024-000050", "0024-000051",
                                                "0024-000060"]
    wang = [r for r in dup if r["并入条目会员证号"] == "0024-000001"]
    assert len(wang) == 2 and all(r["判定"] == "确定重复" for r in wang)
    li = next(r for r in dup if r["会员证号"] == "0024-000060")
    assert (li["并入条目会员证号"], li["判定"], li["判定依据"]) == \
        ("0024-000002", "疑似重复，请核实", "姓名、出生日期、工作单位相同")
    assert all(r["公民身份号码"] is None or "*" in r["公民身份号码"] for r in dup)  # masked
    assert all(r["处理决定"] is None and len(r["记录编号"]) == 36 for r in dup)
    no_id = sheet_rows(out, "无身份证号")
    assert sorted(r["姓名"] for r in no_id) == ["吴芳", "李明", "赵敏"]
    assert "重复录入" in next(r for r in no_id if r["姓名"] == "李明")["备注"]
    lost = sheet_rows(out, "长期失联或不履行义务")
    assert sorted(r["姓名"] for r in lost) == ["吴芳", "钱勇"]
    assert all(r["不符合条件情形"] == "长期（三年及以上）失去联系" and "已满 3 年" in r["依据"]
               for r in lost)
    from openpyxl import load_workbook

    wb = load_workbook(out)
    assert [c.value for c in wb["撤销资格"][1]][:7] == \
        ["会员证号", "姓名（核对用，可不填）", "清理类别", "不符合条件情形", "依据", "经办人", "审批人"]
    assert wb["代码表"].sheet_state == "hidden"
    assert wb.sheetnames[0] == "说明"
    assert ("命令行", "cleanup.propose") in [(a, b) for a, b, _ in audit_entries(register)]


def test_full_numbers_only_when_asked_and_logged(dengji, register, tmp_path):
    out = tmp_path / "全号.xlsx"
    propose(dengji, register, out, "--full")
    dup = sheet_rows(out, "重复录入")
    assert WANG in {r["并入条目公民身份号码"] for r in dup}
    assert any(d.get("full") for _, a, d in audit_entries(register) if a == "cleanup.propose")


def test_apply_the_clerks_decisions(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    filled = fill(out, tmp_path / "已填.xlsx", agree=AGREE_ALL, revoke=REVOKE)
    result = apply(dengji, register, filled, "--approver", "李会长")
    assert result.code == 0, result.out + result.err
    assert "已处理 9 条" in result.err
    table = stats(dengji, register)
    assert {k: table[k] for k in ("清理前登记条目数", "清理重复录入人次数", "清理严重违法违纪人员数",
                                  "清理不符合条件人员数", "清理无身份证号人员数", "合计清理数量",
                                  "实有会员数量")} == {
        "清理前登记条目数": 13, "清理重复录入人次数": 4, "清理严重违法违纪人员数": 1,
        "清理不符合条件人员数": 3, "清理无身份证号人员数": 1, "合计清理数量": 9, "实有会员数量": 4}
    # nothing deleted; statuses, who and why in the record; revision bumped
    rows = records(register)
    assert len(rows) == 13
    status = {r["name"]: r["status"] for r in rows if r["name"] in ("孙丽", "周杰", "赵敏", "吴芳",
                                                                    "钱勇", "冯雪")}
    assert status == {"孙丽": "3", "周杰": "4", "赵敏": "5", "吴芳": "4", "钱勇": "4", "冯雪": "1"}
    sun = next(r for r in rows if r["name"] == "孙丽")
    assert (sun["basis"], sun["handler"], sun["approver"], sun["_revision"]) == \
        ("2020年被判处有期徒刑（判决书）", "王敏", "李会长", 2)
    assert sun["cleanup_batch"].endswith("年个人会员清理") and sun["cleanup_date"]
    assert next(r for r in rows if r["name"] == "周杰")["ineligible_reason"] == "7"
    assert next(r for r in rows if r["name"] == "钱勇")["ineligible_reason"] == "8"
    copies = [r for r in by_no(register)["0024-000050"] + by_no(register)["0024-000051"]]
    assert all(r["status"] == "2" and "0024-000001" in r["basis"] for r in copies)
    assert sum(r["status"] == "2" for r in by_no(register)["0024-000008"]) == 1
    assert next(r for r in rows if r["name"] == "冯雪")["_revision"] == 1
    # one audit entry for the workbook, naming every change, and the chain holds
    [(actor, _, detail)] = [e for e in audit_entries(register) if e[1] == "society.cleanup.apply"]
    assert actor == "王敏" and detail["count"] == 9 and detail["source"] == "已填.xlsx"
    assert {c["to"] for c in detail["changes"]} == {"2", "3", "4", "5"}
    assert dengji("audit", "--db", register).code == 0


def test_applying_twice_changes_nothing(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    filled = fill(out, tmp_path / "已填.xlsx", agree=AGREE_ALL, revoke=REVOKE)
    assert apply(dengji, register, filled, "--approver", "李会长").code == 0
    before = records(register)
    again = apply(dengji, register, filled, "--approver", "李会长")
    assert again.code == 0 and "已处理 0 条" in again.err and "不再重复处理" in again.out
    assert records(register) == before


def test_only_agreed_rows_are_applied(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    filled = fill(out, tmp_path / "已填.xlsx",
                  agree={"重复录入": {"0024-000050": "同意", "0024-000051": "不同意",
                                  "0024-000060": "待核实"}})
    result = apply(dengji, register, filled)
    assert result.code == 0 and "已处理 1 条" in result.err
    assert "“待核实”不是“同意”" in result.out
    assert by_no(register)["0024-000051"][0]["status"] == "1"


def test_bad_cells_refuse_the_whole_workbook(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    filled = fill(out, tmp_path / "已填.xlsx", agree=AGREE_ALL, revoke=[
        ["0024-009999", None, "严重违法违纪", None, "判决书", "王敏", "李会长"],
        ["0024-000005", None, "严重违法违纪", None, None, "王敏", "李会长"],
        ["0024-000006", None, "开除", None, "依据", "王敏", "李会长"],
        ["0024-000009", None, "不符合条件", None, "依据", "王敏", "李会长"],
        ["0024-000009", "冯雷", "严重违法违纪", None, "依据", "王敏", "李会长"],
        ["0024-000002", None, "不符合条件", "参加邪教", "依据", "王敏", "李会长"],
    ])
    audit_before = len(audit_entries(register))
    before = records(register)
    result = apply(dengji, register, filled, "--approver", "李会长")
    assert result.code == 1
    assert "未作任何改动" in result.err
    cells = {line.split("\t")[0]: line for line in result.lines if "\tE\t" in line}
    assert "不在会员登记库中" in cells["撤销资格!A2"]
    assert "“依据”必须填写" in cells["撤销资格!E3"]
    assert "清理类别应为" in cells["撤销资格!C4"]
    assert "须填写“不符合条件情形”" in cells["撤销资格!D5"]
    assert "登记的姓名是“冯雪”，不是“冯雷”" in cells["撤销资格!B6"]
    assert "不在不符合会员条件情形代码表中" in cells["撤销资格!D7"]
    assert records(register) == before
    assert len(audit_entries(register)) == audit_before


def test_findings_as_json(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    filled = fill(out, tmp_path / "已填.xlsx",
                  revoke=[["0024-009999", None, "严重违法违纪", None, "判决书", "王敏", "李会长"]])
    result = apply(dengji, register, filled, "--format", "json")
    assert result.code == 1
    assert result.json() == [{"cell": "撤销资格!A2", "severity": "E",
                              "message": "“撤销资格”页第 2 行：会员证号“0024-009999”不在会员登记库中，请核对"}]


def test_approver_needed_for_the_ineligible(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    filled = fill(out, tmp_path / "已填.xlsx", agree={"长期失联或不履行义务": "all"})
    result = apply(dengji, register, filled)  # no --approver, no 审批人 in the sheet
    assert result.code == 1
    assert all("“审批人”必须填写" in line and line.startswith("长期失联或不履行义务!J")
               for line in result.lines if "\tE\t" in line)


def test_a_shared_number_needs_the_record_id(dengji, sdb, load, tmp_path):
    load([entry("0024-000001", "王伟", idn=WANG), entry("0024-000001", "李明", idn=LI)])
    out = tmp_path / "清理表.xlsx"
    propose(dengji, sdb, out)
    revoke = [["0024-000001", None, "严重违法违纪", None, "判决书", "王敏", "李会长"]]
    result = apply(dengji, sdb, fill(out, tmp_path / "a.xlsx", revoke=revoke))
    assert result.code == 1 and "登记了 2 条（" in result.out and "记录编号" in result.out
    li = by_no(sdb)["0024-000001"]
    rid = next(r["_id"] for r in li if r["name"] == "李明")
    result = apply(dengji, sdb, fill(out, tmp_path / "b.xlsx", revoke=[revoke[0] + [rid]]))
    assert result.code == 0, result.out
    assert {r["name"]: r["status"] for r in by_no(sdb)["0024-000001"]} == {"王伟": "1", "李明": "3"}


def test_a_number_shared_with_a_removed_copy_names_the_kept_entry(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    revoke = [["0024-000008", "郑强", "严重违法违纪", None, "判决书", "王敏", "李会长"]]
    filled = fill(out, tmp_path / "已填.xlsx", agree={"重复录入": "all"}, revoke=revoke)
    assert apply(dengji, register, filled).code == 0
    assert sorted(r["status"] for r in by_no(register)["0024-000008"]) == ["2", "3"]


def test_revoking_a_removed_copy_is_refused(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    assert apply(dengji, register, fill(out, tmp_path / "a.xlsx", agree={"重复录入": "all"})).code == 0
    result = apply(dengji, register, fill(out, tmp_path / "b.xlsx", revoke=[
        ["0024-000050", None, "严重违法违纪", None, "判决书", "王敏", "李会长"]]))
    assert result.code == 1
    assert "已作为重复录入清理，请对保留的条目作出决定" in result.out


def test_a_lower_category_leaves_the_stronger_one(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    revoke = [["0024-000007", "吴芳", "严重违法违纪", None, "判决书", "王敏", "李会长"]]
    filled = fill(out, tmp_path / "已填.xlsx", agree=AGREE_ALL, revoke=revoke)
    result = apply(dengji, register, filled, "--approver", "李会长")
    assert result.code == 0
    assert by_no(register)["0024-000007"][0]["status"] == "3"
    assert "优先于" in result.out


def test_workbook_problems(dengji, register, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)

    def drop_decision_column(wb):
        ws = wb["无身份证号"]
        col = [c.value for c in ws[1]].index("处理决定") + 1
        ws.delete_cols(col)

    result = apply(dengji, register, fill(out, tmp_path / "a.xlsx", edit=drop_decision_column))
    assert result.code == 1 and "无身份证号!A1\tE\t“无身份证号”页缺少“处理决定”列" in result.out

    from openpyxl import Workbook

    other = tmp_path / "别的表.xlsx"
    Workbook().save(other)
    result = apply(dengji, register, other)
    assert result.code == 2 and "不是个人会员清理表" in result.err
    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"not a workbook")
    assert apply(dengji, register, broken).code == 2
    assert apply(dengji, register, tmp_path / "没有.xlsx").code == 2


def test_a_workbook_of_another_register_is_refused(dengji, register, sdb, tmp_path):
    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    filled = fill(out, tmp_path / "已填.xlsx", agree={"重复录入": "all"})
    other = tmp_path / "other.dengji"
    assert dengji("init", "--db", other, "--level", "society-city", "--unit-name", "大连市法学会",
                  "--unit-code", "0411").code == 0
    result = apply(dengji, other, filled)
    assert result.code == 1 and "不在本会的会员登记库中" in result.out


def test_propose_refuses_a_wrong_output(dengji, register, tmp_path):
    result = dengji("cleanup", "propose", "--db", register, "--out", tmp_path / "x.csv")
    assert result.code == 2 and ".xlsx" in result.err


def test_a_member_whose_id_was_completed_meanwhile_is_not_moved_out(dengji, register, tmp_path):
    from desktop.formspec import shipped_forms
    from desktop.services.editing import EditSession
    from desktop.storage import open_register
    from tests.conftest import PASSPHRASE

    out = tmp_path / "清理表.xlsx"
    propose(dengji, register, out)
    zhao = by_no(register)["0024-000003"][0]
    forms = shipped_forms()
    with open_register(register, PASSPHRASE) as reg:
        edit = EditSession(reg, forms, forms.form("society_member"), reg.own_unit_id, actor="王敏")
        edit.load(zhao["_id"])
        edit.set_raw("id_number", ident("1968-09-09", 24))
        edit.set_raw("sex", "女")
        edit.set_raw("birth_date", "1968-09-09")
        assert edit.save()
        edit.close()
    result = apply(dengji, register, fill(out, tmp_path / "a.xlsx", agree={"无身份证号": "all"}))
    assert result.code == 0 and "赵敏已有公民身份号码，不再移出" in result.out
    assert by_no(register)["0024-000003"][0]["status"] == "1"
    assert by_no(register)["0024-000007"][0]["status"] == "5"
