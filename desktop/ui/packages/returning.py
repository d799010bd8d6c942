"""退回 with comments: the clerk picks a received record, reads its values (a read-only panel,
masked as the lists mask them) beside the comment being written, writes comments on the record or
on one of its fields (labels from the form; a click on a value picks its field), and writes the
signed return file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import KnownError
from desktop.services import packages as svc
from desktop.services.packages.records import (
    drafted_notes,
    package_records,
    read_records,
    shown_values,
)
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import fit_to_screen, guard_wheel
from desktop.ui.files import offer_folder, save_path

RETURN_FILTER = "退回文件 (*.djret)"
ID_ROLE = Qt.ItemDataRole.UserRole + 1
WHOLE = "（整条记录）"


class ReturnDialog(QDialog):
    """Comments on the records of one received package, then the signed return file."""

    def __init__(self, ctx: WindowContext, package_id: str, sender_name: str,
                 parent: QWidget | None = None, *, record_id: str | None = None) -> None:
        super().__init__(parent or ctx.widget)
        self.ctx, self.package_id, self.sender_name = ctx, package_id, sender_name
        self.forms = ctx.forms
        self.setWindowTitle(f"退回 {sender_name} 的数据包")
        self.setObjectName("returnDialog")
        self.comments: list[dict] = []  # record_id, form_id, name, field (label or ""), comment
        self.written: Path | None = None
        #: drafted while resolving conflicts: they go with this return, and cannot be removed
        self.drafts = drafted_notes(ctx.register, package_id)
        self.records = QListWidget()
        self.records.setObjectName("returnRecords")
        self.records.setAccessibleName("数据包中的记录")
        for rid, form_id, name in package_records(ctx.register, package_id):
            form = self.forms.forms.get(form_id)
            item = QListWidgetItem(f"{name}　{form.attachment or form.title if form else form_id}")
            item.setData(ID_ROLE, (rid, form_id, name))
            self.records.addItem(item)
        self.records.currentItemChanged.connect(self._record_changed)
        self.values = QTableWidget(0, 2)
        self.values.setObjectName("returnRecordValues")
        self.values.setAccessibleName("所选记录的内容")
        self.values.setHorizontalHeaderLabels(["栏目", "内容"])
        self.values.verticalHeader().setVisible(False)
        self.values.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.values.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.values.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.values.setWordWrap(True)
        self.values.setToolTip("所选记录报来的内容（身份证号、电话已部分遮蔽）。点一行，意见即针对该栏目")
        values_header = self.values.horizontalHeader()
        values_header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        values_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.values.cellClicked.connect(self._value_clicked)
        self.field = QComboBox()
        self.field.setObjectName("returnField")
        self.field.setAccessibleName("意见针对的栏目")
        self.field.currentIndexChanged.connect(lambda *_: self._mark_field())
        guard_wheel(self.field)
        self.text = QPlainTextEdit()
        self.text.setObjectName("returnComment")
        self.text.setAccessibleName("意见")
        self.text.setPlaceholderText("写明问题和要求，如“手机号码与花名册不一致，请核实”")
        self.text.setMaximumHeight(90)
        self.add_button = QPushButton("添加意见")
        self.add_button.clicked.connect(self.add_current)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("returnComments")
        self.table.setHorizontalHeaderLabels(["记录", "栏目", "意见"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.remove_button = QPushButton("删除所选意见")
        self.remove_button.clicked.connect(self.remove_selected)
        self.write_button = QPushButton("写出退回文件…")
        self.write_button.setObjectName("writeReturn")
        self.write_button.setDefault(True)
        self.write_button.clicked.connect(self.write)
        cancel = QPushButton("取消")
        cancel.clicked.connect(self.reject)

        left = QVBoxLayout()
        left.addWidget(QLabel("数据包中的记录："))
        left.addWidget(self.records, 1)
        middle = QVBoxLayout()
        middle.addWidget(QLabel("所选记录的内容："))
        middle.addWidget(self.values, 1)
        right = QVBoxLayout()
        right.addWidget(QLabel("意见针对的栏目："))
        right.addWidget(self.field)
        right.addWidget(QLabel("意见："))
        right.addWidget(self.text)
        right.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignRight)
        right.addWidget(QLabel("将随退回文件发出的意见："))
        right.addWidget(self.table, 1)
        top = QHBoxLayout()
        top.addLayout(left, 2)
        top.addLayout(middle, 3)
        top.addLayout(right, 3)
        bottom = QHBoxLayout()
        bottom.addWidget(self.remove_button)
        bottom.addStretch(1)
        bottom.addWidget(self.write_button)
        bottom.addWidget(cancel)
        intro = QLabel("选择一条记录，写下对整条记录或某个栏目的意见，逐条添加；写完后生成签名的退回文件"
                       "交给报送单位导入，意见会显示在其登记软件相应栏目的旁边。处理冲突时拟好的意见也"
                       "会一并退回。")
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top, 1)
        layout.addLayout(bottom)
        fit_to_screen(self, (980, 560))
        if self.records.count():
            self.records.setCurrentRow(0)
        if record_id:
            self.select_record(record_id)
        self._show_comments()

    def _record_changed(self, item: QListWidgetItem | None, _previous=None) -> None:
        self.field.clear()
        self.field.addItem(WHOLE, "")
        self._show_values(item)
        if item is None:
            return
        form = self.forms.forms.get(item.data(ID_ROLE)[1])
        for spec in form.fields if form else []:
            self.field.addItem(spec.label, spec.label)

    def _show_values(self, item: QListWidgetItem | None) -> None:
        """The selected record's fields as the lists show them (masked), read-only."""
        rid = item.data(ID_ROLE)[0] if item is not None else None
        view = read_records(self.ctx.register, self.forms, [rid]).get(rid) if rid else None
        rows = shown_values(self.forms, view) if view is not None else []
        self.values.setRowCount(len(rows))
        for row, (label, text) in enumerate(rows):
            for col, value in enumerate((label, text)):
                cell = QTableWidgetItem(value)
                cell.setToolTip(value)
                self.values.setItem(row, col, cell)
        self.values.resizeRowsToContents()

    def _value_clicked(self, row: int, _column: int) -> None:
        label = self.values.item(row, 0).text()
        index = self.field.findData(label)
        if index >= 0:
            self.field.setCurrentIndex(index)
        self.text.setFocus()

    def _mark_field(self) -> None:
        """Select the value row of the field the comment is about (none for the whole record)."""
        label = self.field.currentData() or ""
        for row in range(self.values.rowCount()):
            if self.values.item(row, 0).text() == label:
                self.values.selectRow(row)
                self.values.scrollToItem(self.values.item(row, 0))
                return
        self.values.clearSelection()

    def shown_record_values(self) -> dict[str, str]:
        """What the values panel shows: label → text."""
        return {self.values.item(r, 0).text(): self.values.item(r, 1).text()
                for r in range(self.values.rowCount())}

    def select_record(self, name_or_id: str) -> bool:
        """Select a record by its id or name; False when the package has no such record."""
        for i in range(self.records.count()):
            if name_or_id in self.records.item(i).data(ID_ROLE)[::2]:
                self.records.setCurrentRow(i)
                return True
        return False

    def add_current(self) -> bool:
        item = self.records.currentItem()
        text = self.text.toPlainText().strip()
        if item is None or not text:
            QMessageBox.information(self, "请写意见", "请先选择记录并写下意见。")
            return False
        rid, form_id, name = item.data(ID_ROLE)
        self.comments.append({"record_id": rid, "form_id": form_id, "name": name,
                              "field": self.field.currentData() or "", "comment": text})
        self.text.clear()
        self._show_comments()
        return True

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()},
                      reverse=True)
        for row in rows:
            if row >= len(self.drafts):
                del self.comments[row - len(self.drafts)]
        self._show_comments()

    def _show_comments(self) -> None:
        rows = [(name, label or "整条记录", f"{comment}（处理冲突时拟）")
                for name, label, comment in self.drafts]
        rows += [(c["name"], c["field"] or "整条记录", c["comment"]) for c in self.comments]
        self.table.setRowCount(len(rows))
        for row, texts in enumerate(rows):
            for col, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()

    def write(self) -> bool:
        """Ask where, then write the signed return file (the service stores the comments)."""
        if self.text.toPlainText().strip() and not self.add_current():
            return False
        out = save_path(self.ctx, "returns", "保存退回文件", f"退回-{self.sender_name}.djret",
                        RETURN_FILTER, self)
        if out is None:
            return False
        if out.suffix.lower() != ".djret":
            out = out.with_name(out.name + ".djret")
        comments = [{"record_id": c["record_id"], "comment": c["comment"],
                     **({"field": c["field"]} if c["field"] else {})} for c in self.comments]
        try:
            _p, written, target = svc.return_package(
                self.ctx.register, self.forms, self.package_id, comments or None, out,
                actor=self.ctx.actor)
        except KnownError as err:
            QMessageBox.warning(self, "未退回", str(err))
            return False
        self.written = target
        QMessageBox.information(
            self, "已退回", f"退回文件已保存到：\n{target}\n\n共 "
            f"{written.manifest['record_count']} 条意见。请把它交给 {self.sender_name} 导入"
            "（上报 → 导入退回意见…）。")
        self.ctx.status(f"已退回 {self.sender_name} 的数据包")
        offer_folder(self.ctx, target)
        self.accept()
        return True
