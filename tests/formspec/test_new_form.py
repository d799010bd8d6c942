"""Issue #13: "Adding a whole new form (say 附件7) is a TOML file and nothing else".

A copy of forms/ gets one more file, party_instructor.toml (附件7, with its own summary 附件8);
without touching any code, the real `dengji` command validates, imports, writes the template,
exports the records and the summary as workbooks, prints both, sends them up in a package
and a city register merges it — and the window opens a tab for it.
"""

from __future__ import annotations

import random
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from desktop import sampledata as sd
from desktop.formspec import load_forms
from desktop.paths import forms_dir
from tests.conftest import count_records, stored_data
from tests.exchange.formats import manifest_of
from tests.reports.test_pdf_helpers import pdf_text, squeeze

FORM_ID = "party_instructor"
INSTRUCTOR = """\
# 附件7 党建工作指导员登记表 — a form added as a TOML file only (tests/formspec/test_new_form.py)

[form]
id = "party_instructor"
version = "2026.1"
attachment = "附件7"
title = "党建工作指导员登记表"
levels = ["firm", "city", "province", "national"]
name_field = "name"

[[sections]]
id = "person"
label = "指导员情况"

[[sections]]
id = "work"
label = "指导工作"

[[fields]]
id = "name"
label = "姓名"
section = "person"
type = "text"
required = true
max_length = 30
rules = [{ rule = "person_name" }]

[[fields]]
id = "sex"
label = "性别"
section = "person"
type = "code"
codes = "sex"
required = true

[[fields]]
id = "id_number"
label = "公民身份号码"
section = "person"
type = "id_number"
required = true
mask = "id"
aliases = ["身份证号"]
rules = [{ rule = "resident_id" }]

[[fields]]
id = "mobile"
label = "手机号码"
section = "person"
type = "mobile"
required = true
mask = "phone"
rules = [{ rule = "mobile" }]

[[fields]]
id = "firm"
label = "指导的律师事务所"
section = "work"
type = "text"
required = true
max_length = 100

[[fields]]
id = "appointed"
label = "任职日期"
section = "work"
type = "date"

[[keys]]
kind = "instructor"
field = "id_number"
unique = true
hashed = true

[print]
signatures = ["指导员签字", "派出党组织负责人签字"]
stamp = "派出党组织（盖章）"

[summary]
id = "instructor_summary"
attachment = "附件8"
title = "党建工作指导员汇总表"
short = "FJ8"
columns = ["name", "sex", "id_number", "firm", "appointed", "mobile"]
headers = { firm = "律师事务所" }
sort = ["firm", "name"]
counter = "人"

[[summary.totals]]
kind = "codes"
field = "sex"

[[summary.totals]]
kind = "age"
label = "年龄"
id_field = "id_number"
bands = ["40岁及以下", "41岁及以上"]
limits = [40]
"""



def _rows() -> list[dict]:
    """Two instructors, one over 41 and one under 40 (the ID number headed 身份证号 once)."""
    rng = random.Random(13)
    return [
        {"姓名": "王建国", "性别": "男", "手机号码": "13800138000",
         "公民身份号码": sd.resident_id(rng, date(1969, 12, 31), True, "110105"),
         "指导的律师事务所": "北京市甲律师事务所", "任职日期": "2024-03-01"},
        {"姓名": "李秀英", "性别": "女", "手机号码": "13912345678",
         "身份证号": sd.resident_id(rng, date(1990, 3, 7), False, "110105"),
         "指导的律师事务所": "北京市乙律师事务所"},
    ]


@pytest.fixture
def new_forms(tmp_path: Path) -> Path:
    folder = tmp_path / "forms"
    shutil.copytree(forms_dir(), folder)
    (folder / f"{FORM_ID}.toml").write_text(INSTRUCTOR, encoding="utf-8")
    return folder


@pytest.fixture
def cli(dengji, new_forms, monkeypatch):
    """dengji(...) with DENGJI_FORMS_DIR on the new folder (set after the fixture clears it)."""
    monkeypatch.setenv("DENGJI_FORMS_DIR", str(new_forms))
    return dengji


def test_the_new_form_is_loaded_with_its_print_and_summary(new_forms):
    forms = load_forms(new_forms)
    form = forms.form(FORM_ID)
    assert list(forms.forms)[-2:] == [FORM_ID, "society_member"]  # 附件 order
    assert form.printing.signatures == ("指导员签字", "派出党组织负责人签字")
    assert list(forms.summaries) == ["lawyer_summary", "staff_summary", "org_summary",
                                     "instructor_summary"]
    summary = forms.summary("instructor_summary")
    assert summary.source_form == FORM_ID and summary.columns[3] == ("firm", "律师事务所")


def test_the_whole_round_through_the_command_line(cli, new_forms, tmp_path, jsonl):
    rows = jsonl(_rows(), "instructors.jsonl")
    bad = jsonl([dict(_rows()[0], 性别="未知", 手机号码="12")], "bad.jsonl")

    # validate: findings name the new fields; a good file passes
    result = cli("validate", "--form", FORM_ID, bad)
    assert result.code == 1
    fields = {line.split("\t")[1] for line in result.lines}
    assert {"性别", "手机号码"} <= fields
    assert cli("validate", "--form", FORM_ID, rows).code == 0

    # import into a firm register (its parent is the city below)
    firm_db, city_db = tmp_path / "firm.dengji", tmp_path / "city.dengji"
    assert cli("init", "--db", city_db, "--level", "city", "--unit-name", "北京市律师行业党委",
               "--unit-code", "110100").code == 0
    assert cli("init", "--db", firm_db, "--level", "firm", "--unit-name", "北京市甲律师事务所党支部",
               "--unit-code", "31110000MD01234564", "--parent-code", "110100"
               ).code == 0
    result = cli("import", "--db", firm_db, "--form", FORM_ID, rows)
    assert result.code == 0, result.err
    assert count_records(firm_db, FORM_ID) == 2
    assert {r["sex"] for r in stored_data(firm_db, FORM_ID)} == {"1", "2"}

    # template, and the records and the summary as workbooks
    template = tmp_path / "template.xlsx"
    assert cli("template", "--form", FORM_ID, "--out", template).code == 0
    assert "指导的律师事务所" in _sheet_text(template)
    book = tmp_path / "records.xlsx"
    result = cli("export-excel", "--db", firm_db, "--form", FORM_ID, "--out", book)
    assert result.code == 0, result.err
    assert "王建国" in _sheet_text(book) and "附件7" in result.err
    summary = tmp_path / "summary.xlsx"
    result = cli("export-excel", "--db", firm_db, "--form", "instructor_summary", "--out", summary)
    assert result.code == 0, result.err
    text = _sheet_text(summary)
    assert "附件8 党建工作指导员汇总表" in text and "41岁及以上" in text and "律师事务所" in text

    # print: the record pages (with the form's signature lines) and the summary table
    pdf = tmp_path / "records.pdf"
    result = cli("print", "--db", firm_db, "--form", FORM_ID, "--out", pdf)
    assert result.code == 0, result.err
    assert "2 条记录" in result.out
    _assert_pdf_says(pdf, tmp_path, "党建工作指导员登记表", "派出党组织负责人签字", "派出党组织（盖章）")
    table = tmp_path / "summary.pdf"
    result = cli("print", "--db", firm_db, "--form", "instructor_summary", "--out", table)
    assert result.code == 0, result.err
    _assert_pdf_says(table, tmp_path, "党建工作指导员汇总表")

    # export a package to the city (keys exchanged through files) and merge it there
    city_key = tmp_path / "city.djkey"
    assert cli("keys", "--db", city_db, "export-public", "--out", city_key).code == 0
    city_fp = cli("keys", "--db", city_db, "show", "--format", "json").json()["fingerprint"]
    assert cli("keys", "--db", firm_db, "trust", city_key, "--fingerprint", city_fp).code == 0
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    result = cli("export", "--db", firm_db, "--out", outbox)
    assert result.code == 0, result.err
    package = Path(result.lines[-1])
    assert zipfile.ZipFile(package).namelist() == ["manifest.json", "manifest.sig", "payload.enc"]
    names = manifest_of(package.read_bytes())["members"]  # the payload's members, as signed
    assert "xlsx/附件7党建工作指导员登记表.xlsx" in names
    assert "pdf/附件8党建工作指导员汇总表.pdf" in names
    firm_fp = cli("keys", "--db", firm_db, "show", "--format", "json").json()["fingerprint"]
    assert cli("keys", "--db", city_db, "trust", package, "--fingerprint", firm_fp).code == 0
    result = cli("merge", "--db", city_db, package)
    assert result.code == 0, result.out + result.err
    assert count_records(city_db, FORM_ID) == 2
    merged = sorted(r["name"] for r in stored_data(city_db, FORM_ID))
    assert merged == ["李秀英", "王建国"]


def test_the_choices_of_the_commands_come_from_the_forms_folder(cli, monkeypatch, jsonl,
                                                                capsys):
    with pytest.raises(SystemExit):
        cli("print", "--help")
    usage = squeeze(capsys.readouterr().out)  # argparse wraps the help text
    assert "party_instructor（附件7党建工作指导员登记表）" in usage
    assert "instructor_summary（附件8党建工作指导员汇总表）" in usage
    assert "society_stats（个人会员清理工作情况统计表）" in usage
    monkeypatch.delenv("DENGJI_FORMS_DIR")
    rows = jsonl(_rows(), "instructors.jsonl")
    result = cli("validate", "--form", FORM_ID, rows)  # the shipped forms have no 附件7
    assert result.code == 2 and "无效的选项" in result.err


def test_the_window_opens_a_tab_for_the_new_form(new_forms, qtbot, tmp_path):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QTabWidget

    from desktop.services.registers import init_register
    from desktop.storage import KdfParams
    from desktop.ui.mainwindow import MainWindow

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    reg = init_register(tmp_path / "w.dengji", "新表单测试口令 Pass-1234", level="firm",
                        unit_name="北京市测试律师事务所党支部", unit_code="31110000MD01234564",
                        kdf=KdfParams(n=2**10, r=8, p=1))
    try:
        window = MainWindow(reg, load_forms(new_forms), actor="测试员", settings=QSettings())
        qtbot.addWidget(window)
        tabs = window.findChild(QTabWidget, "formTabs")
        titles = [tabs.tabText(i) for i in range(tabs.count())]
        assert any("附件7" in t or "党建工作指导员登记表" in t for t in titles), titles
    finally:
        reg.close()


# --- helpers --------------------------------------------------------------------------------


def _sheet_text(path: Path) -> str:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return "\n".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                         for c in row if c is not None)
    finally:
        book.close()


def _assert_pdf_says(pdf: Path, tmp_path: Path, *words: str) -> None:
    text = squeeze(pdf_text(pdf.read_bytes(), tmp_path))
    for word in words:
        assert word in text, word
