"""`dengji import`: all or nothing, --partial, duplicates, order of attachments, legacy IDs."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.cli.test_validate import parsed
from tests.conftest import (
    UNIT_NAME,
    assert_no_crash,
    count_records,
    make_firm_records,
    stored_data,
    stored_state,
)
from tests.stores import is_server


def do_import(dengji, db, path, *extra, form="lawyer_member"):
    return dengji("import", "--db", db, "--form", form, *extra, path)


@pytest.fixture
def one_bad(live_firm_records, jsonl):
    m = live_firm_records.members
    return jsonl([m[0], m[1], dict(m[2], 入党日期="2030-01-01"), m[3]])


def test_clean_import(dengji, db, jsonl, live_firm_records):
    result = do_import(dengji, db, jsonl(live_firm_records.members))
    assert result.code == 0
    assert "已导入 4 条记录到 附件1 律师党员基本信息登记表。" in result.err
    assert count_records(db, "lawyer_member") == 4
    names = sorted(d["name"] for d in stored_data(db, "lawyer_member"))
    assert names == sorted(m["姓名"] for m in live_firm_records.members)


def test_one_bad_row_imports_nothing(dengji, db, one_bad):
    result = do_import(dengji, db, one_bad)
    assert result.code == 1
    assert "未导入任何记录" in result.err and "--partial" in result.err
    assert {(r[0], r[1], r[2]) for r in parsed(result)} >= {(3, "入党日期", "E")}
    assert count_records(db) == 0


def test_partial_imports_the_good_rows_and_lists_the_bad(dengji, db, one_bad):
    result = do_import(dengji, db, one_bad, "--partial")
    assert result.code == 1
    assert "已导入 3 条记录" in result.err and "1 条记录有错误，未导入" in result.err
    assert {r[0] for r in parsed(result) if r[2] == "E" and r[1] != "执业机构"} == {3}
    assert count_records(db) == 3


def test_partial_with_unreadable_lines(dengji, db, jsonl, live_firm_records):
    m = live_firm_records.members
    result = do_import(dengji, db, jsonl([m[0], "{oops", m[1]]), "--partial", "--format", "json")
    assert result.code == 1
    assert (2, "json_invalid") in {(d["row"], d["code"]) for d in result.json()}
    assert count_records(db) == 2


def test_importing_the_same_file_twice(dengji, db, jsonl, live_firm_records):
    path = jsonl(live_firm_records.members)
    assert do_import(dengji, db, path).code == 0
    before = count_records(db)
    result = do_import(dengji, db, path, "--format", "json")
    assert result.code == 1
    dup = {
        (d["row"], d["field"])
        for d in result.json()
        if d["code"] == "duplicate_in_register" and d["severity"] == "E"
    }
    assert dup == {(r, f) for r in (1, 2, 3, 4) for f in ("公民身份号码", "律师执业证号")}
    assert count_records(db) == before == 4


def test_duplicate_id_within_the_file_blocks_the_import(dengji, db, jsonl, live_firm_records):
    m = live_firm_records.members
    twin = dict(
        m[1], 公民身份号码=m[0]["公民身份号码"], 性别=m[0]["性别"], 出生日期=m[0]["出生日期"]
    )
    result = do_import(dengji, db, jsonl([m[0], twin]), "--format", "json")
    assert result.code == 1
    assert {d["row"] for d in result.json() if d["code"] == "duplicate_in_file"} == {1, 2}
    assert count_records(db) == 0


def test_members_before_their_organisation(dengji, db, jsonl, live_firm_records):
    members = jsonl(live_firm_records.members, "附件1.jsonl")
    result = do_import(dengji, db, members, "--format", "json")
    assert result.code == 0, result.err
    assert {(d["row"], d["field"], d["code"]) for d in result.json()} == {
        (r, "执业机构", "firm_not_registered") for r in (1, 2, 3, 4)
    }
    assert count_records(db, "lawyer_member") == 4

    result = do_import(dengji, db, jsonl([live_firm_records.org], "附件3.jsonl"), form="party_org")
    assert (result.code, result.out) == (0, "")  # counts agree with the stored members

    again = dengji("validate", "--db", db, "--form", "lawyer_member", "--format", "json", members)
    codes = {d["code"] for d in again.json()}
    assert "firm_not_registered" not in codes
    assert codes == {"duplicate_in_register"}  # they are in the register now


def test_organisation_before_its_members(dengji, db, jsonl, live_firm_records):
    result = do_import(
        dengji,
        db,
        jsonl([live_firm_records.org], "附件3.jsonl"),
        "--format",
        "json",
        form="party_org",
    )
    assert result.code == 0  # cross findings are reported, they do not block
    assert {(d["field"], d["code"]) for d in result.json()} == {
        ("组织类别", "branch_min_members"),
        ("正式党员数", "count_mismatch"),
        ("律师党员数", "count_mismatch"),
    }
    result = do_import(dengji, db, jsonl(live_firm_records.members, "附件1.jsonl"))
    assert (result.code, result.out) == (0, "")


def test_organisation_name_is_unique(dengji, db, jsonl, live_firm_records):
    org = jsonl([live_firm_records.org], "附件3.jsonl")
    assert do_import(dengji, db, org, form="party_org").code == 0
    result = do_import(dengji, db, org, "--format", "json", form="party_org")
    assert result.code == 1
    assert ("党组织名称（全称）", "duplicate_in_register") in {
        (d["field"], d["code"]) for d in result.json()
    }
    assert count_records(db, "party_org") == 1


def test_legacy_15_digit_ids_are_stored_with_18_digits(dengji, db, jsonl, live_firm_records):
    m = live_firm_records.members
    legacy = [dict(r, 公民身份号码=r["公民身份号码"][:6] + r["公民身份号码"][8:17]) for r in m[:2]]
    result = do_import(dengji, db, jsonl(legacy + m[2:]), "--format", "json")
    assert result.code == 0
    info = [d for d in result.json() if d["severity"] == "I"]
    assert [(d["row"], d["field"], d["code"]) for d in info] == [
        (1, "公民身份号码", "id_legacy15_converted"),
        (2, "公民身份号码", "id_legacy15_converted"),
    ]
    stored = {d["id_number"] for d in stored_data(db, "lawyer_member")}
    assert stored == {r["公民身份号码"] for r in m}
    assert all(len(n) == 18 for n in stored)
    # the 18-digit spelling of the same people is now a duplicate
    result = do_import(dengji, db, jsonl(m[:1], "again.jsonl"), "--format", "json")
    assert result.code == 1
    assert ("公民身份号码", "duplicate_in_register") in {
        (d["field"], d["code"]) for d in result.json()
    }


def test_import_into_something_that_is_not_a_register(dengji, tmp_path, jsonl, live_firm_records):
    # a file that is no register (a server database that is none: test_init_and_usage.py)
    fake = tmp_path / "fake.dengji"
    fake.write_text("not a register\n", encoding="utf-8")
    result = do_import(dengji, fake, jsonl(live_firm_records.members))
    assert result.code == 2 and "不是登记库文件" in result.err
    assert fake.read_text(encoding="utf-8") == "not a register\n"


def test_import_of_a_missing_file_changes_nothing(dengji, db, tmp_path):
    before = dengji("audit", "--db", db).out
    result = do_import(dengji, db, tmp_path / "missing.jsonl")
    assert result.code == 2 and "找不到文件" in result.err
    # init and its recovery key (recovery.new), nothing more
    assert dengji("audit", "--db", db).out == before and before.count("共 2 条记录") == 1


def test_import_then_audit(dengji, db, jsonl):
    records = make_firm_records(31, 5, today=date.today())
    assert do_import(dengji, db, jsonl(records.members)).code == 0
    assert do_import(dengji, db, jsonl([records.org], "org.jsonl"), form="party_org").code == 0
    result = dengji("audit", "--db", db)
    # init, recovery.new (the recovery key init makes) and the two imports
    assert result.code == 0 and "共 4 条记录" in result.out


def test_lone_surrogate_in_a_text_field(dengji, db, jsonl, live_firm_records):
    line = live_firm_records.members[0] | {"备注": "PLACEHOLDER"}
    text = json.dumps(line, ensure_ascii=False).replace("PLACEHOLDER", "\\ud800备注")
    result = do_import(dengji, db, jsonl([text]))
    assert_no_crash(result)
    assert result.code == 1
    assert count_records(db) == 0


def test_the_register_does_not_reveal_what_it_holds(dengji, db, jsonl, live_firm_records):
    """The file's bytes (SQLCipher), or every row of every table as the server holds them
    (the sealed personal columns, the keyed hashes of the unique keys)."""
    assert (
        dengji(
            "import", "--db", db, "--form", "lawyer_member", jsonl(live_firm_records.members)
        ).code
        == 0
    )
    assert count_records(db, "lawyer_member") == 4  # they are there
    data = stored_state(db)
    for m in live_firm_records.members:
        for text in (m["公民身份号码"], m["姓名"], m["手机号码"], m["律师执业证号"]):
            assert text.encode() not in data
    if is_server(db):  # control: what is no personal data is there to be found, in clear
        assert UNIT_NAME.encode() in data
    else:
        assert not any(p.name.endswith(("-wal", "-journal")) for p in db.parent.iterdir())
