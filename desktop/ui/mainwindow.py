"""The main window: the unit tree on the left, one tab per form, keyboard shortcuts, remembered
geometry, and the idle lock.

It is the composition root of the window's features: it builds the narrow `WindowContext`
(ui/context.py) and hands it to each feature's menu (ui/excel, ui/printing, ui/packages,
ui/cleanup, ui/register); the features never see this class. What an operation changed comes
back through the context's `changed` signal into `refresh`."""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QWidget,
)

from desktop.domain.forms import FormSet
from desktop.domain.levels import LEVEL_NAMES
from desktop.progress import run, without_collection
from desktop.services.editing import load_peers, peer_forms
from desktop.services.listing import UnitRow, count_form, forms_for_level, list_units
from desktop.storage import Register
from desktop.ui.actions import Action
from desktop.ui.cleanup.actions import add_cleanup_actions
from desktop.ui.collation import PinyinKeys
from desktop.ui.context import Changes, WindowContext
from desktop.ui.dialogs import available_geometry, fit_to_screen
from desktop.ui.excel.actions import add_excel_actions
from desktop.ui.idle import IdleLock
from desktop.ui.operations import Operation
from desktop.ui.packages.actions import add_package_actions
from desktop.ui.printing.actions import add_print_actions
from desktop.ui.records.formtab import FormTab
from desktop.ui.records.reviewer import apply_reviewer_mode
from desktop.ui.register.actions import add_register_actions
from desktop.ui.spotcheck.actions import add_spotcheck_actions, has_spotcheck
from desktop.ui.workers import Workers

UNIT_ROLE = Qt.ItemDataRole.UserRole + 1
#: with more records than this, what cross rules need is read on a worker
BACKGROUND_PEERS = 5000
PEERS_DELAY_MS = 1000
#: a screen smaller than this (free area) opens the window maximised on first run
SMALL_SCREEN = (1440, 900)


class MainWindow(QMainWindow):
    def __init__(self, register: Register, forms: FormSet, *, actor: str, settings: QSettings,
                 unlock: Callable[[bool], bool] | None = None, idle_minutes: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.register, self.forms, self.actor, self.settings = register, forms, actor, settings
        self.workers = Workers(self)
        self.pinyin = PinyinKeys()
        self._units = list_units(register)
        own = next(u for u in self._units if u.is_own)
        self.own = own
        self.ctx = WindowContext(self, self, register, forms, actor=actor, own=own,
                                 settings=settings, workers=self.workers)
        self.ctx.changed.connect(self.refresh)
        self.setWindowTitle(f"登记 — {own.name}")
        self.tree = QTreeWidget()
        self.tree.setObjectName("unitTree")
        self.tree.setHeaderLabel("单位")
        self.tree.setAccessibleName("单位")
        self._fill_tree()
        self.tree.currentItemChanged.connect(self._unit_changed)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("formTabs")
        self.form_tabs: list[FormTab] = []
        for form in forms_for_level(forms, own.level):
            tab = FormTab(register, forms, form, own.id, actor=actor, own_unit_id=own.id,
                          workers=self.workers, pinyin=self.pinyin)
            tab.status.connect(self.show_status)
            tab.progress.connect(self.show_progress)
            self.tabs.addTab(tab, form.attachment or form.title)
            self.tabs.setTabToolTip(self.tabs.count() - 1, form.display_title)
            self.form_tabs.append(tab)
        for tab in self.form_tabs:
            for other in self.form_tabs:
                if other is not tab:
                    tab.record_saved.connect(other.peer_saved)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._peers_started = False
        self._closed = False  # closeEvent: no work is started after it
        self._read_peers(own.id, later=True)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setSizes([170, 1110])
        self.setCentralWidget(self.splitter)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.unit_label = QLabel(f"{LEVEL_NAMES.get(own.level, own.level)}：{own.name}")
        self.statusBar().addPermanentWidget(self.unit_label)
        self._actions()
        apply_reviewer_mode(self)  # a reviewer role on PostgreSQL: what writes is greyed out
        self.restore_settings()
        minutes = idle_minutes if idle_minutes is not None else int(
            settings.value("lock/idle_minutes", 10))
        self.idle = IdleLock(self, minutes, self.lock, unlock) if unlock else None

    # -- building --

    def _fill_tree(self) -> None:
        by_code: dict[str, QTreeWidgetItem] = {}
        items: list[tuple[UnitRow, QTreeWidgetItem]] = []
        for unit in self._units:
            item = QTreeWidgetItem([unit.name])
            item.setData(0, UNIT_ROLE, unit.id)
            item.setToolTip(0, f"{unit.name}\n{LEVEL_NAMES.get(unit.level, unit.level)}，"
                               f"代码 {unit.code}")
            by_code.setdefault(unit.code, item)
            items.append((unit, item))
        for unit, item in items:
            parent = by_code.get(unit.parent_code or "") if not unit.is_own else None
            if parent is not None and parent is not item:
                parent.addChild(item)
            else:
                self.tree.addTopLevelItem(item)
        self.tree.expandAll()
        self.tree.setCurrentItem(items[0][1])

    def _actions(self) -> None:
        ctx = self.ctx
        window = Qt.ShortcutContext.WindowShortcut
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        if QKeySequence("Ctrl+Y") not in redo_keys:
            redo_keys.append(QKeySequence("Ctrl+Y"))
        own = (
            (Action.SAVE, "保存", QKeySequence.keyBindings(QKeySequence.StandardKey.Save),
             self.save),
            (Action.NEW_RECORD, "新建记录", QKeySequence.keyBindings(QKeySequence.StandardKey.New),
             lambda: self.current_tab().new_record()),
            (Action.FIND, "搜索", QKeySequence.keyBindings(QKeySequence.StandardKey.Find),
             self.focus_search),
            (Action.UNDO, "撤销", QKeySequence.keyBindings(QKeySequence.StandardKey.Undo),
             lambda: self.current_tab().editor.undo_stack.undo()),
            (Action.REDO, "重做", redo_keys, lambda: self.current_tab().editor.undo_stack.redo()),
            (Action.SUBMIT, "标记完成", [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")],
             lambda: self.current_tab().editor.submit()),
            (Action.VOID_DRAFT, "作废草稿…", [], lambda: self.current_tab().void_draft()),
            (Action.REOPEN, "退回草稿", [], lambda: self.current_tab().reopen()),
            (Action.LOCK, "锁定", [QKeySequence("Ctrl+L")], self.lock),
        )
        for name, text, keys, slot in own:
            action = ctx.add_action(name, text, slot, keys=keys)
            action.setShortcutContext(window)
            self.addAction(action)
        menu = self.menuBar().addMenu("记录")
        for name in (Action.NEW_RECORD, Action.SAVE, Action.SUBMIT, Action.VOID_DRAFT,
                     Action.REOPEN):
            menu.addAction(ctx.action(name))
        edit = self.menuBar().addMenu("编辑")
        for name in (Action.UNDO, Action.REDO, Action.FIND):
            edit.addAction(ctx.action(name))
        add_excel_actions(ctx, self.menuBar().addMenu("Excel"))
        add_print_actions(ctx, self.menuBar().addMenu("打印"))
        add_package_actions(ctx, self.menuBar().addMenu("上报"))
        if has_spotcheck(self.own.level):
            add_spotcheck_actions(ctx, self.menuBar().addMenu("抽查"))
        if self.own.level.startswith("society"):
            add_cleanup_actions(ctx, self.menuBar().addMenu("清理"))
        register = self.menuBar().addMenu("登记库")
        register.addAction(ctx.action(Action.LOCK))
        add_register_actions(ctx, register)

    def action(self, name: Action | str) -> QAction:
        """The window action named `name` (tests and the menus find actions by name)."""
        return self.ctx.action(name)

    # -- behaviour --

    def current_tab(self) -> FormTab:
        return self.form_tabs[self.tabs.currentIndex()]

    def tab(self, form_id: str) -> FormTab:
        return next(t for t in self.form_tabs if t.form.id == form_id)

    def show_tab(self, form_id: str) -> FormTab | None:
        tab = next((t for t in self.form_tabs if t.form.id == form_id), None)
        if tab is not None:
            self.tabs.setCurrentWidget(tab)
        return tab

    @property
    def units(self) -> list[UnitRow]:
        return list(self._units)

    def shown_unit_id(self) -> str:
        item = self.tree.currentItem()
        return item.data(0, UNIT_ROLE) if item is not None else self.own.id

    def select_unit(self, unit_id: str) -> bool:
        """Show the unit's records (the own unit when `unit_id` is the own); False if unknown."""
        it = QTreeWidgetItemIterator(self.tree)
        while it.value() is not None:
            if it.value().data(0, UNIT_ROLE) == unit_id:
                self.tree.setCurrentItem(it.value())
                return True
            it += 1
        return False

    def refresh(self, changes: Changes = Changes.ALL) -> None:
        """Show again what an operation changed: the unit tree (the shown unit stays selected
        while it is still there), the tables and open records, and what cross rules read."""
        if Changes.UNITS in changes:
            shown = self.shown_unit_id()
            self._units = list_units(self.register)
            self.tree.blockSignals(True)
            self.tree.clear()
            self._fill_tree()
            self.tree.blockSignals(False)
            if shown != self.own.id and not self.select_unit(shown):
                self._unit_changed(self.tree.currentItem(), None)
        if Changes.RECORDS in changes:
            for tab in self.form_tabs:
                tab.reload()
                tab.refresh_record()
            self._read_peers(self.form_tabs[0].unit_id if self.form_tabs else self.own.id)

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def show_progress(self, done: int, total: int, message: str = "") -> None:
        if total <= 0 or done >= total:
            self.progress.hide()
            return
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.progress.setFormat(f"{message} %p%")
        self.progress.show()

    def save(self) -> None:
        tab = self.current_tab()
        wrote = tab.editor.save_draft()
        self.show_status("已保存" if wrote or tab.session.record_id else "没有需要保存的修改")

    def focus_search(self) -> None:
        search = self.current_tab().search
        search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        search.selectAll()

    def _tab_changed(self, _index: int) -> None:
        for tab in self.form_tabs:
            if tab is not self.current_tab():
                tab.save_draft()

    def _unit_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if current is None or not self.form_tabs:
            return
        unit_id = current.data(0, UNIT_ROLE)
        if unit_id == self.form_tabs[0].unit_id:
            return
        for tab in self.form_tabs:
            tab.set_unit(unit_id)
        self._read_peers(unit_id)
        unit = next(u for u in self._units if u.id == unit_id)
        self.unit_label.setText(f"{LEVEL_NAMES.get(unit.level, unit.level)}：{unit.name}"
                                + ("" if unit.is_own else "（只读）"))

    def _read_peers(self, unit_id: str, later: bool = False) -> None:
        """Cross rules compare with the unit's other records: read them once for every tab —
        at once for a small register, on a worker for a large one (the window is usable
        meanwhile; cross rules start when they are read)."""
        wanted = sorted({f for tab in self.form_tabs for f in peer_forms(self.forms, tab.form)})
        if not wanted or self._closed:  # (the delayed start after a quick close)
            return

        def attach(cache) -> None:
            gc.freeze()  # 200,000 records need never be walked by the garbage collector
            for tab in self.form_tabs:
                tab.attach_peers(unit_id, cache)
            if big:
                self.show_status("已读取本单位记录，跨表校验已启用")

        big = sum(count_form(self.register, f) for f in wanted) > BACKGROUND_PEERS
        task = partial(load_peers, self.register, self.forms, wanted, unit_id)
        if not big:
            self._peers_started = True
            attach(run(task()))
            return
        if later:
            return  # started once the window is shown (showEvent)
        self.show_status("正在读取本单位记录，稍后启用跨表校验…")
        Operation(self.ctx, lambda: without_collection(task()), title="读取本单位记录") \
            .failure(self.show_status).success(attach).run()

    def lock(self) -> None:
        """Hide every record and ask for the passphrase again."""
        for tab in self.form_tabs:
            tab.save_draft()
            tab.model.hide_all()
        if self.idle is not None:
            self.idle.lock_now()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self._peers_started:  # after the window is up, so opening is not slowed by it
            self._peers_started = True
            QTimer.singleShot(PEERS_DELAY_MS, self, lambda: self._read_peers(self.own.id))

    # -- settings --

    def restore_settings(self) -> None:
        s = self.settings
        if not isinstance(s.value("main/geometry"), QByteArray | bytes):
            # first run: a size that fits; on a small screen (a 1366×768 laptop) all of it
            fit_to_screen(self, (1280, 800))
            room = available_geometry(self)
            if room.width() < SMALL_SCREEN[0] or room.height() < SMALL_SCREEN[1]:
                self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)
        for key, restore in (("main/geometry", self.restoreGeometry),
                             ("main/state", self.restoreState),
                             ("main/splitter", self.splitter.restoreState)):
            value = s.value(key)
            if isinstance(value, QByteArray | bytes):
                restore(value)
        for tab in self.form_tabs:
            tab.editor_state = s.value(f"tab/{tab.form.id}/editor")
            tab.splitter_state = s.value(f"tab/{tab.form.id}/splitter")
            columns = s.value(f"tab/{tab.form.id}/columns")
            if isinstance(columns, QByteArray | bytes):
                tab.view.horizontalHeader().restoreState(columns)
            tab.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("main/geometry", self.saveGeometry())
        s.setValue("main/state", self.saveState())
        s.setValue("main/splitter", self.splitter.saveState())
        for tab in self.form_tabs:
            if tab.has_editor:
                s.setValue(f"tab/{tab.form.id}/splitter", tab.splitter.saveState())
                s.setValue(f"tab/{tab.form.id}/editor", tab.editor.splitter.saveState())
            s.setValue(f"tab/{tab.form.id}/columns", tab.view.horizontalHeader().saveState())
        s.sync()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.save_settings()
        if self.idle is not None:
            self.idle.stop()
        self._closed = True
        self.workers.cancel_all()
        self.workers.wait(5000)
        for tab in self.form_tabs:
            tab.close_session()
        super().closeEvent(event)
