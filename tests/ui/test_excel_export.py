"""Excel → 导出Excel… and 下载模板… through the real window: the table chosen (the current tab's
form or a summary 附件4–6), masked unless 完整显示 is checked (and then logged), where it was
saved; the template of the current tab's form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtWidgets import QFileDialog
from sqlalchemy import select

from desktop.domain.identifiers import mask_id
from desktop.storage import AuditEntry
from desktop.ui.actions import Action
from tests.ui.conftest import firm_set, shown_dialog, store


@pytest.fixture
def save_as(monkeypatch):
    chosen: dict[str, Path] = {}
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(chosen["path"]), "")))
    return chosen


@pytest.fixture
def filled(register):
    """The firm's 附件3 (a draft) and two lawyer members marked complete, as a clerk would
    (an official export takes complete records only: issue 16)."""
    _firm, people, org = firm_set(2)
    store(register, "party_org", org)
    for person in people:
        store(register, "lawyer_member", person, submit=True)
    return people


def audit(register) -> list[tuple[str, dict]]:
    with register.session() as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.detail)
                               .order_by(AuditEntry.seq)).all()
    return [(action, json.loads(detail)) for action, detail in rows]


def cells(path: Path, sheet: str | None = None) -> list:
    wb = load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    return [c.value for row in ws.iter_rows() for c in row]


def export(qtbot, window, save_as, path: Path, target: str | None = None, *,
           full: bool = False):
    window.action(Action.EXCEL_EXPORT).trigger()
    dialog = shown_dialog(qtbot, window, "excelExportDialog")
    if target:
        dialog.findChild(type(dialog.group.button(0)), f"target:{target}").setChecked(True)
    dialog.full.setChecked(full)
    save_as["path"] = path
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20000)
    return dialog


def test_the_current_form_is_exported_masked_and_where_it_went_is_said(
        qtbot, window, register, filled, save_as, boxes, tmp_path):
    dialog = export(qtbot, window, save_as, tmp_path / "附件1.xlsx")
    assert dialog.targets[0] == ("lawyer_member", "附件1 律师党员基本信息登记表")
    values = cells(tmp_path / "附件1.xlsx")
    assert values[0] == "附件1 律师党员基本信息登记表"
    ids = {p["公民身份号码"] for p in filled}
    assert not ids & set(values)
    assert {mask_id(i) for i in ids} <= set(values)
    kind, title, text = boxes[-1]
    assert title == "导出完成" and str(tmp_path / "附件1.xlsx") in text and "部分遮蔽" in text
    action, detail = audit(register)[-1]
    assert action == "export_excel" and detail["full"] is False and detail["records"] == 2
    assert detail["target"] == "lawyer_member"


def test_full_numbers_only_when_checked_and_then_logged(qtbot, window, register, filled,
                                                        save_as, boxes, tmp_path):
    window.action(Action.EXCEL_EXPORT).trigger()
    dialog = shown_dialog(qtbot, window, "excelExportDialog")
    assert not dialog.full.isChecked()  # unchecked by default
    dialog.reject()
    export(qtbot, window, save_as, tmp_path / "完整.xlsx", full=True)
    values = cells(tmp_path / "完整.xlsx")
    assert {p["公民身份号码"] for p in filled} <= set(values)
    action, detail = audit(register)[-1]
    assert action == "export_excel" and detail["full"] is True
    assert "完整号码" in boxes[-1][2] and "记入操作日志" in boxes[-1][2]


def test_the_summaries_are_offered_and_exported(qtbot, window, register, filled, save_as,
                                                boxes, tmp_path):
    window.action(Action.EXCEL_EXPORT).trigger()
    dialog = shown_dialog(qtbot, window, "excelExportDialog")
    offered = [tid for tid, _ in dialog.targets]
    assert offered == ["lawyer_member", "lawyer_summary", "staff_summary", "org_summary"]
    dialog.reject()
    export(qtbot, window, save_as, tmp_path / "附件4", target="lawyer_summary")
    out = tmp_path / "附件4.xlsx"  # .xlsx is added when the name has none
    assert out.exists()
    values = cells(out, "附件4")
    assert values[0] == "附件4 律师党员基本信息汇总表"
    assert any(isinstance(v, str) and v.startswith("合计") for v in values)
    assert audit(register)[-1][1]["target"] == "lawyer_summary"
    export(qtbot, window, save_as, tmp_path / "附件6.xlsx", target="org_summary")
    assert cells(tmp_path / "附件6.xlsx")[0].startswith("附件6")


def test_the_export_follows_the_current_tab(qtbot, window, register, filled, save_as, boxes,
                                            tmp_path):
    window.tabs.setCurrentIndex(window.form_tabs.index(window.tab("party_org")))
    dialog = export(qtbot, window, save_as, tmp_path / "附件3.xlsx")
    assert dialog.targets[0][0] == "party_org"
    assert cells(tmp_path / "附件3.xlsx")[0] == "附件3 党组织基本信息登记表"


def test_a_file_that_cannot_be_written_is_said(qtbot, window, filled, save_as, boxes,
                                               tmp_path):
    window.action(Action.EXCEL_EXPORT).trigger()
    dialog = shown_dialog(qtbot, window, "excelExportDialog")
    save_as["path"] = tmp_path / "没有的文件夹" / "附件1.xlsx"
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: bool(boxes), timeout=10000)
    kind, title, text = boxes[-1]
    assert (kind, title) == ("warning", "导出未完成") and "文件夹不存在" in text
    assert dialog.isVisible() and dialog.buttons.isEnabled()  # the clerk can choose again


def test_the_society_register_offers_no_summaries(qtbot, make_window, make_register):
    window = make_window(make_register("society-city"))
    window.action(Action.EXCEL_EXPORT).trigger()
    dialog = shown_dialog(qtbot, window, "excelExportDialog")
    assert [t for t, _ in dialog.targets] == ["society_member"]


@pytest.mark.parametrize("form_id", ["lawyer_member", "party_org"])
def test_the_template_of_the_current_form(qtbot, window, save_as, boxes, tmp_path, form_id):
    window.tabs.setCurrentIndex(window.form_tabs.index(window.tab(form_id)))
    form = window.tab(form_id).form
    save_as["path"] = tmp_path / "模板.xlsx"
    window.action(Action.EXCEL_TEMPLATE).trigger()
    qtbot.waitUntil(lambda: bool(boxes), timeout=10000)
    kind, title, text = boxes[-1]
    assert title == "模板已保存" and str(tmp_path / "模板.xlsx") in text
    wb = load_workbook(tmp_path / "模板.xlsx")
    ws = wb.worksheets[0]
    assert ws.title == form.attachment
    header = [c.value for c in ws[1] if c.value]
    assert header[0] == form.fields[0].label
    labels = [f.label for f in form.fields if f.type != "group"]
    assert [h for h in header if h in labels] == labels


def test_cancelling_the_template_dialog_writes_nothing(qtbot, window, monkeypatch, boxes,
                                                      tmp_path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    window.action(Action.EXCEL_TEMPLATE).trigger()
    window.workers.wait(2000)
    assert boxes == [] and not list(tmp_path.glob("*.xlsx"))


def test_the_excel_menu(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "Excel")
    assert [a.text() for a in menu.actions()] == ["导入Excel…", "导出Excel…", "下载模板…"]
