"""不能导出上报包: the refusal list, one row per error or open conflict, each with its way out —
打开记录 shows the record in its form's tab (WindowContext.open_record), 处理冲突… opens the
window's 冲突… dialog. Below them, the own drafts of the same person as a listed record (a
mistaken draft puts a duplicate's error on the genuine record): their rows offer 作废草稿."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.states import DRAFT
from desktop.services import packages as svc
from desktop.services.packages.export import CONFLICT_LINE
from desktop.ui.actions import Action
from desktop.ui.context import WindowContext
from desktop.ui.dialogs import fit_to_screen

#: void(ctx, form_id, record_id, name) -> True once the draft was voided (the clerk confirmed)
Voider = Callable[[WindowContext, str, str, str], bool]
COLUMNS = ["表", "姓名/名称", "栏目", "问题", "处理"]


class BlockersDialog(QDialog):
    """Why the package was not exported: every E (or open conflict), one row each, with a
    button to open the record (and, for a draft, to void it)."""

    def __init__(self, blocked: svc.ExportBlocked, ctx: WindowContext | None = None,
                 parent: QWidget | None = None, *, void: Voider | None = None) -> None:
        super().__init__(parent if parent is not None or ctx is None else ctx.widget)
        self.setWindowTitle("不能导出上报包")
        self.setObjectName("exportBlockers")
        self.ctx, self.void = ctx, void
        self.blockers = list(blocked.blockers)
        if ctx is not None:
            self.blockers += svc.drafts_beside(ctx.register, ctx.forms, blocked.blockers)
        self.records = (svc.blocker_records(ctx.register, [b.record_id for b in self.blockers])
                        if ctx is not None else {})
        drafts = len(self.blockers) - len(blocked.blockers)
        heading = QLabel(f"{blocked}\n逐条处理：点“打开记录”到主窗口中改正该记录"
                         + (f"；下面列出的 {drafts} 条草稿与出错的记录是同一人，误建的可“作废草稿”"
                            if drafts and void is not None else "") + "。")
        heading.setWordWrap(True)
        self.table = QTableWidget(len(self.blockers), len(COLUMNS))
        self.table.setObjectName("blockers")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.open_buttons: list[QPushButton | None] = []
        self.void_buttons: list[QPushButton | None] = []
        self.conflict_buttons: list[QPushButton] = []
        for row, b in enumerate(self.blockers):
            found = self.records.get(b.record_id)
            name = b.name or (found.name if found else "")
            title = b.form_title or (self._form_title(found.form_id) if found else "")
            for col, text in enumerate((title, name, b.field or "整条记录", b.message)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
            self.table.setCellWidget(row, 4, self._ways_out(row, found))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        self.table.cellDoubleClicked.connect(self.open_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        fit_to_screen(self, (980, min(600, 200 + 34 * len(self.blockers))))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.table.resizeRowsToContents()  # once the problems' column has its width

    def _form_title(self, form_id: str) -> str:
        form = self.ctx.forms.forms.get(form_id) if self.ctx is not None else None
        return form.display_title if form else form_id

    def _ways_out(self, row: int, found: svc.BlockerRecord | None) -> QWidget:
        cell = QWidget()
        box = QHBoxLayout(cell)
        box.setContentsMargins(2, 1, 2, 1)
        opener = voider = None
        if found is not None and self.ctx is not None and self.ctx.tab(found.form_id):
            opener = QPushButton("打开记录")
            opener.setToolTip("在主窗口中打开这条记录改正（也可双击这一行）")
            opener.clicked.connect(lambda _=False, r=row: self.open_row(r))
            box.addWidget(opener)
        if found is not None and found.state == DRAFT and self.void is not None:
            voider = QPushButton("作废草稿")
            voider.setToolTip("误建的草稿：作废后不再出现在列表和输出中，操作日志中保留")
            voider.clicked.connect(lambda _=False, r=row: self.void_row(r))
            box.addWidget(voider)
        b = self.blockers[row]
        if (b.message.startswith(CONFLICT_LINE) and self.ctx is not None
                and self.ctx.has_action(Action.CONFLICTS)):
            conflicts = QPushButton("处理冲突…")
            conflicts.setToolTip("打开“冲突…”，确定两条记录中哪一条有效")
            conflicts.clicked.connect(self.show_conflicts)
            box.addWidget(conflicts)
            self.conflict_buttons.append(conflicts)
        elif opener is None and voider is None:
            box.addWidget(QLabel("（不是本单位的记录）"))
        self.open_buttons.append(opener)
        self.void_buttons.append(voider)
        return cell

    def show_conflicts(self) -> None:
        """The conflicts dialog of the window, this list closed."""
        self.accept()
        if self.ctx is not None:
            self.ctx.action(Action.CONFLICTS).trigger()

    def open_row(self, row: int, _column: int = 0) -> bool:
        """Show the row's record in the window and close this list."""
        b = self.blockers[row]
        found = self.records.get(b.record_id)
        if self.ctx is None or found is None:
            return False
        if self.ctx.open_record(found.form_id, b.record_id, found.name):
            self.accept()
            return True
        self.ctx.status(f"没有在列表中找到记录“{found.name}”，请在相应表单中查找。")
        return False

    def void_row(self, row: int) -> bool:
        """Void the row's draft (the voiding asks the clerk first); its rows leave the list."""
        b = self.blockers[row]
        found = self.records.get(b.record_id)
        if self.ctx is None or self.void is None or found is None:
            return False
        if not self.void(self.ctx, found.form_id, b.record_id, found.name):
            return False
        for r in range(len(self.blockers)):
            if self.blockers[r].record_id == b.record_id:
                self.table.setRowHidden(r, True)
        return True
