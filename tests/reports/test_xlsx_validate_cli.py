"""`dengji validate` and `dengji import` with a workbook: findings name the sheet and cell,
--annotate marks the user's workbook. (Skipped until check_file dispatches workbooks to
services.excel — the change is in the Excel issue's closing note.)"""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook

from tests.conftest import assert_no_crash, count_records, make_firm_records
from tests.reports.test_xlsx_read import write_book
from tests.reports.test_xlsx_service import sheet_rows


def _wired(result) -> None:
    assert_no_crash(result)
    if result.code == 2 and ("暂不支持" in result.err or "无法识别的参数" in result.err):
        pytest.skip("dengji validate/import do not read workbooks yet (services/checking.py)")


@pytest.fixture
def members():
    return [dict(m) for m in make_firm_records(seed=31, members=3, today=date.today()).members]


def test_validate_names_sheet_cell_and_field(dengji, tmp_path, members):
    members[1]["手机号码"] = "12345"
    book = write_book(tmp_path / "名册.xlsx", sheet_rows(members, today=date.today()),
                      sheet="党员")
    result = dengji("validate", "--form", "lawyer_member", book)
    _wired(result)
    assert result.code == 1
    lines = [line.split("\t") for line in result.out.splitlines()]
    assert ["党员!H4", "手机号码", "E"] in [line[:3] for line in lines]
    assert ["党员!R2", "", "I"] in [line[:3] for line in lines]  # 工号: ignored, and said so
    result = dengji("validate", "--form", "lawyer_member", "--format", "json", book)
    found = {(d["sheet"], d["cell"], d["row"], d["field"]) for d in result.json()}
    assert ("党员", "H4", 4, "手机号码") in found


def test_validate_annotate(dengji, tmp_path, members):
    members[0]["入党日期"] = "2090-01-01"
    book = write_book(tmp_path / "名册.xlsx", sheet_rows(members, today=date.today()))
    out = tmp_path / "名册-标注.xlsx"
    result = dengji("validate", "--form", "lawyer_member", "--annotate", out, book)
    _wired(result)
    assert result.code == 1 and out.is_file() and str(out) in result.err
    ws = load_workbook(out)["Sheet1"]
    assert ws["N3"].fill.fgColor.rgb == "FFFF8B8B" and "入党日期" in ws["N3"].comment.text
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("{}\n", encoding="utf-8")
    result = dengji("validate", "--form", "lawyer_member", "--annotate", out, jsonl)
    assert result.code == 2 and "Excel" in result.err


def test_import_a_workbook(dengji, db, tmp_path, members):
    book = write_book(tmp_path / "名册.xlsx", sheet_rows(members, today=date.today()))
    result = dengji("import", "--db", db, "--form", "lawyer_member", book)
    _wired(result)
    assert result.code == 0, result.out + result.err
    assert count_records(db, "lawyer_member") == 3
    again = dengji("import", "--db", db, "--form", "lawyer_member", "--annotate",
                   tmp_path / "again.xlsx", book)
    assert again.code == 1 and count_records(db, "lawyer_member") == 3
    assert "Sheet1!E3" in again.out  # the ID number already registered, at its cell
    ws = load_workbook(tmp_path / "again.xlsx")["Sheet1"]
    assert ws["E3"].fill.fgColor.rgb == "FFFF8B8B"


def test_broken_and_locked_workbooks(dengji, tmp_path):
    from tests.reports.test_xlsx_read import FIXTURES

    bad = tmp_path / "bad.xlsx"
    bad.write_text("姓名,公民身份号码\n", encoding="utf-8")
    result = dengji("validate", "--form", "lawyer_member", bad)
    _wired(result)
    assert result.code == 2 and "不是 Excel 工作簿" in result.err
    result = dengji("validate", "--form", "lawyer_member", FIXTURES / "password_protected.xlsx")
    assert result.code == 2 and "密码" in result.err
