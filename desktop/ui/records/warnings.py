"""The dialog of 标记完成 with warnings: each warning (W) confirmed with a reason."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.findings import Finding
from desktop.domain.forms import FormSpec


class WarningsDialog(QDialog):
    """Each warning (W) needs a reason before the record is submitted."""

    def __init__(self, form: FormSpec, warnings: list[Finding],
                 reasons: dict[tuple[str, str], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningsDialog")
        self.setWindowTitle("确认警告")
        self.warnings = warnings
        intro = QLabel("以下警告（W）需要逐条确认：请写明理由（例如“经核实，延长预备期一年”）。"
                       "理由会保存并随数据报送上级。")
        intro.setWordWrap(True)
        body = QWidget()
        form_layout = QFormLayout(body)
        self.inputs: dict[tuple[str, str], QLineEdit] = {}
        for w in warnings:
            label = QLabel(f"<b>{form.label_of(w.field) or '整条记录'}</b>：{w.message}")
            label.setWordWrap(True)
            reason = QLineEdit(reasons.get((w.field, w.code), ""))
            reason.setPlaceholderText("确认理由")
            reason.setAccessibleName(f"确认理由：{form.label_of(w.field)}")
            reason.setAccessibleDescription(w.message)
            reason.textChanged.connect(self._update)
            form_layout.addRow(label)
            form_layout.addRow("理由", reason)
            self.inputs[(w.field, w.code)] = reason
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("确认并标记完成")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("返回修改")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        self.resize(600, min(160 + 90 * len(warnings), 560))
        self._update()

    def _update(self) -> None:
        ok = all(w.text().strip() for w in self.inputs.values())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def reasons(self) -> dict[tuple[str, str], str]:
        return {key: w.text().strip() for key, w in self.inputs.items()}
