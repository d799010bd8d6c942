"""The two panels of the 导入Excel dialog: the column mapping (each workbook column with the
field it is imported as, in a combo box) and the findings of a check with their cells."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop.domain.forms import FormSpec
from desktop.services.intake import preview as ep
from desktop.services.intake.importing import blocks
from desktop.ui.dialogs import guard_wheel
from desktop.ui.excel.models import FindingRow, FindingsModel, finding_rows

ERROR_STYLE = "color: #c62828;"
NOTE_STYLE = "color: #555;"
OK_STYLE = "color: #2e7d32;"
NOT_CHECKED = "尚未检查。点“检查”按当前的栏目对应读取并校验全部记录（不会写入登记库）。"


def _auto_text(col: ep.PreviewColumn) -> str:
    if col.auto is not None:
        label = col.auto.spec.label if col.auto.group is None else col.auto.label
        return f"自动识别：{label}"
    if col.row_number:
        return "自动识别：不导入（序号）"
    return "自动识别：不导入（非本表栏目）" if col.header else "自动识别：不导入"


class MappingPanel(QGroupBox):
    """Each column of the sheet, its header and a combo box: 自动识别 (what the header names),
    不导入, or any field of the form. Below: what is wrong with the mapping, and the columns
    that are not imported."""

    changed = Signal()

    def __init__(self, form: FormSpec, parent=None) -> None:
        super().__init__("栏目对应（可修改）", parent)
        self.form = form
        self.preview: ep.WorkbookPreview | None = None
        self.chosen: dict[int, str | None] = {}  # column → None 自动识别, "" 不导入, field path
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("excelMapping")
        self.table.setAccessibleName("栏目对应")
        self.table.setHorizontalHeaderLabels(["列", "工作簿中的表头", "导入为"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(2, 240)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setAccessibleName("对应问题")
        self.extra = QLabel()
        self.extra.setWordWrap(True)
        self.extra.setStyleSheet(NOTE_STYLE)
        col = QVBoxLayout(self)
        col.addWidget(self.table, 1)
        col.addWidget(self.problems)
        col.addWidget(self.extra)

    def set_preview(self, preview: ep.WorkbookPreview) -> None:
        self.preview, self.chosen = preview, {}
        choices = ep.field_choices(self.form)
        self.table.setRowCount(len(preview.columns))
        for row, col in enumerate(preview.columns):
            self.table.setItem(row, 0, QTableWidgetItem(col.letter))
            header = QTableWidgetItem(col.header or "（无表头）")
            header.setToolTip(col.header)
            self.table.setItem(row, 1, header)
            box = QComboBox()
            box.setObjectName(f"mapping:{col.letter}")
            box.setAccessibleName(f"列 {col.letter} 导入为")
            box.addItem(_auto_text(col), None)
            box.addItem("不导入", ep.SKIP)
            for path, label in choices:
                box.addItem(label, path)
            box.setMaxVisibleItems(20)
            guard_wheel(box)  # the wheel scrolls the table, never changes a column's mapping
            box.currentIndexChanged.connect(lambda _i, c=col.index, b=box: self._choose(c, b))
            self.table.setCellWidget(row, 2, box)
        self.table.resizeRowsToContents()
        self._show()

    def combo(self, letter: str) -> QComboBox:
        """The combo box of a workbook column ("D")."""
        assert self.preview is not None
        row = next(i for i, c in enumerate(self.preview.columns) if c.letter == letter)
        return self.table.cellWidget(row, 2)

    def _choose(self, column: int, box: QComboBox) -> None:
        self.chosen[column] = box.currentData()
        self._show()
        self.changed.emit()

    def errors(self) -> list[str]:
        if self.preview is None or not self.preview.has_header:
            return ["没有表头行"]
        return ep.mapping_problems(self.form, self.preview, self.chosen)[0]

    def mapping(self) -> dict[int, str | None]:
        """What the check and the import are given (the columns changed by hand)."""
        assert self.preview is not None
        return ep.effective_mapping(self.preview, self.chosen)

    def _show(self) -> None:
        preview = self.preview
        assert preview is not None
        if not preview.has_header:
            self.problems.setStyleSheet(ERROR_STYLE)
            self.problems.setText(f"工作表“{preview.sheet}”的前 30 行中没有表头行（写着栏目名称的"
                                  f"一行），无法导入。请选择其他工作表，或在数据上方加上栏目名称。")
            self.extra.setText("")
            return
        errors, notes = ep.mapping_problems(self.form, preview, self.chosen)
        if errors:
            self.problems.setStyleSheet(ERROR_STYLE)
            self.problems.setText("● " + "\n● ".join(errors))
        else:
            self.problems.setStyleSheet(OK_STYLE)
            self.problems.setText("每个必填栏目都有对应的列，没有重复对应。")
        self.extra.setText(("以下列不是本表的栏目，不导入：" + "；".join(
            n.removesuffix("不导入") for n in notes)) if notes else "")


class FindingsPanel(QGroupBox):
    """What a check found: a verdict in one sentence, and every finding with its sheet, cell,
    field and message (blocking errors first; a filter shows only them)."""

    def __init__(self, form: FormSpec, parent=None) -> None:
        super().__init__("检查结果", parent)
        self.form = form
        self.all_rows: list[FindingRow] = []
        self.model = FindingsModel(self)
        self.view = QTableView()
        self.view.setObjectName("excelFindings")
        self.view.setAccessibleName("检查结果")
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.setWordWrap(False)
        self.view.horizontalHeader().setStretchLastSection(True)
        for i, width in enumerate((96, 90, 64, 150)):
            self.view.setColumnWidth(i, width)
        self.summary = QLabel(NOT_CHECKED)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("检查结论")
        self.only_blocking = QCheckBox("只看不能导入的错误")
        self.only_blocking.setToolTip("隐藏警告、提示和跨表校验的错误（它们不影响导入）")
        self.only_blocking.toggled.connect(self._filter)
        col = QVBoxLayout(self)
        line = QHBoxLayout()
        line.addWidget(self.summary, 1)
        line.addWidget(self.only_blocking, 0, Qt.AlignmentFlag.AlignTop)
        col.addLayout(line)
        col.addWidget(self.view, 1)

    def clear(self, text: str = NOT_CHECKED) -> None:
        self.all_rows = []
        self.model.set_rows([])
        self.summary.setStyleSheet("")
        self.summary.setText(text)

    def show_results(self, results: Sequence, mapping_errors: list[str]) -> None:
        self.all_rows = finding_rows(self.form, results)
        self._filter()
        refused = sum(1 for r in results if blocks(r))
        cross = sum(1 for f in self.all_rows if f.severity == "E" and not f.blocking)
        later = (f"另有 {cross:,} 处跨表校验的错误（如所在党组织尚未登记），不影响导入，"
                 f"上报前需解决。") if cross else ""
        warned = sum(1 for r in results if any(f.severity == "W" for f in r.findings))
        total = len(results)
        if refused:
            self.summary.setStyleSheet(ERROR_STYLE)
            self.summary.setText(
                f"共 {total:,} 条记录，其中 {refused:,} 条有错误（红色），不能导入：导入是全部或"
                f"全不。请改正后重新检查；可点“保存标注的工作簿…”得到一份标出问题单元格的工作簿，"
                f"在 Excel 或 WPS 中改正。{later}")
        elif mapping_errors:
            self.summary.setStyleSheet(ERROR_STYLE)
            self.summary.setText(f"共 {total:,} 条记录。请先解决上面的栏目对应问题。")
        else:
            self.summary.setStyleSheet(OK_STYLE)
            tail = f"，{warned:,} 条有警告（黄色），导入后可在表中逐条确认" if warned else "，没有问题"
            self.summary.setText(f"共 {total:,} 条记录，都可以导入{tail}。{later}点“导入”写入登记库。")

    def _filter(self) -> None:
        rows = self.all_rows
        if self.only_blocking.isChecked():
            rows = [r for r in rows if r.blocking]
        self.model.set_rows(list(rows))
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
