"""Table models of 清理建议: a checkable list (无身份证号, 长期失联) and the 重复录入 groups laid out
flat (a group row, then its entries).

Models, not QTableWidget/QTreeWidget items: a province's register proposes tens of thousands of
rows; here Qt asks Python only for the cells it paints, with no per-cell calls to fill items
(PySide6 6.12 even freed None on such calls under Python 3.11 — see tests/ui/test_qt_binding.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

Index = QModelIndex | QPersistentModelIndex
_BOLD = QFont()
_BOLD.setBold(True)
_GROUP_BACK = QBrush(QColor("#eef3f9"))


class _RowsModel(QAbstractTableModel):
    """A flat table of `rows` under `headers` (the shape both models share)."""

    headers: list[str]
    rows: list

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's name)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None


class CheckRowsModel(_RowsModel):
    """Rows of text; column 0 is a check box; `editable` columns can be typed into."""

    def __init__(self, headers: Sequence[str], editable: Sequence[int] = ()) -> None:
        super().__init__()
        self.headers = list(headers)
        self.editable = frozenset(editable)
        self.rows: list[list[str]] = []
        self.checks: list[bool] = []

    def set_rows(self, rows: list[list[str]]) -> None:
        """Replace the rows (texts of columns 1…); every check box unchecked."""
        self.beginResetModel()
        self.rows = [["", *r] for r in rows]
        self.checks = [False] * len(rows)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.CheckStateRole and c == 0:
            return Qt.CheckState.Checked if self.checks[r] else Qt.CheckState.Unchecked
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.ToolTipRole):
            return self.rows[r][c] if c else None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():  # the root has no flags (the model tester checks it)
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        if index.column() in self.editable:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.CheckStateRole and c == 0:
            state = value if isinstance(value, Qt.CheckState) else Qt.CheckState(int(value))
            self.checks[r] = state == Qt.CheckState.Checked
        elif role == Qt.ItemDataRole.EditRole and c in self.editable:
            self.rows[r][c] = str(value)
        else:
            return False
        self.dataChanged.emit(index, index, [role])
        return True

    def text(self, row: int, column: int) -> str:
        return self.rows[row][column]

    def set_check(self, row: int, checked: bool = True) -> None:
        self.setData(self.index(row, 0), Qt.CheckState.Checked if checked else
                     Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)

    def set_all(self, checked: bool) -> None:
        self.checks = [checked] * len(self.rows)
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 0),
                                  [Qt.ItemDataRole.CheckStateRole])

    def checked_rows(self) -> list[int]:
        return [r for r, on in enumerate(self.checks) if on]

    def find(self, column: int, text: str) -> int:
        return next((r for r, row in enumerate(self.rows) if row[column] == text), -1)


class GroupsModel(_RowsModel):
    """Duplicate groups, flat: per group one header row (决定, 第 n 组, name, count, kind) and
    a row per entry (★ 保留 / 清理, its cells, why it matches). `decision(gi)` and `kept(gi)`
    come from the dialog, which owns the clerk's choices."""

    def __init__(self, headers: Sequence[str], decision: Callable[[int], str],
                 kept: Callable[[int], str], keep_mark: str, remove_mark: str,
                 confirmed: str, rejected: str) -> None:
        super().__init__()
        self.headers = list(headers)
        self.decision, self.kept = decision, kept
        self.keep_mark, self.remove_mark = keep_mark, remove_mark
        self.confirmed, self.rejected = confirmed, rejected
        self.rows: list[tuple[int, str, list[str]]] = []  # (group, record id or "", cells)
        self.starts: list[int] = []

    def set_groups(self, groups: list[tuple[list[str], list[tuple[str, list[str]]]]]) -> None:
        """[(header cells, [(record id, entry cells)])] per group."""
        self.beginResetModel()
        self.rows, self.starts = [], []
        for gi, (head, entries) in enumerate(groups):
            self.starts.append(len(self.rows))
            self.rows.append((gi, "", head))
            self.rows += [(gi, rid, cells) for rid, cells in entries]
        self.endResetModel()

    def text(self, row: int, column: int) -> str:
        gi, rid, cells = self.rows[row]
        if column == 0:
            decision = self.decision(gi)
            if not rid:
                return decision
            if rid == self.kept(gi):
                return self.keep_mark
            return self.remove_mark if decision == self.confirmed else ""
        return cells[column - 1] if column - 1 < len(cells) else ""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, c = index.row(), index.column()
        gi, rid, _cells = self.rows[r]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.text(r, c)
        if role == Qt.ItemDataRole.FontRole and (not rid or rid == self.kept(gi)):
            return _BOLD
        if role == Qt.ItemDataRole.BackgroundRole and not rid:
            return _GROUP_BACK
        if role == Qt.ItemDataRole.ForegroundRole and c == 0:
            decision = self.decision(gi)
            if decision == self.confirmed:
                return QColor("#2e7d32")
            if decision == self.rejected:
                return QColor("#888888")
        return None

    def group_of(self, row: int) -> int:
        return self.rows[row][0]

    def record_of(self, row: int) -> str:
        return self.rows[row][1]

    def row_of(self, gi: int, column: int, text: str) -> int:
        """The row of group `gi`'s entry whose cell `column` reads `text` (-1 if none)."""
        end = self.starts[gi + 1] if gi + 1 < len(self.starts) else len(self.rows)
        return next((r for r in range(self.starts[gi] + 1, end) if self.text(r, column) == text),
                    -1)

    def group_changed(self, gi: int) -> None:
        end = self.starts[gi + 1] if gi + 1 < len(self.starts) else len(self.rows)
        self.dataChanged.emit(self.index(self.starts[gi], 0),
                              self.index(end - 1, len(self.headers) - 1))


class LinesModel(QAbstractListModel):
    """Lines of text, each with its colour (the findings of an 应用)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, str]] = []  # (text, colour)

    def set_lines(self, lines: list[tuple[str, str]]) -> None:
        self.beginResetModel()
        self.lines = lines
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.lines)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        text, colour = self.lines[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return text
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(colour)
        return None
