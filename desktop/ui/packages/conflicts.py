"""冲突: the open conflicts (the same person from two senders), both versions side by side, and
the three resolutions: keep one, keep both with a note, return to one sender."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.states import word
from desktop.errors import KnownError
from desktop.exchange.conflicts import ACTION_NAMES, ConflictView
from desktop.services import packages as svc
from desktop.services.packages.records import read_records, shown_values
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import fit_to_screen
from desktop.ui.packages.returning import ReturnDialog

DIFFERENT = "#fff3e0"


class ConflictsDialog(QDialog):
    """The open conflicts of the register, one at a time, side by side."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setWindowTitle("重复登记冲突")
        self.setObjectName("conflicts")
        self.conflicts: list[ConflictView] = []
        self.list = QListWidget()
        self.list.setObjectName("conflictList")
        self.list.setAccessibleName("未处理的冲突")
        self.list.currentRowChanged.connect(self._show)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("conflictTable")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.note = QLineEdit()
        self.note.setObjectName("conflictNote")
        self.note.setAccessibleName("处理说明")
        self.note.setPlaceholderText("说明（两条都保留时必填，如“同一人在两所兼职，已核实”；"
                                     "退回时作为退回意见）")
        self.buttons: dict[str, QPushButton] = {}
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        for action, row in (("keep_a", row1), ("keep_b", row1), ("keep_both", row1),
                            ("return_a", row2), ("return_b", row2)):
            button = QPushButton(ACTION_NAMES[action])
            button.setObjectName(f"resolve:{action}")
            button.clicked.connect(lambda _c=False, a=action: self.resolve(a))
            row.addWidget(button)
            self.buttons[action] = button
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        row2.addStretch(1)
        row2.addWidget(close)
        right = QWidget()
        col = QVBoxLayout(right)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.heading)
        col.addWidget(self.table, 1)
        col.addWidget(QLabel("处理说明："))
        col.addWidget(self.note)
        col.addLayout(row1)
        col.addLayout(row2)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setSizes([280, 820])
        self.empty = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(splitter, 1)
        fit_to_screen(self, (1120, 600))
        self.reload()

    def reload(self) -> None:
        self.conflicts = svc.list_conflicts(self.ctx.register)
        self.list.clear()
        for c in self.conflicts:
            self.list.addItem(QListWidgetItem(f"{c.id}．{c.name_a} / {c.name_b}（{c.what}相同）"))
        self.empty.setText(f"未处理的冲突 {len(self.conflicts)} 个。同一人出现在两个单位报送的"
                           "记录中：请对照两边的内容，选择保留哪一条、两条都保留（写明理由），"
                           "或退回其中一个报送单位。" if self.conflicts else
                           "没有未处理的冲突。")
        for b in self.buttons.values():
            b.setEnabled(bool(self.conflicts))
        if self.conflicts:
            self.list.setCurrentRow(0)
        else:
            self.table.setRowCount(0)
            self.heading.clear()

    def current(self) -> ConflictView | None:
        row = self.list.currentRow()
        return self.conflicts[row] if 0 <= row < len(self.conflicts) else None

    def _show(self, row: int) -> None:
        c = self.current()
        if c is None:
            return
        records = read_records(self.ctx.register, self.ctx.forms,
                               [c.record_a, c.record_b])
        a, b = records.get(c.record_a), records.get(c.record_b)
        self.heading.setText(f"冲突 {c.id}：两条记录的{c.what}相同。甲是先登记的记录，乙是后收到的记录。")
        self.table.setHorizontalHeaderLabels(["栏目", f"甲：{c.unit_a}", f"乙：{c.unit_b}"])
        left = dict(shown_values(self.ctx.forms, a)) if a else {}
        right = dict(shown_values(self.ctx.forms, b)) if b else {}
        labels = list(left) + [k for k in right if k not in left]
        rows = [("状态", word(a.state) if a else "（已删除）", word(b.state) if b else "（已删除）")]
        rows += [(label, left.get(label, ""), right.get(label, "")) for label in labels
                 if left.get(label) or right.get(label)]
        self.table.setRowCount(len(rows))
        for i, (label, x, y) in enumerate(rows):
            for j, text in enumerate((label, x, y)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if j and x != y:
                    item.setBackground(QColor(DIFFERENT))
                self.table.setItem(i, j, item)
        self.table.resizeRowsToContents()

    def resolve(self, action: str) -> bool:
        c = self.current()
        if c is None:
            return False
        try:
            svc.resolve_conflict(self.ctx.register, c.id, action, self.note.text(),
                                 actor=self.ctx.actor)
        except KnownError as err:
            QMessageBox.warning(self, "冲突未处理", str(err))
            return False
        self.note.clear()
        done = ACTION_NAMES[action]
        if action.startswith("return"):
            done += "：意见已拟好，随该单位数据包的退回文件发出"
        self.ctx.status(f"冲突 {c.id} 已处理（{done}）")
        self.ctx.notify(Changes.ALL)
        self.reload()
        if action.startswith("return"):
            self.offer_return(c.record_a if action == "return_a" else c.record_b)
        return True

    def offer_return(self, record_id: str) -> bool:
        """After "return to its sender": write that package's return file now, if wanted."""
        record = read_records(self.ctx.register, self.ctx.forms, [record_id]).get(
            record_id)
        if record is None or record.package_id is None:
            return False
        answer = QMessageBox.question(
            self, "退回数据包", f"意见已拟好。现在就退回 {record.unit_name} 的数据包吗？"
            "（也可以稍后在收件看板中退回，拟好的意见会一并发出。）")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        dialog = ReturnDialog(self.ctx, record.package_id, record.unit_name, self,
                              record_id=record_id)
        return bool(dialog.exec())
