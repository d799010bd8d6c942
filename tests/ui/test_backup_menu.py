"""备份…, 恢复… and 关于 in the window (file dialogs patched, message boxes recorded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from sqlalchemy import text

from desktop.storage import SCHEMA_VERSION, append_audit, open_register, verify_audit_chain
from desktop.storage.backup import backup_register
from desktop.storage.files import list_backups
from desktop.ui.actions import Action
from desktop.ui.register import actions as backup_actions
from tests.ui.conftest import FAST_KDF, SECRET


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    shown: list[tuple[str, str, str]] = []
    for kind in ("information", "warning", "about"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda _w, title, text, *a, k=kind: shown.append((k, title, text))))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **kw: QMessageBox.StandardButton.Yes))
    return shown


def _save_as(monkeypatch, path: Path | str) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **kw: (str(path), "")))


def _open(monkeypatch, path: Path | str) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **kw: (str(path), "")))


def test_menu_has_the_entries(window) -> None:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "登记库")
    texts = [a.text() for a in menu.actions()]
    assert {"备份…", "恢复…", "关于"} <= set(texts)


def test_backup_from_the_window(window, qtbot, monkeypatch, boxes, tmp_path: Path) -> None:
    target = tmp_path / "窗口备份.dengji"
    _save_as(monkeypatch, target)
    window.action(Action.BACKUP).trigger()
    qtbot.waitUntil(lambda: bool(boxes), timeout=20000)
    kind, title, text = boxes[0]
    assert (kind, title) == ("information", "备份完成") and str(target) in text
    with open_register(target, SECRET, kdf=FAST_KDF) as copy, copy.session() as s:
        assert verify_audit_chain(s).ok


def test_backup_cancelled_does_nothing(window, monkeypatch, boxes, tmp_path: Path) -> None:
    _save_as(monkeypatch, "")
    window.action(Action.BACKUP).trigger()
    window.workers.wait(5000)
    assert boxes == [] and list(tmp_path.glob("*备份*")) == []


def test_backup_onto_itself_is_refused(window, qtbot, monkeypatch, boxes) -> None:
    _save_as(monkeypatch, window.register.path)
    window.action(Action.BACKUP).trigger()
    qtbot.waitUntil(lambda: bool(boxes), timeout=20000)
    assert boxes[0][0:2] == ("warning", "备份未完成") and "登记库本身" in boxes[0][2]


def test_restore_a_wrong_file_is_refused(window, monkeypatch, boxes, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.dengji"
    wrong.write_text("不是登记库", encoding="utf-8")
    _open(monkeypatch, wrong)
    assert not backup_actions.start_restore(window.ctx)
    assert boxes[0][0:2] == ("warning", "不能恢复") and "不是登记库文件" in boxes[0][2]
    assert window.isVisible() and list_backups(window.register.path) == []


def test_restore_from_the_window(window, qtbot, monkeypatch, boxes, tmp_path: Path) -> None:
    register = window.register
    saved = backup_register(register, tmp_path / "saved.dengji").path
    with register.session() as s:
        append_audit(s, "测试员", "note", "备份之后", {})
        s.commit()
    _open(monkeypatch, saved)
    assert backup_actions.start_restore(window.ctx)
    assert boxes[-1][0:2] == ("information", "恢复完成")
    assert not window.isVisible()
    assert len(list_backups(register.path)) == 1
    with register.session() as s:
        check = verify_audit_chain(s)
        assert check.ok
        actions = [a for (a,) in s.execute(text("SELECT action FROM audit_entry ORDER BY seq"))]
    assert actions[-1] == "restore" and "note" not in actions


def test_about_shows_versions_and_place(window, monkeypatch, boxes) -> None:
    window.action(Action.ABOUT).trigger()
    kind, title, text = boxes[0]
    assert kind == "about"
    assert f"登记库结构版本：{SCHEMA_VERSION}" in text
    assert str(window.register.path) in text
    assert backup_actions.app_version() in text
    for form in window.forms.forms.values():
        assert form.version in text


def test_a_second_window_is_told_the_register_is_in_use(register, qtbot) -> None:
    """Another process (a first window) holds the register: the passphrase dialog says so."""
    import subprocess
    import sys

    from desktop.ui.dialogs import PassphraseDialog
    from tests.ui.conftest import commit_text

    path = register.path
    register.close()
    hold = ("import sys; from desktop.storage import KdfParams, open_register; "
            "r = open_register(sys.argv[1], sys.argv[2], kdf=KdfParams(n=2**10, r=8, p=1)); "
            "print('open', flush=True); sys.stdin.readline()")
    proc = subprocess.Popen([sys.executable, "-c", hold, str(path), SECRET], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stdout.readline().strip() == "open"
        dialog = PassphraseDialog(path, lambda s: open_register(path, s, kdf=FAST_KDF))
        qtbot.addWidget(dialog)
        commit_text(dialog.secret, SECRET)
        dialog.try_open()
        assert "另一个窗口" in dialog.error.text() and "没有损坏" in dialog.error.text()
        assert dialog.result_value is None
    finally:
        proc.communicate("\n", timeout=30)
