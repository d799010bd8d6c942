"""登记库 → 修改口令…: the current passphrase, the new one twice with the live strength verdict
(dialogs.NewPassphrase, as at first run), and 同时生成新的恢复密钥.

The change is services.secrets.change_passphrase on the write pool (a backup first, then the
register re-keyed in one step); the window's register stays open on the new key. A wrong
current passphrase or a weak new one is said in the dialog, which stays open with nothing
changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desktop.progress import Progress
from desktop.services.secrets import SERVER_UNCHANGED, PassphraseChanged, change_passphrase
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import NewPassphrase, WorkDialog, error_label, fit_to_screen, show_one
from desktop.ui.operations import Operation
from desktop.ui.register.sheet import show_recovery_key
from desktop.ui.workers import TaskRunnable

NAME = "changePassphraseDialog"
#: the Operation kind every change of the register's secrets runs as (one at a time)
SECRETS = "secrets"
BUSY = "正在修改登记库的口令或恢复密钥，请稍候…"


def let_go(ctx: WindowContext) -> None:
    """Before a re-key: every editor writes what is typed and lets go of its connection (the
    file is replaced under it; a connection held would keep the old file and its WAL)."""
    ctx.save_drafts()
    for tab in ctx.tabs():
        tab.close_session()


def take_back(ctx: WindowContext) -> None:
    """After a re-key (done or refused): every editor reads the register again, on its key
    now; the lists and the cross-rule peers are read again."""
    for tab in ctx.tabs():
        tab.set_unit(tab.unit_id)
    ctx.notify(Changes.RECORDS)


def password_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAccessibleName(name)
    return edit


class RekeyDialog(WorkDialog):
    """A dialog whose work re-keys the register (修改口令…, 移交…): the current passphrase
    (`old`), the new one twice (`new`), what to fix (`error`) and the button that runs it.
    While it is open the window waits (the editors let go of the register for the re-key);
    a refusal is said in the dialog, which stays open with nothing changed."""

    def __init__(self, ctx: WindowContext, name: str, title: str, ok_text: str) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.old = password_edit("当前口令")
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.error = error_label(f"{name}Error")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(ok_text)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)

    def new_passphrase(self, labels: tuple[str, str]) -> NewPassphrase:
        """The new passphrase's rows, added to the form (after the caller's own rows)."""
        ctx = self.ctx
        return NewPassphrase(self.form, lambda: (ctx.own.name, ctx.own.code), labels=labels,
                             parent=self)

    def lay_out(self, intro: str, *extra: QWidget, width: int = 560) -> None:
        label = QLabel(intro)
        label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addLayout(self.form)
        for widget in extra:
            layout.addWidget(widget)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        fit_to_screen(self, (width, self.sizeHint().height()))

    def problem(self) -> str | None:
        """What to fix before the work can run (said in the dialog; nothing runs)."""
        if not self.old.text():
            self.old.setFocus()
            return "请输入当前口令。"
        return self.new.mismatch()

    def start(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            return
        self.error.clear()
        self.ok.setEnabled(False)
        self.job = start_rekey(self.ctx, self.work(), self.title(), self.refused,
                               self.succeeded, self.ended)
        if self.job is None:
            self.ok.setEnabled(True)

    def work(self) -> Callable[[], Iterator[Progress]]:
        raise NotImplementedError

    def title(self) -> str:
        """The title of a message the Operation would show (a refusal goes to `error`)."""
        return self.windowTitle() + "未完成"

    def succeeded(self, result: Any) -> None:
        raise NotImplementedError

    def refused(self, message: str) -> None:
        self.error.setText(message)
        self.old.clear()
        self.old.setFocus()

    def ended(self) -> None:
        take_back(self.ctx)
        self.ok.setEnabled(True)
        self.job_ended()


class ChangePassphraseDialog(RekeyDialog):
    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx, NAME, "修改口令", "修改口令")
        self.form.addRow("当前口令", self.old)
        self.new = self.new_passphrase(("新口令", "再次输入新口令"))
        self.recovery = QCheckBox("同时生成新的恢复密钥（原来的恢复密钥单作废）")
        self.recovery.setObjectName("newRecoveryToo")
        self.lay_out("修改打开本登记库的口令。修改前会自动备份登记库；修改后请用新口令打开。"
                     "恢复密钥单仍然有效，除非同时生成新的恢复密钥。", self.recovery)

    def work(self) -> Callable[[], Iterator[Progress]]:
        ctx, old, new = self.ctx, self.old.text(), self.new.text()
        fresh = self.recovery.isChecked()

        def task() -> Iterator[Progress]:
            yield Progress(0, 1, "正在备份并修改口令…")
            result = change_passphrase(ctx.register, old, new, ctx.actor, new_recovery=fresh)
            yield Progress(1, 1, "口令已修改")
            return result

        return task

    def succeeded(self, result: PassphraseChanged) -> None:
        ctx = self.ctx
        self.accept()
        ctx.status("口令已修改；下次打开和解锁请用新口令")
        QMessageBox.information(
            ctx.widget, "口令已修改",
            "口令已修改。下次打开登记库、解锁时请使用新口令。\n\n"
            + (f"修改前的登记库已备份到：\n{result.backup}\n（该备份仍用原口令打开）"
               if result.backup else SERVER_UNCHANGED))
        if result.recovery is not None:
            show_recovery_key(ctx.register, result.recovery, ctx.actor, ctx=ctx,
                              intro="口令已修改，并生成了新的恢复密钥，原来的恢复密钥单已作废。")


def start_rekey(ctx: WindowContext, task: Callable[[], Iterator[Progress]], title: str,
                failed: Callable[[str], object], done: Callable[[Any], object],
                ended: Callable[[], object]) -> TaskRunnable | None:
    """Run work that re-keys the register (a passphrase change, a handover) on the write pool,
    one at a time, the editors having let go of it (`ended` must call take_back)."""
    if ctx.is_busy(SECRETS):
        ctx.status(BUSY)
        return None
    let_go(ctx)
    return (Operation(ctx, task, title=title, writes=True, exclusive=SECRETS, busy_text=BUSY)
            .failure(failed).success(done).finally_(ended).run())


def show_change_passphrase(ctx: WindowContext) -> ChangePassphraseDialog:
    return show_one(ctx.widget, NAME,  # type: ignore[return-value]
                    lambda: ChangePassphraseDialog(ctx))
