"""Steps shared by the tests of the register's secrets in the window: message boxes recorded
and answered, a modal dialog handled once it is up, the clerk at the recovery-key step."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from desktop.ui.register.sheet import RecoveryKeyDialog


class Shown(list):
    """The message boxes shown: (kind, title, text); `answers` answer the questions in turn
    (Yes when none is left)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[QMessageBox.StandardButton] = []


def record_boxes(monkeypatch: pytest.MonkeyPatch) -> Shown:
    """Message boxes are recorded, questions answered (each test module's `boxes` fixture)."""
    shown = Shown()
    for kind in ("information", "warning"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda _w, title, text, *a, k=kind, **kw: shown.append((k, title, text))))

    def question(_w, title, text, *a, **kw):
        shown.append(("question", title, text))
        return shown.answers.pop(0) if shown.answers else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return shown


def on_modal(handle: Callable[[QWidget], bool | None], *, kind: type | None = None) -> list:
    """Run `handle(dialog)` once the next modal dialog (of `kind`) is up; the list gets it."""
    seen: list[QWidget] = []

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None and (kind is None or isinstance(dialog, kind)):
            seen.append(dialog)
            try:
                handle(dialog)
            except BaseException:
                QDialog.done(dialog, 0)  # the test fails (pytest-qt reports it), never hangs
                raise
            return
        QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    return seen


def confirm_key(saved: list) -> Callable[[QWidget], None]:
    """A clerk at the recovery-key step: 完成 unticked is refused, then tick and finish."""
    def handle(dialog: RecoveryKeyDialog) -> None:
        assert not dialog.finish_button.isEnabled()
        dialog.finish()
        assert "请先打印或保存" in dialog.error.text() and dialog.isVisible()
        saved.append(dialog.key)
        dialog.check.setChecked(True)
        dialog.finish_button.click()
    return handle
