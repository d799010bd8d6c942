"""Starting: the first-run dialog makes a register (then its recovery key is shown to be kept),
the passphrase dialog opens one (a wrong passphrase is said plainly and may be tried again), and
`dengji` without a subcommand runs it."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop.storage import Register, open_register
from desktop.ui.dialogs import FirstRunDialog, PassphraseDialog, passphrase_strength
from desktop.ui.mainwindow import MainWindow
from desktop.ui.register.sheet import RecoveryKeyDialog
from tests.ui.conftest import FAST_KDF, commit_text, type_into


def test_passphrase_strength_hint():
    assert passphrase_strength("abc")[0] == 0
    assert passphrase_strength("abcdefgh")[0] == 1
    assert passphrase_strength("律所登记Secret-2026!")[0] == 3


def test_first_run_dialog_creates_the_register(tmp_path, qtbot):
    path = tmp_path / "新登记库.dengji"
    dialog = FirstRunDialog(path, kdf=FAST_KDF)
    qtbot.addWidget(dialog)
    dialog.level.setCurrentIndex(dialog.level.findData("firm"))
    commit_text(dialog.unit_name, "某某律师事务所党支部")
    type_into(qtbot, dialog.unit_code, "31110000MD01234564")
    type_into(qtbot, dialog.secret, "short")
    assert "太短" in dialog.strength.text()
    for weak, why in (("12345678", "数字"), ("qwertyuiop", "口令太弱"),
                      ("某某律师事务所党支部2026", "单位的名称")):  # refused, with the reason
        dialog.secret.clear()
        dialog.again.clear()
        type_into(qtbot, dialog.secret, weak)
        assert "不能使用" in dialog.strength.text()
        type_into(qtbot, dialog.again, weak)
        dialog.create()
        assert why in dialog.error.text() and dialog.register is None and not path.exists()
    dialog.again.clear()
    dialog.secret.clear()
    type_into(qtbot, dialog.secret, "Long-enough-2026")
    type_into(qtbot, dialog.again, "Long-enough-2027")
    assert "不一致" in dialog.strength.text()
    dialog.create()
    assert "不一致" in dialog.error.text() and not path.exists()
    type_into(qtbot, dialog.again, "Long-enough-2026")
    dialog.create()
    assert isinstance(dialog.register, Register) and path.exists()
    assert dialog.result() == dialog.DialogCode.Accepted
    dialog.register.close()
    with open_register(path, "Long-enough-2026", kdf=FAST_KDF) as reg:
        assert reg.own_unit_id


def test_first_run_dialog_says_what_is_missing(tmp_path, qtbot):
    dialog = FirstRunDialog(tmp_path / "x.dengji", kdf=FAST_KDF)
    qtbot.addWidget(dialog)
    type_into(qtbot, dialog.secret, "Long-enough-2026")
    type_into(qtbot, dialog.again, "Long-enough-2026")
    dialog.create()
    assert "单位名称" in dialog.error.text()
    assert dialog.register is None


def test_a_wrong_passphrase_is_said_plainly_and_may_be_retried(register, qtbot):
    register.close()
    path = register.path
    dialog = PassphraseDialog(path, lambda s: open_register(path, s, kdf=FAST_KDF))
    qtbot.addWidget(dialog)
    type_into(qtbot, dialog.secret, "wrong passphrase")
    dialog.try_open()
    assert "口令不正确" in dialog.error.text()
    assert dialog.secret.text() == "" and dialog.result_value is None
    commit_text(dialog.secret, "界面测试口令 Pass-1234")
    dialog.try_open()
    assert isinstance(dialog.result_value, Register)
    dialog.result_value.close()


def test_dengji_without_a_command_opens_the_window_on_first_run(tmp_path, monkeypatch, qtbot):
    """run_window: first run → the first-run dialog → the main window; closing it ends."""
    import desktop.ui.start as start
    from desktop.app import run_window

    monkeypatch.setenv("DENGJI_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(start, "open_register",
                        lambda p, s: open_register(p, s, kdf=FAST_KDF))
    original = FirstRunDialog.__init__
    monkeypatch.setattr(FirstRunDialog, "__init__",
                        lambda self, path, parent=None, kdf=None: original(self, path, parent,
                                                                           kdf=FAST_KDF))
    seen = []

    def drive() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, FirstRunDialog):
            commit_text(dialog.unit_name, "某某律师事务所党支部")
            dialog.unit_code.setText("31110000MD01234564")
            dialog.secret.setText("Long-enough-2026")
            dialog.again.setText("Long-enough-2026")
            dialog.create()
            QTimer.singleShot(50, drive)
            return
        if isinstance(dialog, RecoveryKeyDialog):  # the first run's last step (issue 19)
            seen.append(dialog.key.key_id)
            dialog.check.setChecked(True)
            dialog.finish()
            QTimer.singleShot(50, drive)
            return
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if windows:
            seen.append(windows[0].windowTitle())
            windows[0].close()
            return
        QTimer.singleShot(50, drive)

    QTimer.singleShot(50, drive)
    assert run_window(None) == 0
    assert len(seen) == 2 and seen[1] == "登记 — 某某律师事务所党支部"
    assert (tmp_path / "home" / "register.dengji").exists()


def test_a_cjk_font_is_loaded_and_draws_chinese(qapp):
    from PySide6.QtGui import QFontDatabase, QFontMetrics

    from desktop.ui.fonts import load_cjk_font

    family = load_cjk_font(qapp)
    assert family, "no CJK font found: ship one in resources/fonts/ or install fonts-wqy-microhei"
    assert QFontDatabase.WritingSystem.SimplifiedChinese in QFontDatabase.writingSystems(family)
    metrics = QFontMetrics(qapp.font())
    assert all(metrics.inFontUcs4(ord(ch)) for ch in "律师党员登记表")


def test_qt_own_dialogs_speak_chinese(qapp):
    """File, print and message-box buttons come from Qt: its Chinese translation is loaded."""
    from PySide6.QtWidgets import QDialogButtonBox

    from desktop.ui.start import install_chinese

    install_chinese(qapp)
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                           | QDialogButtonBox.StandardButton.Cancel)
    assert sorted(b.text() for b in box.buttons()) == sorted(["确定", "取消"])
