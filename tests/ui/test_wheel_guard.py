"""The mouse wheel scrolls; it never changes a value. Over every kind of editor the form
generator makes (drop-downs, 是/否, dates, numbers, the three region drop-downs, the cells of a
repeating group, the society's 会员状态) a wheel turn leaves the value as it was, saves no
draft and scrolls the form instead; the same holds for the drop-downs, dates and numbers of the
dialogs."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDateEdit,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QWidget,
)

from desktop.ui.dialogs import guard_all_wheels, guard_wheel
from desktop.ui.records.fields import CodeField, RegionField
from desktop.ui.records.group import GroupField


def wheel(widget: QWidget, notches: int = -1) -> None:
    """One wheel turn (down for negative notches) at the widget's centre, as the mouse gives it."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def targets(widget: QWidget) -> list[QWidget]:
    """Where the wheel may land on an editor: the editor and its own line edit."""
    line = widget.lineEdit() if isinstance(widget, QComboBox | QAbstractSpinBox) else None
    return [widget] + ([line] if line is not None else [])


def fill(editor) -> None:
    """Put a value into every drop-down (the second entry) so a wheel turn could change it."""
    for field in editor._paths.values():
        if isinstance(field, CodeField):
            field.box.setCurrentIndex(min(2, field.box.count() - 1))
        elif isinstance(field, RegionField):
            field.boxes[0].setCurrentIndex(1)
            field.boxes[1].setCurrentIndex(1)


@pytest.mark.parametrize("level", ["firm", "society-city"])
def test_the_wheel_over_any_editor_scrolls_the_form_and_changes_nothing(
        make_register, make_window, qtbot, level):
    window = make_window(make_register(level))
    kinds: set[str] = set()
    for tab in window.form_tabs:
        window.show_tab(tab.form.id)
        editor = tab.editor
        for field in editor.editors.values():
            if isinstance(field, GroupField):
                field.add_button.click()  # a second row: editors made after the form was built
        fill(editor)
        editor.save_draft()
        saved = dict(editor.session.values)
        scroll: QScrollArea = editor.scroll
        bar = scroll.verticalScrollBar()
        assert bar.maximum() > 0, f"{tab.form.id}: the form is taller than its pane"
        for path, field in list(editor._paths.items()):
            if isinstance(field, GroupField):
                continue
            kinds.add(type(field).__name__ + ("/group" if "[" in path else ""))
            kinds.add(field.spec.type)
            for widget in field.inputs():
                for target in targets(widget):
                    before = field.raw()
                    scroll.ensureWidgetVisible(widget)
                    start = bar.value()
                    notches = -1 if start < bar.maximum() else 1
                    wheel(target, notches)
                    assert field.raw() == before, f"{tab.form.id}: {path} changed by the wheel"
                    assert bar.value() != start, f"{tab.form.id}: {path} did not scroll the form"
                    assert target.focusPolicy() != Qt.FocusPolicy.WheelFocus
                    assert not widget.hasFocus() or widget is QApplication.focusWidget()
        assert editor.session.values == saved, tab.form.id
        assert not editor.save_draft(), f"{tab.form.id}: the wheel left something to save"
    # every kind of generated editor met the wheel
    assert {"CodeField", "LineField", "code", "date", "bool"} <= kinds
    if level == "firm":
        assert {"RegionField", "CodeField/group", "LineField/group"} <= kinds
    else:
        status = window.tab("society_member").editor.editors["status"]
        assert isinstance(status, CodeField) and status.label == "会员状态"


def test_a_focused_drop_down_does_not_change_by_wheel_either(window, qtbot):
    """Picking a value leaves the focus in the drop-down; turning the wheel next, to read on,
    scrolls the form and leaves the pick as it is."""
    editor = window.tab("lawyer_member").editor
    box = editor.editors["sex"].box
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    box.setCurrentIndex(1)
    before = box.currentText()
    for notches in (-1, 1, 2, -2):  # checked after each turn: a pair of turns cancels out
        wheel(box, notches)
        assert box.currentText() == before


def test_dialog_editors_ignore_the_wheel(qtbot):
    """The dialogs' drop-downs, dates and numbers (cleanup dates, years, the Excel mapping in a
    table) are guarded the same way; a table around them scrolls instead."""
    from desktop.ui.cleanup.common import date_edit

    host = QWidget()
    qtbot.addWidget(host)
    combo, spin, day = QComboBox(host), QSpinBox(host), date_edit(date(2024, 5, 6))
    day.setParent(host)
    combo.addItems(["甲", "乙", "丙"])
    combo.setCurrentIndex(1)
    spin.setValue(5)
    guard_all_wheels(host)
    host.show()
    for widget in (combo, spin, day):
        for target in targets(widget):
            wheel(target)
            wheel(target, 1)
            wheel(target, 1)
    assert (combo.currentIndex(), spin.value(), day.date().toPython()) == (1, 5, date(2024, 5, 6))

    table = QTableWidget(60, 1)
    qtbot.addWidget(table)
    table.resize(300, 200)
    boxes = []
    for row in range(60):
        box = QComboBox()
        box.addItems(["自动", "不导入", "姓名"])
        table.setCellWidget(row, 0, box)
        guard_wheel(box)
        boxes.append(box)
    table.show()
    start = table.verticalScrollBar().value()
    wheel(boxes[1])
    assert table.verticalScrollBar().value() > start
    assert all(b.currentIndex() == 0 for b in boxes)


def test_cleanup_date_editors_are_guarded_where_they_are_made():
    from desktop.ui.cleanup.common import date_edit

    edit: QDateEdit = date_edit(date(2024, 1, 1))
    assert edit.focusPolicy() == Qt.FocusPolicy.StrongFocus
    wheel(edit)
    assert edit.date().toPython() == date(2024, 1, 1)


def test_the_list_filters_do_not_change_under_a_passing_wheel(window, qtbot):
    """The list's 全部/有错误/有提醒/草稿 filter sits right above the list: a wheel turned to
    scroll the list must not switch what the list shows."""
    tab = window.tab("lawyer_member")
    box = tab.filter
    assert box.count() > 1
    before = box.currentIndex()
    wheel(box)
    assert box.currentIndex() == before
    wheel(box, -2)
    assert box.currentIndex() == before
