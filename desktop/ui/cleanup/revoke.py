"""The 撤销资格 page of 清理建议: the clerk finds each member by name or 会员证号 (a search list,
never a typed number taken on trust), and lists members whose membership is revoked for a serious
violation (严重违法违纪) or as ineligible (不符合条件, with the notice's sub-reason), each with its
依据 and 审批人; a listed row can be taken back into the inputs and changed. 经办人 is the one of
the whole 应用."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.forms import CodeTable
from desktop.domain.society.cleanup import INELIGIBLE, VIOLATION
from desktop.services.cleanup.propose import Decision
from desktop.services.cleanup.search import MemberHit
from desktop.ui.dialogs import guard_wheel

CATEGORIES = (("严重违法违纪", VIOLATION), ("不符合条件", INELIGIBLE))
_COLS = ("会员证号", "姓名", "清理类别", "不符合条件情形", "依据", "审批人")
HIT_ROLE = Qt.ItemDataRole.UserRole + 1
#: how many members the search list shows at most
SHOWN_HITS = 100


def member_search(name: str, which: str, searched: Callable[[str], None]
                  ) -> tuple[QLineEdit, QListWidget]:
    """A search box (objectName `name`Search) and the list of the members it finds
    (`name`Hits); `searched` is called with the text as it is typed."""
    search = QLineEdit()
    search.setObjectName(f"{name}Search")
    search.setAccessibleName(f"查找{which}")
    search.setPlaceholderText(f"输入姓名或会员证号的任意部分，或完整的公民身份号码，查找{which}")
    search.setClearButtonEnabled(True)
    search.textChanged.connect(searched)
    hits = QListWidget()
    hits.setObjectName(f"{name}Hits")
    hits.setAccessibleName(f"查找到的{which}")
    return search, hits


@dataclass(frozen=True)
class Revocation:
    member_no: str
    name: str
    target: str
    reason: str
    basis: str
    approver: str
    record_id: str = ""  # the entry picked in the search list (empty: by 会员证号)


class RevokePage(QWidget):
    """Search + entry row + list of revocations (a handful, each member found by search)."""

    changed = Signal()

    def __init__(self, reasons: CodeTable | None,
                 find: Callable[[str], Sequence[MemberHit]] | None = None,
                 statuses: CodeTable | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reasons, self.statuses = reasons, statuses
        self.find = find or (lambda _q: [])
        self.items: list[Revocation] = []
        self.picked: MemberHit | None = None
        #: said when a search finds nothing while the member names are still being loaded
        self.waiting_note = ""
        self.editing: int | None = None  # the listed row being changed
        v = QVBoxLayout(self)
        hint = QLabel("输入姓名或会员证号查找会员，在列表中选中后填写类别、依据和审批人。撤销会员资格须有"
                      "依据和审批人；“不符合条件”须选择情形。双击已列出的一行可修改。")
        hint.setWordWrap(True)
        v.addWidget(hint)
        self.search, self.hits = member_search("revoke", "会员", self._search)
        self.hits.setMaximumHeight(110)
        self.hits.currentItemChanged.connect(self._picked)
        self.picked_label = QLabel("未选择会员")
        self.picked_label.setObjectName("revokePicked")
        v.addWidget(self.search)
        v.addWidget(self.hits)
        v.addWidget(self.picked_label)
        grid = QGridLayout()
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
        for col, (label, widget) in enumerate((("清理类别", self.category),
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
        self.edit_button = QPushButton("修改所选")
        self.edit_button.setAutoDefault(False)
        self.edit_button.clicked.connect(lambda: self.edit_row(self.table.currentRow()))
        self.remove_button = QPushButton("移除所选")
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self.remove_selected)
        row = QGridLayout()
        row.addWidget(self.add_button, 0, 0)
        row.addWidget(self.edit_button, 0, 1)
        row.addWidget(self.remove_button, 0, 2)
        row.addWidget(self.error, 0, 3)
        row.setColumnStretch(3, 1)
        v.addLayout(row)
        self.table = QTableWidget(0, len(_COLS))
        self.table.setHorizontalHeaderLabels(list(_COLS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for c, w in enumerate((130, 110, 110, 220, 380, 90)):
            self.table.setColumnWidth(c, w)
        self.table.cellDoubleClicked.connect(lambda r, _c: self.edit_row(r))
        v.addWidget(self.table, 1)

    # -- finding the member --

    def search_again(self) -> None:
        """The search of the box's text once more (the member names were loaded meanwhile)."""
        self.waiting_note = ""
        self._search(self.search.text())

    def _search(self, text: str) -> None:
        self.hits.clear()
        if not text.strip():
            return
        hits = list(self.find(text))
        for hit in hits[:SHOWN_HITS]:
            item = QListWidgetItem(f"{hit.member_no or '（无会员证号）'}　{hit.name}　{hit.employer}"
                                   f"（{self._status(hit.status)}）")
            item.setData(HIT_ROLE, hit)
            self.hits.addItem(item)
        if len(hits) == 1:
            self.hits.setCurrentRow(0)
        elif not hits:
            self.error.setText(self.waiting_note or f"没有找到“{text.strip()}”：请输入姓名或会员证号的"
                               "一部分，或完整的公民身份号码")
            return
        self.error.clear()

    def _status(self, code: str) -> str:
        return self.statuses.label_of(code) if self.statuses else code

    def _picked(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.pick(item.data(HIT_ROLE))

    def pick(self, hit: MemberHit | None) -> None:
        """The member the next 加入 (or 保存修改) is about."""
        self.picked = hit
        self.picked_label.setText(f"已选：{hit.name}（会员证号 {hit.member_no or '无'}）"
                                  if hit else "未选择会员")

    def edit_row(self, row: int) -> bool:
        """Take a listed row back into the inputs; 保存修改 puts it back changed."""
        if not 0 <= row < len(self.items):
            return False
        rev = self.items[row]
        self.editing = row
        self.pick(MemberHit(rev.record_id, rev.member_no, rev.name, "", ""))
        self.category.setCurrentIndex(self.category.findData(rev.target))
        self.reason.setCurrentIndex(max(self.reason.findData(rev.reason), 0))
        self.basis.setText(rev.basis)
        self.approver.setText(rev.approver)
        self.add_button.setText("保存修改")
        self.table.selectRow(row)
        self.basis.setFocus()
        return True

    def _category_changed(self) -> None:
        ineligible = self.category.currentData() == INELIGIBLE
        self.reason.setEnabled(ineligible)
        if not ineligible:
            self.reason.setCurrentIndex(0)

    def add_from_inputs(self) -> bool:
        """Add the entry row to the list (or save the row being changed); says what is
        missing instead."""
        hit, basis = self.picked, self.basis.text().strip()
        approver, target = self.approver.text().strip(), self.category.currentData()
        reason = self.reason.currentData() or ""
        missing = ["会员（在上方查找并选中）"] if hit is None else []
        missing += [label for label, value in (("依据", basis), ("审批人", approver)) if not value]
        if target == INELIGIBLE and not reason:
            missing.append("不符合条件情形")
        if missing:
            self.error.setText("请填写：" + "、".join(missing))
            return False
        assert hit is not None
        same = next((i for i, r in enumerate(self.items) if i != self.editing and (
            (r.record_id or r.member_no) == (hit.record_id or hit.member_no))), None)
        if same is not None:
            self.error.setText(f"{hit.name}（{hit.member_no}）已在撤销名单第 {same + 1} 行，"
                               "双击该行可修改")
            return False
        self.error.clear()
        rev = Revocation(hit.member_no, hit.name, target, reason, basis, approver, hit.record_id)
        if self.editing is not None:
            self.items[self.editing] = rev
            self._show_row(self.editing, rev)
            self.editing = None
            self.add_button.setText("加入撤销名单")
            self.changed.emit()
        else:
            self.add(rev)
        self.basis.clear()
        self.search.clear()
        self.pick(None)
        self.search.setFocus()
        return True

    def add(self, rev: Revocation) -> None:
        self.items.append(rev)
        r = self.table.rowCount()
        self.table.insertRow(r)
        self._show_row(r, rev)
        self.changed.emit()

    def _show_row(self, r: int, rev: Revocation) -> None:
        category = next(label for label, code in CATEGORIES if code == rev.target)
        reason = self.reasons.label_of(rev.reason) if self.reasons and rev.reason else ""
        for c, text in enumerate((rev.member_no, rev.name, category, reason, rev.basis,
                                  rev.approver)):
            self.table.setItem(r, c, QTableWidgetItem(text))

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedItems()}, reverse=True)
        for r in rows:
            self.table.removeRow(r)
            del self.items[r]
        if self.editing is not None:
            self.editing = None
            self.add_button.setText("加入撤销名单")
        self.changed.emit()

    def clear(self) -> None:
        self.items.clear()
        self.editing = None
        self.add_button.setText("加入撤销名单")
        self.table.setRowCount(0)
        self.changed.emit()

    def count(self) -> int:
        return len(self.items)

    def decisions(self, handler: str, approver: str) -> list[Decision]:
        """The listed revocations as decisions (the entry picked by search, else by 会员证号;
        the service resolves and checks)."""
        return [Decision(r.target, record_id=r.record_id, member_no=r.member_no, name=r.name,
                         basis=r.basis, handler=handler, approver=r.approver or approver, reason=r.reason,
                         row=f"撤销资格第 {i + 1} 行（{r.member_no}）")
                for i, r in enumerate(self.items)]
