"""The passphrase dialog waits after repeated wrong passphrases: from the third wrong one in a
row, 2^(n−3) seconds (at most 30) with a Chinese countdown and the 打开 button disabled; the
count survives closing the dialog and restarting the program (a side file beside the register).
A fake clock drives it: the test never sleeps. (Weak passphrases in the first-run dialog:
tests/ui/test_start.py.)"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from desktop.errors import KnownError, WrongPassphrase
from desktop.services import registers
from desktop.services.registers import MAX_WAIT, PassphraseTries
from desktop.ui.dialogs import PassphraseDialog
from tests.ui.conftest import type_into


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    monkeypatch.setattr(registers, "_tries", {})  # a fresh process
    return Clock()


class Opener:
    """Opens with "right"; counts how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, secret: str) -> str:
        self.calls += 1
        if secret != "right":
            raise WrongPassphrase("口令不正确，无法打开登记库。")
        return "opened"


def dialog_for(qtbot, path, opener, clock) -> PassphraseDialog:
    dialog = PassphraseDialog(path, opener, tries=PassphraseTries(path, clock))
    qtbot.addWidget(dialog)
    return dialog


def wrong(qtbot, dialog: PassphraseDialog, text: str = "wrong") -> None:
    type_into(qtbot, dialog.secret, text)
    dialog.try_open()


def test_waits_grow_after_the_third_wrong_passphrase(tmp_path, qtbot, clock) -> None:
    path = tmp_path / "r.dengji"
    opener = Opener()
    dialog = dialog_for(qtbot, path, opener, clock)
    for _ in range(2):
        wrong(qtbot, dialog)
        assert dialog.ok.isEnabled() and dialog.wait.text() == ""
    waits = []
    for n in range(3, 10):
        wrong(qtbot, dialog)
        assert not dialog.ok.isEnabled()
        assert f"连续输错 {n} 次" in dialog.wait.text()
        left = dialog.tries.remaining()
        waits.append(left)
        assert f"请等待 {int(left)} 秒" in dialog.wait.text()
        calls = opener.calls
        type_into(qtbot, dialog.secret, "right")
        qtbot.keyClick(dialog.secret, Qt.Key.Key_Return)  # Enter while waiting: not tried
        dialog.try_open()
        assert opener.calls == calls and dialog.result_value is None
        clock.now += left - 0.5
        dialog.timer.timeout.emit()
        assert not dialog.ok.isEnabled() and "请等待 1 秒" in dialog.wait.text()
        clock.now += 0.5
        dialog.timer.timeout.emit()
        assert dialog.ok.isEnabled() and dialog.wait.text() == ""
        assert not dialog.timer.isActive()
        dialog.secret.clear()
    assert waits == [1, 2, 4, 8, 16, MAX_WAIT, MAX_WAIT]


def test_the_count_survives_reopening_and_restarting(tmp_path, qtbot, clock, monkeypatch
                                                     ) -> None:
    path = tmp_path / "r.dengji"
    dialog = dialog_for(qtbot, path, Opener(), clock)
    for _ in range(4):
        wrong(qtbot, dialog)
        clock.now += dialog.tries.remaining()
    dialog.close()
    wrong(qtbot, dialog)  # the fifth: a wait of 4 s begins
    again = dialog_for(qtbot, path, Opener(), clock)  # the dialog opened again
    assert not again.ok.isEnabled() and "请等待 4 秒" in again.wait.text()
    monkeypatch.setattr(registers, "_tries", {})  # the program restarted
    restarted = dialog_for(qtbot, path, Opener(), clock)
    assert not restarted.ok.isEnabled() and "连续输错 5 次" in restarted.wait.text()
    clock.now += 4
    restarted.tick()
    type_into(qtbot, restarted.secret, "right")
    restarted.try_open()
    assert restarted.result_value == "opened"
    assert restarted.tries.failures == 0
    assert not path.with_name("r.dengji.tries").exists()


def test_other_refusals_do_not_count(tmp_path, qtbot, clock) -> None:
    def busy(secret: str):
        raise KnownError("登记库正在被另一个窗口使用。")

    dialog = dialog_for(qtbot, tmp_path / "r.dengji", busy, clock)
    for _ in range(5):
        wrong(qtbot, dialog)
    assert dialog.ok.isEnabled() and dialog.tries.failures == 0


def test_a_forged_or_future_side_file_waits_no_longer_than_the_cap(tmp_path, qtbot, clock
                                                                    ) -> None:
    path = tmp_path / "r.dengji"
    path.with_name("r.dengji.tries").write_text(
        json.dumps({"failures": 99, "until": clock.now + 10**9}), encoding="utf-8")
    dialog = dialog_for(qtbot, path, Opener(), clock)
    assert not dialog.ok.isEnabled()
    assert dialog.tries.remaining() <= MAX_WAIT
    path.with_name("r.dengji.tries").write_text("not json", encoding="utf-8")
    registers._tries.clear()
    assert dialog_for(qtbot, path, Opener(), clock).ok.isEnabled()
