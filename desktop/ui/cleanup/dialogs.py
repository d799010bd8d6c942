"""重新入会…, 到期退会…, 恢复在册… (reverse a mistaken decision) and 下一个会员证号… of the 清理
menu."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
)

from desktop.errors import KnownError
from desktop.services.cleanup.members import next_number, readmit, restore, withdraw_overdue
from desktop.services.cleanup.model import FORM_ID
from desktop.services.cleanup.search import find_members, moved_out
from desktop.ui.cleanup.common import (
    LOADING_NOTE,
    date_edit,
    default_batch,
    to_date,
    warm_member_search,
)
from desktop.ui.cleanup.revoke import member_search
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import fit_to_screen, guard_wheel
from desktop.ui.operations import Operation
from desktop.ui.register.unit_info import fill_people

#: the notice's deadline for completing the ID (辽会〔2020〕28号：2021年4月底前)
NOTICE_DEADLINE = date(2021, 4, 30)


def _buttons(dialog: QDialog, ok: str) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                           QDialogButtonBox.StandardButton.Cancel)
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok)
    box.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
    box.rejected.connect(dialog.reject)
    return box


def _error() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #c62828;")
    return label


class ReadmitDialog(QDialog):
    """重新入会: a member moved out for having no ID completes it and agrees to rejoin."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setWindowTitle("重新入会")
        layout = QVBoxLayout(self)
        intro = QLabel("因无身份证号暂时移出的会员，补全公民身份号码并经本人同意后重新入会。")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.member = QComboBox()
        for rid, no, name in moved_out(ctx.register):
            self.member.addItem(f"{no or '（无会员证号）'}  {name}", rid)
        self.member.setAccessibleName("会员")
        guard_wheel(self.member)
        self.id_number = QLineEdit()
        self.id_number.setPlaceholderText("18 位公民身份号码")
        self.agreed = QCheckBox("本人同意重新入会")
        self.handler, self.approver = QLineEdit(), QLineEdit()
        fill_people(ctx, self.handler, self.approver)
        self.basis = QLineEdit()
        self.basis.setPlaceholderText("默认：本人同意，补全身份证号等信息后重新办理入会手续")
        for label, widget in (("会员", self.member), ("公民身份号码", self.id_number),
                              ("", self.agreed), ("经办人", self.handler),
                              ("审批人", self.approver), ("依据", self.basis)):
            form.addRow(label, widget)
            widget.setAccessibleName(label or "本人同意")
        layout.addLayout(form)
        self.error = _error()
        layout.addWidget(self.error)
        if not self.member.count():
            self.error.setText("没有因无身份证号暂时移出的会员。")
        box = _buttons(self, "重新入会")
        box.accepted.connect(self.submit)
        layout.addWidget(box)
        fit_to_screen(self, (520, self.sizeHint().height()))

    def submit(self) -> bool:
        """Re-admit the chosen member; a refusal is shown in the dialog, which stays open."""
        rid = self.member.currentData()
        if not rid:
            self.error.setText("没有可重新入会的会员。")
            return False
        if not self.agreed.isChecked():
            self.error.setText("重新入会须经本人同意：确认后请勾选“本人同意重新入会”。")
            return False
        if not self.id_number.text().strip():
            self.error.setText("请填写补全的公民身份号码。")
            self.id_number.setFocus()
            return False
        if not self.handler.text().strip():
            self.error.setText("请填写经办人。")
            self.handler.setFocus()
            return False
        try:
            change = readmit(self.ctx.register, self.ctx.forms,
                             id_number=self.id_number.text(), handler=self.handler.text().strip(),
                             agreed=True, record_id=rid, approver=self.approver.text().strip(),
                             basis=self.basis.text().strip(), batch=default_batch(),
                             actor=self.ctx.actor)
        except KnownError as err:
            self.error.setText(str(err))
            return False
        self.ctx.notify(Changes.RECORDS)  # the member tab and its open record
        self.ctx.status(f"{change.name}已重新入会")
        self.accept()
        return True


class WithdrawDialog(QDialog):
    """到期退会: members still moved out after the deadline become 已退会."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setWindowTitle("到期退会")
        layout = QVBoxLayout(self)
        count = len(moved_out(ctx.register))
        intro = QLabel(f"目前有 {count} 名会员因无身份证号暂时移出。期限过后仍未补全信息或本人不愿继续入会的，"
                       "按退会处理（会员状态改为“已退会”）。")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.deadline = date_edit(NOTICE_DEADLINE)
        self.handler, self.approver = QLineEdit(), QLineEdit()
        fill_people(ctx, self.handler, self.approver)
        for label, widget in (("补全期限", self.deadline), ("经办人", self.handler),
                              ("审批人", self.approver)):
            form.addRow(label, widget)
            widget.setAccessibleName(label)
        layout.addLayout(form)
        self.error = _error()
        layout.addWidget(self.error)
        box = _buttons(self, "按退会处理")
        box.accepted.connect(self.submit)
        layout.addWidget(box)
        self.changed: int | None = None
        fit_to_screen(self, (520, self.sizeHint().height()))

    def submit(self) -> None:
        """Withdraw on the write pool; the dialog closes when done, or says why not."""
        deadline, handler = to_date(self.deadline.date()), self.handler.text().strip()
        approver, ctx = self.approver.text().strip(), self.ctx
        if not handler:
            self.error.setText("请填写经办人。")
            return
        if date.today() <= deadline:
            self.error.setText(f"退会期限 {deadline.isoformat()} 还没有过：期限内暂时移出的会员仍可补全身份证号"
                               "重新入会。期限过后再办理。")
            return

        def task():
            yield from ()
            return withdraw_overdue(ctx.register, ctx.forms, deadline=deadline,
                                    handler=handler, approver=approver, batch=default_batch(),
                                    actor=ctx.actor)

        def done(changes) -> None:
            self.changed = len(changes)
            ctx.notify(Changes.RECORDS)  # the member tab and its open record
            ctx.status(f"{len(changes)} 名暂时移出的会员已按退会处理")
            QMessageBox.information(ctx.widget, "到期退会",
                                    f"{len(changes)} 名暂时移出的会员在 {deadline.isoformat()} 前未补全身份证号，"
                                    "已按退会处理，并已记入操作日志。")
            self.accept()

        Operation(ctx, task, title="未能按退会处理", writes=True).success(done).run()


class NextNumberDialog(QDialog):
    """The own society's next free member number, offered for a new member record."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setWindowTitle("下一个会员证号")
        layout = QVBoxLayout(self)
        self.number = QLineEdit()
        self.number.setReadOnly(True)
        self.number.setAccessibleName("下一个会员证号")
        font = self.number.font()
        font.setPointSize(font.pointSize() + 4)
        self.number.setFont(font)
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout.addWidget(QLabel("本会下一个可用的会员证号："))
        layout.addWidget(self.number)
        layout.addWidget(self.info)
        box = QDialogButtonBox()
        self.copy_button = box.addButton("复制", QDialogButtonBox.ButtonRole.ActionRole)
        self.fill_button = box.addButton("填入新会员记录", QDialogButtonBox.ButtonRole.AcceptRole)
        close = box.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        self.copy_button.clicked.connect(
            lambda: QApplication.clipboard().setText(self.number.text()))
        self.fill_button.clicked.connect(self.fill)
        close.clicked.connect(self.reject)
        layout.addWidget(box)
        try:
            found = next_number(ctx.register, ctx.forms)
        except KnownError as err:
            self.info.setText(str(err).replace("，或用 --society 指定本会的代码", ""))
            self.info.setStyleSheet("color: #c62828;")
            self.copy_button.setEnabled(False)
            self.fill_button.setEnabled(False)
        else:
            self.number.setText(found.number)
            self.info.setText(f"{found.society.name}（前缀 {found.society.code}）已发 "
                              f"{found.issued} 个会员证号。")
        fit_to_screen(self, (460, self.sizeHint().height()))

    def fill(self) -> None:
        """Start a new member record (unless the open one is new and has no number) and put
        the number into its 会员证号."""
        tab = self.ctx.show_tab(FORM_ID)
        if tab is None:
            return
        session = tab.session
        if session.record_id is not None or session.values.get("member_no"):
            tab.new_record()
        tab.editor.apply_raw("member_no", self.number.text())
        self.accept()


class RestoreDialog(QDialog):
    """恢复在册: a member a cleanup decision took out by mistake is found by name or number and
    put back in the register by a new decision (its 依据, 经办人, 审批人), audited."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setWindowTitle("恢复在册（撤销误作的清理决定）")
        self.statuses = ctx.forms.form(FORM_ID).field("status").codes
        layout = QVBoxLayout(self)
        intro = QLabel("清理决定有误时，在此恢复该会员为“在册”。原决定仍保留在操作日志中，恢复作为一项新的"
                       "决定记入操作日志，须写明依据。")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.search, self.members = member_search("restore", "已清理的会员", self._search)
        form = QFormLayout()
        self.handler, self.approver, self.basis = QLineEdit(), QLineEdit(), QLineEdit()
        fill_people(ctx, self.handler, self.approver)
        self.basis.setPlaceholderText("如：经核实，误将其作为重复录入清理")
        for label, widget in (("依据", self.basis), ("经办人", self.handler),
                              ("审批人", self.approver)):
            form.addRow(label, widget)
            widget.setAccessibleName(label)
        layout.addWidget(self.search)
        layout.addWidget(self.members, 1)
        layout.addLayout(form)
        self.error = _error()
        layout.addWidget(self.error)
        box = _buttons(self, "恢复在册")
        box.accepted.connect(self.submit)
        layout.addWidget(box)
        self.loading = warm_member_search(ctx, self, self._loaded)
        self._search("")
        fit_to_screen(self, (620, 480))

    def _loaded(self) -> None:
        self.loading = False
        self._search(self.search.text())

    def _search(self, text: str) -> None:
        self.members.clear()
        for hit in find_members(self.ctx.register, text, active=False,
                                 wait=not self.loading):
            item = QListWidgetItem(f"{hit.member_no or '（无会员证号）'}　{hit.name}　"
                                   f"{self.statuses.label_of(hit.status)}")
            item.setData(Qt.ItemDataRole.UserRole, hit)
            self.members.addItem(item)
        if self.members.count() == 1:
            self.members.setCurrentRow(0)
        if self.loading:
            self.error.setText(LOADING_NOTE)
        else:
            self.error.setText("" if self.members.count() else "没有符合的已清理会员。")

    def submit(self) -> bool:
        """Restore the chosen member; a refusal is shown in the dialog, which stays open."""
        item = self.members.currentItem()
        if item is None:
            self.error.setText("请先在列表中选中要恢复的会员。")
            return False
        hit = item.data(Qt.ItemDataRole.UserRole)
        for edit, what in ((self.basis, "恢复的依据"), (self.handler, "经办人")):
            if not edit.text().strip():
                self.error.setText(f"请填写{what}。")
                edit.setFocus()
                return False
        answer = QMessageBox.question(
            self, "恢复在册", f"将 {hit.name}（会员证号 {hit.member_no or '无'}）由"
            f"“{self.statuses.label_of(hit.status)}”恢复为“在册”？此操作记入操作日志。")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        try:
            change = restore(self.ctx.register, self.ctx.forms, record_id=hit.record_id,
                             basis=self.basis.text(), handler=self.handler.text(),
                             approver=self.approver.text(), batch=default_batch(),
                             actor=self.ctx.actor)
        except KnownError as err:
            self.error.setText(str(err))
            return False
        self.ctx.notify(Changes.RECORDS)
        self.ctx.status(f"{change.name}已恢复在册")
        self.accept()
        return True
