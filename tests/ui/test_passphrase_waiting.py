"""Opening a register takes a while (the key's scrypt; the first open by a new version backs up
and migrates it, tens of seconds for a large server register): the passphrase dialog opens it
off the GUI thread, keeps painting and says how long it has waited, and cannot be clicked or
closed meanwhile. What the opener raises arrives as if it had been called directly."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QTimer

from desktop.errors import KnownError, WrongPassphrase
from desktop.services.registers import PassphraseTries
from desktop.ui import dialogs
from desktop.ui.dialogs import PassphraseDialog
from tests.ui.conftest import type_into


class SlowOpener:
    """Opens with "right" after `seconds`, noting the thread it ran on."""

    def __init__(self, seconds: float, error: BaseException | None = None) -> None:
        self.seconds, self.error, self.threads = seconds, error, []

    def __call__(self, secret: str) -> str:
        self.threads.append(threading.current_thread())
        time.sleep(self.seconds)
        if self.error is not None:
            raise self.error
        if secret != "right":
            raise WrongPassphrase("口令不正确，无法打开登记库。")
        return "opened"


def dialog_for(qtbot, tmp_path, opener) -> PassphraseDialog:
    dialog = PassphraseDialog(tmp_path / "r.dengji", opener,
                              tries=PassphraseTries(tmp_path / "r.dengji"))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_slow_open_keeps_the_dialog_alive_and_shut(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(dialogs, "SLOW_OPEN_S", 0.3)
    opener = SlowOpener(1.2)
    dialog = dialog_for(qtbot, tmp_path, opener)
    type_into(qtbot, dialog.secret, "right")
    seen: dict[str, object] = {}

    def during() -> None:  # runs on the GUI thread while the register opens
        seen.update(text=dialog.wait.text(), ok=dialog.ok.isEnabled(),
                    secret=dialog.secret.isEnabled(), quit=dialog.quit_button.isEnabled())
        dialog.reject()  # 退出 / Esc / the close box: the open finishes first
        seen["visible"] = dialog.isVisible()

    QTimer.singleShot(800, during)
    dialog.try_open()
    assert opener.threads and opener.threads[0] is not threading.main_thread()
    assert "已用" in seen["text"] and "请勿关闭" in seen["text"]
    assert seen["ok"] is seen["secret"] is seen["quit"] is False and seen["visible"] is True
    assert dialog.result() == dialog.DialogCode.Accepted and dialog.result_value == "opened"
    assert dialog.wait.text() == ""


def test_a_wrong_passphrase_from_the_thread_is_refused_and_counted(qtbot, tmp_path) -> None:
    dialog = dialog_for(qtbot, tmp_path, SlowOpener(0.2))
    type_into(qtbot, dialog.secret, "wrong")
    dialog.try_open()
    assert "口令不正确" in dialog.error.text() and dialog.secret.text() == ""
    assert dialog.tries.failures == 1
    assert dialog.ok.isEnabled() and dialog.secret.isEnabled() and dialog.isVisible()
    dialog.reject()  # no longer opening: 退出 works
    assert not dialog.isVisible()


def test_a_known_refusal_is_shown_and_a_bug_is_raised(qtbot, tmp_path) -> None:
    dialog = dialog_for(qtbot, tmp_path, SlowOpener(0.1, KnownError("无法连接数据库服务器")))
    type_into(qtbot, dialog.secret, "right")
    dialog.try_open()
    assert "无法连接数据库服务器" in dialog.error.text() and dialog.tries.failures == 0
    dialog.opener = SlowOpener(0.1, RuntimeError("a bug"))
    type_into(qtbot, dialog.secret, "right")
    with pytest.raises(RuntimeError, match="a bug"):  # to the bug report, as a direct call
        dialog.try_open()
    assert dialog.ok.isEnabled() and not dialog.opening


def test_a_quick_open_needs_no_event_loop(qtbot, tmp_path) -> None:
    dialog = dialog_for(qtbot, tmp_path, SlowOpener(0))
    type_into(qtbot, dialog.secret, "right")
    dialog.try_open()
    assert dialog.result_value == "opened"
