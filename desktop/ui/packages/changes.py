"""变化清单: what changed between a unit's packages (定期更新), opened from the 收件看板 for the
selected unit before accepting, and from the export dialog for the own unit's changes since its
last package. Read on a worker (the packages are opened and compared there); shown masked, one
row per changed field, filtered by kind, and exported to Excel."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
)
from shiboken6 import isValid

from desktop.errors import KnownError
from desktop.exchange.changes import ADDED, KINDS, REMOVED, sentence, summed
from desktop.progress import Progress
from desktop.services.packages.changes import (
    DETAIL_COLUMNS,
    ChangeReport,
    changes_report,
    detail_rows,
    write_workbook,
)
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import fit_to_screen, guard_wheel
from desktop.ui.files import offer_folder, save_path
from desktop.ui.operations import Operation
from desktop.ui.rows import RowsModel
from desktop.ui.style import MARK_COLOURS

XLSX_FILTER = "Excel 工作簿 (*.xlsx)"
COLUMNS = tuple(c for c, _ in DETAIL_COLUMNS)
KIND = COLUMNS.index("变化")
KIND_COLOURS = {ADDED: "#2e7d32", REMOVED: MARK_COLOURS["E"]}
ALL = "全部"


class ChangesModel(RowsModel):
    """detail_rows: one row per changed field (unit, form, change, name, reason, field, old,
    new, record id)."""

    def __init__(self, parent=None) -> None:
        super().__init__(COLUMNS, parent)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.ForegroundRole and index.isValid()
                and index.column() == KIND):
            colour = KIND_COLOURS.get(self.rows[index.row()][KIND])
            return QColor(colour) if colour else None
        return super().data(index, role)


class ChangesDialog(QDialog):
    """The change list of unit `code` (None: the own unit's changes since its last package)."""

    def __init__(self, ctx: WindowContext, code: str | None, name: str = "") -> None:
        super().__init__(ctx.widget)
        self.ctx, self.code = ctx, code
        self.report: ChangeReport | None = None
        self.all_rows: list[tuple] = []
        self.setObjectName("changes")
        self.setWindowTitle(f"变化清单 — {name}" if name else "本单位上次上报以来的变化")
        self.heading = QLabel("正在比较数据包…")
        self.heading.setObjectName("changesHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.carried = QLabel()
        self.carried.setObjectName("changesCarried")
        self.carried.setWordWrap(True)
        self.carried.hide()
        self.kind = QComboBox()
        self.kind.setObjectName("changesKind")
        self.kind.setAccessibleName("显示哪类变化")
        self.kind.addItems([ALL, *KINDS])
        self.kind.currentIndexChanged.connect(lambda *_: self.show_rows())
        guard_wheel(self.kind)
        self.shown_label = QLabel()
        self.model = ChangesModel(self)
        self.view = QTableView()
        self.view.setObjectName("changesTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in enumerate((150, 150, 50, 80, 280, 120, 130, 130)):
            header.resizeSection(col, width)
        self.view.setWordWrap(False)
        self.export_button = QPushButton("导出 Excel…")
        self.export_button.setObjectName("changesExport")
        self.export_button.setToolTip("把变化清单（汇总和逐项明细）导出为 Excel 工作簿；号码部分遮蔽")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(lambda: self.export_excel())
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("显示："))
        bar.addWidget(self.kind)
        bar.addStretch(1)
        bar.addWidget(self.shown_label)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("身份证号码、电话号码已部分遮蔽，出生日期只显示年月。"))
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.carried)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        fit_to_screen(self, (1280, 600))
        self.load()

    def load(self) -> None:
        """Compare on a worker; the list fills when it is done."""
        def task():
            yield Progress(0, 1, "比较数据包")
            return changes_report(self.ctx.register, self.ctx.forms, self.code)

        Operation(self.ctx, task, title="无法比较数据包").success(self.show_report) \
            .failure(self.failed).run()

    def failed(self, message: str) -> None:
        if isValid(self):  # (closed meanwhile: nothing to show)
            self.heading.setText(f"无法比较：{message}")

    def show_report(self, report: ChangeReport) -> None:
        if not isValid(self):
            return
        self.report = report
        self.heading.setText(report.heading)
        if report.carried is not None:
            units = summed(report.carried)
            self.carried.setText("报送单位随数据包自报的变化：" + (
                "；".join(f"{code} {sentence(u['added'], u['removed'], u['changed'])}"
                         for code, u in sorted(units.items())) or "没有变化"))
            self.carried.show()
        self.all_rows = detail_rows(report, self.ctx.forms)
        self.export_button.setEnabled(report.comparison is not None
                                      and bool(report.comparison.changes))
        self.show_rows()

    def show_rows(self) -> None:
        which = self.kind.currentText()
        rows = [r for r in self.all_rows if which == ALL or r[KIND] == which]
        self.model.set_rows(rows)
        records = len({r[-1] for r in rows})
        self.shown_label.setText(f"{records} 条记录，{len(rows)} 行")

    def export_excel(self, path: Path | None = None) -> Path | None:
        if self.report is None or self.report.comparison is None:
            return None
        if path is None:
            path = save_path(self.ctx, "excel", "导出变化清单",
                             f"变化清单-{self.report.unit_code}-{datetime.now():%Y%m%d}.xlsx",
                             XLSX_FILTER, self)
            if path is None:
                return None
        try:
            out = write_workbook(self.ctx.register, self.ctx.forms, self.report, path,
                                 actor=self.ctx.actor)
        except (KnownError, OSError) as err:
            QMessageBox.warning(self, "未导出", f"变化清单未导出：{err}")
            return None
        self.ctx.status(f"已导出变化清单到 {out.name}")
        offer_folder(self.ctx, out)
        return out


def own_changes_into(ctx: WindowContext, label: QLabel) -> None:
    """Say in `label` what the own unit's next package changes (compared on a worker)."""
    def task():
        yield Progress(0, 1, "比较上次上报以来的变化")
        return changes_report(ctx.register, ctx.forms, None)

    def show(report: ChangeReport) -> None:
        if isValid(label):
            label.setText(report.message if report.comparison is None else (
                f"本次上报与上一个数据包（{report.before.describe()}）相比："
                f"{report.comparison.sentence()}。点“本次变化…”查看逐条明细。"))

    def failed(message: str) -> None:
        if isValid(label):
            label.setText(f"无法比较上次上报以来的变化：{message}")

    Operation(ctx, task, title="无法比较数据包").success(show).failure(failed).run()
