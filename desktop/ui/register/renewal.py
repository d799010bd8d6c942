"""登记库 → 新的恢复密钥… and the offer of one when a register is opened.

A new key voids the old sheet at once, so the clerk is warned first; it is made on the write
pool (services.secrets.make_recovery_key, audited) and shown to be saved and printed (sheet.py).
A register made before recovery keys existed, or whose key was never confirmed as kept, is
offered one once per open (start.py calls `offer_recovery`); 不再提醒 is kept in the register
(services.reminders), not in the computer's settings.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtWidgets import QMessageBox

from desktop.progress import Progress
from desktop.services import reminders
from desktop.services.secrets import RecoveryKey, make_recovery_key, recovery_state
from desktop.ui.context import WindowContext
from desktop.ui.operations import Operation
from desktop.ui.register.passphrase import BUSY, SECRETS
from desktop.ui.register.sheet import show_recovery_key

NEW_KEY_WARNING = ("生成新的恢复密钥后，原来的恢复密钥单<b>立即作废</b>，不能再用来打开登记库。"
                   "新的恢复密钥只显示一次，请准备好打印或保存。<br><br>继续生成新的恢复密钥吗？")


def make_and_show(ctx: WindowContext, intro: str) -> None:
    """Make a new recovery key on the write pool, then show it to be saved and printed."""
    def task() -> Iterator[Progress]:
        yield Progress(0, 1, "正在生成恢复密钥…")
        key = make_recovery_key(ctx.register, ctx.actor)
        yield Progress(1, 1, "恢复密钥已生成")
        return key

    def done(key: RecoveryKey) -> None:
        ctx.status(f"已生成新的恢复密钥（编号 {key.key_id}），原来的恢复密钥单已作废")
        show_recovery_key(ctx.register, key, ctx.actor, ctx=ctx, intro=intro)

    Operation(ctx, task, title="未能生成恢复密钥", writes=True, exclusive=SECRETS,
              busy_text=BUSY).success(done).run()


def new_recovery_key(ctx: WindowContext) -> bool:
    """新的恢复密钥…: warn that the old sheet stops working, then make and show the new key.
    Whether it was started."""
    state = recovery_state(ctx.register)
    if state.has_key:
        answer = QMessageBox.question(
            ctx.widget, "新的恢复密钥",
            NEW_KEY_WARNING + f"<br><br>现在的恢复密钥编号：{state.key_id}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
    make_and_show(ctx, f"已生成新的恢复密钥。原来的恢复密钥单（编号 {state.key_id}）已作废，请销毁。"
                  if state.has_key else "已生成恢复密钥。")
    return True


def offer_recovery(ctx: WindowContext) -> bool:
    """Once per open: a register without a recovery key, or with one never confirmed as kept,
    is offered one (生成恢复密钥 / 以后再说 / 不再提醒). Whether a key is being made."""
    state = recovery_state(ctx.register)
    if state.has_key and state.confirmed:
        return False
    if reminders.is_silenced(ctx.register, reminders.RECOVERY_OFFER):
        return False
    if state.has_key:
        text = (f"本登记库的恢复密钥（编号 {state.key_id}）还没有确认已打印或保存。"
                "如果恢复密钥单没有保管好，忘记口令时将无法打开登记库。<br><br>"
                "现在生成新的恢复密钥并打印吗？原来的恢复密钥将作废。")
    else:
        text = ("本登记库还没有<b>恢复密钥</b>（登记库是在这项功能推出之前建立的）。"
                "忘记口令时，凭恢复密钥可以设置新口令；没有它，登记库将无法打开。<br><br>"
                "现在生成恢复密钥并打印吗？")
    box = QMessageBox(QMessageBox.Icon.Question, "恢复密钥", text, parent=ctx.widget)
    box.setObjectName("recoveryOffer")
    make = box.addButton("生成恢复密钥", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("以后再说", QMessageBox.ButtonRole.RejectRole)
    never = box.addButton("不再提醒", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(make)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    if clicked is never:
        reminders.silence(ctx.register, reminders.RECOVERY_OFFER, ctx.actor)
        ctx.status("不再提醒生成恢复密钥；需要时可在“登记库 → 新的恢复密钥…”生成")
        return False
    if clicked is not make:
        return False
    make_and_show(ctx, "已生成恢复密钥。" if not state.has_key
                  else f"已生成新的恢复密钥，原来的（编号 {state.key_id}）已作废。")
    return True
