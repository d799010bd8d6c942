"""A register opened by a database role that may only read (a reviewer on PostgreSQL, issue
18): the window says so in its title and status bar, the record editors are read-only and the
actions that write are greyed out, each saying why. Looking, searching, Excel export and print
stay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from desktop.storage import Register
from desktop.storage.concurrency import can_write
from desktop.ui.actions import Action
from desktop.ui.context import WindowContext

#: the actions that change the register
WRITES = (
    Action.NEW_RECORD, Action.SAVE, Action.SUBMIT, Action.VOID_DRAFT, Action.REOPEN,
    Action.EXCEL_IMPORT, Action.EXPORT_PACKAGE, Action.EXPORT_PACKAGE_TO, Action.IMPORT_PACKAGE,
    Action.RETURN_PACKAGE, Action.CONFLICTS, Action.IMPORT_RETURN, Action.TRUST_KEY,
    Action.ROTATE_KEY, Action.SPOTCHECK_SAMPLE, Action.SPOTCHECK_RECORD, Action.CLEANUP_IMPORT,
    Action.CLEANUP_WITHDRAW, Action.CLEANUP_READMIT, Action.CLEANUP_RESTORE,
    Action.CLEANUP_NUMBER, Action.UNIT_INFO, Action.CHANGE_PASSPHRASE, Action.NEW_RECOVERY_KEY,
    Action.HANDOVER, Action.RESTORE,
)
WHY = "当前数据库角色只有查看权限（审阅角色），不能修改登记册；如需修改，请用经办人角色登录。"


class Window(Protocol):  # what of the main window this needs
    register: Register
    form_tabs: list
    ctx: WindowContext

    def windowTitle(self) -> str: ...  # noqa: N802 (Qt's names)
    def setWindowTitle(self, title: str) -> None: ...  # noqa: N802
    def show_status(self, text: str) -> None: ...


def apply_reviewer_mode(window: Window) -> bool:
    """Grey out what writes when the register's role may only read; whether it may."""
    if can_write(window.register.engine):
        return True
    window.setWindowTitle(f"{window.windowTitle()}（只读：审阅角色）")
    for tab in window.form_tabs:
        tab.writable = False  # called before the editors are built: they are made read-only
        tab.new_button.setEnabled(False)
        tab.new_button.setToolTip(WHY)
    for name in WRITES:
        if window.ctx.has_action(name):
            action = window.ctx.action(name)
            action.setEnabled(False)
            action.setToolTip(WHY)
            action.setStatusTip(WHY)
    window.show_status(WHY)
    return False


def grey_out(register: Register, widgets: Iterable[Any]) -> bool:
    """A dialog's buttons that write (收件看板's 接收, 退回, 吊销公钥…), for a role that may only
    read: disabled, each saying why. Whether the role may only read (the dialog keeps them
    disabled when it enables by selection)."""
    if can_write(register.engine):
        return False
    for widget in widgets:
        widget.setEnabled(False)
        widget.setToolTip(WHY)
    return True
