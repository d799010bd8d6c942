"""Excel → 导入Excel…, driven through the real window: the file dialog, the preview, the column
mapping, the check with cell references, the annotated workbook, and the all-or-nothing import."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from desktop.storage import AuditEntry, Record
from desktop.ui.actions import Action
from desktop.ui.excel.importing import ImportDialog
from tests.ui.conftest import firm_set, shown_dialog

FIXTURES = Path(__file__).parents[1] / "reports" / "fixtures"

#: a clerk's own list: a 序号, headers in another order, variants, a column with another name
#: for the mobile number, and a column that is no field of the form
HEADERS = ["序号", "姓名", "身份证号码", "性别", "民族", "出生年月", "学历", "联系方式", "家庭住址",
           "执业证号", "执业机构", "执业机构统一社会信用代码", "人员类别", "入党时间", "转正日期",
           "党籍状态", "组织关系所在党组织", "工作备注"]
SOURCE = {"身份证号码": "公民身份号码", "出生年月": "出生日期", "联系方式": "手机号码",
          "执业证号": "律师执业证号", "入党时间": "入党日期"}


def write_book(path: Path, rows: Sequence[Sequence[Any]], *, sheet: str = "党员名册",
               before: dict[str, Sequence[Sequence[Any]]] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    for name, extra in (before or {}).items():  # sheets in front of the data
        ws.title = name
        for row in extra:
            ws.append(list(row))
        ws = wb.create_sheet(sheet)
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def members_book(path: Path, members: int = 3, **kwargs) -> tuple[Path, list[dict]]:
    _firm, people, _org = firm_set(members)
    rows = [["某某律师事务所党员名册"], HEADERS]
    for i, m in enumerate(people, start=1):
        rows.append([i, *(m.get(SOURCE.get(h, h), "") for h in HEADERS[1:-1]), "无"])
    return write_book(path, rows, **kwargs), people


@pytest.fixture
def choose(monkeypatch):
    """Make the open and save file dialogs answer with the given paths."""
    chosen: dict[str, Path] = {}
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(chosen["open"]), "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(chosen["save"]), "")))
    return chosen


def open_dialog(qtbot, window, choose, path: Path):
    choose["open"] = path
    window.action(Action.EXCEL_IMPORT).trigger()
    return shown_dialog(qtbot, window, "excelImportDialog", ImportDialog)


def check(qtbot, dialog) -> None:
    dialog.check_button.click()
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=20000)


def stored(register, form_id: str = "lawyer_member") -> list[Record]:
    with register.session() as session:
        from sqlmodel import select

        return list(session.exec(select(Record).where(Record.form_id == form_id)).all())


def test_a_clerks_own_list_is_mapped_checked_and_imported(qtbot, window, register, choose,
                                                          boxes, tmp_path):
    book, people = members_book(tmp_path / "名册.xlsx")
    dialog = open_dialog(qtbot, window, choose, book)
    # the header is found under the title; the preview shows the first rows as Excel does
    assert dialog.preview.header_row == 2
    assert dialog.preview_model.rowCount() == 3
    assert dialog.preview_model.headerData(2, Qt.Orientation.Horizontal) == "C 身份证号码"
    ids = [dialog.preview_model.index(r, 2).data() for r in range(3)]
    assert ids == [p["公民身份号码"] for p in people]
    # the variant headers are recognised, the extra columns said, the missing field said
    assert dialog.combo("C").currentText() == "自动识别：公民身份号码"
    assert dialog.combo("F").currentText() == "自动识别：出生日期"
    assert dialog.combo("A").currentText() == "自动识别：不导入（序号）"
    assert "列 H“联系方式”" in dialog.extra.text() and "列 R“工作备注”" in dialog.extra.text()
    assert "必填栏目“手机号码”没有对应的列" in dialog.problems.text()
    assert not dialog.import_button.isEnabled()
    grey = Qt.ItemDataRole.ForegroundRole
    assert dialog.preview_model.index(0, 7).data(grey) is not None  # not imported: grey
    assert dialog.preview_model.index(0, 2).data(grey) is None
    # the clerk maps 联系方式 to 手机号码 in its combo box
    box = dialog.combo("H")
    box.setCurrentIndex(box.findData("mobile"))
    assert dialog.preview_model.index(0, 7).data(grey) is None
    assert "手机号码" not in dialog.problems.text()
    assert "联系方式" not in dialog.extra.text()
    assert not dialog.import_button.isEnabled()  # not checked yet
    check(qtbot, dialog)
    rows = dialog.findings.rows
    extra = next(r for r in rows if "工作备注" in r.message)
    assert (extra.sheet, extra.cell, extra.severity) == ("党员名册", "R2", "I")
    assert not any(r.blocking for r in rows)
    assert "都可以导入" in dialog.summary.text()
    assert stored(register) == []  # nothing is written by a check
    assert dialog.import_button.isEnabled()
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20000)
    assert dialog.result.imported == 3
    records = stored(register)
    assert sorted(r.name for r in records) == sorted(p["姓名"] for p in people)
    tab = window.tab("lawyer_member")
    qtbot.waitUntil(lambda: tab.model.total == 3)
    assert "共 3 条" in tab.count.text()
    assert boxes and boxes[-1][1] == "导入完成" and "3 条记录" in boxes[-1][2]
    with register.session() as session:
        from sqlmodel import select

        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "import")).one()
    assert entry.target == "名册.xlsx" and entry.actor == "测试员"
    assert '"imported":3' in entry.detail.replace(" ", "")


def test_a_workbook_with_an_error_is_not_imported_and_can_be_annotated(
        qtbot, window, register, choose, boxes, tmp_path):
    book, people = members_book(tmp_path / "有错.xlsx")
    wb = load_workbook(book)
    wb.active["H4"] = "1380013800"  # 10 digits
    wb.save(book)
    dialog = open_dialog(qtbot, window, choose, book)
    box = dialog.combo("H")
    box.setCurrentIndex(box.findData("mobile"))
    check(qtbot, dialog)
    bad = [r for r in dialog.findings.rows if r.blocking]
    assert [(r.cell, r.field, r.severity) for r in bad] == [("H4", "手机号码", "E")]
    assert "11 位" in bad[0].message
    assert "不能导入" in dialog.summary.text()
    assert not dialog.import_button.isEnabled()
    dialog.do_import()  # even when called: nothing happens
    assert dialog.result is None and stored(register) == []
    # the filter shows only what blocks; a click on it shows the cell in the preview
    dialog.only_blocking.setChecked(True)
    assert [r.cell for r in dialog.findings.rows] == ["H4"]
    view = dialog.found.view
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.visualRect(dialog.findings.index(0, 4)).center())
    current = dialog.preview_view.currentIndex()
    assert (current.row(), current.column(), current.data()) == (1, 7, "1380013800")
    # the annotated workbook marks the cell red with the message
    choose["save"] = tmp_path / "有错-已标注.xlsx"
    assert dialog.annotate_button.isEnabled()
    dialog.annotate_button.click()
    qtbot.waitUntil(lambda: (tmp_path / "有错-已标注.xlsx").exists(), timeout=10000)
    qtbot.waitUntil(lambda: dialog.job is None)
    marked = load_workbook(tmp_path / "有错-已标注.xlsx")["党员名册"]["H4"]
    assert marked.value == "1380013800"
    assert "11 位" in marked.comment.text
    assert marked.fill.fill_type == "solid" and marked.fill.fgColor.rgb == "FFFF8B8B"  # red
    # fixing the cell in place and checking again makes the import possible
    wb = load_workbook(book)
    wb.active["H4"] = "13912345678"
    wb.save(book)
    check(qtbot, dialog)
    assert dialog.import_button.isEnabled()


def test_changing_the_mapping_forgets_the_check_and_a_double_mapping_blocks(
        qtbot, window, register, choose, boxes, tmp_path):
    book, _ = members_book(tmp_path / "名册.xlsx")
    dialog = open_dialog(qtbot, window, choose, book)
    box = dialog.combo("H")
    box.setCurrentIndex(box.findData("mobile"))
    check(qtbot, dialog)
    assert dialog.import_button.isEnabled()
    # the clerk maps 工作备注 to 家庭住址 too: said clearly, and the check is to be done again
    box = dialog.combo("R")
    box.setCurrentIndex(box.findData("address"))
    assert dialog.results is None and not dialog.import_button.isEnabled()
    assert "列 I、R 都对应“家庭住址”" in dialog.problems.text()
    check(qtbot, dialog)
    assert not dialog.import_button.isEnabled()
    assert "栏目对应问题" in dialog.summary.text()
    # 不导入 resolves it
    box.setCurrentIndex(box.findData(""))
    check(qtbot, dialog)
    assert dialog.import_button.isEnabled()


def test_the_sheet_chooser_for_a_workbook_with_several_sheets(qtbot, window, choose, boxes,
                                                              tmp_path):
    book, _ = members_book(tmp_path / "多表.xlsx", before={"填写说明": [["请按表填写"], ["无"]]})
    dialog = open_dialog(qtbot, window, choose, book)
    assert dialog.sheet_box.isVisible()
    assert [dialog.sheet_box.itemText(i) for i in range(dialog.sheet_box.count())] == [
        "填写说明", "党员名册"]
    assert dialog.preview.sheet == "党员名册"  # the sheet that holds the form is chosen
    dialog.sheet_box.setCurrentIndex(0)
    dialog.sheet_box.activated.emit(0)
    qtbot.waitUntil(lambda: dialog.preview.sheet == "填写说明", timeout=10000)
    assert "没有表头行" in dialog.problems.text()
    assert not dialog.check_button.isEnabled() and not dialog.import_button.isEnabled()
    assert dialog.preview_model.rowCount() == 2  # what is there is still shown
    dialog.sheet_box.setCurrentIndex(1)
    dialog.sheet_box.activated.emit(1)
    qtbot.waitUntil(lambda: dialog.preview.sheet == "党员名册", timeout=10000)
    assert dialog.check_button.isEnabled()


def test_a_single_sheet_has_no_chooser(qtbot, window, choose, boxes, tmp_path):
    book, _ = members_book(tmp_path / "名册.xlsx")
    dialog = open_dialog(qtbot, window, choose, book)
    assert not dialog.sheet_box.isVisible()


@pytest.mark.parametrize("kind", ["text", "locked", "no_header"])
def test_what_cannot_be_read_is_said_and_nothing_is_written(qtbot, window, register, choose,
                                                            boxes, tmp_path, kind):
    if kind == "text":
        path = tmp_path / "名册.xlsx"
        path.write_text("姓名,公民身份号码\n张三,110105194912310021\n", encoding="utf-8")
        expected = "不是 Excel 工作簿"
    elif kind == "locked":
        path = tmp_path / "有密码.xlsx"
        path.write_bytes((FIXTURES / "password_protected.xlsx").read_bytes())
        expected = "设有打开密码"
    else:
        path = write_book(tmp_path / "无表头.xlsx", [["张三", "男"], ["李四", "女"]])
        expected = "没有找到表头行"
    choose["open"] = path
    window.action(Action.EXCEL_IMPORT).trigger()
    qtbot.waitUntil(lambda: bool(boxes), timeout=10000)
    kind_, title, text = boxes[-1]
    assert (kind_, title) == ("warning", "无法导入")
    assert expected in text and "没有导入任何记录" in text
    assert window.findChild(ImportDialog, "excelImportDialog") is None
    assert stored(register) == []


def test_cancelling_the_file_dialog_does_nothing(qtbot, window, monkeypatch, boxes):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    window.action(Action.EXCEL_IMPORT).trigger()
    window.workers.wait(2000)
    assert window.findChild(ImportDialog, "excelImportDialog") is None and boxes == []


def test_the_import_goes_into_the_current_tabs_form(qtbot, window, choose, boxes, tmp_path):
    """The 附件2 tab: its form's headers are recognised and its fields offered."""
    window.tabs.setCurrentIndex(window.form_tabs.index(window.tab("staff_member")))
    book = write_book(tmp_path / "工作人员.xlsx", [["姓名", "身份证号", "岗位", "律师执业证号"],
                                                  ["张三", "110105194912310021", "行政", ""]])
    dialog = open_dialog(qtbot, window, choose, book)
    assert dialog.form.id == "staff_member"
    assert dialog.windowTitle() == "导入Excel — 附件2 律师事务所工作人员党员基本信息登记表"
    assert dialog.combo("C").currentText() == "自动识别：岗位"
    assert dialog.combo("C").findData("work_start") >= 0
    assert dialog.combo("A").findData("licence") == -1  # a field of 附件1 only
    assert "列 D“律师执业证号”" in dialog.extra.text()


def test_another_units_records_are_not_imported_into(qtbot, make_window, make_register,
                                                     monkeypatch, boxes):
    """A city clerk looking at a merged firm is told to choose the own unit first."""
    reg = make_register("city")
    window = make_window(reg)
    window.form_tabs[0].unit_id = "another-unit"
    opened = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: opened.append(1) or ("", "")))
    window.action(Action.EXCEL_IMPORT).trigger()
    assert opened == [] and "只能向本单位导入记录" in boxes[-1][2]


def test_a_filled_template_is_imported(qtbot, window, register, choose, boxes, tmp_path):
    """下载模板… then fill it in Excel and import it: the 填写说明 sheet is offered but the data
    sheet is chosen, the hidden code list is not offered, every column is recognised."""
    choose["save"] = tmp_path / "模板.xlsx"
    window.action(Action.EXCEL_TEMPLATE).trigger()
    qtbot.waitUntil(lambda: bool(boxes), timeout=10000)
    _firm, people, _org = firm_set(2)
    wb = load_workbook(tmp_path / "模板.xlsx")
    ws = wb["附件1"]
    labels = [c.value for c in ws[1]]
    for i, person in enumerate(people, start=2):
        for j, label in enumerate(labels, start=1):
            if person.get(label) not in (None, ""):
                ws.cell(i, j, person[label])
    wb.save(tmp_path / "填好的模板.xlsx")
    dialog = open_dialog(qtbot, window, choose, tmp_path / "填好的模板.xlsx")
    assert dialog.preview.sheet == "附件1" and "代码表" not in dialog.preview.sheets
    assert dialog.mapping.errors() == [] and dialog.extra.text() == ""
    check(qtbot, dialog)
    assert dialog.import_button.isEnabled(), dialog.summary.text()
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20000)
    assert dialog.result.imported == 2 and len(stored(register)) == 2


def test_a_workbook_that_cannot_be_annotated_says_why(qtbot, window, choose, boxes, tmp_path):
    """An .xlsx saved as .xls is still read, but only .xlsx/.xlsm can be marked."""
    book, _ = members_book(tmp_path / "名册.xlsx")
    old = tmp_path / "名册.xls"
    old.write_bytes(book.read_bytes())
    dialog = open_dialog(qtbot, window, choose, old)
    check(qtbot, dialog)
    assert dialog.found.all_rows  # the missing 手机号码 column
    assert not dialog.annotate_button.isEnabled()
    assert "另存为 .xlsx" in dialog.annotate_button.toolTip()
