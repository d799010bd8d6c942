"""Fill-in templates: labels, drop-downs from the hidden code sheet, hints, text formats —
and a filled template reads back."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from desktop.errors import UsageError
from desktop.reports.xlsx.columns import form_columns
from desktop.reports.xlsx.read import read_workbook
from desktop.reports.xlsx.template import CODE_SHEET, HELP_SHEET, write_template
from tests.conftest import make_firm_records


@pytest.mark.parametrize("form_id", ["lawyer_member", "staff_member", "party_org",
                                     "society_member"])
def test_every_form_has_a_template(tmp_path, forms, form_id):
    form = forms.form(form_id)
    wb = load_workbook(write_template(form, tmp_path / "t.xlsx"))
    assert wb.sheetnames[0] == (form.attachment or "数据")
    assert wb[CODE_SHEET].sheet_state == "hidden" and HELP_SHEET in wb.sheetnames
    ws = wb.worksheets[0]
    labels = [c.value for c in ws[1]]
    assert labels == [c.label for c in form_columns(form)]
    assert ws.freeze_panes == "A2"
    assert wb.properties.title == f"{form.display_title} 填写模板"


def test_codes_have_drop_downs_and_headers_have_hints(tmp_path, forms):
    form = forms.form("lawyer_member")
    wb = load_workbook(write_template(form, tmp_path / "t.xlsx"))
    ws = wb.worksheets[0]
    col = {c.value: c.column_letter for c in ws[1]}
    lists = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    sex = lists[f"{col['性别']}2:{col['性别']}1048576"]
    assert sex.type == "list" and sex.formula1.startswith(f"{CODE_SHEET}!")
    ref = sex.formula1.split("!")[1].replace("$", "")
    cells = [c.value for row in wb[CODE_SHEET][ref] for c in row]
    assert cells == ["男", "女"]
    assert lists[f"{col['是否参加组织生活']}2:{col['是否参加组织生活']}1048576"].formula1 == '"是,否"'
    assert lists[f"{col['入党日期']}2:{col['入党日期']}1048576"].type == "date"
    assert "18 位" in ws[f"{col['公民身份号码']}1"].comment.text
    assert "必填" in ws[f"{col['姓名']}1"].comment.text
    assert "选填" in ws[f"{col['备注']}1"].comment.text


def test_long_numbers_and_leading_zeros_are_kept_as_text(tmp_path, forms):
    form = forms.form("lawyer_member")
    path = write_template(form, tmp_path / "t.xlsx")
    ws = load_workbook(path).worksheets[0]
    col = {c.value: c.column for c in ws[1]}

    def number_format(label: str) -> str:  # adjacent equal columns share one <col> element
        dim = next(d for d in ws.column_dimensions.values() if d.min <= col[label] <= d.max)
        return dim.number_format

    for label in ("公民身份号码", "手机号码", "律师执业证号", "民族", "固定电话"):
        assert number_format(label) == "@", label
    assert number_format("入党日期") == "yyyy-mm-dd"


def test_groups_get_numbered_columns(tmp_path, forms):
    form = forms.form("party_org")
    ws = load_workbook(write_template(form, tmp_path / "t.xlsx")).worksheets[0]
    labels = [c.value for c in ws[1]]
    assert "律师事务所1名称" in labels and "律师事务所5组织形式" in labels  # max_rows = 5
    assert "律师事务所6名称" not in labels


def test_a_filled_template_reads_back(tmp_path, forms):
    form = forms.form("lawyer_member")
    path = write_template(form, tmp_path / "t.xlsx")
    with pytest.raises(UsageError, match="下面没有任何记录"):
        read_workbook(path, form)
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    labels = [c.value for c in ws[1]]
    recs = make_firm_records(members=2).members
    for r in recs:
        ws.append([r.get(label, None) for label in labels])
    wb.save(path)
    back = read_workbook(path, form)
    assert [r.raw["公民身份号码"] for r in back.rows] == [r["公民身份号码"] for r in recs]
    assert back.notes == [] and back.row_notes == {}
