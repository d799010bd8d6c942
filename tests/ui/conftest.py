"""Fixtures for driving the real window with pytest-qt: a fresh register per test, settings in
tmp_path, and keyboard helpers (Chinese is committed as an input method does)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QInputMethodEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from desktop.formspec import shipped_forms  # noqa: E402
from desktop.services.registers import init_register  # noqa: E402
from desktop.storage import KdfParams, Register  # noqa: E402

FAST_KDF = KdfParams(n=2**10, r=8, p=1)
SECRET = "界面测试口令 Pass-1234"
UNIT_NAME = "北京市测试律师事务所党支部"
UNIT_CODE = "31110000MD0123456X"


@pytest.fixture(autouse=True)
def qsettings(tmp_path: Path, qapp) -> QSettings:
    """Settings go to an ini file in tmp_path, never to the user's real settings."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    qapp.setOrganizationName("DengjiTest")
    qapp.setApplicationName("DengjiTest")
    return QSettings()


@pytest.fixture
def make_register(tmp_path: Path) -> Iterator[Callable[..., Register]]:
    opened: list[Register] = []

    def make(level: str = "firm", name: str = "register.dengji") -> Register:
        reg = init_register(tmp_path / name, SECRET, level=level, unit_name=UNIT_NAME,
                            unit_code=UNIT_CODE, kdf=FAST_KDF)
        opened.append(reg)
        return reg

    yield make
    for reg in opened:
        reg.close()


@pytest.fixture
def register(make_register) -> Register:
    return make_register()


@pytest.fixture
def make_window(qtbot, qsettings) -> Callable:
    from desktop.ui.mainwindow import MainWindow

    def make(reg: Register, **kwargs):
        window = MainWindow(reg, shipped_forms(), actor="测试员", settings=QSettings(), **kwargs)
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        return window

    yield make


@pytest.fixture
def window(make_window, register):
    return make_window(register)


def commit_text(widget: QWidget, text: str) -> None:
    """Type Chinese as an input method does: one committed string."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def type_into(qtbot, widget: QWidget, text: str) -> None:
    """Type `text` key by key; runs of Chinese characters are committed by the input method."""
    run = ""
    for ch in text:
        if ord(ch) < 128:
            if run:
                commit_text(widget, run)
                run = ""
            qtbot.keyClick(widget, ch)
        else:
            run += ch
    if run:
        commit_text(widget, run)


def key(qtbot, widget: QWidget, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press where the keyboard sends it: to an open drop-down list first (QTest sends
    to the widget it is given, Qt sends a real key to the active popup)."""
    qtbot.keyClick(QApplication.activePopupWidget() or widget, k, modifier)


def press_enter(qtbot, widget: QWidget) -> None:
    """Enter, as a user would press it: once more if it only closed a drop-down list."""
    key(qtbot, widget, Qt.Key.Key_Return)
    if focused() is widget:
        key(qtbot, widget, Qt.Key.Key_Return)


# --- records ----------------------------------------------------------------------


def firm_set(members: int = 3, seed: int = 7):
    """A firm, `members` 正式党员 lawyers (label-keyed, valid today) and its 附件3 record."""
    import random
    from datetime import date

    from desktop import sampledata

    rng = random.Random(seed)
    firm = sampledata.firms(rng, 1)[0]
    out = []
    while len(out) < members:
        m = sampledata.lawyer_member(rng, firm, date.today())
        if m["人员类别"] == "正式党员":
            out.append(m)
    return firm, out, sampledata.party_org(firm, out)


def store(reg: Register, form_id: str, by_label: dict, *, submit: bool = False) -> str:
    """Store a label-keyed record through the editing service; returns its id."""
    from desktop.services.editing import EditSession

    forms = shipped_forms()
    form = forms.form(form_id)
    session = EditSession(reg, forms, form, reg.own_unit_id, actor="测试员")
    try:
        for label, raw in by_label.items():
            spec = form.field_by_label(label)
            session.set_raw(spec.id, raw)
        session.save()
        if submit:
            session.submit({(w.field, w.code): "测试确认" for w in session.submit_check().warnings})
        return session.record_id
    finally:
        session.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator:
    """Firm, city and province registers with keys that trust each other (package tests)."""
    from tests.exchange.conftest import World

    w = World(tmp_path, shipped_forms())
    yield w
    for r in w.opened:
        r.close()


@pytest.fixture
def boxes(monkeypatch) -> list[tuple[str, str, str]]:
    """Message boxes are recorded as (kind, title, text) instead of waiting for a click."""
    from PySide6.QtWidgets import QMessageBox

    said: list[tuple[str, str, str]] = []
    for kind in ("information", "warning"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda _parent, title, text, *a, kind=kind, **k: said.append((kind, title, text))))
    return said


def shown_dialog(qtbot, window: QWidget, name: str, cls: type | None = None,
                 timeout: int = 10000):
    """The visible dialog named `name` among the window's children (a closed one may linger
    until it is deleted): waits until it is shown."""
    from PySide6.QtWidgets import QDialog

    def visible():
        return next((d for d in window.findChildren(cls or QDialog, name) if d.isVisible()), None)

    qtbot.waitUntil(lambda: visible() is not None, timeout=timeout)
    return visible()
