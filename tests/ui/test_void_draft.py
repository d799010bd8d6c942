"""Issue 16, "No dead ends", in the real window: a mistaken draft is voided after a
confirmation that names the person (否 changes nothing), and a complete record is taken back to
draft; the list, the editor and the status bar use the one set of state words."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QPushButton
from sqlmodel import select

from desktop.domain.findings import ERROR
from desktop.domain.states import COMPLETE, DRAFT, word
from desktop.storage import AuditEntry, Record
from desktop.ui.actions import Action
from tests.ui.conftest import firm_set, store


def answer_confirmation(qtbot, button: str, seen: list[str]) -> None:
    """When the confirmation opens, note its text and press `button` (voidYes / voidNo)."""

    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        seen.append(f"{box.objectName()}|{box.text()}|{box.informativeText()}")
        box.findChild(QPushButton, button).click()

    QTimer.singleShot(0, press)


def row_of(tab, record_id: str) -> int:
    return next(r for r in range(tab.model.rowCount()) if tab.model.record_id(r) == record_id)


def states(register) -> dict[str, str]:
    with register.session() as s:
        return dict(s.execute(select(Record.id, Record.state)).all())


def test_void_a_duplicate_draft_with_a_confirmation_naming_the_person(make_window, register,
                                                                     qtbot):
    _firm, members, org = firm_set(2)
    store(register, "party_org", org)
    genuine = store(register, "lawyer_member", members[0], submit=True)
    store(register, "lawyer_member", members[1], submit=True)
    copy = store(register, "lawyer_member", members[0])  # typed twice by mistake
    window = make_window(register)
    tab = window.tab("lawyer_member")
    window.show_tab("lawyer_member")
    assert tab.model.total == 3

    tab.view.selectRow(row_of(tab, genuine))
    assert any(f.severity == ERROR for f in tab.session.findings), "the copy puts an E on it"
    tab.view.selectRow(row_of(tab, copy))
    assert tab.session.record_id == copy
    assert tab.editor.void_button.isVisible() and not tab.editor.reopen_button.isVisible()
    assert tab.model.data(tab.model.index(row_of(tab, copy), 0)) == word(DRAFT)

    # the list's context menu offers 作废草稿… for a draft, not 退回草稿
    rect = tab.view.visualRect(tab.model.index(row_of(tab, copy), 1))
    tab.view.customContextMenuRequested.emit(rect.center())
    menu = tab.view.findChild(QMenu, "recordMenu")
    assert {a.text(): a.isEnabled() for a in menu.actions()} == {"作废草稿…": True,
                                                                "退回草稿": False}
    menu.close()

    number, name = members[0]["公民身份号码"], members[0]["姓名"]
    seen: list[str] = []
    answer_confirmation(qtbot, "voidNo", seen)
    window.action(Action.VOID_DRAFT).trigger()
    assert len(seen) == 1 and seen[0].startswith("voidConfirm|")
    assert name in seen[0] and number[-4:] in seen[0] and number not in seen[0]
    assert copy in states(register) and tab.model.total == 3

    answer_confirmation(qtbot, "voidYes", seen)
    tab.editor.void_button.click()
    assert len(seen) == 2
    assert copy not in states(register)
    assert tab.model.total == 2
    assert copy not in {tab.model.record_id(r) for r in range(tab.model.rowCount())}
    assert tab.session.record_id is None
    assert "已作废草稿" in window.statusBar().currentMessage()
    with register.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "record.void")
                          ).scalar_one()
    assert entry.target == copy and entry.actor == "测试员"
    assert json.loads(entry.detail)["record_hash"]

    tab.view.selectRow(row_of(tab, genuine))
    assert not [f for f in tab.session.findings if f.severity == ERROR]
    window.close()


def one_complete(make_window, register):
    """A window on a register with one complete 附件1 record: (window, its tab, record id)."""
    _firm, members, org = firm_set(1)
    store(register, "party_org", org)
    done = store(register, "lawyer_member", members[0], submit=True)
    window = make_window(register)
    window.show_tab("lawyer_member")
    return window, window.tab("lawyer_member"), done


def test_reopen_takes_a_complete_record_back_to_draft(make_window, register, qtbot,
                                                      monkeypatch):
    window, tab, done = one_complete(make_window, register)
    tab.view.selectRow(row_of(tab, done))
    assert tab.model.data(tab.model.index(row_of(tab, done), 0)) == word(COMPLETE)
    assert "已完成（待上报）" in tab.editor.state_label.text()
    assert tab.editor.reopen_button.isVisible() and not tab.editor.void_button.isVisible()

    # voiding a complete record is refused (take it back to draft first)
    said = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda _p, title, text, *a, **k: said.append(text)))
    window.action(Action.VOID_DRAFT).trigger()
    assert said and "只有草稿可以作废" in said[0] and done in states(register)

    tab.editor.reopen_button.click()
    assert states(register)[done] == DRAFT and tab.session.state == DRAFT
    assert tab.model.data(tab.model.index(row_of(tab, done), 0)) == word(DRAFT)
    assert tab.editor.void_button.isVisible() and not tab.editor.reopen_button.isVisible()
    assert "已退回草稿" in window.statusBar().currentMessage()

    window.action(Action.SUBMIT).trigger()  # no warnings left to confirm: marked complete
    assert states(register)[done] == COMPLETE
    assert "已完成（待上报）" in window.statusBar().currentMessage()
    assert "已提交" not in window.statusBar().currentMessage()
    window.close()


def test_the_context_menu_of_a_complete_record_offers_reopen(make_window, register, qtbot):
    window, tab, done = one_complete(make_window, register)
    rect = tab.view.visualRect(tab.model.index(row_of(tab, done), 1))
    tab.view.customContextMenuRequested.emit(rect.center())
    menu = tab.view.findChild(QMenu, "recordMenu")
    assert {a.text(): a.isEnabled() for a in menu.actions()} == {"作废草稿…": False,
                                                                "退回草稿": True}
    next(a for a in menu.actions() if a.text() == "退回草稿").trigger()
    assert states(register)[done] == DRAFT
    menu.close()
    # outside the rows: no menu, nothing changes
    tab.view.customContextMenuRequested.emit(QPoint(5, tab.view.viewport().height() - 2))
    assert states(register)[done] == DRAFT
    window.close()


def test_the_excel_export_says_how_many_drafts_it_left_out(make_window, register, qtbot,
                                                           monkeypatch, boxes, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    from tests.ui.conftest import shown_dialog

    _firm, members, org = firm_set(2)
    store(register, "party_org", org)
    store(register, "lawyer_member", members[0], submit=True)
    store(register, "lawyer_member", members[1])
    out = tmp_path / "附件1.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    window = make_window(register)
    window.action(Action.EXCEL_EXPORT).trigger()
    dialog = shown_dialog(qtbot, window, "excelExportDialog")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20000)
    assert dialog.result.records == 1 and dialog.result.drafts == 1
    kind, title, text = boxes[-1]
    assert title == "导出完成" and "另有 1 条草稿未计入" in text
    window.close()
