"""The dialog shown when another clerk saved the record being edited (issue 18, optimistic
concurrency): who and when, every field that differs side by side, and the clerk's choice —
keep theirs typed here (saved again on the new revision) or take the other clerk's."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.forms import FormSpec
from desktop.domain.values import display_value
from desktop.storage.concurrency import RecordChanged
from desktop.ui.dialogs import fit_to_screen

#: done() codes of the dialog
KEEP_MINE, TAKE_THEIRS = 1, 2


def shown(form: FormSpec, field_id: str, value: Any) -> str:
    """A stored value as the editor would show it ("（空）" for none)."""
    if value in (None, "", []):
        return "（空）"
    try:
        return display_value(form.field(field_id), value) or "（空）"
    except (KeyError, ValueError, TypeError, AttributeError):
        return str(value)


class ConflictDialog(QDialog):
    """此记录已被<角色>于<时间>修改: the differences, and 保留我的 / 采用对方的."""

    def __init__(self, form: FormSpec, conflict: RecordChanged, mine: dict[str, Any],
                 parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("record_conflict")
        self.setWindowTitle("记录已被他人修改")
        layout = QVBoxLayout(self)
        lead = QLabel(f"此记录已被 {conflict.by} 于 {conflict.at} 修改（现为第 {conflict.revision}"
                      " 版），与您正在编辑的内容有以下不同。请选择保留哪一边；"
                      "两边的内容在选择之前都不会丢失。")
        lead.setWordWrap(True)
        lead.setObjectName("conflict_lead")
        layout.addWidget(lead)
        rows = conflict.differences(mine)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setObjectName("conflict_fields")
        self.table.setHorizontalHeaderLabels(["栏目", "您正在编辑的", f"{conflict.by} 保存的"])
        for i, (field_id, my_value, their_value) in enumerate(rows):
            try:
                label = form.label_of(field_id)
            except KeyError:
                label = field_id
            for j, text in enumerate((label, shown(form, field_id, my_value),
                                      shown(form, field_id, their_value))):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        keep = QPushButton("保留我的修改（在新版本上重新保存）", self)
        keep.setObjectName("conflict_keep_mine")
        keep.clicked.connect(lambda: self.done(KEEP_MINE))
        take = QPushButton("采用对方的修改", self)
        take.setObjectName("conflict_take_theirs")
        take.clicked.connect(lambda: self.done(TAKE_THEIRS))
        buttons.addWidget(keep)
        buttons.addWidget(take)
        layout.addLayout(buttons)
        fit_to_screen(self, (760, 420))
