"""The Qt binding itself: PySide6 6.12.0 on Python 3.11 lowered None's reference count on every
call of a method returning nothing (QLabel.setText, item setters…), so a long session ended in
"Fatal Python error: none_dealloc". pyproject.toml excludes it; this test catches a binding with
the same fault before a clerk does."""

from __future__ import annotations

import sys

from PySide6.QtGui import QStandardItem
from PySide6.QtWidgets import QLabel, QTableWidgetItem

CALLS = 2000


def test_calls_returning_nothing_leave_none_alone(qapp) -> None:
    label, item, cell = QLabel(), QStandardItem(), QTableWidgetItem()
    before = sys.getrefcount(None)
    for i in range(CALLS):
        label.setText(str(i))
        item.setText(str(i))
        cell.setText(str(i))
    # a few references may come and go; a leak or over-release is one per call
    assert abs(sys.getrefcount(None) - before) < CALLS // 10
