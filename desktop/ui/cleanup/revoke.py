"""The 撤销资格 page of 清理建议: the clerk lists members whose membership is revoked for a serious
violation (严重违法违纪) or as ineligible (不符合条件, with the notice's sub-reason), each with its
依据 and 审批人; 经办人 is the one of the whole 应用."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.forms import CodeTable
from desktop.domain.society.cleanup import INELIGIBLE, VIOLATION
from desktop.services.cleanup.propose import Decision
from desktop.ui.dialogs import guard_wheel

CATEGORIES = (("严重违法违纪", VIOLATION), ("不符合条件", INELIGIBLE))
_COLS = ("会员证号", "姓名（核对用）", "清理类别", "不符合条件情形", "依据", "审批人")


@dataclass(frozen=True)
class Revocation:
    member_no: str
    name: str
    target: str
    reason: str
    basis: str
    approver: str


class RevokePage(QWidget):
    """Entry row + list of revocations (a handful, typed by the clerk)."""

    changed = Signal()

    def __init__(self, reasons: CodeTable | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reasons = reasons
        self.items: list[Revocation] = []
        v = QVBoxLayout(self)
        hint = QLabel("撤销会员资格须有依据和审批人。会员证号重复登记时请先处理重复录入。"
                      "“不符合条件”须选择情形。")
        hint.setWordWrap(True)
        v.addWidget(hint)
        grid = QGridLayout()
        self.member_no = QLineEdit()
        self.member_no.setPlaceholderText("如 0024-000123")
        self.name = QLineEdit()
        self.name.setPlaceholderText("可不填")
        self.category = QComboBox()
        for label, code in CATEGORIES:
            self.category.addItem(label, code)
        self.reason = QComboBox()
        self.reason.addItem("", "")
        for c in (reasons.codes if reasons else ()):
            if not getattr(c, "deprecated", False):
                self.reason.addItem(c.label, c.code)
        guard_wheel(self.category, self.reason)
        self.basis = QLineEdit()
        self.basis.setPlaceholderText("如：某年某月被判处有期徒刑（某法院某号判决书）")
        self.approver = QLineEdit()
        self.category.currentIndexChanged.connect(self._category_changed)
        self._category_changed()
        for col, (label, widget) in enumerate((("会员证号", self.member_no), ("姓名", self.name),
                                               ("清理类别", self.category),
                                               ("不符合条件情形", self.reason))):
            grid.addWidget(QLabel(label), 0, col * 2)
            grid.addWidget(widget, 0, col * 2 + 1)
            widget.setAccessibleName(label)
        grid.addWidget(QLabel("依据"), 1, 0)
        grid.addWidget(self.basis, 1, 1, 1, 5)
        grid.addWidget(QLabel("审批人"), 1, 6)
        grid.addWidget(self.approver, 1, 7)
        self.basis.setAccessibleName("依据")
        self.approver.setAccessibleName("审批人")
        v.addLayout(grid)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        self.add_button = QPushButton("加入撤销名单")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_from_inputs)
        self.remove_button = QPushButton("移除所选")
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self.remove_selected)
        row = QGridLayout()
        row.addWidget(self.add_button, 0, 0)
        row.addWidget(self.remove_button, 0, 1)
        row.addWidget(self.error, 0, 2)
        row.setColumnStretch(2, 1)
        v.addLayout(row)
        self.table = QTableWidget(0, len(_COLS))
        self.table.setHorizontalHeaderLabels(list(_COLS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(False)
        for c, w in enumerate((130, 110, 110, 220, 380, 90)):
            self.table.setColumnWidth(c, w)
        v.addWidget(self.table, 1)

    def _category_changed(self) -> None:
        ineligible = self.category.currentData() == INELIGIBLE
        self.reason.setEnabled(ineligible)
        if not ineligible:
            self.reason.setCurrentIndex(0)

    def add_from_inputs(self) -> bool:
        """Add the entry row to the list; says what is missing instead."""
        no, basis = self.member_no.text().strip(), self.basis.text().strip()
        approver, target = self.approver.text().strip(), self.category.currentData()
        reason = self.reason.currentData() or ""
        missing = [label for label, value in (("会员证号", no), ("依据", basis), ("审批人", approver))
                   if not value]
        if target == INELIGIBLE and not reason:
            missing.append("不符合条件情形")
        if missing:
            self.error.setText("请填写：" + "、".join(missing))
            return False
        if any(r.member_no == no for r in self.items):
            self.error.setText(f"会员证号 {no} 已在撤销名单中")
            return False
        self.error.clear()
        self.add(Revocation(no, self.name.text().strip(), target, reason, basis, approver))
        for edit in (self.member_no, self.name, self.basis):
            edit.clear()
        self.member_no.setFocus()
        return True

    def add(self, rev: Revocation) -> None:
        self.items.append(rev)
        r = self.table.rowCount()
        self.table.insertRow(r)
        category = next(label for label, code in CATEGORIES if code == rev.target)
        reason = self.reasons.label_of(rev.reason) if self.reasons and rev.reason else ""
        for c, text in enumerate((rev.member_no, rev.name, category, reason, rev.basis,
                                  rev.approver)):
            self.table.setItem(r, c, QTableWidgetItem(text))
        self.changed.emit()

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedItems()}, reverse=True)
        for r in rows:
            self.table.removeRow(r)
            del self.items[r]
        self.changed.emit()

    def clear(self) -> None:
        self.items.clear()
        self.table.setRowCount(0)
        self.changed.emit()

    def count(self) -> int:
        return len(self.items)

    def decisions(self, handler: str, approver: str) -> list[Decision]:
        """The listed revocations as decisions (by 会员证号; the service resolves and checks)."""
        return [Decision(r.target, member_no=r.member_no, name=r.name, basis=r.basis,
                         handler=handler, approver=r.approver or approver, reason=r.reason,
                         row=f"撤销资格第 {i + 1} 行（{r.member_no}）")
                for i, r in enumerate(self.items)]
