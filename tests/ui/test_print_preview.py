"""打印预览… in the real window: the pages are the service's PDF, navigation, zoom, the
full-number option (logged), 另存为PDF (the service's bytes, logged)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox
from sqlalchemy import select

from desktop.formspec import shipped_forms
from desktop.services.printing import preview_pdf
from desktop.storage import AuditEntry
from desktop.ui.actions import Action
from desktop.ui.printing.actions import summary_action
from desktop.ui.printing.preview import PreviewDialog
from desktop.ui.printing.render import PDFIUM_LOCK, PdfPages
from tests.ui.conftest import firm_set, store


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    shown: list[tuple[str, str, str]] = []
    for kind in ("information", "warning"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda _w, title, text, *a, k=kind: shown.append((k, title, text))))
    return shown


@pytest.fixture
def filled(register):
    """The register with three 附件1 records and the 附件3 record."""
    return fill(register)


def fill(register):
    """Store three 附件1 records marked complete (a whole form prints complete records only:
    issue 16) and the 附件3 record; returns (register, ids, members)."""
    _firm, members, org = firm_set(3)
    store(register, "party_org", org)
    ids = [store(register, "lawyer_member", m, submit=True) for m in members]
    return register, ids, members


def audit(register) -> list[tuple[str, str, dict]]:
    with register.session() as s:
        return [(e.action, e.target, json.loads(e.detail)) for e in s.execute(
            select(AuditEntry).order_by(AuditEntry.seq)).scalars()]


def pdf_pages(pdf: bytes) -> int:
    with PDFIUM_LOCK:  # PDFium is not thread-safe: a preview may be rendering meanwhile
        doc = pdfium.PdfDocument(pdf)
        try:
            return len(doc)
        finally:
            doc.close()


def page_text(pages: PdfPages, index: int) -> str:
    with PDFIUM_LOCK:
        page = pages._doc[index]
        textpage = page.get_textpage()
        try:
            return textpage.get_text_range()
        finally:
            textpage.close()
            page.close()


def select_row(window, qtbot, row: int = 0) -> str:
    tab = window.current_tab()
    qtbot.waitUntil(lambda: tab.model.rowCount() > row, timeout=5000)
    tab.view.setCurrentIndex(tab.model.index(row, 0))
    qtbot.waitUntil(lambda: tab.session.record_id is not None, timeout=5000)
    return tab.session.record_id


def previews(window) -> list[PreviewDialog]:
    """The open preview dialogs (named printPreview)."""
    return [d for d in window.findChildren(PreviewDialog, "printPreview") if d.isVisible()]


def open_and_wait(window, qtbot, action) -> object:
    before = previews(window)
    action.trigger()
    qtbot.waitUntil(lambda: any(d not in before for d in previews(window)), timeout=30000)
    dialog = next(d for d in previews(window) if d not in before)
    qtbot.waitUntil(lambda: not dialog.renderer.pending() and
                    dialog.renderer.image(dialog.view.current) is not None, timeout=20000)
    return dialog


def test_the_menu_has_preview_and_print_with_distinct_keys(filled, make_window) -> None:
    window = make_window(filled[0])
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "打印")
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts[:3] == ["打印预览…", "打印…", "预览本表全部记录…"]
    assert "预览附件4 律师党员基本信息汇总表…" in texts and "预览清理结果通报…" not in texts
    keys = [a.shortcut().toString() for a in (window.action(Action.PRINT_PREVIEW),
                                              window.action(Action.PRINT))]
    assert keys == ["Ctrl+Shift+P", "Ctrl+P"]
    every = [s.toString() for a in window.findChildren(QAction)
             for s in a.shortcuts() if not s.isEmpty()]
    assert every.count("Ctrl+Shift+P") == 1 and every.count("Ctrl+P") == 1


def test_preview_of_the_current_record_shows_the_service_pages(filled, make_window, qtbot,
                                                                monkeypatch, tmp_path) -> None:
    register, _ids, members = filled
    window = make_window(register)
    record_id = select_row(window, qtbot)
    dialog = open_and_wait(window, qtbot, window.action(Action.PRINT_PREVIEW))
    expected = preview_pdf(register, shipped_forms(), "lawyer_member", [record_id])
    assert dialog.result.pdf == expected.pdf
    assert len(dialog.pages) == expected.pages == pdf_pages(expected.pdf)
    assert dialog.page_text() == f"第 1 页 共 {expected.pages} 页"
    assert not dialog.full_box.isChecked() and dialog.full_box.isVisible()
    image = dialog.renderer.image(0)[1]
    assert image.height() > image.width()  # a portrait A4 page
    assert not [a for a in audit(register) if a[0].startswith("print")]  # masked preview

    out = tmp_path / "预览另存.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **kw: (str(out), "")))
    assert dialog.save_pdf() == out
    assert out.read_bytes() == expected.pdf
    action, target, detail = audit(register)[-1]
    assert (action, target) == ("print", record_id)
    assert detail["output"] == "file" and detail["masked"] and detail["to"] == str(out)
    dialog.close()


def test_preview_of_a_whole_form_navigates_and_zooms(filled, make_window, qtbot) -> None:
    register, ids, _members = filled
    window = make_window(register)
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))
    expected = preview_pdf(register, shipped_forms(), "lawyer_member")
    assert dialog.result.pdf == expected.pdf and len(dialog.pages) == expected.pages >= 3
    assert dialog.total_label.text() == f"页　共 {expected.pages} 页"

    qtbot.mouseClick(dialog.next_button, Qt.MouseButton.LeftButton)
    assert dialog.view.current == 1 and dialog.page_box.value() == 2
    dialog.page_box.setValue(expected.pages)
    assert dialog.view.current == expected.pages - 1
    assert dialog.page_text() == f"第 {expected.pages} 页 共 {expected.pages} 页"
    assert not dialog.next_button.isEnabled() and dialog.prev_button.isEnabled()
    qtbot.keyClick(dialog.view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    assert dialog.view.current == 0 and dialog.page_box.value() == 1
    qtbot.keyClick(dialog.view, Qt.Key.Key_PageDown)
    assert dialog.view.current == 1 and dialog.thumbs.marked == 1
    third = dialog.thumbs.page_rect(2).center().toPoint()
    qtbot.mouseClick(dialog.thumbs.viewport(), Qt.MouseButton.LeftButton, pos=third)
    assert dialog.view.current == 2 and dialog.page_box.value() == 3
    dialog.view.go_to(1)

    dialog.zoom_box.setCurrentIndex(dialog.zoom_box.findText("100%"))
    dialog.zoom_box.activated.emit(dialog.zoom_box.currentIndex())
    assert dialog.view.zoom == pytest.approx(1.0)
    width = dialog.view.page_rect(1).width()
    dialog.zoom_by(1.25)
    assert dialog.view.zoom == pytest.approx(1.25) and dialog.zoom_box.currentText() == "125%"
    assert dialog.view.page_rect(1).width() == pytest.approx(width * 1.25)
    assert dialog.view.current == 1  # zooming keeps the page
    qtbot.waitUntil(lambda: abs(dialog.renderer.image(1)[0] - dialog.view.render_dpi()) < 0.01,
                    timeout=10000)  # re-rendered at the new size
    dialog.zoom_box.setCurrentIndex(dialog.zoom_box.findData("page"))
    dialog.zoom_box.activated.emit(dialog.zoom_box.currentIndex())
    assert dialog.view.page_rect(1).height() <= dialog.view.viewport().height()
    dialog.close()


def test_full_numbers_are_shown_only_when_chosen_and_logged(filled, make_window, qtbot,
                                                            monkeypatch, tmp_path) -> None:
    register, _ids, members = filled
    window = make_window(register)
    record_id = select_row(window, qtbot)
    dialog = open_and_wait(window, qtbot, window.action(Action.PRINT_PREVIEW))
    masked = dialog.result.pdf
    dialog.full_box.setChecked(True)
    qtbot.waitUntil(lambda: dialog.full and dialog.full_box.isEnabled(), timeout=20000)
    assert dialog.result.pdf != masked
    full = preview_pdf(register, shipped_forms(), "lawyer_member", [record_id], full=True)
    assert dialog.result.pdf == full.pdf
    logged = [a for a in audit(register) if a[0] == "print_full"]
    assert logged and logged[0][1] == record_id and logged[0][2]["preview"] is True
    assert "全号显示" in dialog.state_label.text()

    out = tmp_path / "全号.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **kw: (str(out), "")))
    dialog.save_pdf()
    action, _target, detail = audit(register)[-1]
    assert action == "print_full" and detail["masked"] is False and detail["output"] == "file"
    dialog.full_box.setChecked(False)
    qtbot.waitUntil(lambda: not dialog.full and dialog.full_box.isEnabled(), timeout=20000)
    assert dialog.result.pdf == masked
    dialog.close()


def test_preview_without_a_chosen_record_says_what_to_do(filled, make_window, boxes) -> None:
    window = make_window(filled[0])
    window.current_tab().new_record()
    window.action(Action.PRINT_PREVIEW).trigger()
    assert boxes and boxes[0][1] == "请先选择记录" and window.findChild(PreviewDialog, "printPreview") is None


def test_summary_preview_is_landscape(filled, make_window, qtbot) -> None:
    register = filled[0]
    window = make_window(register)
    dialog = open_and_wait(window, qtbot, window.action(summary_action("lawyer_summary")))
    expected = preview_pdf(register, shipped_forms(), "lawyer_summary")
    assert dialog.result.pdf == expected.pdf and dialog.pages.landscape(0)
    assert "附件4" in dialog.windowTitle()
    dialog.close()


def test_save_into_a_missing_folder_is_refused_plainly(filled, make_window, qtbot, monkeypatch,
                                                       boxes, tmp_path: Path) -> None:
    register = filled[0]
    window = make_window(register)
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda *a, **kw: (str(tmp_path / "没有这个文件夹" / "x.pdf"), "")))
    assert dialog.save_pdf() is None
    assert boxes[-1][:2] == ("warning", "未能保存") and "无法写入" in boxes[-1][2]
    assert not [a for a in audit(register) if a[0] == "print"]
    dialog.close()


def test_the_print_date_is_today(filled, make_window, qtbot) -> None:
    """The preview is made now (its print note carries today's date, like dengji print)."""
    window = make_window(filled[0])
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))
    assert date.today().isoformat() in page_text(dialog.pages, 0)
    dialog.close()


def test_preview_of_an_empty_form_says_there_is_nothing(window, qtbot, boxes) -> None:
    window.action(Action.PREVIEW_FORM).trigger()
    qtbot.waitUntil(lambda: bool(boxes), timeout=20000)
    assert boxes[0][:2] == ("warning", "无法打印") and "还没有" in boxes[0][2]
    assert window.findChild(PreviewDialog, "printPreview") is None and window.progress.isHidden()


def test_zoomed_out_navigation_keeps_the_page_asked_for(filled, make_window, qtbot) -> None:
    window = make_window(filled[0])
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))
    dialog.zoom_box.setCurrentIndex(dialog.zoom_box.findText("50%"))
    dialog.zoom_box.activated.emit(dialog.zoom_box.currentIndex())
    assert len(dialog.view.visible_pages()) >= 2  # several pages on screen
    dialog.page_box.setValue(2)
    assert dialog.view.current == 1 and dialog.page_text().startswith("第 2 页")
    dialog.close()


def test_the_preview_closes_with_the_window(filled, make_window, qtbot) -> None:
    window = make_window(filled[0])
    dialog = open_and_wait(window, qtbot, window.action(Action.PREVIEW_FORM))
    window.close()
    assert not dialog.isVisible() and not dialog.renderer._thread.is_alive()
