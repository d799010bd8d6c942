"""Issue 15: `dengji import` of 附件1/附件2 fills an empty 出生日期 and 性别 from a valid ID
number, as the window proposes them (domain.values.filled_from_id), instead of refusing the
row; a value the row gives is kept and checked; and a legacy society register whose 出生日期
is a year and month only imports, stored at month precision."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from stdnum.cn import ric

from tests.cli.test_validate import parsed
from tests.conftest import as_staff, count_records, stored_data


def do_import(dengji, db, path, *extra, form="lawyer_member"):
    return dengji("import", "--db", db, "--form", form, *extra, path)


def without(row: dict, *labels: str) -> dict:
    return {k: v for k, v in row.items() if k not in labels}


def xlsx(path: Path, rows: list[dict]) -> Path:
    labels = list(dict.fromkeys(k for r in rows for k in r))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(labels)
    for r in rows:
        ws.append([r.get(k) for k in labels])
    wb.save(path)
    return path


def test_jsonl_rows_without_birth_and_sex_are_filled(dengji, db, jsonl, live_firm_records):
    """GB 11643-1999: digits 7–14 of the 公民身份号码 are the birth date, digit 17 is odd for
    男 and even for 女 (GB/T 2261.1 codes 1/2). A row that leaves 出生日期 and 性别 empty is
    filled from its valid number and imported."""
    members = live_firm_records.members
    rows = [without(m, "出生日期", "性别") for m in members]
    result = do_import(dengji, db, jsonl(rows))
    assert result.code == 0, result.out + result.err
    stored = {d["id_number"]: d for d in stored_data(db, "lawyer_member")}
    for m in members:
        d = stored[m["公民身份号码"]]
        assert d["birth_date"] == m["出生日期"]
        assert d["sex"] == ("1" if m["性别"] == "男" else "2")


def test_staff_rows_are_filled_too(dengji, db, jsonl, live_firm_records):
    """附件2 has the same two fields tied to the ID number."""
    rows = [without(as_staff(m), "出生日期", "性别") for m in live_firm_records.members]
    assert do_import(dengji, db, jsonl(rows), form="staff_member").code == 0
    assert count_records(db, "staff_member") == len(rows)
    assert all(d["birth_date"] and d["sex"] for d in stored_data(db, "staff_member"))


def test_a_value_given_that_disagrees_stays_the_finding(dengji, db, jsonl, live_firm_records):
    """Only empty fields are filled: a 性别 the row gives that the number contradicts is the
    existing E (sex_mismatch), and the import refuses the file as before."""
    m = live_firm_records.members
    wrong = "女" if m[1]["性别"] == "男" else "男"  # wrong for m[1], whose row gives it
    rows = [without(m[0], "出生日期", "性别"), dict(without(m[1], "出生日期"), 性别=wrong)]
    result = do_import(dengji, db, jsonl(rows), "--format", "json")
    assert result.code == 1
    # (firm_not_registered: a cross rule — the firm's 附件3 is not in this register; it
    # blocks export, not import)
    assert {(d["row"], d["code"]) for d in result.json() if d["severity"] == "E"
            and d["code"] != "firm_not_registered"} == {(2, "sex_mismatch")}
    assert count_records(db) == 0


def test_an_invalid_number_fills_nothing(dengji, db, jsonl, live_firm_records):
    """A number with a wrong check digit (MOD 11-2) tells nothing: its own E, and the empty
    fields stay empty (required: E), as before."""
    m = live_firm_records.members[0]
    number = m["公民身份号码"]
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    result = do_import(dengji, db, jsonl([dict(without(m, "出生日期", "性别"), 公民身份号码=bad)]))
    assert result.code == 1
    found = {(r[1], r[2]) for r in parsed(result)}
    assert ("公民身份号码", "E") in found and ("出生日期", "E") in found and ("性别", "E") in found


def test_an_unreadable_birth_date_is_not_replaced(dengji, db, jsonl, live_firm_records):
    """A 出生日期 the row gives but that cannot be read stays an E: the number does not paper
    over a wrong cell."""
    m = live_firm_records.members[0]
    result = do_import(dengji, db, jsonl([dict(m, 出生日期="1980年13月")]), "--format", "json")
    assert result.code == 1
    assert ("date_invalid", "出生日期") in {(d["code"], d["field"]) for d in result.json()}


def test_a_workbook_is_filled_the_same_way(dengji, db, tmp_path, live_firm_records):
    """The workbook path checks its rows with the same RowChecker."""
    rows = [without(m, "出生日期", "性别") for m in live_firm_records.members]
    result = do_import(dengji, db, xlsx(tmp_path / "附件1.xlsx", rows))
    assert result.code == 0, result.out + result.err
    assert sorted(d["birth_date"] for d in stored_data(db, "lawyer_member")) == sorted(
        m["出生日期"] for m in live_firm_records.members)


# --- the law society's legacy register -----------------------------------------------------


def ident(birth: str, seq: int) -> str:
    body = f"210102{birth.replace('-', '')}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def society_rows() -> list[dict]:
    """Ten entries whose 出生日期 is a year and month only, in the spellings of old registers;
    half with an ID number of that month, half without."""
    spellings = ["1963年9月", "1963.09", "1963-9", "196309", "1963/09"]
    rows = []
    for i in range(10):
        row = {"会员证号": f"0024-{i + 1:06d}", "姓名": "张王李赵刘陈杨黄周吴"[i] + "伟",
               "出生日期": spellings[i % 5], "批准入会日期": "2010-05-01"}
        if i % 2 == 0:
            row["公民身份号码"] = ident(f"1963-09-{10 + i:02d}", 11 + 2 * i)
        rows.append(row)
    return rows


def test_a_legacy_register_with_year_months_imports(dengji, place, tmp_path, jsonl):
    """The brief: ten such cells used to make the import (all or nothing) refuse the very
    register the cleanup is for. They import now, stored as 1963-09, and 性别 is filled from
    the ID numbers that are given."""
    db = place  # a file or a new PostgreSQL database
    init = dengji("init", "--db", db, "--level", "society-city", "--unit-name", "沈阳市法学会",
                  "--unit-code", "0024")
    assert init.code == 0, init.err
    result = do_import(dengji, db, jsonl(society_rows()), form="society_member")
    assert result.code == 0, result.out + result.err
    stored = stored_data(db, "society_member")
    assert len(stored) == 10
    with_id = [d for d in stored if d.get("id_number")]
    assert {d["birth_date"] for d in stored} == {"1963-09"}
    assert len(with_id) == 5 and all(d["sex"] == "1" for d in with_id)
    assert not any(d.get("sex") for d in stored if not d.get("id_number"))


def test_a_legacy_month_that_contradicts_the_id_is_refused(dengji, place, tmp_path, jsonl):
    """Year and month must agree with the ID number (the full-date comparison's E)."""
    db = place  # a file or a new PostgreSQL database
    assert dengji("init", "--db", db, "--level", "society-city", "--unit-name", "沈阳市法学会",
                  "--unit-code", "0024").code == 0
    rows = society_rows()
    rows[0]["出生日期"] = "1963年10月"
    result = do_import(dengji, db, jsonl(rows), "--format", "json", form="society_member")
    assert result.code == 1
    assert {(d["row"], d["code"]) for d in result.json() if d["severity"] == "E"} == {
        (1, "birth_mismatch")}


def test_a_legacy_workbook_with_year_months_imports(dengji, place, tmp_path):
    """The same register as an Excel workbook: 出生日期 typed as text (1963年9月), as a number
    Excel kept (1963.09, 196309). Without an ID number they are stored as 1963-09; with one
    of that month the reader completes the day from it (its own note, as before)."""
    db = place  # a file or a new PostgreSQL database
    assert dengji("init", "--db", db, "--level", "society-city", "--unit-name", "沈阳市法学会",
                  "--unit-code", "0024").code == 0
    rows = [{"会员证号": "0024-000001", "姓名": "张伟", "出生日期": "1963年9月"},
            {"会员证号": "0024-000002", "姓名": "王芳", "出生日期": 1963.09},
            {"会员证号": "0024-000003", "姓名": "李娜", "出生日期": 196309},
            {"会员证号": "0024-000004", "姓名": "刘洋", "出生日期": "1963.09",
             "公民身份号码": ident("1963-09-21", 13)}]
    result = do_import(dengji, db, xlsx(tmp_path / "会员.xlsx", rows), form="society_member")
    assert result.code == 0, result.out + result.err
    births = {d["member_no"]: d["birth_date"] for d in stored_data(db, "society_member")}
    assert births == {"0024-000001": "1963-09", "0024-000002": "1963-09",
                      "0024-000003": "1963-09", "0024-000004": "1963-09-21"}


def test_every_checking_path_fills_alike(forms, jsonl, firm_records, dengji):
    """`dengji validate` (the import's workers) and services.intake.checking.check_rows read the
    same values from the ID number: no path refuses what another fills."""
    from desktop.progress import run
    from desktop.services.intake.checking import check_rows
    from desktop.services.intake.jsonl import read_rows
    from tests.conftest import TODAY

    rows = [without(m, "出生日期", "性别") for m in firm_records.members]
    path = jsonl(rows)
    results = run(check_rows(forms, forms.form("lawyer_member"), read_rows(path), today=TODAY))
    assert [r.values["birth_date"] for r in results] == [m["出生日期"] for m in firm_records.members]
    assert all(not any(f.code == "required" for f in r.findings) for r in results)
    result = dengji("validate", "--form", "lawyer_member", "--format", "json", path)
    assert not any(d["code"] == "required" for d in result.json()), result.out
