"""The table models of the 导入Excel dialog: the first rows of the sheet, and the findings of a
check with the cell each one points at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desktop.domain.forms import FormSpec
from desktop.services.intake.importing import BLOCKING_SCOPES
from desktop.services.intake.preview import WorkbookPreview
from desktop.services.intake.workbook import CellRowResult
from desktop.ui.style import MARK_COLOURS, SEVERITY_WORDS

_ROOT = QModelIndex()
_BACKGROUNDS = {"E": "#fdecea", "W": "#fff6e0"}


def rank(row: FindingRow) -> int:
    """Blocking errors first, then warnings, errors of cross rules, notes."""
    if row.severity == "E":
        return 0 if row.blocking else 2
    return 1 if row.severity == "W" else 3


class PreviewModel(QAbstractTableModel):
    """The first rows of a sheet as Excel shows them; the header row names the columns by
    letter and header ("D 身份证号码"); the vertical header is the Excel row number."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._preview: WorkbookPreview | None = None
        self._width = 0
        self._imported: set[int] | None = None  # columns that are imported (others grey)

    def set_preview(self, preview: WorkbookPreview | None) -> None:
        self.beginResetModel()
        self._preview, self._imported = preview, None
        if preview is None:
            self._width = 0
        else:
            self._width = max([len(preview.columns), *(len(c) for _, c in preview.rows)])
        self.endResetModel()

    def set_imported(self, columns: set[int]) -> None:
        """Grey out the columns that are not imported."""
        self._imported = set(columns)
        if self.rowCount() and self._width:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self._width - 1),
                                  [Qt.ItemDataRole.ForegroundRole])

    def position(self, cell: str) -> QModelIndex:
        """The index of an Excel cell ("H7") if it is among the rows shown."""
        letters = cell.rstrip("0123456789")
        digits = cell[len(letters):]
        if self._preview is None or not letters.isalpha() or not digits:
            return QModelIndex()
        column = 0
        for ch in letters.upper():
            column = column * 26 + ord(ch) - 64
        row = next((i for i, (no, _) in enumerate(self._preview.rows) if no == int(digits)), -1)
        if row < 0 or not 0 < column <= self._width:
            return QModelIndex()
        return self.index(row, column - 1)

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() or self._preview is None else len(self._preview.rows)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else self._width

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if self._preview is None or not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            cells = self._preview.rows[index.row()][1]
            return cells[index.column()] if index.column() < len(cells) else ""
        if (role == Qt.ItemDataRole.ForegroundRole and self._imported is not None
                and index.column() not in self._imported):
            return QBrush(QColor("#a0a0a0"))
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt's name)
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole or self._preview is None:
            return None
        if orientation == Qt.Orientation.Vertical:
            if 0 <= section < len(self._preview.rows):
                return str(self._preview.rows[section][0])
            return None
        columns = self._preview.columns
        if 0 <= section < len(columns):
            col = columns[section]
            return f"{col.letter} {col.header}".strip()
        from desktop.reports.xlsx.columns import column_letter

        return column_letter(section)


@dataclass(frozen=True, slots=True)
class FindingRow:
    sheet: str
    cell: str  # "D17", or "第17行"
    row: int  # Excel row number (for sorting)
    field: str  # the field's label, "" for the sheet
    severity: str
    message: str
    blocking: bool  # keeps the import from happening


def finding_rows(form: FormSpec, results: Sequence[CellRowResult]) -> list[FindingRow]:
    """Every finding of a check, with its sheet and cell: blocking errors first, then
    warnings, errors of cross rules and notes, each in the order of the sheet."""
    out: list[FindingRow] = []
    for r in results:
        sheet = r.layout.sheet if r.layout is not None else ""
        for f in r.findings:
            where = r.where(f)
            cell = where[len(sheet) + 1:] if where.startswith(f"{sheet}!") else where
            label = form.label_of(f.field) if f.field else ""
            out.append(FindingRow(sheet, cell, r.no, label, f.severity, f.message,
                                  f.severity == "E" and f.scope in BLOCKING_SCOPES))
    out.sort(key=lambda r: (rank(r), r.row))
    return out


class FindingsModel(QAbstractTableModel):
    """Findings of a check: 级别, 工作表, 单元格, 栏目, 说明 — errors red, warnings yellow."""

    SEVERITY, SHEET, CELL, FIELD, MESSAGE = range(5)
    HEADERS = ("级别", "工作表", "单元格", "栏目", "说明")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[FindingRow] = []

    def set_rows(self, rows: list[FindingRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.SEVERITY:
                word = SEVERITY_WORDS.get(row.severity, row.severity)
                return word if row.blocking or row.severity != "E" else f"{word}（跨表）"
            return (None, row.sheet, row.cell, row.field, row.message)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.MESSAGE:
                return row.message
            if col == self.SEVERITY and row.severity == "E" and not row.blocking:
                return "跨表校验的错误（如所在党组织尚未登记）不影响导入，但上报前必须解决"
        if role == Qt.ItemDataRole.ForegroundRole and col == self.SEVERITY:
            return QBrush(QColor(MARK_COLOURS.get(row.severity, "#333")))
        if (role == Qt.ItemDataRole.BackgroundRole and row.severity in _BACKGROUNDS
                and (row.blocking or row.severity != "E")):
            return QBrush(QColor(_BACKGROUNDS[row.severity]))
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt's name)
                   role: int = Qt.ItemDataRole.DisplayRole):
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self.rows.sort(key=lambda r: self._key(r, column),
                       reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()

    def _key(self, row: FindingRow, column: int):
        if column == self.SEVERITY:
            return (rank(row), row.row)
        if column == self.CELL:
            return (row.row, len(row.cell), row.cell)
        value = (row.severity, row.sheet, row.cell, row.field, row.message)[column]
        return (value, row.row)
