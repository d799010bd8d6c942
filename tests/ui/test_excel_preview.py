"""The import dialog's helpers without a window: the quick look at a workbook, the mapping's
problems, the all-or-nothing import with a mapping, and the dialog's table models."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.errors import UsageError
from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services.intake import preview as ep
from desktop.services.intake.importing import import_file
from desktop.ui.excel.models import FindingsModel, PreviewModel, finding_rows
from tests.ui.test_excel_import import members_book, stored, write_book


@pytest.fixture
def lawyer():
    return shipped_forms().form("lawyer_member")


def test_cell_text_shows_cells_as_excel_does():
    assert ep.cell_text(None) == ""
    assert ep.cell_text(12.0) == "12"
    assert ep.cell_text(110105194912310021.0) == "110105194912310016"  # what Excel kept
    assert ep.cell_text(1.5) == "1.5"
    assert ep.cell_text(dt.datetime(2020, 1, 5)) == "2020-01-05"
    assert ep.cell_text(dt.date(2020, 1, 5)) == "2020-01-05"
    assert ep.cell_text(" 张三 ") == "张三"
    assert ep.cell_text(True) == "TRUE"


def test_preview_reads_the_first_rows_and_guesses_the_fields(tmp_path, lawyer):
    book, people = members_book(tmp_path / "名册.xlsx", members=3)
    preview = ep.preview_workbook(book, lawyer, rows=2)
    assert preview.sheets == ("党员名册",) and preview.header_row == 2
    assert [no for no, _ in preview.rows] == [3, 4]
    assert preview.data_rows == 3
    by_letter = {c.letter: c for c in preview.columns}
    assert by_letter["C"].auto.path == "id_number" and by_letter["C"].header == "身份证号码"
    assert by_letter["A"].row_number and by_letter["A"].auto is None
    assert by_letter["H"].auto is None  # 联系方式: not a header the reader knows
    errors, notes = ep.mapping_problems(lawyer, preview, {})
    assert errors == ["必填栏目“手机号码”没有对应的列"]
    assert notes == ["列 H“联系方式”不导入", "列 R“工作备注”不导入"]
    chosen = {7: "mobile", 17: "address"}
    errors, _ = ep.mapping_problems(lawyer, preview, chosen)
    assert errors == ["列 I、R 都对应“家庭住址”：请把多余的列改为“不导入”"]
    assert ep.effective_mapping(preview, {7: "mobile", 2: None, 17: ep.SKIP}) == {
        7: "mobile", 17: None}


def test_preview_refuses_what_is_no_workbook_and_a_sheet_without_header(tmp_path, lawyer):
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UsageError, match="不是 Excel 工作簿"):
        ep.preview_workbook(bad, lawyer)
    plain = write_book(tmp_path / "p.xlsx", [["张三", "男"]])
    with pytest.raises(UsageError, match="没有找到表头行"):
        ep.preview_workbook(plain, lawyer)
    shown = ep.preview_workbook(plain, lawyer, sheet="党员名册")
    assert not shown.has_header and shown.rows == ((1, ("张三", "男")),)


def test_import_with_a_mapping_is_all_or_nothing(tmp_path, register, lawyer):
    forms = shipped_forms()
    book, people = members_book(tmp_path / "名册.xlsx", members=3)
    result = run(import_file(register, forms, lawyer, book, sheet="党员名册", mapping={}))
    assert result.imported == 0 and result.refused == 3  # no 手机号码: every row refused
    assert stored(register) == []
    result = run(import_file(register, forms, lawyer, book, sheet="党员名册",
                             mapping={7: "mobile"}))
    assert result.imported == 3 and stored(register)
    again = run(import_file(register, forms, lawyer, book, sheet="党员名册",
                            mapping={7: "mobile"}))
    assert again.imported == 0 and again.refused == 3  # already registered
    assert len(stored(register)) == 3


def test_the_models(qtmodeltester, tmp_path, lawyer):
    book, _ = members_book(tmp_path / "名册.xlsx", members=3)
    preview = ep.preview_workbook(book, lawyer)
    model = PreviewModel()
    model.set_preview(preview)
    qtmodeltester.check(model)
    assert model.rowCount() == 3 and model.columnCount() == 18
    from desktop.services.intake.workbook import check_workbook

    results = run(check_workbook(shipped_forms(), lawyer, book, sheet="党员名册"))
    rows = finding_rows(lawyer, results)
    findings = FindingsModel()
    findings.set_rows(rows)
    qtmodeltester.check(findings)
    assert findings.rows[0].blocking  # the missing 手机号码 of each row comes first
    first = [findings.index(0, c).data() for c in range(5)]
    assert first == ["错误", "党员名册", "第3行", "手机号码", first[4]] and "手机号码" in first[4]
    findings.sort(FindingsModel.CELL)
    assert [r.row for r in findings.rows] == sorted(r.row for r in findings.rows)
