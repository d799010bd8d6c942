"""统计表… and 通报… of the 清理 menu: the 个人会员清理工作情况统计表 in the table's layout with
填报人/联系方式/填报时间 and its Excel/PDF export, and the cleanup notice with the clerk's choice
of names and categories."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop.domain.society.cleanup import DUPLICATE, INELIGIBLE, NO_ID, VIOLATION, WITHDRAWN
from desktop.domain.society.stats import ENTRIES, TITLE, CleanupStats
from desktop.errors import KnownError
from desktop.services.cleanup.paper import (
    NOTICE_DEFAULT,
    build_notice,
    log_export,
    write_notice,
    write_stats,
)
from desktop.services.packages.stats import received_tables, unit_table
from desktop.services.unit import unit_profile
from desktop.storage.concurrency import require_audit_of
from desktop.ui.cleanup.common import date_edit, to_date
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import fit_to_screen
from desktop.ui.files import offer_folder, save_path

NOTICE_CATEGORIES = (("重复录入", DUPLICATE), ("严重违法违纪", VIOLATION), ("不符合条件", INELIGIBLE),
                     ("无身份证号", NO_ID), ("已退会", WITHDRAWN))


class StatsDialog(QDialog):
    """The table as the notice's 附件2 lays it out: 项目 / six columns / 数量."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setWindowTitle(TITLE)
        layout = QVBoxLayout(self)
        title = QLabel(TITLE)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = title.font()
        font.setPointSize(font.pointSize() + 5)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        head = QGridLayout()
        self.unit = QLabel()
        profile = unit_profile(ctx.register)  # 本单位信息's 填报人 and 联系电话
        self.filler, self.contact = QLineEdit(profile.filler), QLineEdit(profile.phone)
        for edit in (self.filler, self.contact):
            if not edit.text():
                edit.setPlaceholderText("可在“登记库 → 本单位信息…”中设定")
        self.filed = date_edit(date.today())
        for col, (label, widget) in enumerate((("填报单位：", self.unit), ("填报人：", self.filler),
                                               ("联系方式：", self.contact),
                                               ("填报时间：", self.filed))):
            head.addWidget(QLabel(label), col // 2, (col % 2) * 2)
            head.addWidget(widget, col // 2, (col % 2) * 2 + 1)
            widget.setAccessibleName(label.rstrip("："))
        head.setColumnStretch(1, 1)
        head.setColumnStretch(3, 1)
        layout.addLayout(head)
        self.received = QCheckBox("连同已收到的下级法学会统计表一并汇总（未附统计表的按其会员记录计算）")
        self.received.setVisible(bool(received_tables(ctx.register)))
        self.received.toggled.connect(lambda _on: self.refresh())
        layout.addWidget(self.received)
        self.table = QTableWidget(2, 7)
        self.table.horizontalHeader().setVisible(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        layout.addWidget(self.table)
        self.entries = QLabel()
        layout.addWidget(self.entries)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.excel_button = QPushButton("导出Excel…")
        self.pdf_button = QPushButton("导出PDF…")
        close = QPushButton("关闭")
        self.excel_button.clicked.connect(lambda: self.export(".xlsx"))
        self.pdf_button.clicked.connect(lambda: self.export(".pdf"))
        close.clicked.connect(self.accept)
        for b in (self.excel_button, self.pdf_button, close):
            b.setAutoDefault(False)
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.stats: CleanupStats | None = None
        self.refresh()
        fit_to_screen(self, (1000, self.sizeHint().height()))

    def current(self) -> CleanupStats:
        """The table as shown, with the header the clerk filled in (summed with the received
        societies' tables when asked)."""
        reg = self.ctx.register
        header = {"filler": self.filler.text().strip(), "contact": self.contact.text().strip(),
                  "filed": to_date(self.filed.date()).isoformat()}
        return unit_table(reg, received=self.received.isChecked(), **header)

    def refresh(self) -> None:
        try:
            stats = self.stats = self.current()
        except KnownError as err:
            QMessageBox.warning(self, "无法汇总统计表", str(err))
            self.received.setChecked(False)
            return
        self.unit.setText(stats.unit)
        lines = [("数量", stats), *((f"其中 {p.unit}", p) for p in stats.parts)]
        self.table.setRowCount(1 + len(lines))
        heads = ["项目", *stats.columns()]
        for c, text in enumerate(heads):
            self._put(0, c, text, bold=True)
        for r, (label, table) in enumerate(lines, 1):
            self._put(r, 0, label, bold=r == 1)
            for c, value in enumerate(table.columns().values(), 1):
                self._put(r, c, str(value), bold=r == 1)
        self.table.setColumnWidth(0, 70 if not stats.parts else 180)
        for c in range(1, 7):
            self.table.setColumnWidth(c, 150 if not stats.parts else 132)
        self.table.setRowHeight(0, 52)
        for r in range(1, self.table.rowCount()):
            self.table.setRowHeight(r, 36 if r == 1 else 28)
        self.table.setFixedHeight(52 + 36 + 28 * len(stats.parts) + 4)
        self.entries.setText(f"{ENTRIES}：{stats.entries}（实有会员数量 = 清理前登记条目数 − 合计清理数量）")
        if self.isVisible():
            self.resize(self.width(), self.sizeHint().height())

    def _put(self, row: int, column: int, text: str, *, bold: bool) -> None:
        item = QTableWidgetItem(text)
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        if bold:
            f = item.font()
            f.setBold(True)
            item.setFont(f)
        self.table.setItem(row, column, item)

    def values(self) -> dict[str, int]:
        """What the table shows, column title -> number (tests compare with `dengji stats`)."""
        return {self.table.item(0, c).text(): int(self.table.item(1, c).text())
                for c in range(1, 7)}

    def export(self, suffix: str, path: Path | None = None) -> Path | None:
        """Save the table as .xlsx or .pdf (asks where unless `path`)."""
        ctx = self.ctx
        if path is None:
            kind = "Excel 工作簿 (*.xlsx)" if suffix == ".xlsx" else "PDF 文件 (*.pdf)"
            path = save_path(ctx, "stats", "导出统计表", f"个人会员清理工作情况统计表{suffix}", kind,
                             self)
            if path is None:
                return None
            if path.suffix.lower() != suffix:
                path = path.with_name(path.name + suffix)
        stats = self.current()
        try:
            require_audit_of(ctx.register)  # logged: refused before the file if it cannot be
            write_stats(path, stats)
            log_export(ctx.register, "stats.export", path, {"parts": len(stats.parts)},
                       actor=ctx.actor)
        except (KnownError, ValueError) as err:
            QMessageBox.warning(self, "未能导出统计表", str(err))
            return None
        ctx.status(f"统计表已导出：{path}")
        offer_folder(ctx, path)
        return path


class NoticeDialog(QDialog):
    """通报: the numbers always; names and categories only where the clerk chooses."""

    def __init__(self, ctx: WindowContext) -> None:
        super().__init__(ctx.widget)
        self.ctx = ctx
        self.setWindowTitle("清理结果通报")
        layout = QVBoxLayout(self)
        intro = QLabel("通报清理前登记条目数和各类清理数量。是否列出人员姓名和清理类别由您决定"
                       "（不列公民身份号码和手机号码）。")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.names = QCheckBox("列出姓名和清理类别")
        layout.addWidget(self.names)
        box = QGroupBox("列出哪些类别的人员")
        row = QHBoxLayout(box)
        self.categories: dict[str, QCheckBox] = {}
        for label, code in NOTICE_CATEGORIES:
            check = QCheckBox(label)
            check.setChecked(code in NOTICE_DEFAULT)
            self.categories[code] = check
            row.addWidget(check)
        layout.addWidget(box)
        self.box = box
        self.with_deadline = QCheckBox("写明补全身份证号、重新入会的期限")
        self.deadline = date_edit(date(2021, 4, 30))
        line = QHBoxLayout()
        line.addWidget(self.with_deadline)
        line.addWidget(self.deadline)
        line.addStretch(1)
        layout.addLayout(line)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c62828;")
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.pdf_button = QPushButton("保存为PDF…")
        self.excel_button = QPushButton("保存为Excel…")
        close = QPushButton("关闭")
        self.pdf_button.clicked.connect(lambda: self.save(".pdf"))
        self.excel_button.clicked.connect(lambda: self.save(".xlsx"))
        close.clicked.connect(self.reject)
        for b in (self.pdf_button, self.excel_button, close):
            b.setAutoDefault(False)
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.names.toggled.connect(box.setEnabled)
        self.with_deadline.toggled.connect(self.deadline.setEnabled)
        box.setEnabled(False)
        self.deadline.setEnabled(False)
        fit_to_screen(self, (620, 260))

    def chosen(self) -> list[str]:
        return [code for code, check in self.categories.items() if check.isChecked()]

    def save(self, suffix: str, path: Path | None = None) -> Path | None:
        """Write the notice (asks where unless `path`)."""
        names, chosen = self.names.isChecked(), self.chosen()
        if names and not chosen:
            self.error.setText("请至少选择一个要列出人员的类别，或不列出姓名。")
            return None
        self.error.clear()
        ctx = self.ctx
        if path is None:
            kind = "PDF 文件 (*.pdf)" if suffix == ".pdf" else "Excel 工作簿 (*.xlsx)"
            path = save_path(ctx, "stats", "保存通报", f"个人会员清理结果通报{suffix}", kind, self)
            if path is None:
                return None
            if path.suffix.lower() != suffix:
                path = path.with_name(path.name + suffix)
        deadline = to_date(self.deadline.date()) if self.with_deadline.isChecked() else None
        try:
            notice = build_notice(ctx.register, ctx.forms, names=names,
                                  categories=chosen if names else None, deadline=deadline)
            require_audit_of(ctx.register)
            write_notice(path, notice)
            log_export(ctx.register, "cleanup.notice", path,
                       {"names": names, "categories": chosen if names else [],
                        "listed": len(notice.rows)}, actor=ctx.actor)
        except KnownError as err:
            QMessageBox.warning(self, "未能保存通报", str(err))
            return None
        ctx.status(f"通报已保存：{path}")
        offer_folder(ctx, path)
        return path
