"""The table of a form's records: a lazy QAbstractTableModel.

Every row's key (`rowid` on SQLite, `id` on PostgreSQL: services/listing.py; the model treats
it as opaque) and name are known at once (listing.load_index); the view grows by `fetchMore` in
blocks, and what a row shows besides its name (state, masked ID and phone, issue
counts, time) is fetched a page at a time when the view first asks for it. Sorting by name is
拼音 order in memory; sorting by another column reads that column for every row first (on a
worker for a large table: `needs_scan`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox

from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.states import DRAFT, word
from desktop.services import listing
from desktop.services.listing import FormIndex, RowInfo
from desktop.storage import Register
from desktop.ui.collation import PinyinKeys
from desktop.ui.dialogs import guard_wheel
from desktop.ui.style import MARK_COLOURS, STATE_COLOURS

STATE, NAME, ID, PHONE, ISSUES, UPDATED = "state", "name", "id", "phone", "issues", "updated"
LIST = "list:"  # the kind of a form's list column: "list:0" is form.list_columns[0]
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RECORD_ID_ROLE = Qt.ItemDataRole.UserRole + 2
BLOCK = 1000  # rows added to the view per fetchMore
PAGE = 32  # rows whose details are read together (about a screenful)
SYNC_SCAN = 3000  # up to this many rows, a column is read for sorting without a worker
NAMES_AT_ONCE = 5000  # a longer table reads its rows' names on a worker, after it is shown
_ROOT = QModelIndex()
BLANK = RowInfo("", "", "", "", "", "", -1, -1)
SYNC_CROSS = 3000  # up to this many records, a save counts every row's cross findings again
#: the list's filters: every record, those with errors, with warnings (提醒), drafts
ALL, ERRORS, WARNINGS, DRAFTS = "all", "errors", "warnings", "drafts"
FILTERS = {ALL: "全部", ERRORS: "有错误", WARNINGS: "有提醒", DRAFTS: "草稿"}


def local_time(stored: str) -> str:
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:
        return stored
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


class RecordTableModel(QAbstractTableModel):
    needs_scan = Signal(int, object)  # column, Qt.SortOrder: details of every row are wanted
    needs_names = Signal()  # a large table was listed without its names: read them (worker)
    needs_filter = Signal()  # a filter by issues wants every row's counts: scan them (worker)

    def __init__(self, register: Register, forms: FormSet, form: FormSpec, unit_id: str,
                 pinyin: PinyinKeys | None = None, parent=None) -> None:
        super().__init__(parent)
        self.register, self.forms, self.form, self.unit_id = register, forms, form, unit_id
        self.pinyin = pinyin or PinyinKeys()
        self.columns: list[tuple[str, str]] = [
            (STATE, "状态"), (NAME, form.field(form.name_field).label), (ISSUES, "问题")]
        for kind, mask in ((ID, "id"), (PHONE, "phone")):
            spec = next((f for f in form.fields if f.mask == mask), None)
            if spec is not None:
                self.columns.append((kind, spec.label))
        # a form's own list columns (会员证号, 会员状态) come right after the name
        self.columns[2:2] = [(f"{LIST}{i}", form.field(f).label)
                             for i, f in enumerate(form.list_columns)]
        self.columns.append((UPDATED, "修改时间"))
        self.index_ = FormIndex([], [])
        self.order: list[int] = []  # positions in index_, filtered and sorted
        self.shown = 0
        self.details: dict[int, RowInfo] = {}
        self.revealed: set[int] = set()
        self.query = ""
        self.sort_key: tuple[int, Qt.SortOrder] | None = None
        self._name_keys: list[str] | None = None
        #: cross-record findings as the record's panel counts them, from the unit's records
        #: read once per refresh (count_cross); None before they are read
        self.cross: listing.CrossCheck | None = None
        self._has_cross = listing.has_cross_rules(forms, form)
        self.filter = ALL
        #: (code field, code): only records holding that code (the 会员状态 filter), or None
        self.code_filter: tuple[str, str] | None = None

    # -- loading --

    def reload(self) -> None:
        """Read the rows again. Names of a large table are read just after it is shown."""
        self.beginResetModel()
        self.index_ = listing.load_index(self.register, self.form, self.unit_id,
                                         with_names=False)
        self.details, self._name_keys = {}, None
        self._arrange()
        self.endResetModel()
        if len(self.index_.rowids) > NAMES_AT_ONCE:
            self.needs_names.emit()
        else:
            self.ensure_names()

    def ensure_names(self) -> None:
        """Every row's name, for search and sorting by name (the name index only)."""
        if self.index_.names is None:
            self.index_.names = listing.load_names(self.register, self.index_.rowids)

    def names_read(self, rowids: list[int], names: list[str]) -> None:
        """What a worker read for `needs_names` (ignored if the rows changed meanwhile)."""
        if self.index_.names is None and rowids == self.index_.rowids:
            self.index_.names = names

    @property
    def total(self) -> int:
        return len(self.index_.rowids)

    def _arrange(self) -> None:
        if self.query.strip() or (self.sort_key and self.columns[self.sort_key[0]][0] == NAME):
            self.ensure_names()
        exact = (listing.key_matches(self.register, self.form, self.query)
                 if len(self.query.strip()) >= 8 else set())
        self.order = self._filtered(listing.search(self.index_, self.query, exact))
        if self.sort_key is not None:
            self._sort_order(*self.sort_key)
        self.shown = min(len(self.order), BLOCK)

    def set_filter(self, key: str) -> None:
        """Show all rows, or only those with errors, with warnings, or drafts."""
        self.beginResetModel()
        self.filter = key if key in FILTERS else ALL
        self._arrange()
        self.endResetModel()

    def refilter(self) -> None:
        """Counts changed (a scan, the cross findings): apply the filter again."""
        if self.filter != ALL:
            self.set_filter(self.filter)
        elif self.shown:
            self.dataChanged.emit(self.index(0, 0), self.index(self.shown - 1,
                                                               len(self.columns) - 1))

    def set_code_filter(self, field_id: str, code: str | None) -> None:
        """Show only the records whose code field holds `code` (None: every record)."""
        self.beginResetModel()
        self.code_filter = (field_id, code) if code is not None else None
        self._arrange()
        self.endResetModel()

    def _filtered(self, order: list[int]) -> list[int]:
        if self.code_filter is not None:
            keep = listing.rowids_with_code(self.register, self.form, self.unit_id,
                                            *self.code_filter)
            order = [p for p in order if self.index_.rowids[p] in keep]
        if self.filter == ALL:
            return order
        rowids = self.index_.rowids
        if self.filter == DRAFTS:
            drafts = listing.rowids_in_state(self.register, self.form, self.unit_id, DRAFT)
            return [p for p in order if rowids[p] in drafts]
        details = self.details
        missing = [rowids[p] for p in order
                   if rowids[p] not in details or details[rowids[p]].errors < 0]
        if len(missing) > SYNC_SCAN:
            self.needs_filter.emit()  # rows not counted yet are left out until the scan ends
        elif missing:
            details.update(listing.fetch_rows(self.register, self.forms, self.form, missing,
                                              revealed=self.revealed))
        wanted = 0 if self.filter == ERRORS else 1
        return [p for p in order if self.counts(details.get(rowids[p], BLANK))[wanted] > 0]

    def missing_counts(self) -> list[int]:
        """Rowids (in the search's order) whose issue counts were not read yet."""
        return [self.index_.rowids[p] for p in listing.search(self.index_, self.query)
                if (info := self.details.get(self.index_.rowids[p])) is None or info.errors < 0]

    # -- cross-record findings --

    def count_cross(self, peers) -> None:
        """The unit's records (per form) were read or changed: rows count their cross-record
        findings from them (each row when it is shown; a scan counts them all)."""
        if not self._has_cross:
            return
        self.cross = listing.CrossCheck(self.forms, self.form, peers)
        self.refilter()

    def cross_saved(self, record_id: str, values, peers) -> None:
        """A record of this list was saved: a small unit is counted again from `peers`; a large
        one counts the saved record again (the others at the next refresh)."""
        if self.cross is None:
            return
        if sum(len(v) for v in peers.values()) <= SYNC_CROSS:
            self.count_cross(peers)
        else:
            self.cross.update(record_id, values)

    def add_cross(self, counts: dict[str, tuple[int, int]]) -> None:
        """What a worker counted for every record (`listing.cross_counts`)."""
        if self.cross is not None:
            self.cross.add(counts)

    def counts(self, info: RowInfo) -> tuple[int, int]:
        """(errors, warnings) of a row as its panel counts them: its own findings and the
        register's (duplicates) plus the cross-record ones; (-1, -1) when not read yet."""
        if info.errors < 0:
            return -1, -1
        if self.cross is None:
            return info.errors, info.warnings
        e, w = self.cross.counts(info.id)
        return info.errors + e, info.warnings + w

    def set_query(self, text: str) -> None:
        """Search as you type: names containing `text`, or a complete ID number or licence."""
        self.beginResetModel()
        self.query = text
        self._arrange()
        self.endResetModel()

    # -- Qt model --

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else self.shown

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> bool:  # noqa: N802
        return not parent.isValid() and self.shown < len(self.order)

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> None:  # noqa: N802
        if parent.isValid():
            return
        more = min(BLOCK, len(self.order) - self.shown)
        if more <= 0:
            return
        self.beginInsertRows(QModelIndex(), self.shown, self.shown + more - 1)
        self.shown += more
        self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][1] if 0 <= section < len(self.columns) else None
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.shown:
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        kind = self.columns[index.column()][0]
        pos = self.order[index.row()]
        if kind == NAME and role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            names = self.index_.names
            return names[pos] if names is not None else self._info(index.row()).name
        if role not in (Qt.ItemDataRole.DisplayRole, SORT_ROLE, Qt.ItemDataRole.ForegroundRole,
                        RECORD_ID_ROLE, Qt.ItemDataRole.ToolTipRole):
            return None
        info = self._info(index.row())
        if role == RECORD_ID_ROLE:
            return info.id
        if role == Qt.ItemDataRole.ForegroundRole:
            if kind == STATE:
                return QColor(STATE_COLOURS.get(info.state, "#333"))
            errors, warnings = self.counts(info)
            if kind == ISSUES and errors > 0:
                return QColor(MARK_COLOURS["E"])
            if kind == ISSUES and warnings > 0:
                return QColor(MARK_COLOURS["W"])
            return None
        if role == SORT_ROLE:
            return self._sort_value(kind, pos, info)
        if role == Qt.ItemDataRole.ToolTipRole:
            return ("已显示完整号码（已记入操作日志）" if self.index_.rowids[pos] in self.revealed
                    and kind in (ID, PHONE) else None)
        return self._display(kind, info)

    def _display(self, kind: str, info: RowInfo) -> str:
        if kind == STATE:
            return word(info.state)
        if kind == ID:
            return info.id_text
        if kind == PHONE:
            return info.phone_text
        if kind == UPDATED:
            return local_time(info.updated)
        if kind.startswith(LIST):
            i = int(kind[len(LIST):])
            return info.extra[i] if i < len(info.extra) else ""
        errors, warnings = self.counts(info)
        if errors < 0:
            return "…"
        parts = [f"错误 {errors}" if errors else "", f"警告 {warnings}" if warnings else ""]
        return "  ".join(p for p in parts if p) or "—"

    def _sort_value(self, kind: str, pos: int, info: RowInfo) -> Any:
        if kind == ISSUES:
            return self.counts(info)
        if kind == UPDATED:
            return info.updated
        return self._display(kind, info)

    # -- details, a page at a time --

    def _info(self, row: int) -> RowInfo:
        rowid = self.index_.rowids[self.order[row]]
        info = self.details.get(rowid)
        if info is None:
            start = row - row % PAGE
            page = [self.index_.rowids[p] for p in self.order[start:start + PAGE]]
            wanted = [r for r in page if r not in self.details]
            self.details.update(listing.fetch_rows(self.register, self.forms, self.form, wanted,
                                                   revealed=self.revealed))
            info = self.details.get(rowid) or BLANK
        return info

    def record_id(self, row: int) -> str:
        return self._info(row).id if 0 <= row < self.shown else ""

    def row_of(self, record_id: str) -> int:
        for row in range(self.shown):
            info = self.details.get(self.index_.rowids[self.order[row]])
            if info is not None and info.id == record_id:
                return row
        return -1

    # -- sorting --

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        kind = self.columns[column][0]
        if kind != NAME:
            missing = [self.index_.rowids[p] for p in self.order
                       if self.index_.rowids[p] not in self.details
                       or (kind == ISSUES and self.details[self.index_.rowids[p]].errors < 0)]
            if len(missing) > SYNC_SCAN:
                self.needs_scan.emit(column, order)
                return
            if missing:
                self.details.update(listing.fetch_rows(self.register, self.forms, self.form,
                                                       missing, revealed=self.revealed))
        self.apply_sort(column, order)

    def add_details(self, details: dict[int, RowInfo]) -> None:
        """What a scan read (on a worker): kept, revealed rows stay as they are shown."""
        for rowid, info in details.items():
            if rowid not in self.revealed:
                self.details[rowid] = info

    def apply_sort(self, column: int, order: Qt.SortOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self.sort_key = (column, order)
        self._sort_order(column, order)
        self.layoutChanged.emit()

    def _sort_order(self, column: int, order: Qt.SortOrder) -> None:
        kind = self.columns[column][0]
        reverse = order == Qt.SortOrder.DescendingOrder
        rowids = self.index_.rowids
        if kind == NAME:
            self.ensure_names()
            if self._name_keys is None:
                self._name_keys = self.pinyin.keys(self.index_.names)
            keys = self._name_keys
            self.order.sort(key=keys.__getitem__, reverse=reverse)
            return
        details = self.details
        self.order.sort(key=lambda p: self._sort_value(kind, p, details.get(rowids[p], BLANK)),
                        reverse=reverse)

    # -- changes from the editor and the reveal action --

    def record_saved(self, record_id: str) -> int:
        """A record was saved: refresh its row (a new record comes first). Returns its row."""
        found = listing.rowid_of(self.register, record_id)
        if found is None:
            return -1
        rowid, name = found
        self.details.pop(rowid, None)
        self._name_keys = None
        try:
            pos = self.index_.rowids.index(rowid)
        except ValueError:
            self.beginResetModel()
            self.index_.rowids.insert(0, rowid)
            if self.index_.names is not None:
                self.index_.names.insert(0, name)
            self.index_.changed()
            self.order = [0] + [p + 1 for p in self.order]
            self.shown = min(len(self.order), max(self.shown + 1, BLOCK))
            self.endResetModel()
            return 0
        if self.index_.names is not None and self.index_.names[pos] != name:
            self.index_.names[pos] = name
            self.index_.changed()
        row = self.order.index(pos) if pos in self.order else -1
        if 0 <= row < self.shown:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
        return row

    def reveal_rows(self, rows: list[int]) -> list[str]:
        """Show these rows' identifiers in full (the caller writes the audit entry first)."""
        ids = []
        for row in rows:
            rowid = self.index_.rowids[self.order[row]]
            self.revealed.add(rowid)
            self.details.pop(rowid, None)
            ids.append(rowid)
        for row in rows:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
        return [self._info(r).id for r in rows]

    def hide_all(self) -> None:
        """Mask every identifier again (on lock, or when the unit changes)."""
        if self.revealed:
            for rowid in self.revealed:
                self.details.pop(rowid, None)
            self.revealed.clear()
            if self.shown:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(self.shown - 1, len(self.columns) - 1))


def code_filter_box(form: FormSpec, model: RecordTableModel, shown: Callable[[], None]
                    ) -> QComboBox | None:
    """A filter by the first code field among the form's list columns (会员状态: only the
    members in one state, so cleaned members are not taken for active ones); None when the
    form lists no code field. `shown` is called after each change (the count)."""
    spec = next((form.field(f) for f in form.list_columns
                 if form.field(f).type == "code" and form.field(f).codes is not None), None)
    if spec is None:
        return None
    box = QComboBox()
    box.setObjectName(f"codeFilter:{form.id}")
    box.setAccessibleName(f"按{spec.label}筛选")
    box.setToolTip(f"只显示某一{spec.label}的记录")
    box.addItem(f"{spec.label}：全部", None)
    guard_wheel(box)  # a wheel passing over it does not change what is shown
    for code in spec.codes.codes:
        box.addItem(code.label, code.code)

    def changed(_index: int) -> None:
        model.set_code_filter(spec.id, box.currentData())
        shown()

    box.currentIndexChanged.connect(changed)
    return box
