"""One tab per form: a search box and the table of records on the left, the editor on the right."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelectionModel, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.states import DRAFT, word
from desktop.errors import KnownError
from desktop.services import drafts, listing
from desktop.services.editing import EditSession, peer_forms
from desktop.storage import Register
from desktop.ui.collation import PinyinKeys
from desktop.ui.dialogs import guard_wheel
from desktop.ui.records.editor import RecordEditor
from desktop.ui.records.table import FILTERS, RecordTableModel, code_filter_box
from desktop.ui.workers import Workers

TABLE_WIDTH = 420  # the table's first width; the editor takes the rest
NAMES_DELAY_MS = 500


class FormTab(QWidget):
    status = Signal(str)
    progress = Signal(int, int, str)
    record_saved = Signal(str, str, object)  # form id, record id, a copy of its values (None: voided)

    def __init__(self, register: Register, forms: FormSet, form: FormSpec, unit_id: str, *,
                 actor: str, own_unit_id: str, workers: Workers, pinyin: PinyinKeys,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names_wanted = False  # a large table's names wait until it is first shown
        self.register, self.forms, self.form = register, forms, form
        self.actor, self.own_unit_id, self.workers = actor, own_unit_id, workers
        self.unit_id = unit_id
        self.writable = True  # False when the register's database role may only read (a reviewer)
        #: what a new record starts with besides the form's defaults (the next member number…)
        self.new_record_values: Callable[[], dict[str, Any]] | None = None
        self.model = RecordTableModel(register, forms, form, unit_id, pinyin, self)
        self.model.needs_scan.connect(self._scan_then_sort)
        self.model.needs_names.connect(self._read_names)
        self.model.needs_filter.connect(self._scan_then_filter)
        self.search = QLineEdit()
        self.search.setObjectName(f"search:{form.id}")
        self.search.setPlaceholderText(listing.search_hint(form))
        self.search.setToolTip(listing.search_hint(form))  # the whole hint in a narrow list
        self.search.setAccessibleName(f"搜索{form.display_title}")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._search)
        self.filter = QComboBox()
        self.filter.setObjectName(f"filter:{form.id}")
        self.filter.setAccessibleName(f"筛选{form.display_title}")
        self.filter.setToolTip("只显示有错误、有提醒（警告）的记录或草稿")
        for key, text in FILTERS.items():
            self.filter.addItem(text, key)
        self.filter.currentIndexChanged.connect(self._filter_changed)
        guard_wheel(self.filter)  # a wheel passing over it does not change what is shown
        self.code_filter = code_filter_box(form, self.model, self._show_count)  # 会员状态
        self.count = QLabel()
        self.view = QTableView()
        self.view.setObjectName(f"table:{form.id}")
        self.view.setAccessibleName(f"{form.display_title}记录列表")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(26)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setHighlightSections(False)
        # no sort indicator first, so turning sorting on does not sort (by 状态) at once
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        long_names = form.field(form.name_field).max_length or 30
        widths = {"state": 110, "name": 80 if long_names <= 30 else 200, "id": 150,
                  "phone": 104, "issues": 92}
        for col, (kind, _label) in enumerate(self.model.columns[:-1]):
            self.view.setColumnWidth(col, widths.get(kind, 100))
        self.view.selectionModel().currentRowChanged.connect(self._row_changed)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._row_menu)
        self.new_button = QPushButton("新建记录")
        self.new_button.setToolTip("Ctrl+N")
        self.new_button.clicked.connect(self.new_record)
        self.reveal_button = QPushButton("显示完整号码…")
        self.reveal_button.setToolTip("显示所选记录的完整身份证号和电话；此操作记入操作日志")
        self.reveal_button.clicked.connect(self.reveal_selected)
        if not any(f.mask for f in form.fields):
            self.reveal_button.hide()

        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 4, 0)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.filter)
        if self.code_filter is not None:
            top.addWidget(self.code_filter)
        col.addLayout(top)
        col.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.reveal_button)
        bottom.addWidget(self.new_button)
        col.addLayout(bottom)

        self.session = self._make_session(unit_id)
        self._editor: RecordEditor | None = None  # built when the tab is first shown
        self.editor_state = None  # the editor's splitter state, restored when it is built
        self.splitter_state = None  # this tab's splitter state, restored when first shown
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName(f"tabSplitter:{form.id}")
        self.splitter.addWidget(left)
        self.splitter.addWidget(QWidget())
        self.splitter.setStretchFactor(0, 0)  # a wider window gives the editor the room
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self._filter_scanning = False
        self.reload()

    @property
    def editor(self) -> RecordEditor:
        """The record editor (generated on first use: a hidden tab costs nothing)."""
        if self._editor is None:
            editor = RecordEditor(self.session)
            editor.saved.connect(self._saved)
            editor.status.connect(self.status)
            editor.void_requested.connect(self.void_draft)
            editor.reopen_requested.connect(self.reopen)
            editor.set_read_only(self.read_only)
            if self.editor_state is not None:
                editor.splitter.restoreState(self.editor_state)
            old = self.splitter.replaceWidget(1, editor)
            old.deleteLater()
            self._editor = editor
        return self._editor

    @property
    def has_editor(self) -> bool:
        return self._editor is not None

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        first = self._editor is None
        self.editor  # noqa: B018 (built when first shown)
        super().showEvent(event)
        if self._names_wanted:  # (after the first paint: the timer starts now)
            self._read_names()
        if first:
            state = self.splitter_state
            if not (isinstance(state, QByteArray | bytes) and self.splitter.restoreState(state)):
                total = max(sum(self.splitter.sizes()), self.width())
                table = min(TABLE_WIDTH, total * 9 // 20)
                self.splitter.setSizes([table, total - table])

    def save_draft(self) -> bool:
        return self._editor.save_draft() if self._editor is not None else False

    # -- unit and records --

    def _make_session(self, unit_id: str) -> EditSession:
        return EditSession(self.register, self.forms, self.form, unit_id, actor=self.actor,
                           defer_peers=True)

    def reload(self) -> None:
        self.model.reload()
        self._show_count()
        if self._editor is not None:
            self._editor.set_read_only(self.read_only)

    def refresh_record(self) -> None:
        """Read the record in the editor again (its state or return comments changed: a merge,
        an export, a return file imported); unsaved typing is never thrown away."""
        if self._editor is None or self.session.dirty:
            return
        record_id = self.session.record_id
        if record_id and listing.rowid_of(self.register, record_id):
            self.session.load(record_id)
        elif record_id:
            self.session.new()  # the record left this register (a resolved conflict)
        self._editor.show_record()

    def attach_peers(self, unit_id: str, cache: dict) -> None:
        """What cross rules need, read once for the unit by the window (shared by the tabs)."""
        if unit_id == self.unit_id:
            self.session.attach_peers(cache)
            self.model.count_cross(cache)
            if self._editor is not None:
                self._editor.recheck()

    def set_unit(self, unit_id: str) -> None:
        self.save_draft()
        self.unit_id = unit_id
        self.model.hide_all()
        self.model.unit_id = unit_id
        old, self.session = self.session, self._make_session(unit_id)
        if self._editor is not None:
            self._editor.set_session(self.session)
        old.close()
        self.reload()

    def _show_count(self) -> None:
        total, found = self.model.total, len(self.model.order)
        if self.model.query.strip() or self.model.filter != "all" or self.model.code_filter:
            self.count.setText(f"找到 {found:,} 条（共 {total:,} 条）")
        else:
            self.count.setText(f"共 {total:,} 条")

    def _search(self, text: str) -> None:
        with QSignalBlocker(self.view.selectionModel()):
            self.model.set_query(text)
        self._show_count()

    def _row_changed(self, current, _previous) -> None:
        if not current.isValid():
            return
        record_id = self.model.record_id(current.row())
        if not record_id or record_id == self.session.record_id:
            return
        self.editor.save_draft()
        self.session.load(record_id)
        self.editor.show_record()

    @property
    def read_only(self) -> bool:
        """A lower unit's records, or every record for a reviewer role, are shown, not edited."""
        return not self.writable or self.unit_id != self.own_unit_id

    def new_record(self) -> None:
        if not self.writable:
            self.status.emit("当前数据库角色只有查看权限（审阅角色），不能新建记录")
            return
        if self.unit_id != self.own_unit_id:
            self.status.emit("只能为本单位新建记录")
            return
        self.editor.save_draft()
        with QSignalBlocker(self.view.selectionModel()):
            self.view.clearSelection()
            self.view.setCurrentIndex(self.model.index(-1, -1))
        self.session.new(self.new_record_values() if self.new_record_values else None)
        self.editor.show_record()
        self.editor.focus_first()

    def peer_saved(self, form_id: str, record_id: str, values: dict | None) -> None:
        """A record of another form was saved (values None: voided): this form's cross rules
        see it, or forget it, at once."""
        if form_id != self.form.id:
            if values is None:
                self.session.peer_removed(form_id, record_id)
            else:
                self.session.peer_saved(form_id, record_id, values)
            if self._editor is not None:
                self._editor.recheck()
            if self.session.cross_ready:
                self.model.count_cross(self._peers())

    def _saved(self, record_id: str) -> None:
        self.record_saved.emit(self.form.id, record_id, dict(self.session.values))
        row = self.model.record_saved(record_id)
        if self.session.cross_ready:
            self.model.cross_saved(record_id, self.session.values, self._peers())
        self._show_count()
        if row >= 0:
            with QSignalBlocker(self.view.selectionModel()):
                self.view.selectionModel().setCurrentIndex(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect |
                    QItemSelectionModel.SelectionFlag.Rows)

    def _read_names(self) -> None:
        """A large table's names, read on a worker once it is painted (search and sorting by
        name read them at once if they are wanted sooner)."""
        model, rowids = self.model, list(self.model.index_.rowids)

        def task():
            yield from ()
            return listing.load_names(self.register, rowids)

        def start() -> None:
            if model.index_.names is None and rowids == model.index_.rowids:
                self._read(task, lambda names: model.names_read(rowids, names))

        if self.isVisible():
            QTimer.singleShot(NAMES_DELAY_MS, self, start)  # never after the tab is gone
        self._names_wanted = not self.isVisible()  # else timed from its first showing

    # -- the list's counts: cross-record findings and the filters --

    def _peers(self) -> dict:
        """The unit's records per form as the editor's cross rules see them now (the lists
        themselves: a save replaces a list, never changes one)."""
        return {f: self.session.peers.records(f) for f in peer_forms(self.forms, self.form)}

    def _filter_changed(self, _index: int) -> None:
        with QSignalBlocker(self.view.selectionModel()):
            self.model.set_filter(self.filter.currentData())
        self._show_count()

    def _scan_then_filter(self) -> None:
        if self._filter_scanning:
            return
        self._filter_scanning = True
        rowids = self.model.missing_counts()
        peers = self.model.cross.peers if self.model.cross is not None else None

        def done(result) -> None:
            details, cross = result
            self._filter_scanning = False
            self.model.add_details(details)
            self.model.add_cross(cross)
            with QSignalBlocker(self.view.selectionModel()):
                self.model.refilter()
            self._show_count()
            self.status.emit("筛选完成")

        self.status.emit("正在统计各条记录的问题以筛选…")
        self._read(lambda: listing.scan_issues(self.register, self.forms, self.form, rowids,
                                               peers), done, report=True)

    # -- sorting by a column that must be read first --

    def _scan_then_sort(self, column: int, order) -> None:
        rowids = [self.model.index_.rowids[p] for p in self.model.order]
        issues = self.model.columns[column][0] == "issues"

        peers = self.model.cross.peers if issues and self.model.cross is not None else None

        def done(result) -> None:
            details, cross = result if issues else (result, {})
            self.model.add_details(details)
            self.model.add_cross(cross)
            self.model.apply_sort(column, order)
            self.status.emit("排序完成")

        def task():
            if issues:
                return listing.scan_issues(self.register, self.forms, self.form, rowids, peers)
            return listing.scan_rows(self.register, self.forms, self.form, rowids, issues=False)

        self.status.emit("正在读取各条记录以排序…")
        self._read(task, done, report=True)

    def _read(self, make_task, done, *, report: bool = False) -> None:
        """A background read on the window's read pool, through the Workers adaptor as the
        window's operations are. With `report` its progress and a failure reach the status bar
        (this tab's signals) and the progress is hidden when it ends, however it ends; without,
        it is silent (a failed optional read changes nothing). The tab has no WindowContext:
        it is part of the window, not a menu feature."""
        if not report:
            self.workers.start(make_task, on_done=done)
            return

        def ended() -> None:
            self.progress.emit(0, 0, "")

        def finished(result) -> None:
            ended()
            done(result)

        def failed(message: str) -> None:
            ended()
            self.status.emit(message)

        job = self.workers.start(make_task, on_done=finished, on_progress=self.progress.emit,
                                 on_error=failed)
        job.signals.cancelled.connect(ended)

    # -- show in full --

    def reveal_selected(self) -> None:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        if not rows:
            self.status.emit("请先在列表中选择要显示完整号码的记录")
            return
        answer = QMessageBox.question(
            self, "显示完整号码",
            f"将显示所选 {len(rows)} 条记录的完整身份证号和电话号码。\n"
            "此操作会记入操作日志（谁、何时、哪些记录）。继续吗？")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.reveal_rows(rows)

    def reveal_rows(self, rows: list[int]) -> None:
        """Write the audit entry, then show the rows in full (no dialog: tests and the action)."""
        ids = [self.model.record_id(r) for r in rows]
        listing.reveal(self.register, self.form, ids, self.actor)
        self.model.reveal_rows(rows)
        self.status.emit(f"已显示 {len(rows)} 条记录的完整号码（已记入操作日志）")

    # -- drafts stay drafts: void a draft, take a record back to draft --

    def _row_menu(self, pos) -> None:
        """The list's context menu: the row under the pointer becomes the current record."""
        index = self.view.indexAt(pos)
        if not index.isValid() or self.read_only:
            return
        self.view.setCurrentIndex(index)
        menu = QMenu(self.view)
        menu.setObjectName("recordMenu")
        stored, draft = self.session.record_id is not None, self.session.state == DRAFT
        menu.addAction("作废草稿…", self.void_draft).setEnabled(stored and draft)
        menu.addAction("退回草稿", self.reopen).setEnabled(stored and not draft)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _current_own(self, doing: str) -> str | None:
        if not self.writable:
            self.status.emit(f"当前数据库角色只有查看权限（审阅角色），记录不能{doing}")
            return None
        if self.unit_id != self.own_unit_id:
            self.status.emit(f"下级单位上报的记录不能{doing}，只能审核（接收或退回）")
            return None
        self.save_draft()
        if self.session.record_id is None:
            self.status.emit(f"请先在列表中选择要{doing}的记录")
            return None
        return self.session.record_id

    def void_draft(self) -> None:
        """作废草稿…: ask, naming the person, then remove the draft (audited)."""
        record_id = self._current_own("作废")
        if record_id is None:
            return
        try:
            who = drafts.describe(self.register, self.forms, record_id)
            if who.state != DRAFT:
                raise KnownError(f"{who.person} 的记录是“{word(who.state)}”，只有草稿可以作废。"
                                 "如确需作废，请先点“退回草稿”。")
            if not self.confirm_void(who):
                self.status.emit("未作废")
                return
            drafts.void_draft(self.register, self.forms, record_id, actor=self.actor)
        except KnownError as err:
            QMessageBox.warning(self, "不能作废", str(err))
            return
        self.session.peer_removed(self.form.id, record_id)
        self.session.new()
        self.reload()
        if self._editor is not None:
            self._editor.show_record()
        self.record_saved.emit(self.form.id, record_id, None)
        self.status.emit(f"已作废草稿：{who.person}，{who.form_title}（已记入操作日志）")

    def confirm_void(self, who: drafts.RecordWho) -> bool:
        """The confirmation that names the person; 否 is the default."""
        box = QMessageBox(QMessageBox.Icon.Warning, "作废草稿",
                          f"作废{who.form_title}的草稿：{who.person}？", parent=self)
        box.setObjectName("voidConfirm")
        box.setInformativeText("作废后，这条草稿从列表、汇总表、导出和数据包中移除，不再参与查重，"
                               "不能恢复；操作日志保留作废记录。")
        yes = box.addButton("作废", QMessageBox.ButtonRole.DestructiveRole)
        no = box.addButton("不作废", QMessageBox.ButtonRole.RejectRole)
        yes.setObjectName("voidYes")
        no.setObjectName("voidNo")
        box.setDefaultButton(no)
        box.setEscapeButton(no)
        box.exec()
        return box.clickedButton() is yes

    def reopen(self) -> None:
        """退回草稿: a complete (or sent, or returned) own record becomes a draft again."""
        record_id = self._current_own("退回草稿")
        if record_id is None:
            return
        try:
            who = drafts.reopen(self.register, self.forms, record_id, actor=self.actor)
        except KnownError as err:
            QMessageBox.warning(self, "不能退回草稿", str(err))
            return
        self.session.load(record_id)
        if self._editor is not None:
            self._editor.show_record()
        self._saved(record_id)
        self.status.emit(f"已退回草稿：{who.person}；修改后请重新标记完成，否则不计入汇总表和上报")

    def close_session(self) -> None:
        self.save_draft()
        self.session.close()
