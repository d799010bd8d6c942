"""The narrow window context: everything a feature may use of the main window.

A feature (ui/excel, ui/printing, ui/packages, ui/cleanup, ui/register) receives a
`WindowContext` and never the MainWindow itself: it reads the register, the forms, the actor, the
own unit and the settings, starts work through `ui/operations.Operation` (the worker pools),
writes to the status bar, asks for a form's tab, adds its menu actions, and says what it changed
with `notify(Changes.…)`. The window listens to `changed` and refreshes what is shown
(`MainWindow.refresh`). Nothing outside mainwindow.py sets attributes on the window or calls its
private members.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Flag, auto
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from desktop.domain.forms import FormSet
from desktop.services.listing import UnitRow
from desktop.storage import Register
from desktop.ui.actions import Action
from desktop.ui.workers import Workers

if TYPE_CHECKING:
    from desktop.ui.records.formtab import FormTab


class Changes(Flag):
    """What an operation changed, so the window shows it again (Anki's OpChanges)."""

    NOTHING = 0
    RECORDS = auto()  # records of any form: the tables, the open record, the cross-rule peers
    UNITS = auto()  # the units (received, renamed): the unit tree
    ALL = RECORDS | UNITS


class Host(Protocol):
    """What the context needs of the window (MainWindow implements it)."""

    form_tabs: list[FormTab]

    @property
    def units(self) -> Sequence[UnitRow]: ...
    def show_status(self, text: str) -> None: ...
    def show_progress(self, done: int, total: int, message: str) -> None: ...
    def current_tab(self) -> FormTab: ...
    def show_tab(self, form_id: str) -> FormTab | None: ...
    def shown_unit_id(self) -> str: ...
    def select_unit(self, unit_id: str) -> bool: ...


class WindowContext(QObject):
    """The window as a feature sees it. `widget` is the parent for the feature's dialogs."""

    changed = Signal(object)  # Changes

    def __init__(self, widget: QWidget, host: Host, register: Register, forms: FormSet, *,
                 actor: str, own: UnitRow, settings: QSettings, workers: Workers) -> None:
        super().__init__(widget)
        self.widget = widget
        self.register, self.forms, self.actor, self.own = register, forms, actor, own
        self.settings, self.workers = settings, workers
        self._host = host
        self._actions: dict[str, QAction] = {}
        self._busy: set[str] = set()

    # -- the status bar --

    def status(self, text: str) -> None:
        self._host.show_status(text)

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Show progress in the status bar; done >= total (or total <= 0) hides it."""
        self._host.show_progress(done, total, message)

    # -- forms, tabs and units --

    def tabs(self) -> Sequence[FormTab]:
        return tuple(self._host.form_tabs)

    def tab(self, form_id: str) -> FormTab | None:
        return next((t for t in self._host.form_tabs if t.form.id == form_id), None)

    def current_tab(self) -> FormTab:
        return self._host.current_tab()

    def show_tab(self, form_id: str) -> FormTab | None:
        """Bring the form's tab to the front (None when this level has no such tab)."""
        return self._host.show_tab(form_id)

    def open_record(self, form_id: str, record_id: str, name: str = "") -> bool:
        """Show an own record in its form's tab and editor: the own unit selected, the tab in
        front, the list searched by `name` (the record's name) and its row selected. False when
        this level has no such tab or the record is not in it."""
        tab = self.tab(form_id)
        if tab is None:
            return False
        if tab.unit_id != self.own.id:
            self.select_unit(self.own.id)
        self.show_tab(form_id)
        tab.search.setText(name)
        for row in range(tab.model.rowCount()):  # a handful of rows: those of this name
            if tab.model.record_id(row) == record_id:
                tab.view.selectRow(row)
                return True
        return False

    def save_drafts(self) -> None:
        """Every editor writes what is typed (before work that reads or replaces records)."""
        for tab in self._host.form_tabs:
            tab.save_draft()

    def units(self) -> Sequence[UnitRow]:
        return self._host.units

    def shown_unit_id(self) -> str:
        return self._host.shown_unit_id()

    def select_unit(self, unit_id: str) -> bool:
        return self._host.select_unit(unit_id)

    # -- what changed --

    def notify(self, changes: Changes) -> None:
        """Tell the window what an operation changed; it shows it again."""
        if changes:
            self.changed.emit(changes)

    # -- one-at-a-time work --

    def claim(self, key: str) -> bool:
        """Mark work of kind `key` as running; False when one is already running."""
        if key in self._busy:
            return False
        self._busy.add(key)
        return True

    def release(self, key: str) -> None:
        self._busy.discard(key)

    def is_busy(self, key: str) -> bool:
        return key in self._busy

    # -- menus --

    def add_action(self, name: Action | str, text: str, slot: Callable[[], object], *,
                   menu: QMenu | None = None, tip: str = "",
                   keys: QKeySequence | Sequence[QKeySequence] | None = None) -> QAction:
        """A window action named `name` (its objectName), triggering `slot()`."""
        action = QAction(text, self.widget)
        action.setObjectName(str(name))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        if keys is not None:
            action.setShortcuts(list(keys) if isinstance(keys, Sequence) else [keys])
        action.triggered.connect(lambda _checked=False: slot())
        self._actions[str(name)] = action
        if menu is not None:
            menu.addAction(action)
        return action

    def action(self, name: Action | str) -> QAction:
        return self._actions[str(name)]

    def has_action(self, name: Action | str) -> bool:
        return str(name) in self._actions

    # -- drops --

    def accept_drops(self, drop_filter: QObject) -> None:
        """Files dropped anywhere on the window go to `drop_filter` (an event filter that takes
        the drag and drop events it wants): the package import takes .djpkg / .djret files."""
        self.widget.installEventFilter(drop_filter)
        self.widget.setAcceptDrops(True)
