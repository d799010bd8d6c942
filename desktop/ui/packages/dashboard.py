"""收件看板: expected units against received, late, returned and accepted, with record and issue
counts per unit, in a sortable table that filters (未收到, 逾期, 待审核, 有冲突) and searches by
unit name or code, and exports what it shows to Excel; the expected list imported from Excel or
typed; accept or return a unit's package from here. `confirm_outstanding` tells the clerk, before
上报, which expected units are not received or not accepted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import KnownError
from desktop.exchange.dashboard import FILTERS, UnitStatus, outstanding, shown
from desktop.services import packages as svc
from desktop.services.packages.review import export_dashboard
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import fit_to_screen, guard_wheel, show_one
from desktop.ui.files import offer_folder, open_path, save_path
from desktop.ui.packages.changes import ChangesDialog
from desktop.ui.packages.returning import ReturnDialog
from desktop.ui.packages.revoking import revoke_unit_key
from desktop.ui.records.reviewer import grey_out
from desktop.ui.rows import RowsModel
from desktop.ui.style import MARK_COLOURS

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
UNITS_FILTER = "单位名单 (*.xlsx *.xls *.csv *.jsonl);;所有文件 (*)"
XLSX_FILTER = "Excel 工作簿 (*.xlsx)"
#: how many missing units the 上报 warning names before it says "等 n 个"
NAMED_MISSING = 15
COLUMNS = ("单位代码", "单位名称", "应报", "截止日期", "状态", "逾期", "序号", "收到时间", "记录数",
           "错误", "警告", "冲突", "未答复意见", "本次变化")
CODE, NAME, EXPECTED, DEADLINE, STATUS, LATE, SEQUENCE, RECEIVED, RECORDS, ERRORS, WARNINGS, \
    CONFLICTS, COMMENTS, CHANGES = range(len(COLUMNS))
#: the 本次变化 column's tooltip: whose word it is, and where the list is
CHANGES_TIP = "报送单位随数据包自报的、与其上一个数据包相比的变化；逐条明细见“变化清单…”"
STATUS_COLOURS = {"已接收": "#1565c0", "已退回": "#c62828", "未收到": "#6d6d6d"}


class DashboardModel(RowsModel):
    """The dashboard's rows (UnitStatus); SORT_ROLE gives raw values for sorting."""

    rows: list[UnitStatus]

    def __init__(self, parent=None) -> None:
        super().__init__(COLUMNS, parent)

    def raw(self, row: UnitStatus, col: int) -> Any:
        return (row.code, row.name, row.expected, row.deadline or "", row.status, row.late,
                row.sequence or 0, row.received_at.isoformat() if row.received_at else "",
                row.records, row.errors, row.warnings, row.conflicts, row.open_comments,
                row.changes)[col]

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.ToolTipRole and section == CHANGES \
                and orientation == Qt.Orientation.Horizontal:
            return f"新增、减少、修改的条数；减少的原因见单元格的提示。\n{CHANGES_TIP}"
        return super().headerData(section, orientation, role)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], index.column()
        if role == SORT_ROLE:
            value = self.raw(row, col)
            return int(value) if isinstance(value, bool) else value
        if role == Qt.ItemDataRole.ToolTipRole and col == CHANGES and row.changes:
            return f"{row.changes}\n{CHANGES_TIP}"
        if role == Qt.ItemDataRole.DisplayRole and col == CHANGES:
            return counts_only(row.changes)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self.raw(row, col)
            if col == EXPECTED:
                return "应报" if value else "名单外"
            if col == LATE:
                return "逾期" if value else ""
            if col == SEQUENCE:
                return str(value) if value else ""
            if col == RECEIVED:
                return local_time(row.received_at)
            if col in (RECORDS, ERRORS, WARNINGS, CONFLICTS, COMMENTS):
                return str(value) if row.package_id else ""
            return value
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == LATE and row.late:
                return QColor(MARK_COLOURS["E"])
            if col == STATUS:
                return QColor(STATUS_COLOURS.get(row.status, "#2e7d32"))
            if col == ERRORS and row.errors:
                return QColor(MARK_COLOURS["E"])
            if col == WARNINGS and row.warnings:
                return QColor(MARK_COLOURS["W"])
            if col == CONFLICTS and row.conflicts:
                return QColor(MARK_COLOURS["E"])
        if role == Qt.ItemDataRole.TextAlignmentRole and SEQUENCE <= col < CHANGES \
                and col != RECEIVED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def counts_only(changes: str) -> str:
    """The 本次变化 cell: the counts of the change sentence without the reasons of 减少 in
    brackets ("新增 1，减少 3（转出 1，作废 2），修改 2" → "新增1，减少3，修改2"), so the column
    stays narrow; the tooltip and 变化清单… give the reasons."""
    out, depth = [], 0
    for ch in changes:
        if ch == "（":
            depth += 1
        elif ch == "）" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


def local_time(when: datetime | None) -> str:
    """A stored UTC time as local time for a person."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def summary(rows: list[UnitStatus]) -> str:
    expected = [r for r in rows if r.expected]
    received = [r for r in expected if r.package_id]
    return (f"应报 {len(expected)} 个单位：已收到 {len(received)} 个，未收到 "
            f"{len(expected) - len(received)} 个，逾期 {sum(r.late for r in expected)} 个；"
            f"已接收 {sum(r.status == '已接收' for r in rows)} 个，已退回 "
            f"{sum(r.status == '已退回' for r in rows)} 个；名单外来件 "
            f"{sum(not r.expected for r in rows)} 个。")


class AddUnitDialog(QDialog):
    """Type one expected unit: code, name, deadline."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("添加应报单位")
        self.code, self.name, self.deadline = QLineEdit(), QLineEdit(), QLineEdit()
        self.code.setPlaceholderText("统一社会信用代码")
        self.deadline.setPlaceholderText("如 2026-12-31（可不填）")
        form = QFormLayout(self)
        form.addRow("单位代码", self.code)
        form.addRow("单位名称", self.name)
        form.addRow("报送截止日期", self.deadline)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("添加")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(460)


def missing_text(rows: list[UnitStatus]) -> str:
    """The 上报 warning: which expected units are not received or not accepted, with counts;
    empty when every expected unit is accepted."""
    missing = outstanding(rows)
    if not missing:
        return ""
    groups: dict[str, list[UnitStatus]] = {}
    for r in missing:
        groups.setdefault("未收到" if r.package_id is None else r.status, []).append(r)
    lines = [f"应报 {sum(r.expected for r in rows)} 个单位中，有 {len(missing)} 个单位的数据尚未接收，"
             "本次上报不含它们的记录："]
    for status, units in groups.items():
        names = "、".join(u.name for u in units[:NAMED_MISSING])
        more = f" 等 {len(units)} 个" if len(units) > NAMED_MISSING else ""
        lines.append(f"{status}（{len(units)} 个）：{names}{more}")
    return "\n".join(lines)


def confirm_outstanding(ctx: WindowContext) -> bool:
    """Before 上报: name the expected units not received or not accepted and ask whether to
    go on (True: go on; also True when none is missing or no list of expected units exists)."""
    text = missing_text(svc.dashboard(ctx.register))
    if not text:
        return True
    box = QMessageBox(QMessageBox.Icon.Warning, "仍有单位未接收", text,
                      QMessageBox.StandardButton.NoButton, ctx.widget)
    box.setObjectName("outstandingUnits")
    box.setInformativeText("可以先在 上报 → 收件看板 中接收或催报；也可以继续上报，"
                           "这些单位的数据以后随下一次上报送出。")
    go = box.addButton("继续上报", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is go


class DashboardDialog(QDialog):
    """The 收件看板 window (modeless)."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setWindowTitle("收件看板")
        self.setObjectName("dashboard")
        self.summary = QLabel()
        self.summary.setObjectName("dashboardSummary")
        self.summary.setWordWrap(True)
        self.all_rows: list[UnitStatus] = []
        self.filter = QComboBox()
        self.filter.setObjectName("dashboardFilter")
        self.filter.setAccessibleName("筛选")
        self.filter.addItems(list(FILTERS))
        self.filter.currentIndexChanged.connect(lambda *_: self.show_rows())
        guard_wheel(self.filter)  # a wheel passing over it does not change what is shown
        self.search = QLineEdit()
        self.search.setObjectName("dashboardSearch")
        self.search.setPlaceholderText("按单位名称或单位代码查找")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda *_: self.show_rows())
        self.shown_label = QLabel()
        self.shown_label.setObjectName("dashboardShown")
        self.model = DashboardModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTableView()
        self.view.setObjectName("dashboardTable")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        # every column as wide as what it shows, 本次变化 included (its counts: the reasons
        # are in its tooltip); 单位名称 takes the rest of the width and elides a long name, whole
        # in its tooltip. At 1366 px nothing else is cut
        # (tests/ui/test_dashboard_columns.py).
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.view.doubleClicked.connect(lambda *_: self.show_unit())
        self.view.setToolTip("双击一行，在主窗口中查看该单位的记录")
        self.import_button = QPushButton("导入应报名单…")
        self.import_button.setToolTip("Excel（.xlsx）、.csv 或 .jsonl：表头含“单位代码”“单位名称”，"
                                      "可有“截止日期”")
        self.import_button.clicked.connect(self.import_units)
        self.add_button = QPushButton("添加单位…")
        self.add_button.clicked.connect(self.add_unit)
        self.accept_button = QPushButton("接收")
        self.accept_button.setToolTip("审核通过：该单位的记录成为“已接收”，随本单位下次上报")
        self.accept_button.clicked.connect(self.accept_selected)
        self.return_button = QPushButton("退回…")
        self.return_button.setToolTip("附意见退回该单位的数据包")
        self.return_button.clicked.connect(self.return_selected)
        self.change_button = QPushButton("确认单位信息变更…")
        self.change_button.setObjectName("confirmUnitChange")
        self.change_button.setToolTip("该单位（或其转报的下级单位）自己签名的数据包所报的名称等与本登记库"
                                      "不同：核实后确认，才改用新的信息")
        self.change_button.clicked.connect(self.confirm_changes)
        self.changes_button = QPushButton("变化清单…")
        self.changes_button.setObjectName("dashboardChanges")
        self.changes_button.setToolTip("该单位本次数据包与上一个相比：新增、减少（及原因）和逐项修改；"
                                       "接收前核对")
        self.changes_button.clicked.connect(self.show_changes)
        self.revoke_button = QPushButton("吊销公钥…")
        self.revoke_button.setObjectName("dashboardRevokeKey")
        self.revoke_button.setToolTip("该单位的密钥丢失或被盗：自某日起拒绝用它签名的数据包，并随本单位"
                                      "下次上报告知上级")
        self.revoke_button.clicked.connect(
            lambda: (row := self.selected()) is not None
            and revoke_unit_key(self.ctx, row.code, row.name, self) and self.reload())
        self.export_button = QPushButton("导出 Excel…")
        self.export_button.setObjectName("dashboardExport")
        self.export_button.setToolTip("把表中当前显示的单位（按筛选和查找）导出为 Excel 工作簿")
        self.export_button.clicked.connect(lambda: self.export_excel())
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("显示："))
        bar.addWidget(self.filter)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.shown_label)
        buttons = QHBoxLayout()
        for b in (self.import_button, self.add_button, self.export_button, self.revoke_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.change_button, self.changes_button, self.accept_button,
                  self.return_button, close):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        fit_to_screen(self, (1360, 640))
        self.writes = (self.import_button, self.add_button, self.accept_button,
                       self.return_button, self.change_button, self.revoke_button)
        self.read_only = grey_out(ctx.register, self.writes)  # a reviewer role: looks only
        self.reload()

    def reload(self) -> None:
        rows = self.all_rows = svc.dashboard(self.ctx.register)
        self.show_rows()
        pending = sum(len(r.unit_changes) for r in rows)
        self.summary.setText(summary(rows) + (
            f"有 {pending} 个单位的信息变更待确认（选中该行后点“确认单位信息变更”）。" if pending else ""))
        self._enable()

    def show_rows(self) -> None:
        """The rows the filter and the search keep (the selected unit stays selected)."""
        row = self.selected()
        rows = shown(self.all_rows, self.filter.currentText(), self.search.text())
        self.model.set_rows(rows)
        self.shown_label.setText(f"显示 {len(rows)} / {len(self.all_rows)} 个单位")
        if row is not None:
            self.select_code(row.code)
        self._enable()

    def shown_rows(self) -> list[UnitStatus]:
        """The rows as the table shows them (filtered, searched and sorted)."""
        return [self.model.rows[self.proxy.mapToSource(self.proxy.index(i, 0)).row()]
                for i in range(self.proxy.rowCount())]

    def export_excel(self, path: Path | None = None) -> Path | None:
        """Export the rows shown to a workbook (asks where unless `path` is given)."""
        if path is None:
            path = save_path(self.ctx, "excel", "导出收件看板",
                             f"收件看板-{datetime.now():%Y%m%d}.xlsx", XLSX_FILTER, self)
            if path is None:
                return None
        which, needle = self.filter.currentText(), self.search.text().strip()
        title = "收件看板" + ("" if which == "全部" else f"（{which}）")
        note = summary(self.all_rows) + (f"查找“{needle}”。" if needle else "")
        own = next((u.name for u in self.ctx.units() if u.is_own), "")
        try:
            out = export_dashboard(self.ctx.register, self.shown_rows(), path, title=title,
                                   received_at=lambda r: local_time(r.received_at), unit=own,
                                   note=note, actor=self.ctx.actor)
        except (KnownError, OSError) as err:
            QMessageBox.warning(self, "未导出", f"收件看板未导出：{err}")
            return None
        self.ctx.status(f"已导出收件看板（{self.proxy.rowCount()} 个单位）到 {out.name}")
        offer_folder(self.ctx, out)
        return out

    def selected(self) -> UnitStatus | None:
        index = self.view.selectionModel().currentIndex()
        if not index.isValid():
            return None
        return self.model.rows[self.proxy.mapToSource(index).row()]

    def select_code(self, code: str) -> None:
        for i, r in enumerate(self.model.rows):
            if r.code == code:
                self.view.selectRow(self.proxy.mapFromSource(self.model.index(i, 0)).row())
                return

    def _enable(self) -> None:
        row = self.selected()
        has = row is not None and row.package_id is not None
        self.accept_button.setEnabled(has and row.status != "已接收")
        self.return_button.setEnabled(has and row.status != "已退回")
        self.change_button.setEnabled(row is not None and bool(row.unit_changes))
        self.revoke_button.setEnabled(row is not None)
        self.changes_button.setEnabled(has)
        for button in self.writes if self.read_only else ():
            button.setEnabled(False)

    def show_unit(self) -> bool:
        """Show the selected unit's records in the main window (double click)."""
        row = self.selected()
        unit = next((u for u in self.ctx.units() if row is not None and u.code == row.code
                     and not u.is_own), None)
        if unit is None or not self.ctx.select_unit(unit.id):
            return False
        self.ctx.widget.raise_()
        self.ctx.widget.activateWindow()
        return True

    def import_units(self) -> None:
        name = open_path(self.ctx, "units", "导入应报单位名单", UNITS_FILTER, self)
        if name is None:
            return
        try:
            added, updated = svc.import_expected_units(self.ctx.register, Path(name),
                                                       actor=self.ctx.actor)
        except KnownError as err:
            QMessageBox.warning(self, "名单未导入", str(err))
            return
        self.reload()
        self.ctx.status(f"已导入应报单位名单：新增 {added} 个，更新 {updated} 个")

    def add_unit(self, dialog: AddUnitDialog | None = None) -> bool:
        dialog = dialog or AddUnitDialog(self)
        if not dialog.exec():
            return False
        try:
            svc.add_expected_unit(self.ctx.register, dialog.code.text(), dialog.name.text(),
                                  dialog.deadline.text().strip() or None,
                                  actor=self.ctx.actor)
        except KnownError as err:
            QMessageBox.warning(self, "未添加", str(err))
            return False
        self.reload()
        return True

    def _asked_and_done(self, title: str, question: str, work, refused: str) -> bool:
        """Ask `question`; on yes run `work` (a KnownError is shown under `refused`), then show
        the dashboard again with the same row selected."""
        row = self.selected()
        if QMessageBox.question(self, title, question) != QMessageBox.StandardButton.Yes:
            return False
        try:
            work()
        except KnownError as err:
            QMessageBox.warning(self, refused, str(err))
            return False
        self.ctx.notify(Changes.ALL)
        self.reload()
        if row is not None:
            self.select_code(row.code)
        return True

    def accept_selected(self) -> None:
        row = self.selected()
        if row is None or row.package_id is None:
            return
        if self._asked_and_done(
                "接收数据包", f"接收 {row.name} 的数据包（序号 {row.sequence}，{row.records} "
                "条记录）？接收后这些记录将随本单位下次上报。",
                lambda: svc.accept_package(self.ctx.register, row.package_id,
                                           actor=self.ctx.actor), "未接收"):
            self.ctx.status(f"已接收 {row.name} 的数据包")

    def confirm_changes(self) -> None:
        """Apply the pending changes of the selected row's units (a renamed unit)."""
        row = self.selected()
        if row is None or not row.unit_changes:
            return
        text = "\n".join(c.describe() for c in row.unit_changes)

        def confirm() -> None:
            for c in row.unit_changes:
                svc.confirm_unit_change(self.ctx.register, c.code, actor=self.ctx.actor)

        self._asked_and_done("确认单位信息变更", f"以下变更来自单位自己签名的数据包：\n{text}\n\n"
                             "核实无误后确认，本登记库将改用新的信息。确认吗？", confirm, "未确认")

    def show_changes(self) -> None:
        """变化清单… of the selected unit (ui/packages/changes.py)."""
        row = self.selected()
        if row is not None and row.package_id is not None:
            show_one(self.ctx.widget, "changes", lambda: ChangesDialog(self.ctx, row.code,
                                                                        row.name))

    def return_selected(self) -> None:
        row = self.selected()
        if row is None or row.package_id is None:
            return
        if ReturnDialog(self.ctx, row.package_id, row.name, self).exec():
            self.ctx.notify(Changes.ALL)
        self.reload()
        self.select_code(row.code)
