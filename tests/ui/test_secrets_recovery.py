"""忘记口令… and the first run's recovery key (issue 19), as a clerk clicks through them: the key
typed group by group (a mistyped group is named and marked as it is typed, a key of another
register or a voided one is named), read from a scanned sheet, a weak new passphrase refused,
then the register opens with the new passphrase; at first run the key step refuses to finish
unticked and the register's key is confirmed."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox  # noqa: E402

from desktop.errors import WrongPassphrase  # noqa: E402
from desktop.services.secrets import (  # noqa: E402
    make_recovery_key,
    recovery_state,
    write_recovery_sheet,
)
from desktop.storage import Register, open_register  # noqa: E402
from desktop.ui.dialogs import FirstRunDialog, PassphraseDialog  # noqa: E402
from desktop.ui.printing import job as print_job  # noqa: E402
from desktop.ui.printing.render import PdfPages  # noqa: E402
from desktop.ui.register.recovery import RecoverDialog, recover_register  # noqa: E402
from desktop.ui.register.sheet import RecoveryKeyDialog  # noqa: E402
from tests.ui.conftest import FAST_KDF, SECRET, commit_text, type_into  # noqa: E402
from tests.ui.secrets_steps import Shown, confirm_key, on_modal, record_boxes  # noqa: E402

NEW_SECRET = "海棠花开的院子 Garden-2031"


@pytest.fixture
def boxes(monkeypatch) -> Shown:
    return record_boxes(monkeypatch)


@pytest.fixture
def keyed(make_register):
    """A closed register with a recovery key (and the key)."""
    register = make_register()
    key = make_recovery_key(register, "测试员")
    register.close()
    return register.path, key


def sheet_image(register: Register, key, out: Path) -> Path:
    """A 'scan' of the printed sheet: its PDF rendered at 150 dpi as a PNG."""
    pdf = write_recovery_sheet(register, key, out.with_suffix(".pdf")).read_bytes()
    pages = PdfPages(pdf)
    try:
        assert pages.render(0, 150).save(str(out))
    finally:
        pages.close()
    return out


def mistype(text: str, group: int) -> str:
    """The key with one digit of `group` (1-based) changed: the group's check fails."""
    groups = text.split("-")
    g = groups[group - 1]
    groups[group - 1] = g[:-1] + str((int(g[-1]) + 1) % 10)
    return "-".join(groups)


def test_forgot_from_the_passphrase_dialog_opens_the_register(keyed, qtbot, boxes):
    path, key = keyed
    dialog = PassphraseDialog(path, lambda s: open_register(path, s, kdf=FAST_KDF),
                              forgot=lambda parent: recover_register(path, parent))
    qtbot.addWidget(dialog)
    assert dialog.forgot_button is not None and dialog.forgot_button.text() == "忘记口令…"
    states: list[str] = []

    def clerk(recover: RecoverDialog) -> None:
        groups = key.text.split("-")
        # typed box by box: the focus moves on after six digits
        recover.key.boxes[0].setFocus()
        for n, group in enumerate(groups[:4]):
            assert recover.focusWidget() is recover.key.boxes[n]  # where the clerk types
            type_into(qtbot, recover.key.boxes[n], group)
        assert recover.focusWidget() is recover.key.boxes[4]  # moved on after six digits
        assert "已输入 4 组" in recover.key_state.text()
        # the fifth group mistyped: named and marked at once
        bad = mistype(key.text, 5).split("-")[4]
        type_into(qtbot, recover.key.boxes[4], bad)
        states.append(recover.key_state.text())
        assert recover.key.bad == 5 and "2px solid" in recover.key.boxes[4].styleSheet()
        recover.key.boxes[4].clear()
        type_into(qtbot, recover.key.boxes[4], groups[4])
        assert recover.key.bad is None and recover.key.boxes[4].styleSheet() == ""
        for n, group in enumerate(groups[5:], start=5):
            type_into(qtbot, recover.key.boxes[n], group)
        states.append(recover.key_state.text())
        # a weak new passphrase: refused, nothing changed
        recover.new.secret.setText("12345678")
        recover.new.again.setText("12345678")
        recover.ok.click()
        states.append(recover.error.text())
        recover.new.secret.setText(NEW_SECRET)
        recover.new.again.setText(NEW_SECRET)
        recover.ok.click()

    on_modal(clerk, kind=RecoverDialog)
    dialog.forgot_button.click()
    assert "第 5 组" in states[0]
    assert "恢复密钥正确" in states[1]
    assert "新口令不能使用" in states[2] and "数字" in states[2]
    assert dialog.result() == QDialog.DialogCode.Accepted
    register = dialog.result_value
    assert isinstance(register, Register) and boxes[-1][1] == "已设置新口令"
    own = register.own_unit_id
    register.close()
    with pytest.raises(WrongPassphrase):
        open_register(path, SECRET)
    with open_register(path, NEW_SECRET) as reopened:
        assert reopened.own_unit_id == own


def test_a_pasted_key_fills_every_box_and_foreign_or_voided_keys_are_named(
        keyed, make_register, qtbot):
    path, key = keyed
    other = make_register(name="other.dengji")
    foreign = make_recovery_key(other, "测试员")
    dialog = RecoverDialog(path)
    qtbot.addWidget(dialog)
    # a whole key pasted into the first box, with spaces and full-width digits
    spaced = key.text.replace("-", " ").replace("1", "１")
    QApplication.clipboard().setText(spaced)
    qtbot.keyClick(dialog.key.boxes[0], Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert dialog.key.text() == key.text and "恢复密钥正确" in dialog.key_state.text()
    dialog.key.set_text(foreign.text)
    assert "恢复密钥正确" not in dialog.key_state.text()
    assert dialog.key_problem() and "本登记库" in dialog.key_problem()
    dialog.ok.click()
    assert dialog.error.text() == dialog.key_problem() and dialog.register is None
    # an incomplete key cannot be sent
    dialog.key.boxes[15].clear()
    dialog.key.boxes[15].textEdited.emit("")
    dialog.ok.click()
    assert "16 组" in dialog.error.text()


def test_recovery_by_a_scanned_sheet(keyed, make_register, qtbot, monkeypatch, tmp_path, boxes):
    path, key = keyed
    with open_register(path, SECRET, kdf=FAST_KDF) as register:
        scan = sheet_image(register, key, tmp_path / "扫描件.png")
    blank = tmp_path / "白纸.png"
    from PySide6.QtGui import QImage

    image = QImage(400, 300, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    assert image.save(str(blank))
    chosen = [str(blank), str(scan)]
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (chosen.pop(0), "")))
    dialog = RecoverDialog(path)
    qtbot.addWidget(dialog)
    dialog.scan_button.click()  # a page with no QR code: said, nothing filled
    assert "没有找到二维码" in dialog.error.text() and dialog.key.text() == "-" * 15
    dialog.scan_button.click()
    assert dialog.key.text() == key.text and dialog.error.text() == ""
    assert "恢复密钥正确" in dialog.key_state.text()
    dialog.new.secret.setText(NEW_SECRET)
    dialog.new.again.setText(NEW_SECRET)
    dialog.ok.click()
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.register is not None
    dialog.register.close()
    with open_register(path, NEW_SECRET):
        pass


def test_first_run_shows_the_key_and_refuses_to_finish_unticked(tmp_path, qtbot, monkeypatch,
                                                                 boxes):
    import desktop.ui.start as start

    original = FirstRunDialog.__init__
    monkeypatch.setattr(FirstRunDialog, "__init__",
                        lambda self, path, parent=None, kdf=None: original(self, path, parent,
                                                                           kdf=FAST_KDF))
    path = tmp_path / "新登记库.dengji"
    keys: list = []

    def first_run(dialog: FirstRunDialog) -> None:
        commit_text(dialog.unit_name, "某某律师事务所党支部")
        dialog.unit_code.setText("31110000MD01234564")
        dialog.secret.setText("Long-enough-2026")
        dialog.again.setText("Long-enough-2026")
        on_modal(step, kind=RecoveryKeyDialog)
        dialog.create()

    saved, printed = tmp_path / "恢复密钥单.pdf", tmp_path / "打印机.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(saved), "")))

    def choose(_parent, printer) -> bool:
        printer.setOutputFileName(str(printed))
        return True

    monkeypatch.setattr(print_job, "choose_printer", choose)

    def step(dialog: RecoveryKeyDialog) -> None:
        assert "登记库已建立" in dialog.head.text() and dialog.ctx is None  # no window yet
        save, printing = dialog.paper_buttons["恢复密钥单"]
        save.click()
        printing.click()  # printed at once: there is no window to run it on
        assert dialog.printed == 1 and "已发送到打印机" in dialog.done_label.text()
        boxes.answers.append(QMessageBox.StandardButton.No)
        dialog.reject()  # closing unconfirmed asks once more: No keeps the step
        assert dialog.isVisible() and boxes[-1][1] == "恢复密钥尚未确认"
        confirm_key(keys)(dialog)

    on_modal(first_run, kind=FirstRunDialog)
    register = start.open_or_create(path)
    assert isinstance(register, Register)
    try:
        state = recovery_state(register)
        assert state.has_key and state.confirmed and state.key_id == keys[0].key_id
        assert keys[0].unit_name == "某某律师事务所党支部"
        assert saved.read_bytes().startswith(b"%PDF") and printed.read_bytes().startswith(b"%PDF")
    finally:
        register.close()


def test_first_run_closed_unconfirmed_keeps_the_register_and_offers_later(tmp_path, qtbot,
                                                                         monkeypatch, boxes):
    import desktop.ui.start as start

    original = FirstRunDialog.__init__
    monkeypatch.setattr(FirstRunDialog, "__init__",
                        lambda self, path, parent=None, kdf=None: original(self, path, parent,
                                                                           kdf=FAST_KDF))
    path = tmp_path / "新登记库.dengji"

    def first_run(dialog: FirstRunDialog) -> None:
        commit_text(dialog.unit_name, "某某律师事务所党支部")
        dialog.unit_code.setText("31110000MD01234564")
        dialog.secret.setText("Long-enough-2026")
        dialog.again.setText("Long-enough-2026")
        on_modal(lambda d: d.reject(), kind=RecoveryKeyDialog)  # Yes: close unconfirmed
        dialog.create()

    on_modal(first_run, kind=FirstRunDialog)
    register = start.open_or_create(path)
    try:
        state = recovery_state(register)
        assert state.has_key and not state.confirmed
        assert boxes[-1][1] == "恢复密钥尚未确认"
    finally:
        register.close()
    assert QApplication.activeModalWidget() is None


def test_the_lock_says_how_to_recover_a_forgotten_passphrase(keyed, qtbot):
    """While the window is locked it holds the register: the lock offers no recovery itself
    but says where it is; the passphrase dialog of an open offers 忘记口令… instead."""
    from PySide6.QtWidgets import QLabel

    path, _key = keyed
    locked = PassphraseDialog(path, lambda _s: True, locked=True)
    opening = PassphraseDialog(path, lambda _s: None, forgot=lambda _p: None)
    for dialog in (locked, opening):
        qtbot.addWidget(dialog)
    assert locked.forgot_button is None
    assert "忘记口令…" in locked.findChild(QLabel, "passphraseIntro").text()
    assert opening.forgot_button is not None
    assert "忘记口令：" not in opening.findChild(QLabel, "passphraseIntro").text()
    opening.forgot_button.click()  # the clerk gives up the recovery: the dialog stays open
    assert opening.result_value is None and opening.result() != QDialog.DialogCode.Accepted
