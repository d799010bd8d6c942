"""Trusting a new sender's key: the package's fingerprint in large type, and the clerk types the
one printed on the stamped paper cover; only when they match can the key be trusted. Rotating
the own key (换钥…; revoking a unit's lost key is in revoking.py)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.levels import LEVEL_NAMES
from desktop.errors import KnownError
from desktop.exchange.format.keys import normalise_fingerprint
from desktop.services import packages as svc
from desktop.services.packages import keys
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import fit_to_screen
from desktop.ui.packages.export import fingerprint_label
from desktop.ui.packages.revoking import careful_buttons


class TrustDialog(QDialog):
    """Compare a new sender's fingerprint with its paper cover; `typed()` is what was typed."""

    def __init__(self, unit_name: str, unit_code: str, level: str, fingerprint: str,
                 file_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("核对新报送单位的公钥")
        self.setObjectName("trustDialog")
        self.fingerprint = fingerprint
        intro = QLabel(
            f"{file_name} 来自 <b>{unit_name}</b>（{LEVEL_NAMES.get(level, level)}，"
            f"代码 {unit_code}），本登记库还没有核对过这个单位的公钥。<br><br>"
            "请拿出该单位报送的<b>盖章纸质封面</b>，逐组对照封面上印的公钥指纹与下面的指纹：")
        intro.setWordWrap(True)
        ask = QLabel("把纸质封面上印的指纹输入到下面（大小写、空格均可）。两者一致时才能信任；"
                     "不一致说明数据包可能是伪造的，请勿信任，并与该单位联系。")
        ask.setWordWrap(True)
        self.entry = QLineEdit()
        self.entry.setObjectName("typedFingerprint")
        self.entry.setAccessibleName("纸质封面上的公钥指纹")
        self.entry.setPlaceholderText("如 3F2A 9C01 …（64 位十六进制数字）")
        self.entry.textChanged.connect(self._compare)
        self.verdict = QLabel()
        self.verdict.setObjectName("trustVerdict")
        self.verdict.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.trust_button = self.buttons.addButton("指纹一致，信任此单位",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = self.buttons.addButton("不信任", QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(fingerprint_label(fingerprint))
        layout.addWidget(ask)
        layout.addWidget(self.entry)
        layout.addWidget(self.verdict)
        layout.addWidget(self.buttons)
        self._compare("")
        self.setMinimumWidth(720)
        self.adjustSize()

    def typed(self) -> str:
        return self.entry.text()

    def matches(self) -> bool:
        return normalise_fingerprint(self.entry.text()) == self.fingerprint

    def _compare(self, text: str) -> None:
        ok = self.matches()
        self.trust_button.setEnabled(ok)
        if ok:
            self.verdict.setText('<span style="color:#2e7d32">与数据包中的指纹一致。</span>')
        elif not text.strip():
            self.verdict.setText("尚未输入。")
        elif normalise_fingerprint(text) is None:
            self.verdict.setText('<span style="color:#555">尚未输入完整（应为 64 位十六进制数字）。'
                                 '</span>')
        else:
            self.verdict.setText('<span style="color:#c62828">与数据包中的指纹不一致：请勿信任。'
                                 '</span>')


class RotateKeyDialog(QDialog):
    """换钥…: what a rotation does, the key in force now; 换钥 makes the new pair."""

    def __init__(self, fingerprint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("换钥")
        self.setObjectName("rotateKeyDialog")
        text = QLabel(
            "生成本单位新的签名密钥和加密密钥，并由<b>现在的公钥</b>签署一份换钥声明。"
            "声明随本单位下一个数据包上报，上级据此改用新公钥，<b>无需重新核对纸质封面</b>。<br><br>"
            "适用于经办人或书记更换、担心密钥被人复制等情况。旧私钥仍保存在本登记库中，"
            "只用来打开以前的数据包，不再签名。<br>"
            "如果登记库或电脑已经丢失，换钥没有用：请使用新的登记库，并请上级吊销旧公钥。<br><br>"
            "现在的公钥指纹：")
        text.setWordWrap(True)
        after = QLabel("换钥后请重新写出公钥文件、打印新的封面存档。")
        after.setWordWrap(True)
        buttons, self.rotate_button = careful_buttons(self, "换钥", "rotateKeyConfirm")
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(fingerprint_label(fingerprint))
        layout.addWidget(after)
        layout.addWidget(buttons)
        fit_to_screen(self, (720, 330))


def rotate_own_key(ctx: WindowContext) -> bool:
    """换钥…: ask, then replace the own key pair (services.packages.keys.rotate_key)."""
    dialog = RotateKeyDialog(svc.own_public_key(ctx.register).fingerprint, ctx.widget)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    try:
        statement = keys.rotate_key(ctx.register, actor=ctx.actor)
    except KnownError as err:
        QMessageBox.warning(ctx.widget, "未换钥", str(err))
        return False
    QMessageBox.information(
        ctx.widget, "已换钥",
        f"已换钥。\n旧公钥指纹：{statement.old_fingerprint}\n新公钥指纹：{statement.new_fingerprint}"
        "\n\n换钥声明随下一个数据包上报，上级据此改用新公钥。请写出新的公钥文件（上报 → 本单位公钥…）"
        "并打印新的封面存档。")
    ctx.status(f"已换钥，新公钥指纹 {statement.new_fingerprint}")
    return True
