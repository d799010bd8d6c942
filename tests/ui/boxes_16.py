"""Answering a message box that a window opens with exec() (issue 16's confirmations): find the
visible QMessageBox by its object name, note its text, and click the button labelled so."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def click_in_box(name: str, label: str, seen: list[str] | None = None, tries: int = 500) -> None:
    """When the box named `name` opens (within `tries` × 20 ms), note its text in `seen` and
    click `label`."""
    def act(left: int) -> None:
        box = next((w for w in QApplication.topLevelWidgets()
                    if isinstance(w, QMessageBox) and w.objectName() == name
                    and w.isVisible()), None)
        if box is None:
            if left:
                QTimer.singleShot(20, lambda: act(left - 1))
            return
        if seen is not None:
            seen.append(box.text())
        next(b for b in box.buttons() if b.text() == label).click()
    QTimer.singleShot(0, lambda: act(tries))
