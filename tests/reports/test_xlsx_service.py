"""services.excel: checking a workbook (cells named, on several cores), marking it, exporting
tables from a register (scope, masking, audit)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from desktop.errors import UsageError
from desktop.progress import run
from desktop.services.exporting import annotate_results, export_excel
from desktop.services.intake import workbook as excel
from desktop.services.intake.workbook import check_workbook
from desktop.storage import AuditEntry, Record, Unit, open_register
from tests.conftest import PASSPHRASE, TODAY, make_firm_records
from tests.reports.test_xlsx_read import write_book

#: the tests that read a register run on both stores (tests/reports/conftest.py)
BOTH_STORES = {"test_against_a_register", "test_a_city_summary_covers_its_own_and_merged_firms_only",
               "test_full_numbers_are_logged", "test_an_export_reads_back_as_an_import"}

HEADERS = ["序号", "姓名", "性别", "民族", "公民身份号码", "出生日期", "学历", "手机号码",
           "家庭住址", "律师执业证号", "执业机构", "执业机构统一社会信用代码", "人员类别",
           "入党日期", "转正日期", "党籍状态", "组织关系所在党组织", "工号"]


def sheet_rows(records, *, today=TODAY):
    rows = [["某某律师事务所党员名册"], HEADERS]
    for i, r in enumerate(records, start=1):
        rows.append([i, *(r.get(h, "") for h in HEADERS[1:-1]), f"G{i}"])
    return rows


@pytest.fixture
def bad_book(tmp_path):
    recs = [dict(m) for m in make_firm_records(seed=5, members=4).members]
    recs[1]["手机号码"] = "12345"
    rows = sheet_rows(recs)
    rows[3][4] = 110105194912310021  # 李 row 4: an ID number Excel has rounded
    return write_book(tmp_path / "名册.xlsx", rows, sheet="党员"), recs


def test_findings_name_the_sheet_and_cell(forms, bad_book):
    path, _ = bad_book
    form = forms.form("lawyer_member")
    results = run(check_workbook(forms, form, path, today=TODAY))
    assert [r.no for r in results] == [3, 4, 5, 6]
    where = {(r.where(f), f.code) for r in results for f in r.findings}
    assert ("党员!R2", "xlsx_extra_column") in where  # 工号, said once, at its header
    assert any(w == "党员!H4" for w, _ in where)  # the bad mobile number
    rounded = [f for r in results if r.no == 4 for f in r.findings if f.field == "id_number"]
    assert [f.code for f in rounded] == ["xlsx_number_rounded"]  # no extra "required"
    assert results[1].cell(rounded[0]) == "E4"
    # rules about the whole record point at the row
    from desktop.domain.findings import Finding

    assert results[0].where(Finding("", "E", "x", "m")) == "党员!第3行"


def test_several_cores_give_the_same_result_as_one(forms, tmp_path, monkeypatch):
    recs = [dict(m) for m in make_firm_records(seed=9, members=60).members]
    recs[7]["入党日期"] = "2030-01-01"
    recs[40]["公民身份号码"] = recs[3]["公民身份号码"]
    rows = sheet_rows(recs)
    rows[20][4] = 110105194912310021
    path = write_book(tmp_path / "many.xlsx", rows)
    form = forms.form("lawyer_member")

    def summary(results):
        return [(r.no, r.values, sorted((f.field, f.code) for f in r.findings), r.where(
            r.findings[0]) if r.findings else "") for r in results]

    one = run(check_workbook(forms, form, path, today=TODAY))
    monkeypatch.setattr(excel, "PARALLEL_FROM", 10)
    many = run(check_workbook(forms, form, path, today=TODAY))
    assert summary(many) == summary(one)
    assert any(f.code == "duplicate_in_file" for r in many for f in r.findings)
    # where workers cannot fork (Windows, macOS) the rows travel to them
    monkeypatch.setattr(excel, "_use_fork", lambda: False)
    sent = run(check_workbook(forms, form, path, today=TODAY))
    assert summary(sent) == summary(one)


def test_against_a_register(forms, db, dengji, jsonl, tmp_path):
    recs = make_firm_records(seed=4, members=3, today=date.today())
    assert dengji("import", "--db", db, "--form", "lawyer_member", jsonl(recs.members)).code == 0
    book = write_book(tmp_path / "again.xlsx", sheet_rows(recs.members))
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        results = run(check_workbook(forms, forms.form("lawyer_member"), book, register=reg,
                                     session=session))
    dup = {r.where(f) for r in results for f in r.findings if f.code == "duplicate_in_register"}
    assert {"Sheet1!E3", "Sheet1!J3"} <= dup


def test_annotate_results_marks_the_user_workbook(forms, bad_book, tmp_path):
    path, _ = bad_book
    form = forms.form("lawyer_member")
    results = run(check_workbook(forms, form, path, today=TODAY))
    out = annotate_results(path, tmp_path / "marked.xlsx", form, results)
    ws = load_workbook(out)["党员"]
    assert ws["E4"].fill.fgColor.rgb == "FFFF8B8B" and "15 位有效数字" in ws["E4"].comment.text
    assert ws["H4"].fill.fgColor.rgb == "FFFF8B8B"
    assert "不是附件1" in ws["R2"].comment.text and ws["R2"].fill.fill_type is None


# --- exports --------------------------------------------------------------------------------


def _add_unit_records(db, level: str, records: list[dict], forms, form_id="lawyer_member"):
    from desktop.domain.context import Environment
    from desktop.domain.states import ACCEPTED
    from desktop.domain.validation import Validator

    validator = Validator(forms.form(form_id), Environment(today=TODAY))
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        unit = Unit(code=f"U-{level}-{len(records)}", name=f"某{level}单位", level=level)
        session.add(unit)
        session.flush()
        for r in records:
            values, _ = validator.parse(r)
            session.add(Record(form_id=form_id, form_version="2026.1", unit_id=unit.id,
                               data=json.dumps(values, ensure_ascii=False),
                               name=values.get("name") or "",
                               state=ACCEPTED))  # merged from below: no draft (issue 16)
        session.commit()


@pytest.fixture
def city_db(dengji, society_store, forms, jsonl):
    path = society_store  # a file or a new database (tests/reports/conftest.py)
    assert dengji("init", "--db", path, "--level", "city", "--unit-name", "某市律师行业党委",
                  "--unit-code", "320100").code == 0
    firm_a = make_firm_records(seed=21, members=3, today=date.today())
    assert dengji("import", "--db", path, "--form", "lawyer_member",
                  jsonl(firm_a.members)).code == 0
    _add_unit_records(path, "firm", make_firm_records(seed=22, members=2, firm_index=1).members,
                      forms)
    _add_unit_records(path, "province", make_firm_records(seed=23, members=5).members, forms)
    return path


def test_a_city_summary_covers_its_own_and_merged_firms_only(forms, city_db, tmp_path):
    out = tmp_path / "附件4.xlsx"
    with open_register(city_db, PASSPHRASE) as reg:
        result = run(export_excel(reg, forms, "lawyer_summary", out, today=TODAY))
        with reg.session() as session:
            audit = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert result.records == 5 and result.title == "附件4 律师党员基本信息汇总表"
    assert audit.action == "export_excel" and json.loads(audit.detail)["full"] is False
    wb = load_workbook(out)
    assert wb.sheetnames == ["附件4", "分类统计"]
    ws = wb["附件4"]
    header = next(r for r in range(1, 6) if ws.cell(r, 1).value == "序号")
    col = [c.value for c in ws[header]].index("公民身份号码") + 1
    ids = [ws.cell(r, col).value for r in range(header + 1, header + 6)]
    assert all("********" in i for i in ids)
    assert wb.properties.title == "附件4 律师党员基本信息汇总表"
    import zipfile

    with zipfile.ZipFile(out) as z:
        assert "<Company>某市律师行业党委</Company>" in z.read("docProps/app.xml").decode()


def test_full_numbers_are_logged(forms, city_db, tmp_path):
    out = tmp_path / "full.xlsx"
    with open_register(city_db, PASSPHRASE) as reg:
        run(export_excel(reg, forms, "lawyer_member", out, full=True, filler="王敏",
                         phone="010-85551234"))
        with reg.session() as session:
            detail = json.loads(session.exec(select(AuditEntry.detail)
                                             .order_by(AuditEntry.seq.desc())).first()[0])
    assert detail["full"] is True and detail["target"] == "lawyer_member"
    values = [c.value for row in load_workbook(out).worksheets[0].iter_rows() for c in row]
    assert not any(isinstance(v, str) and "****" in v for v in values)
    assert any(isinstance(v, str) and "填报人：王敏" in v for v in values)


def test_an_export_reads_back_as_an_import(forms, city_db, tmp_path):
    out = tmp_path / "附件1.xlsx"
    with open_register(city_db, PASSPHRASE) as reg:
        run(export_excel(reg, forms, "lawyer_member", out, full=True))
    results = run(check_workbook(forms, forms.form("lawyer_member"), out))
    assert len(results) == 5
    assert not [f for r in results for f in r.findings if f.code.startswith("xlsx_")]


def test_export_refuses_what_it_cannot_write(forms, city_db, tmp_path):
    with open_register(city_db, PASSPHRASE) as reg:
        with pytest.raises(UsageError, match=r"\.xlsx"):
            run(export_excel(reg, forms, "lawyer_summary", tmp_path / "x.csv"))
        with pytest.raises(UsageError, match="没有这个表"):
            run(export_excel(reg, forms, "nothing", tmp_path / "x.xlsx"))
