"""The register's secrets in the real window (issue 19), clicked through as a clerk would:
修改口令… (a wrong current passphrase, a weak new one, then the change; the window keeps working
on the new key), the recovery key shown once (refused unticked, closing asks once more, saved
and printed), 新的恢复密钥… (the old sheet stops working), and the offer to a register that has
no key (以后再说, 不再提醒 kept in the register)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget  # noqa: E402
from sqlmodel import select  # noqa: E402

from desktop.errors import WrongPassphrase  # noqa: E402
from desktop.services import reminders  # noqa: E402
from desktop.services.secrets import (  # noqa: E402
    make_recovery_key,
    recovery_problem,
    recovery_state,
)
from desktop.storage import AuditEntry, open_register  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.printing import job as print_job  # noqa: E402
from desktop.ui.register import renewal  # noqa: E402
from desktop.ui.register.passphrase import NAME, ChangePassphraseDialog  # noqa: E402
from desktop.ui.register.sheet import RecoveryKeyDialog  # noqa: E402
from tests.ui.conftest import SECRET, type_into  # noqa: E402
from tests.ui.secrets_steps import Shown, confirm_key, on_modal, record_boxes  # noqa: E402

NEW_SECRET = "海棠花开的院子 Garden-2031"


@pytest.fixture
def boxes(monkeypatch) -> Shown:
    return record_boxes(monkeypatch)


def change_dialog(window) -> ChangePassphraseDialog:
    window.action(Action.CHANGE_PASSPHRASE).trigger()
    [dialog] = [d for d in window.findChildren(ChangePassphraseDialog, NAME) if d.isVisible()]
    return dialog


def audit(register, action: str) -> list[AuditEntry]:
    with register.session() as session:
        return [e for e in session.exec(select(AuditEntry)) if e.action == action]


def test_change_passphrase_refuses_a_wrong_old_and_a_weak_new_then_changes(
        window, qtbot, boxes):
    register, path = window.register, window.register.path
    dialog = change_dialog(window)
    assert dialog.isModal() or dialog.windowModality() != Qt.WindowModality.NonModal
    # a wrong current passphrase: said in the dialog, which stays open; nothing changed
    type_into(qtbot, dialog.old, "not the passphrase")
    dialog.new.secret.setText(NEW_SECRET)
    dialog.new.again.setText(NEW_SECRET)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: "原口令不正确" in dialog.error.text(), timeout=30000)
    assert dialog.isVisible() and dialog.old.text() == "" and boxes == []
    assert audit(register, "register.passphrase") == []
    # a weak new one: refused with the reason, as the strength line said while typing
    dialog.old.setText(SECRET)
    dialog.new.secret.clear()
    type_into(qtbot, dialog.new.secret, "qwertyuiop")
    assert "不能使用" in dialog.new.strength.text()
    dialog.new.again.setText("qwertyuiop")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: "新口令不能使用" in dialog.error.text(), timeout=30000)
    assert dialog.isVisible()
    # typed twice differently: said at once, nothing runs
    dialog.old.setText(SECRET)
    dialog.new.secret.setText(NEW_SECRET)
    dialog.new.again.setText(NEW_SECRET + "x")
    assert "两次输入不一致" in dialog.new.strength.text()
    dialog.buttons.accepted.emit()
    assert "不一致" in dialog.error.text() and dialog.new.again.text() == ""
    with open_register(path, SECRET) as still:  # the old passphrase still opens it
        assert still.own_unit_id == register.own_unit_id
    # the change
    dialog.new.again.setText(NEW_SECRET)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: bool(boxes), timeout=60000)
    kind, title, text = boxes[0]
    assert (kind, title) == ("information", "口令已修改") and "备份" in text
    assert not [d for d in window.findChildren(ChangePassphraseDialog, NAME) if d.isVisible()]
    (entry,) = audit(register, "register.passphrase")
    assert SECRET not in entry.detail and NEW_SECRET not in entry.detail
    # the window keeps working on the new key: an editor saves a record, the list shows it
    tab = window.current_tab()
    tab.session.new()
    tab.session.set_raw(tab.form.fields[0].id, "换口令后")
    tab.session.save()
    tab.reload()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=10000)
    register.close()
    with pytest.raises(WrongPassphrase):
        open_register(path, SECRET)
    with open_register(path, NEW_SECRET) as reopened, reopened.session() as s:
        assert any(json.loads(e.detail) for e in s.exec(select(AuditEntry))
                   if e.action == "record.save")


def test_change_passphrase_with_a_new_recovery_key(window, qtbot, boxes):
    register = window.register
    old = make_recovery_key(register, "测试员")
    dialog = change_dialog(window)
    dialog.old.setText(SECRET)
    dialog.new.secret.setText(NEW_SECRET)
    dialog.new.again.setText(NEW_SECRET)
    dialog.recovery.setChecked(True)
    keys: list = []
    seen = on_modal(confirm_key(keys), kind=RecoveryKeyDialog)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: bool(keys) and not seen[0].isVisible(), timeout=60000)
    state = recovery_state(register)
    assert state.key_id == keys[0].key_id != old.key_id and state.confirmed
    assert "取代" in (recovery_problem(register.path, old.text) or "")
    assert recovery_problem(register.path, keys[0].text) is None


def test_the_key_step_saves_prints_and_asks_once_before_closing_unconfirmed(
        window, qtbot, boxes, monkeypatch, tmp_path):
    register = window.register
    key = make_recovery_key(register, "测试员")
    dialog = RecoveryKeyDialog(register, key, "测试员", ctx=window.ctx, parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert key.text.split("-")[0] in dialog.key_label.text()
    assert key.key_id in dialog.findChild(QWidget, "recoveryKeyFacts").text()
    # 保存为 PDF…
    target = tmp_path / "恢复密钥单"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    save, printing = dialog.paper_buttons["恢复密钥单"]
    save.click()
    written = target.with_name("恢复密钥单.pdf")
    assert written.read_bytes().startswith(b"%PDF") and "已保存" in dialog.done_label.text()
    # 打印… (to a PDF file standing for the printer)
    printed = tmp_path / "打印机.pdf"

    def choose(_parent, printer) -> bool:
        printer.setOutputFileName(str(printed))
        return True

    monkeypatch.setattr(print_job, "choose_printer", choose)
    printing.click()
    qtbot.waitUntil(lambda: dialog.printed == 1, timeout=30000)
    assert printed.read_bytes().startswith(b"%PDF")
    # closing unconfirmed asks once; No keeps it open
    boxes.answers.append(QMessageBox.StandardButton.No)
    dialog.reject()
    assert dialog.isVisible() and boxes[-1][0:2] == ("question", "恢复密钥尚未确认")
    assert not recovery_state(register).confirmed
    dialog.reject()  # asked once only: now it closes, still unconfirmed
    assert not dialog.isVisible() and not recovery_state(register).confirmed
    assert audit(register, "recovery.confirm") == []


def test_new_recovery_key_warns_then_voids_the_old_sheet(window, qtbot, boxes):
    register = window.register
    old = make_recovery_key(register, "测试员")
    boxes.answers.append(QMessageBox.StandardButton.No)
    window.action(Action.NEW_RECOVERY_KEY).trigger()
    assert boxes[-1][0] == "question" and "作废" in boxes[-1][2]
    assert recovery_state(register).key_id == old.key_id  # No: nothing made
    keys: list = []
    seen = on_modal(confirm_key(keys), kind=RecoveryKeyDialog)
    window.action(Action.NEW_RECOVERY_KEY).trigger()
    qtbot.waitUntil(lambda: bool(keys) and not seen[0].isVisible(), timeout=30000)
    assert keys[0].key_id != old.key_id and recovery_state(register).confirmed
    assert "取代" in (recovery_problem(register.path, old.text) or "")
    assert [json.loads(e.detail)["key_id"] for e in audit(register, "recovery.confirm")] == [
        keys[0].key_id]


def test_an_old_register_is_offered_a_key_and_never_again_when_silenced(window, qtbot):
    register = window.register
    assert not recovery_state(register).has_key
    # 以后再说: nothing made, offered again next time
    on_modal(lambda box: next(b for b in box.buttons() if b.text() == "以后再说").click(),
             kind=QMessageBox)
    assert renewal.offer_recovery(window.ctx) is False
    assert not recovery_state(register).has_key
    assert not reminders.is_silenced(register, reminders.RECOVERY_OFFER)
    # 生成恢复密钥: made, shown, confirmed
    keys: list = []
    on_modal(lambda box: (next(b for b in box.buttons() if b.text() == "生成恢复密钥").click(),
                          on_modal(confirm_key(keys), kind=RecoveryKeyDialog)),
             kind=QMessageBox)
    assert renewal.offer_recovery(window.ctx) is True
    qtbot.waitUntil(lambda: recovery_state(register).confirmed, timeout=30000)
    assert renewal.offer_recovery(window.ctx) is False  # kept and confirmed: no offer


def test_not_again_is_kept_in_the_register(make_register, make_window, qtbot):
    register = make_register()
    make_recovery_key(register, "测试员")  # made, never confirmed: offered too
    window = make_window(register)
    texts: list[str] = []
    on_modal(lambda box: (texts.append(box.text()),
                          next(b for b in box.buttons() if b.text() == "不再提醒").click()),
             kind=QMessageBox)
    assert renewal.offer_recovery(window.ctx) is False
    assert "还没有确认" in texts[0]
    assert reminders.is_silenced(register, reminders.RECOVERY_OFFER)
    assert [e.detail for e in audit(register, "remind.off")]
    # the next open asks nothing (no dialog is up to answer: it would hang)
    assert renewal.offer_recovery(window.ctx) is False


def test_every_secrets_dialog_fits_a_laptop_screen(window, qtbot, monkeypatch, boxes):
    """At 1366×768 less the task bar, each dialog and all its buttons are on the screen."""
    from PySide6.QtCore import QRect

    from desktop.ui import dialogs
    from desktop.ui.register.handover import HandoverDialog
    from desktop.ui.register.recovery import RecoverDialog
    from desktop.ui.register.sheet import Paper
    from tests.ui.test_screen_fit import LAPTOP, problems

    monkeypatch.setattr(dialogs, "available_geometry", lambda _w: QRect(LAPTOP))
    register = window.register
    key = make_recovery_key(register, "测试员")
    paper = Paper("移交清单", "移交清单.pdf", lambda out: out)
    made = [ChangePassphraseDialog(window.ctx), HandoverDialog(window.ctx),
            RecoverDialog(register.path),
            RecoveryKeyDialog(register, key, "测试员", ctx=window.ctx, papers=(paper,))]
    found = []
    for dialog in made:
        qtbot.addWidget(dialog)
        dialog.show()
        found += problems(dialog)
    assert found == []
