"""登记库 → 移交…: one clerk hands the register to the next.

The outgoing clerk (the 经办人 of 本单位信息 by default) and the incoming one are named, the
current passphrase is given, and the successor sets a new passphrase twice (the live strength
verdict of dialogs.NewPassphrase). services.handover.hand_over does it on the write pool (a
backup, the new passphrase, a new recovery key, the handover in the audit log); then the new
recovery key is shown as at first run, with the 移交清单 to save and print beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from PySide6.QtWidgets import QLineEdit, QMessageBox

from desktop.progress import Progress
from desktop.services.handover import (
    HandedOver,
    hand_over,
    names_problem,
    write_handover_pdf,
)
from desktop.services.secrets import SERVER_UNCHANGED
from desktop.services.unit import MAX_LENGTH
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import show_one
from desktop.ui.register.passphrase import RekeyDialog
from desktop.ui.register.sheet import Paper, show_recovery_key
from desktop.ui.register.unit_info import profile_of, use_actor

NAME = "handoverDialog"


def name_edit(name: str, text: str = "") -> QLineEdit:
    edit = QLineEdit(text)
    edit.setObjectName(name)
    edit.setMaxLength(MAX_LENGTH)
    return edit


class HandoverDialog(RekeyDialog):
    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx, NAME, "移交登记库", "移交")
        self.from_name = name_edit("handoverFrom", profile_of(ctx).handler)
        self.from_name.setAccessibleName("移交人")
        self.to_name = name_edit("handoverTo")
        self.to_name.setAccessibleName("接收人")
        self.to_name.setPlaceholderText("新任经办人的姓名")
        self.form.addRow("移交人", self.from_name)
        self.form.addRow("接收人", self.to_name)
        self.form.addRow("当前口令（移交人输入）", self.old)
        self.new = self.new_passphrase(("新口令（接收人设置）", "再次输入新口令"))
        self.lay_out(
            "经办人更换时，由移交人、接收人和监交人（一般是单位负责人）一起办理：接收人设置新口令，"
            "同时生成新的恢复密钥（原来的恢复密钥单作废），并打印<b>移交清单</b>，"
            "三方签字、加盖公章后存档。"
            "移交记入操作日志，随下一个数据包报送上级。", width=620)

    def problem(self) -> str | None:
        """What the clerks must fix before the handover can run (said here, nothing done)."""
        names = names_problem(self.from_name.text(), self.to_name.text())
        if names:
            (self.from_name if not self.from_name.text().strip() else self.to_name).setFocus()
            return names
        if not self.old.text():
            self.old.setFocus()
            return "请移交人输入当前口令。"
        return super().problem()

    def work(self) -> Callable[[], Iterator[Progress]]:
        ctx, old, new = self.ctx, self.old.text(), self.new.text()
        giver, taker = self.from_name.text().strip(), self.to_name.text().strip()

        def task() -> Iterator[Progress]:
            yield Progress(0, 1, "正在备份并移交登记库…")
            result = hand_over(ctx.register, old, new, giver, taker, ctx.actor, forms=ctx.forms)
            yield Progress(1, 1, "移交完成")
            return result

        return task

    def succeeded(self, result: HandedOver) -> None:
        """The register is the successor's: the window names them, the new recovery key and
        the 移交清单 are saved and printed."""
        ctx = self.ctx
        self.accept()
        use_actor(ctx, profile_of(ctx))
        taker = result.facts.to_name
        ctx.status(f"已移交给 {taker}；请用新口令打开和解锁登记库")
        checklist = Paper("移交清单", f"移交清单-{ctx.own.name}-{date.today():%Y%m%d}.pdf",
                          lambda out: write_handover_pdf(result, out))
        QMessageBox.information(
            ctx.widget, "移交完成",
            f"登记库已移交给 {taker}，以后请用新口令打开和解锁。\n\n"
            + (f"移交前的登记库已备份到：\n{result.backup}\n（该备份仍用原口令打开）"
               if result.backup else SERVER_UNCHANGED) + "\n\n"
            "接下来请打印或保存新的恢复密钥单和移交清单。")
        show_recovery_key(ctx.register, result.recovery, ctx.actor, ctx=ctx,
                          intro="移交时生成了新的恢复密钥，原来的恢复密钥单已作废。"
                                "移交清单请移交人、接收人和监交人签字，加盖公章后存档。",
                          papers=(checklist,))


def show_handover(ctx: WindowContext) -> HandoverDialog:
    return show_one(ctx.widget, NAME, lambda: HandoverDialog(ctx))  # type: ignore[return-value]
