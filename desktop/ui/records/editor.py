"""The record editor, generated from the form spec: sections of labelled field editors, a mark
beside every field, the findings panel, undo/redo within the record, and keyboard-first
navigation (Enter and Tab go to the next field in form order, Shift+Tab back)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.findings import Finding
from desktop.domain.states import COMPLETE, DRAFT, word
from desktop.errors import KnownError
from desktop.services.editing import EditSession
from desktop.storage.concurrency import RecordChanged
from desktop.ui.records.fields import EnterFilter, FieldEditor, make_field
from desktop.ui.records.findings import FindingsPanel, group_by_path
from desktop.ui.records.group import GroupField
from desktop.ui.records.notes import note_line, note_texts, record_banner
from desktop.ui.style import STATE_COLOURS

UNDO_ID = 0x5EED


class FieldChange(QUndoCommand):
    """One field's change; consecutive keystrokes in the same field merge into one step."""

    def __init__(self, editor: RecordEditor, path: str, before: Any, after: Any) -> None:
        super().__init__(f"修改 {editor.form.label_of(path)}")
        self.editor, self.path, self.before, self.after = editor, path, before, after
        self._first = True

    def id(self) -> int:
        return UNDO_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt's name)
        if not isinstance(other, FieldChange) or other.path != self.path:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        if self._first:  # the editor already shows it: the user just typed it
            self._first = False
            return
        self.editor.apply_raw(self.path, self.after)

    def undo(self) -> None:
        self.editor.apply_raw(self.path, self.before)


class RecordEditor(QWidget):
    """Edits one record of `form` through an EditSession; saves a draft whenever a field is done."""

    saved = Signal(str)  # record id
    submitted = Signal(str)
    status = Signal(str)
    void_requested = Signal()  # 作废草稿… (the tab asks and voids)
    reopen_requested = Signal()  # 退回草稿

    def __init__(self, session: EditSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.form = session, session.form
        self.undo_stack = QUndoStack(self)
        self.editors: dict[str, FieldEditor] = {}  # top-level field id → editor
        self.note_labels: dict[str, QLabel] = {}  # field id → its return comment line
        self.notes: list = []  # open return comments on this record (services NoteView)
        self._paths: dict[str, FieldEditor] = {}  # every path (group cells too) → editor
        self._raw: dict[str, Any] = {}
        self._shown: dict[str, tuple] = {}
        self._order: list[QWidget] = []
        #: fields the user has been in, for a new record: an untouched empty field is not yet
        #: marked "must be filled" (None: mark everything, as for a stored record)
        self._touched: set[str] | None = None
        self._enter = EnterFilter(self._next_from, self)
        self.read_only = False
        self._build()
        self.show_record()

    # -- layout --

    def _build(self) -> None:
        top = QHBoxLayout()
        title = QLabel(self.form.display_title)
        title.setObjectName("formTitle")
        self.state_label = QLabel()
        self.state_label.setObjectName("recordState")
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.state_label)
        top.addStretch(1)
        self.void_button = QPushButton("作废草稿…")
        self.void_button.setObjectName("voidDraftButton")
        self.void_button.setToolTip("误建的草稿：从列表、汇总表和数据包中移除（记入操作日志）")
        self.void_button.clicked.connect(self.void_requested)
        top.addWidget(self.void_button)
        self.reopen_button = QPushButton("退回草稿")
        self.reopen_button.setObjectName("reopenButton")
        self.reopen_button.setToolTip("已完成的记录退回草稿再修改；修改后须重新标记完成才会上报")
        self.reopen_button.clicked.connect(self.reopen_requested)
        top.addWidget(self.reopen_button)
        self.submit_button = QPushButton("标记完成")
        self.submit_button.setToolTip(
            f"没有错误（E）、每个警告（W）都已确认理由后，标记为“{word(COMPLETE)}”，随下次上报发出"
            "  Ctrl+Enter")
        self.submit_button.clicked.connect(self.submit)
        top.addWidget(self.submit_button)
        self.record_notes = record_banner()

        body = QWidget()
        metrics = body.fontMetrics()
        self._label_width = max(metrics.horizontalAdvance(f.label + "＊") for f in self.form.fields) + 8
        column = QVBoxLayout(body)
        column.setContentsMargins(8, 4, 8, 8)
        for section in self.form.sections:
            fields = [f for f in self.form.fields if f.section == section.id]
            if fields:
                column.addWidget(self._section(section.label, fields))
        loose = [f for f in self.form.fields if not f.section]
        if loose:
            column.addWidget(self._section("其他", loose))
        column.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(body)
        self.findings_panel = FindingsPanel(self.form)
        self.findings_panel.jump.connect(self.focus_path)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("editorSplitter")
        self.splitter.addWidget(self.scroll)
        self.splitter.addWidget(self.findings_panel)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.record_notes)
        layout.addWidget(self.splitter, 1)
        self._rebuild_order()

    def _section(self, label: str, fields) -> QGroupBox:
        box = QGroupBox(label)
        grid = QGridLayout(box)
        grid.setColumnStretch(1, 1)
        grid.setColumnMinimumWidth(0, self._label_width)
        grid.setVerticalSpacing(6)
        for i, spec in enumerate(fields):
            row = 2 * i  # the row below holds the field's return comment, when there is one
            caption = QLabel(spec.label + ("＊" if spec.required else ""))
            caption.setObjectName("fieldLabel")
            caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if spec.type == "group":
                editor: FieldEditor = GroupField(spec, spec.id, spec.label)
                editor.rows_changed.connect(self._rebuild_order)
                caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            else:
                editor = make_field(spec, spec.id, spec.label)
            caption.setBuddy(editor.inputs()[0] if editor.inputs() else editor)
            editor.edited.connect(self._edited)
            editor.done.connect(self._done)
            grid.addWidget(caption, row, 0)
            grid.addWidget(editor, row, 1)
            note = note_line(spec.id)
            grid.addWidget(note, row + 1, 1)
            self.note_labels[spec.id] = note
            self.editors[spec.id] = editor
        return box

    def _rebuild_order(self) -> None:
        """Paths, Enter/Tab order and key filters, after building or a group's rows changed."""
        self._paths = {}
        order: list[QWidget] = []
        for editor in self.editors.values():
            self._paths[editor.path] = editor
            if isinstance(editor, GroupField):
                for sub in editor.editors():
                    self._paths[sub.path] = sub
                order += editor.inputs() + [editor.add_button]
            else:
                order += editor.inputs()
        for w in order:
            w.removeEventFilter(self._enter)
            w.installEventFilter(self._enter)
        for a, b in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(a, b)
        self._order = order

    # -- showing a record --

    def show_record(self) -> None:
        """Show the session's record in the editors and check it."""
        values = self.session.values
        for fid, editor in self.editors.items():
            editor.show_value(values.get(fid))
        self._raw = {fid: ed.raw() for fid, ed in self.editors.items()}
        self._touched = set() if self.session.record_id is None else None
        self.undo_stack.clear()
        self._shown = {path: tuple((f.severity, f.message) for f in ed.findings)
                       for path, ed in self._paths.items()}
        self._show_findings(self.session.check())
        self._show_state()
        self.show_notes()

    def show_notes(self) -> None:
        """The open return comments on this record beside its fields, above the form and in
        the findings panel (nothing to do when there are none, and none were shown)."""
        from desktop.services.packages import record_notes

        rid = self.session.record_id
        notes = record_notes(self.session.register, rid) if rid else []
        if not notes and not self.notes:
            return
        self.notes = notes
        by_field, banner = note_texts(notes, self.editors)
        for fid, label in self.note_labels.items():
            texts = by_field.get(fid, [])
            label.setText("\n".join(texts))
            label.setVisible(bool(texts))
            self.editors[fid].show_notes(texts)
        self.record_notes.setText(banner)
        self.record_notes.setVisible(bool(banner))
        self.findings_panel.show_notes(notes)

    def set_session(self, session: EditSession) -> None:
        """Edit through another session (the unit changed)."""
        self.session = session
        self.show_record()

    def recheck(self) -> None:
        """Check again (cross rules just became possible)."""
        self._show_findings(self.session.check())

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        for editor in self.editors.values():
            editor.set_read_only(read_only)
        self.submit_button.setEnabled(not read_only)
        self._show_state()

    def _show_state(self) -> None:
        stored = bool(self.session.record_id)
        state = self.session.state_word if stored else "新记录（尚未保存）"
        colour = STATE_COLOURS.get(self.session.state, "#555")
        self.state_label.setText(f'<span style="color:{colour}">{state}</span>')
        draft = self.session.state == DRAFT
        self.void_button.setVisible(stored and draft and not self.read_only)
        self.reopen_button.setVisible(stored and not draft and not self.read_only)

    # -- typing --

    def _edited(self, path: str) -> None:
        editor = self.editors[path]
        before, after = self._raw.get(path), editor.raw()
        if before == after:
            return
        self._raw[path] = after
        self._touch(path)
        self.undo_stack.push(FieldChange(self, path, before, after))
        self._take(path, after)

    def _take(self, path: str, raw: Any) -> None:
        findings = self.session.set_raw(path, raw)
        proposals = self.session.proposals() if path in self.session.id_fields else {}
        for fid, value in proposals.items():
            self.editors[fid].show_value(value)
            self._raw[fid] = self.editors[fid].raw()
            self.session.set_raw(fid, self._raw[fid], check=False)
        if proposals:
            findings = self.session.check()
        self._show_findings(findings)

    def apply_raw(self, path: str, raw: Any) -> None:
        """Put a raw value back into a field (undo/redo), check and keep the draft."""
        self.editors[path].set_raw(raw)
        self._raw[path] = raw
        self._take(path, raw)
        self.save_draft()
        self.focus_path(path)

    def _done(self, path: str) -> None:
        self._touch(path)
        self.save_draft()

    def _touch(self, path: str) -> None:
        if self._touched is not None and path not in self._touched:
            self._touched.add(path)
            self._show_findings(self.session.findings)

    def _visible(self, findings: list[Finding]) -> list[Finding]:
        touched = self._touched
        if touched is None:
            return findings
        return [f for f in findings if f.code != "required"
                or f.field.split("[", 1)[0] in touched]

    def _show_findings(self, findings: list[Finding]) -> None:
        hidden = len(findings)
        findings = self._visible(findings)
        hidden -= len(findings)
        by_path = group_by_path(findings, self._paths)
        for path, editor in self._paths.items():
            mine = by_path.get(path, [])
            shown = tuple((f.severity, f.message) for f in mine)
            if self._shown.get(path) != shown:
                self._shown[path] = shown
                editor.show_findings(mine)
        self.findings_panel.show_findings(findings, self.session.reasons, unfilled=hidden)

    # -- navigation --

    def _next_from(self, widget: QWidget) -> None:
        self.save_draft()
        target = widget
        while target is not None and target not in self._order:
            target = target.parentWidget()
        if target is None or not self._order:
            return
        nxt = self._order[(self._order.index(target) + 1) % len(self._order)]
        nxt.setFocus(Qt.FocusReason.TabFocusReason)
        self.scroll.ensureWidgetVisible(nxt)

    def focus_path(self, path: str) -> None:
        """Put the cursor in the field a finding is about."""
        editor = self._paths.get(path) or self._paths.get(path.split("[", 1)[0].split(".")[0])
        if editor is None or not editor.inputs():
            return
        widget = editor.inputs()[0]
        self.scroll.ensureWidgetVisible(widget)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_first(self) -> None:
        if self._order:
            QTimer.singleShot(0, self, lambda: self._order[0].setFocus())
            self._order[0].setFocus()

    # -- saving --

    def save_draft(self) -> bool:
        if self.read_only:
            return False
        try:
            wrote = self.session.save()
        except RecordChanged as conflict:  # another clerk saved it meanwhile (issue 18)
            return self.resolve_conflict(conflict)
        except KnownError as err:
            QMessageBox.warning(self, "无法保存", str(err))
            return False
        if wrote:
            self._show_state()
            self.saved.emit(self.session.record_id or "")
            self.status.emit("已自动保存草稿")
        return wrote

    def resolve_conflict(self, conflict: RecordChanged) -> bool:
        """Show who changed the record and how; keep this clerk's values (saved again on the
        new revision) or take the other's. Closing the dialog decides nothing: the values typed
        here stay, and the next save asks again."""
        from desktop.ui.records.conflict import KEEP_MINE, TAKE_THEIRS, ConflictDialog

        choice = ConflictDialog(self.form, conflict, dict(self.session.values), self).exec()
        if choice not in (KEEP_MINE, TAKE_THEIRS):
            return False
        self.session.resolve(conflict, keep_mine=choice == KEEP_MINE)
        if choice == TAKE_THEIRS:
            self.show_record()
            self.status.emit(f"已采用 {conflict.by} 的修改")
            return False
        return self.save_draft()

    def submit(self) -> None:
        """标记完成: no E; each W confirmed with a reason (WarningsDialog)."""
        if self.read_only:
            return
        from desktop.ui.records.warnings import WarningsDialog

        self.save_draft()
        check = self.session.submit_check()
        self._touched = None
        self._show_findings(self.session.findings)
        if check.blocked:
            QMessageBox.information(self, "还不能标记完成",
                                    f"这条记录还有 {len(check.errors)} 个错误（E），请先改正。"
                                    "点击下方问题列表中的条目可跳到对应栏目。")
            self.focus_path(check.errors[0].field)
            return
        reasons = dict(check.reasons)
        if check.warnings:
            dialog = WarningsDialog(self.form, check.warnings, reasons, self)
            if not dialog.exec():
                return
            reasons = dialog.reasons()
        self.finish_submit(reasons)

    def finish_submit(self, reasons: dict[tuple[str, str], str]) -> bool:
        try:
            self.session.submit(reasons)
        except KnownError as err:
            QMessageBox.warning(self, "未能标记完成", str(err))
            return False
        self._show_state()
        self._show_findings(self.session.findings)
        self.saved.emit(self.session.record_id or "")
        self.submitted.emit(self.session.record_id or "")
        self.status.emit(f"已标记完成：记录为“{word(COMPLETE)}”，随下次上报发出")
        return True
