"""本单位信息… (issue 16): the clerk corrects the unit's name and sets 经办人/审批人 in the real
window; the change is audited, the audit log names the new 经办人 from then on, the cleanup forms
start with those names, a renamed unit reaches the city as a pending change to confirm, and the
lock says 长时间未操作 only when the idle timer took it."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QLineEdit  # noqa: E402
from sqlmodel import select  # noqa: E402

from desktop.services.packages import unit_changes  # noqa: E402
from desktop.services.unit import NO_HANDLER, unit_profile  # noqa: E402
from desktop.storage import AuditEntry  # noqa: E402
from desktop.ui.actions import Action  # noqa: E402
from desktop.ui.register.unit_info import NAME, UnitInfoDialog  # noqa: E402
from tests.exchange.conftest import CITY, World  # noqa: E402

NEW = "中共北京市改名律师事务所支部委员会"


def _dialog(window) -> UnitInfoDialog:
    window.action(Action.UNIT_INFO).trigger()
    [dialog] = [d for d in window.findChildren(UnitInfoDialog, NAME) if d.isVisible()]
    return dialog


def _entries(register, action):
    with register.session() as session:
        return [e for e in session.exec(select(AuditEntry)) if e.action == action]


def test_the_dialog_saves_names_audited_and_the_window_uses_them(make_window, register, qtbot):
    window = make_window(register)
    dialog = _dialog(window)
    assert dialog.edits["handler"].text() == "" and "经办人" in dialog.missing.text()
    dialog.edits["name"].setText(NEW)
    dialog.edits["handler"].setText("王敏")
    dialog.edits["approver"].setText("赵六")
    dialog.buttons.accepted.emit()
    assert not dialog.isVisible()
    profile = unit_profile(register)
    assert (profile.name, profile.handler, profile.approver) == (NEW, "王敏", "赵六")
    (entry,) = _entries(register, "unit.profile")
    assert entry.actor == "王敏" and json.loads(entry.detail)["name"]["new"] == NEW
    # from now on the window's work is the new 经办人's
    assert window.ctx.actor == "王敏"
    tab = window.tab("lawyer_member")
    assert tab.session.actor == "王敏"
    # a bad code is refused in the dialog, in Chinese, and nothing changes
    dialog = _dialog(window)
    dialog.edits["code"].setText("12345")
    dialog.buttons.accepted.emit()
    assert dialog.isVisible() and "18 位" in dialog.error.text()
    dialog.close()
    assert unit_profile(register).code != "12345"


def test_no_login_name_is_the_actor(make_register):
    from desktop.ui import start

    source = open(start.__file__, encoding="utf-8").read()
    assert "getuser" not in source and "getlogin" not in source
    reg = make_register()
    assert unit_profile(reg).actor == NO_HANDLER


def test_cleanup_forms_start_with_the_names_of_the_profile(make_register, make_window):
    from desktop.services.unit import save_unit_profile
    from desktop.ui.cleanup.dialogs import WithdrawDialog

    reg = make_register(level="society-city", name="society.dengji")
    save_unit_profile(reg, "x", {"handler": "王敏", "approver": "赵六"})
    window = make_window(reg)
    dialog = WithdrawDialog(window.ctx)
    assert (dialog.handler.text(), dialog.approver.text()) == ("王敏", "赵六")
    dialog.close()


def test_a_renamed_firm_reaches_the_city_as_a_pending_change(world: World, make_window):
    city = world.register(CITY, "city.dengji")
    firm = world.firm(seed=83, parent=city)
    world.merge(city, world.export(firm.register).path)
    assert unit_changes(city) == []
    window = make_window(firm.register)
    dialog = _dialog(window)
    assert dialog.edits["code"].isReadOnly()  # a package went upward: the code stays
    dialog.edits["name"].setText(NEW)
    dialog.buttons.accepted.emit()
    window.close()
    world.merge(city, world.export(firm.register).path)
    [change] = unit_changes(city)
    assert change.name == NEW and change.was_name != NEW


def test_manual_lock_does_not_say_idle(register, qtbot):
    from desktop.ui.dialogs import PassphraseDialog

    def intro(**kw) -> str:
        dialog = PassphraseDialog(register.path, lambda _s: None, locked=True, **kw)
        text = " ".join(label.text() for label in dialog.findChildren(type(dialog.error)))
        dialog.close()
        return text

    assert "长时间未操作" not in intro(idle=False) and "已锁定" in intro(idle=False)
    assert "长时间未操作" in intro(idle=True)


def test_ctrl_l_locks_as_manual(make_window, register, qtbot):
    told: list[bool] = []
    window = make_window(register, unlock=lambda idle: told.append(idle) or True,
                         idle_minutes=0)
    window.action(Action.LOCK).trigger()
    assert told == [False]
    assert isinstance(window.findChild(QLineEdit), QLineEdit)


def test_first_run_dialog_refuses_a_code_that_does_not_fit_the_level(tmp_path, qtbot):
    from desktop.ui.dialogs import FirstRunDialog
    from tests.ui.conftest import FAST_KDF, commit_text, type_into

    path = tmp_path / "新.dengji"
    dialog = FirstRunDialog(path, kdf=FAST_KDF)
    qtbot.addWidget(dialog)
    dialog.level.setCurrentIndex(dialog.level.findData("city"))
    assert "行政区划代码" in dialog.unit_code.placeholderText()
    commit_text(dialog.unit_name, "某市律师行业党委")
    type_into(qtbot, dialog.unit_code, "320000")
    type_into(qtbot, dialog.secret, "Long-enough-2026")
    type_into(qtbot, dialog.again, "Long-enough-2026")
    dialog.create()
    assert "江苏省" in dialog.error.text() and dialog.register is None and not path.exists()
    dialog.unit_code.setText("320100")
    dialog.create()
    assert dialog.register is not None and path.exists()
    dialog.register.close()
