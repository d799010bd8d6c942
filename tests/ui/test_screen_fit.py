"""Everything fits a 1366×768 laptop screen with its task bar (about 1366×728 free): the main
window opens maximised there on first run, and every dialog opens inside the free area with its
buttons in view (the content scrolls, the buttons stay). Each dialog is opened the way the clerk
opens it (its menu entry), and dialogs opened modally are measured while they are up."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QFileDialog,
    QMessageBox,
    QWidget,
)

from desktop.domain.findings import Finding
from desktop.formspec import shipped_forms
from desktop.ui import dialogs, mainwindow
from desktop.ui.actions import Action
from desktop.ui.dialogs import FRAME, FirstRunDialog, PassphraseDialog
from desktop.ui.records.warnings import WarningsDialog
from tests.ui.cleanup_data import society_register
from tests.ui.conftest import SECRET
from tests.ui.test_excel_import import members_book
from tests.ui.test_print_preview import fill, select_row

#: a 1366×768 screen less a 40-pixel task bar
LAPTOP = QRect(0, 0, 1366, 728)


@pytest.fixture(autouse=True)
def laptop(monkeypatch) -> QRect:
    monkeypatch.setattr(dialogs, "available_geometry", lambda _w: QRect(LAPTOP))
    monkeypatch.setattr(mainwindow, "available_geometry", lambda _w: QRect(LAPTOP))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    return LAPTOP


def problems(dialog: QWidget) -> list[str]:
    """What does not fit: the window (with room for its frame) off the free area, or a visible
    button outside the window."""
    found = []
    outer = QRect(dialog.frameGeometry().topLeft(), dialog.size() + FRAME)
    if not LAPTOP.contains(outer):
        found.append(f"{dialog.objectName() or type(dialog).__name__} {dialog.geometry()} "
                     f"+ frame does not fit {LAPTOP}")
    inside = dialog.rect()
    for button in dialog.findChildren(QAbstractButton):
        if not button.isVisibleTo(dialog) or not button.text():
            continue
        if button.window() is not dialog:
            continue
        where = QRect(button.mapTo(dialog, button.rect().topLeft()), button.size())
        if not inside.contains(where):
            found.append(f"{dialog.objectName() or type(dialog).__name__}: button "
                         f"{button.text()} at {where} outside {inside}")
    return found


class Measure:
    """Measures each dialog that comes up; modal ones are measured, then closed."""

    def __init__(self, window) -> None:
        self.window = window
        self.seen: dict[str, list[str]] = {}
        self.timer = QTimer()
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.modal)
        self.timer.start()

    def record(self, dialog: QWidget) -> None:
        name = dialog.objectName() or type(dialog).__name__
        self.seen.setdefault(name, []).extend(problems(dialog))

    def modal(self) -> None:
        widget = QApplication.activeModalWidget()
        if isinstance(widget, QDialog) and widget.isVisible():
            if not isinstance(widget, QMessageBox | QFileDialog):
                self.record(widget)
            widget.reject()

    def open(self, action: Action, qtbot, wait_for: str = "") -> None:
        before = {id(d) for d in self.window.findChildren(QDialog) if d.isVisible()}
        self.window.action(action).trigger()
        if wait_for:  # made when its work has been done
            qtbot.waitUntil(lambda: wait_for in self.seen or any(
                d.isVisible() for d in self.window.findChildren(QDialog, wait_for)),
                timeout=30000)
        qtbot.wait(150)
        for dialog in self.window.findChildren(QDialog):
            if dialog.isVisible() and id(dialog) not in before:
                self.record(dialog)
                dialog.close()

    def stop(self) -> dict[str, list[str]]:
        self.timer.stop()
        return self.seen


def test_the_main_window_opens_maximised_on_a_laptop_on_first_run(window, make_window,
                                                                   register):
    assert window.isMaximized()
    # once the clerk has placed it, the saved place is used
    window.showNormal()
    window.setGeometry(40, 40, 1000, 600)
    window.save_settings()
    again = make_window(register)
    assert not again.isMaximized()
    assert again.size().width() == 1000


def test_the_main_window_is_not_maximised_on_a_large_screen(make_window, register,
                                                            monkeypatch):
    big = QRect(0, 0, 1920, 1040)
    monkeypatch.setattr(mainwindow, "available_geometry", lambda _w: QRect(big))
    monkeypatch.setattr(dialogs, "available_geometry", lambda _w: QRect(big))
    window = make_window(register)
    assert not window.isMaximized()
    assert (window.width(), window.height()) == (1280, 800)


def test_the_dialogs_of_a_firm_fit(make_window, register, qtbot, tmp_path, monkeypatch):
    fill(register)
    window = make_window(register)
    measure = Measure(window)
    # the Excel import with a workbook of many columns and members
    book, _people = members_book(tmp_path / "名册.xlsx", members=40)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(book), "")))
    assert window.action(Action.EXCEL_IMPORT).isEnabled()
    window.action(Action.EXCEL_IMPORT).trigger()
    # (it opens window-modal once the workbook is read: measured and closed as it comes up)
    qtbot.waitUntil(lambda: "excelImportDialog" in measure.seen, timeout=30000)
    for action in (Action.EXCEL_EXPORT, Action.EXPORT_PACKAGE, Action.OWN_KEY,
                   Action.UNIT_INFO):
        measure.open(action, qtbot)
    select_row(window, qtbot)
    measure.open(Action.PRINT_PREVIEW, qtbot, "printPreview")
    seen = measure.stop()
    assert {"excelExportDialog", "printPreview", "excelImportDialog", "unitInfoDialog"} <= set(seen), \
        set(seen)
    assert [p for found in seen.values() for p in found] == []


def test_the_dialogs_of_a_city_fit(make_register, make_window, qtbot):
    window = make_window(make_register("city"))
    measure = Measure(window)
    for action in (Action.DASHBOARD, Action.CONFLICTS, Action.EXPORT_PACKAGE, Action.OWN_KEY):
        measure.open(action, qtbot)
    seen = measure.stop()
    assert len(seen) >= 2, set(seen)
    assert [p for found in seen.values() for p in found] == []


def test_the_dialogs_of_a_law_society_fit(make_window, tmp_path, qtbot):
    reg = society_register(tmp_path, SECRET)
    try:
        window = make_window(reg)
        measure = Measure(window)
        for action in (Action.CLEANUP_PROPOSALS, Action.CLEANUP_WITHDRAW,
                       Action.CLEANUP_READMIT, Action.CLEANUP_NUMBER, Action.CLEANUP_STATS,
                       Action.CLEANUP_NOTICE):
            measure.open(action, qtbot)
        seen = measure.stop()
        assert len(seen) >= 5, set(seen)
        assert [p for found in seen.values() for p in found] == []
    finally:
        reg.close()


def test_the_start_and_warning_dialogs_fit(qtbot, tmp_path: Path):
    form = shipped_forms().forms["lawyer_member"]
    fields = [f.id for f in form.fields][:40]
    warnings = [Finding(field=f, code="W_TEST", severity="W",
                        message="请核实这一栏的填写是否与原始材料一致，如确认无误请写明理由。")
                for f in fields]
    made = [FirstRunDialog(tmp_path / "新.dengji"),
            PassphraseDialog(tmp_path / "新.dengji", lambda _s: None),
            WarningsDialog(form, warnings, {})]
    found = []
    for dialog in made:
        qtbot.addWidget(dialog)
        dialog.show()
        found += problems(dialog)
    assert found == []
