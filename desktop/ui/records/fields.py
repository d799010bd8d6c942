"""Field editors generated from a FieldSpec: one line edit, drop-down or picker per field type.

Every editor reports `edited(path)` on each keystroke or choice and `done(path)` when the user
is finished with it (Enter, Tab, focus leaving, a choice made). `raw()` is what is in the editor
now, as the parser takes it; `set_raw()` puts it back (undo); `show_value()` shows a stored value.
Each editor carries a mark beside it and the accessible name and description of the issue.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from desktop.domain.findings import Finding
from desktop.domain.forms import CodeTable, FieldSpec
from desktop.domain.values import display_value, parse_value
from desktop.ui.dialogs import guard_wheel
from desktop.ui.style import MARK_COLOURS, MARK_GLYPH, SEVERITY_WORDS

DATE_HINT = "如 2020-01-05、2020.1.5 或 20200105"
YEARMONTH_HINT = "如 2021-03 或 2021.3"
#: a date field whose precision is "month" (a legacy register's 出生年月)
MONTH_DATE_HINT = "如 1963-09-12；只知年月的写 1963-09 或 1963年9月"


class Mark(QLabel):
    """The small sign beside a field: nothing, or a coloured dot with the messages as tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedWidth(18)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.severity = ""

    def show_findings(self, findings: list[Finding]) -> None:
        worst = next((s for s in "EWI" if any(f.severity == s for f in findings)), "")
        self.severity = worst
        if not worst:
            self.clear()
            self.setToolTip("")
            self.setAccessibleName("")
            return
        self.setText(f'<span style="color:{MARK_COLOURS[worst]}">{MARK_GLYPH}</span>')
        self.setToolTip("\n".join(f"{SEVERITY_WORDS[f.severity]}：{f.message}" for f in findings))
        self.setAccessibleName(SEVERITY_WORDS[worst])


class FieldEditor(QWidget):
    """Base of every field editor: label, mark, signals and the accessibility contract."""

    edited = Signal(str)  # path
    done = Signal(str)  # path

    def __init__(self, spec: FieldSpec, path: str, label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec, self.path, self.label = spec, path, label
        self.mark = Mark()
        self.note_mark = QLabel()  # 意见: a return comment on this field (text under it)
        self.note_mark.setObjectName(f"noteMark:{path}")
        self.note_mark.setStyleSheet("color: #ffffff; background: #b25900; border-radius: 3px;"
                                     " padding: 0 3px;")
        self.note_mark.hide()
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)

    def _finish_layout(self) -> None:
        self._layout.addWidget(self.mark)
        self._layout.addWidget(self.note_mark, 0, Qt.AlignmentFlag.AlignVCenter)
        guard_wheel(*self.inputs())  # the wheel scrolls the form, never changes a value
        for w in self.inputs():
            w.setAccessibleName(self.accessible_name_of(w))
            w.setAccessibleDescription("")
            w.setToolTip(self.spec.hint)

    def accessible_name_of(self, widget: QWidget) -> str:
        return self.label

    def inputs(self) -> list[QWidget]:
        """The focusable input widgets, in order."""
        raise NotImplementedError

    def raw(self) -> Any:
        raise NotImplementedError

    def set_raw(self, raw: Any) -> None:
        raise NotImplementedError

    def show_value(self, value: Any) -> None:
        self.set_raw(display_value(self.spec, value) if value is not None else "")

    def set_read_only(self, read_only: bool) -> None:
        for w in self.inputs():
            w.setEnabled(not read_only)

    def show_notes(self, notes: list[str]) -> None:
        """Mark the field with the return comments on it (an 意见 tag whose tooltip reads them)."""
        self.notes = list(notes)
        self.note_mark.setText("意见")
        self.note_mark.setToolTip("\n".join(notes))
        self.note_mark.setAccessibleName("\n".join(notes))
        self.note_mark.setVisible(bool(notes))

    def show_findings(self, findings: list[Finding]) -> None:
        """Mark the field and describe its issues to assistive technology."""
        self.findings = findings
        self.mark.show_findings(findings)
        text = "；".join(f.message for f in findings)
        worst = self.mark.severity
        for w in self.inputs():
            w.setAccessibleDescription(text)
            if (w.property("severity") or "") != worst:
                w.setProperty("severity", worst)
                w.style().unpolish(w)
                w.style().polish(w)


class LineField(FieldEditor):
    """Text, numbers, identifiers, phones, dates: one line edit."""

    def __init__(self, spec: FieldSpec, path: str, label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(spec, path, label, parent)
        self.line = QLineEdit()
        self.line.setObjectName(f"field:{path}")
        hint = spec.hint or (MONTH_DATE_HINT if spec.precision == "month" else {
            "date": DATE_HINT, "yearmonth": YEARMONTH_HINT}.get(spec.type, ""))
        self.line.setPlaceholderText(hint)
        self.line.textEdited.connect(lambda _t: self.edited.emit(self.path))
        self.line.editingFinished.connect(self._finished)
        self._layout.addWidget(self.line, 1)
        self._finish_layout()

    def inputs(self) -> list[QWidget]:
        return [self.line]

    def raw(self) -> str:
        return self.line.text()

    def set_raw(self, raw: Any) -> None:
        with QSignalBlocker(self.line):
            self.line.setText("" if raw is None else str(raw))

    def _finished(self) -> None:
        if self.spec.type in ("date", "yearmonth") and self.line.text().strip():
            value, problems = parse_value(self.spec, self.line.text())
            if value is not None and not problems and value != self.line.text():
                self.set_raw(value)  # 2020.1.5 → 2020-01-05, 1963年9月 → 1963-09: as stored
                self.edited.emit(self.path)
        self.done.emit(self.path)


def _choices(spec: FieldSpec) -> list[str]:
    if spec.type == "bool":
        return ["是", "否"]
    assert spec.codes is not None
    return [c.label for c in spec.codes.codes if not c.deprecated]


class ChoiceBox(QComboBox):
    """An editable drop-down whose list narrows to what is typed (type-to-search)."""

    def __init__(self, labels: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(15)
        self.set_labels(labels)

    def set_labels(self, labels: list[str]) -> None:
        with QSignalBlocker(self):
            text = self.currentText()
            model = QStandardItemModel(self)
            model.appendRow(QStandardItem(""))
            for label in labels:
                model.appendRow(QStandardItem(label))
            self.setModel(model)
            completer = QCompleter(model, self)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
            self.setCompleter(completer)
            self.setEditText(text)

    def popup_open(self) -> bool:
        return self.view().isVisible() or bool(self.completer() and
                                                self.completer().popup().isVisible())


class CodeField(FieldEditor):
    """A code table or 是/否: an editable drop-down of labels; the code is stored."""

    def __init__(self, spec: FieldSpec, path: str, label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(spec, path, label, parent)
        self.box = ChoiceBox(_choices(spec))
        self.box.setObjectName(f"field:{path}")
        self.box.lineEdit().setPlaceholderText(spec.hint or "输入文字筛选，或按 ↓ 选择")
        self.box.editTextChanged.connect(lambda _t: self.edited.emit(self.path))
        self.box.activated.connect(lambda _i: self.done.emit(self.path))
        self.box.lineEdit().editingFinished.connect(lambda: self.done.emit(self.path))
        self._layout.addWidget(self.box, 1)
        self._finish_layout()

    def inputs(self) -> list[QWidget]:
        return [self.box]

    def raw(self) -> str:
        return self.box.currentText()

    def set_raw(self, raw: Any) -> None:
        with QSignalBlocker(self.box):
            text = "" if raw is None else str(raw)
            index = self.box.findText(text)
            if index >= 0:
                self.box.setCurrentIndex(index)
            self.box.setEditText(text)


class RegionField(FieldEditor):
    """外出流向: province, city and county as three nested drop-downs; stores the codes."""

    LEVELS = ("省", "市", "县")

    def __init__(self, spec: FieldSpec, path: str, label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(spec, path, label, parent)
        assert spec.codes is not None
        self.table: CodeTable = spec.codes
        self._children: dict[str | None, list] = {}
        for c in self.table.codes:
            if not c.deprecated:
                self._children.setdefault(c.parent, []).append(c)
        self.boxes = [ChoiceBox([]) for _ in self.LEVELS]
        for i, box in enumerate(self.boxes):
            box.setObjectName(f"field:{path}:{i}")
            box.lineEdit().setPlaceholderText(self.LEVELS[i])
            box.editTextChanged.connect(lambda _t, i=i: self._changed(i))
            box.activated.connect(lambda _i: self.done.emit(self.path))
            self._layout.addWidget(box, 1)
        self.boxes[0].set_labels([c.label for c in self._children.get(None, [])])
        self._finish_layout()

    def accessible_name_of(self, widget: QWidget) -> str:
        return f"{self.label}（{self.LEVELS[self.boxes.index(widget)]}）"

    def inputs(self) -> list[QWidget]:
        return list(self.boxes)

    def _code(self, level: int, parent: str | None) -> str | None:
        text = self.boxes[level].currentText().strip()
        return next((c.code for c in self._children.get(parent, []) if c.label == text), None)

    def _changed(self, level: int) -> None:
        parent = None
        for i in range(level + 1):
            parent = self._code(i, parent) if i == 0 or parent else None
        for below in range(level + 1, len(self.boxes)):
            labels = [c.label for c in self._children.get(parent, [])] if parent else []
            self.boxes[below].set_labels(labels)
            with QSignalBlocker(self.boxes[below]):
                self.boxes[below].setEditText("")
            parent = None
        self.edited.emit(self.path)

    def raw(self) -> Any:
        codes, parent = [], None
        for i, box in enumerate(self.boxes):
            text = box.currentText().strip()
            if not text:
                break
            code = self._code(i, parent)
            if code is None:
                return "-".join(b.currentText().strip() for b in self.boxes if b.currentText())
            codes.append(code)
            parent = code
        return codes

    def set_raw(self, raw: Any) -> None:
        codes = raw if isinstance(raw, list) else []
        parent = None
        for i, box in enumerate(self.boxes):
            with QSignalBlocker(box):
                box.set_labels([c.label for c in self._children.get(parent, [])]
                               if i == 0 or parent else [])
                code = codes[i] if i < len(codes) else None
                box.setEditText(self.table.label_of(code) if code else "")
            parent = code

    def show_value(self, value: Any) -> None:
        self.set_raw(value if isinstance(value, list) else [])


class EnterFilter(QObject):
    """Enter moves to the next field (as Tab does) unless a drop-down list is open; Ctrl+Z and
    Ctrl+Y go to the record's undo instead of the line edit's own."""

    def __init__(self, on_enter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_enter = on_enter

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind == QEvent.Type.ShortcutOverride:
            if (event.matches(QKeySequence.StandardKey.Undo)
                    or event.matches(QKeySequence.StandardKey.Redo)):
                event.ignore()
                return True
        elif kind == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() in (Qt.KeyboardModifier.NoModifier,
                                     Qt.KeyboardModifier.KeypadModifier):
                box = obj if isinstance(obj, ChoiceBox) else obj.parent()
                if isinstance(box, ChoiceBox) and box.popup_open():
                    return False
                if isinstance(obj, QAbstractButton):  # 添加一行: Enter presses it
                    obj.click()
                    return True
                self._on_enter(obj)
                return True
        return False


def make_field(spec: FieldSpec, path: str, label: str,
               parent: QWidget | None = None) -> FieldEditor:
    """The editor for a field of any type but group (see group.py)."""
    if spec.type in ("code", "bool"):
        return CodeField(spec, path, label, parent)
    if spec.type == "region":
        return RegionField(spec, path, label, parent)
    return LineField(spec, path, label, parent)
