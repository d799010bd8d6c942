"""The editor of a repeating group (附件3's 律师事务所: one row per firm covered)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.findings import Finding
from desktop.domain.forms import FieldSpec
from desktop.ui.records.fields import FieldEditor, make_field


class GroupField(FieldEditor):
    """Rows of sub-field editors with 添加/删除; its value is a list of row dicts."""

    rows_changed = Signal()

    def __init__(self, spec: FieldSpec, path: str, label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(spec, path, label, parent)
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 0, 0)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(6)
        outer.addLayout(self.grid)
        for col, sub in enumerate(spec.fields):
            head = QLabel(sub.label + ("＊" if sub.required else ""))
            head.setObjectName("fieldLabel")
            self.grid.addWidget(head, 0, col + 1)
            # text takes the room; codes and identifiers need less
            self.grid.setColumnStretch(col + 1, 3 if sub.type == "text" else 2)
        self.add_button = QPushButton("添加一行")
        self.add_button.setAccessibleName(f"{label}：添加一行")
        self.add_button.clicked.connect(self._add_clicked)
        outer.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._layout.addWidget(body, 1)
        self.rows: list[list[FieldEditor]] = []
        self._row_widgets: list[list[QWidget]] = []
        self._finish_layout()
        self.set_raw([{}] * max(spec.min_rows, 1))

    def inputs(self) -> list[QWidget]:
        return [w for row in self.rows for ed in row for w in ed.inputs()]

    def editors(self) -> list[FieldEditor]:
        return [ed for row in self.rows for ed in row]

    def raw(self) -> list[dict[str, Any]]:
        return [{ed.spec.id: ed.raw() for ed in row} for row in self.rows]

    def set_raw(self, raw: Any) -> None:
        rows = raw if isinstance(raw, list) else []
        while len(self.rows) > len(rows):
            self._remove_row(len(self.rows) - 1)
        while len(self.rows) < len(rows):
            self._append_row()
        for row, values in zip(self.rows, rows, strict=True):
            for ed in row:
                ed.set_raw(values.get(ed.spec.id, ""))
        self.rows_changed.emit()

    def show_value(self, value: Any) -> None:
        rows = value if isinstance(value, list) and value else [{}] * max(self.spec.min_rows, 1)
        self.set_raw([{}] * len(rows))
        for row, values in zip(self.rows, rows, strict=True):
            for ed in row:
                ed.show_value(values.get(ed.spec.id))

    def set_read_only(self, read_only: bool) -> None:
        for ed in self.editors():
            ed.set_read_only(read_only)
        self.add_button.setEnabled(not read_only)
        for widgets in self._row_widgets:
            widgets[-1].setEnabled(not read_only)

    def show_findings(self, findings: list[Finding]) -> None:
        """The group's own findings (rows too few or too many); sub-fields mark themselves."""
        self.findings = findings
        self.mark.show_findings(findings)
        self.add_button.setAccessibleDescription("；".join(f.message for f in findings))

    def _append_row(self) -> None:
        i = len(self.rows) + 1
        number = QLabel(f"{i}.")
        editors = []
        for sub in self.spec.fields:
            path = f"{self.path}[{i}].{sub.id}"
            ed = make_field(sub, path, f"{self.label}[{i}]/{sub.label}")
            ed.setMinimumWidth({"text": 110, "code": 84}.get(sub.type, 140))
            ed.edited.connect(lambda _p: self.edited.emit(self.path))
            ed.done.connect(lambda _p: self.done.emit(self.path))
            editors.append(ed)
        remove = QToolButton()
        remove.setText("✕")
        remove.setToolTip("删除此行")
        remove.setAccessibleName(f"{self.label}：删除第 {i} 行")
        remove.clicked.connect(lambda _c=False, r=editors: self._remove_clicked(r))
        row = i  # grid row 0 holds the headings
        self.grid.addWidget(number, row, 0)
        for col, ed in enumerate(editors):
            self.grid.addWidget(ed, row, col + 1)
        self.grid.addWidget(remove, row, len(editors) + 1)
        self.rows.append(editors)
        self._row_widgets.append([number, *editors, remove])

    def _remove_row(self, index: int) -> None:
        for w in self._row_widgets.pop(index):
            self.grid.removeWidget(w)
            w.deleteLater()
        self.rows.pop(index)

    def _add_clicked(self) -> None:
        values = self.raw()
        self.set_raw([*values, {}])
        self.edited.emit(self.path)
        self.rows[-1][0].inputs()[0].setFocus()

    def _remove_clicked(self, editors: list[FieldEditor]) -> None:
        values = self.raw()
        index = self.rows.index(editors)
        del values[index]
        self.set_raw(values)  # rebuilt, so row numbers and paths stay in order
        self.edited.emit(self.path)
        self.done.emit(self.path)
