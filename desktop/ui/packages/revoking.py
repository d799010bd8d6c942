"""收件看板 → 吊销公钥…: a lost or stolen signing key of a unit below is refused from a date
(services.packages.keys.revoke_key); the revocation travels upward with the next package."""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import KnownError
from desktop.services.packages import keys
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import fit_to_screen, guard_wheel


class RevokeKeyDialog(QDialog):
    """吊销公钥…: which key of the unit, and from which day packages it signs are refused."""

    def __init__(self, unit_name: str, unit_code: str, known: list[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("吊销公钥")
        self.setObjectName("revokeKeyDialog")
        intro = QLabel(
            f"吊销 <b>{unit_name}</b>（代码 {unit_code}）丢失或被盗的签名公钥：自所选日期起用它签名的"
            "数据包一律拒绝；吊销随本单位下一个数据包上报，上级各级同样拒绝。<br><br>"
            "日期宜选<b>确知密钥仍安全的最后一天</b>（如电脑丢失的前一天），而不是发现丢失的那天："
            "持有被盗密钥的人可以把数据包的生成时间写早，只有早于所选日期的才会被接受。<br>"
            "请该单位换用新的登记库，并对照其新的盖章封面核对新公钥（核对并信任公钥文件…）。")
        intro.setWordWrap(True)
        self.key = QComboBox()
        self.key.setObjectName("revokeKeyChoice")
        self.key.setAccessibleName("要吊销的公钥指纹")
        self.key.setEditable(not known)  # none known here: the fingerprint is typed
        self.key.addItems(known)
        self.since = QDateEdit(QDate.currentDate())
        self.since.setObjectName("revokeFrom")
        self.since.setAccessibleName("吊销起始日期")
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("yyyy-MM-dd")
        guard_wheel(self.key, self.since)
        form = QFormLayout()
        form.addRow("公钥指纹：", self.key)
        form.addRow("自此日期起吊销：", self.since)
        buttons, self.revoke_button = careful_buttons(self, "吊销", "revokeKeyConfirm")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        fit_to_screen(self, (760, 360))

    def chosen(self) -> tuple[str, str]:
        """(fingerprint, date as YYYY-MM-DD)."""
        return self.key.currentText().strip(), self.since.date().toString("yyyy-MM-dd")


def careful_buttons(dialog: QDialog, label: str, name: str
                    ) -> tuple[QDialogButtonBox, QPushButton]:
    """取消 (the default: Enter does nothing harmful) and the button that does it, named."""
    buttons = QDialogButtonBox()
    act = buttons.addButton(label, QDialogButtonBox.ButtonRole.AcceptRole)
    act.setObjectName(name)
    buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole).setDefault(True)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons, act


def revoke_unit_key(ctx: WindowContext, code: str, name: str, parent: QWidget) -> bool:
    """吊销公钥… of a unit below (the 收件看板's selected row)."""
    dialog = RevokeKeyDialog(name, code, keys.unit_keys(ctx.register, code), parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    fp, day = dialog.chosen()
    try:
        r = keys.revoke_key(ctx.register, code, keys.parse_from(day), fp or None,
                            actor=ctx.actor)
    except KnownError as err:
        QMessageBox.warning(parent, "未吊销", str(err))
        return False
    ctx.notify(Changes.ALL)
    ctx.status(f"已吊销 {name} 的公钥 {r.fingerprint}（自 {day} 起）")
    return True
