"""The idle lock: after a configurable time without input, the window hides its records and
asks for the passphrase again (QSettings key lock/idle_minutes; 0 turns it off). The same lock
is taken at once by Ctrl+L; `unlock(idle)` is told which, so the dialog says 长时间未操作 only
when that is why."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

_INPUT = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel,
          QEvent.Type.InputMethod}


class IdleLock(QObject):
    def __init__(self, window: QWidget, minutes: float, on_idle: Callable[[], None],
                 unlock: Callable[[bool], bool]) -> None:
        super().__init__(window)
        self.window, self.on_idle, self.unlock = window, on_idle, unlock
        self.locked = False
        self._by_timer = False  # the lock being taken is the idle timer's (not Ctrl+L)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._timed_out)
        self.set_minutes(minutes)
        QApplication.instance().installEventFilter(self)

    def set_minutes(self, minutes: float) -> None:
        self.minutes = minutes
        if minutes > 0:
            self.timer.setInterval(int(minutes * 60_000))
            self.timer.start()
        else:
            self.timer.stop()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in _INPUT and not self.locked and self.minutes > 0:
            self.timer.start()
        return False

    def _timed_out(self) -> None:
        self._by_timer = True
        try:
            self.on_idle()
        finally:
            self._by_timer = False

    def lock_now(self) -> None:
        """Hide the window and ask for the passphrase; close the window if the user gives up."""
        if self.locked:
            return
        self.locked = True
        self.timer.stop()
        self.window.hide()
        try:
            ok = self.unlock(self._by_timer)
        finally:
            self.locked = False
        if ok:
            self.window.show()
            self.set_minutes(self.minutes)
        else:
            self.window.close()

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
