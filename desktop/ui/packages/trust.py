"""Trusting a new sender's key: the package's fingerprint in large type, and the clerk types the
one printed on the stamped paper cover; only when they match can the key be trusted."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.levels import LEVEL_NAMES
from desktop.exchange.format.keys import normalise_fingerprint
from desktop.ui.packages.export import fingerprint_label


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
