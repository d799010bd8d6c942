"""The findings panel: every issue of the record, in form order; a click jumps to the field."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from desktop.domain.findings import Finding
from desktop.domain.forms import FormSpec
from desktop.ui.style import MARK_COLOURS, MARK_GLYPH, SEVERITY_WORDS

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
NOTE_COLOUR = "#b25900"


def group_by_path(findings: list[Finding], paths: Mapping[str, object]) -> dict[str, list[Finding]]:
    """Findings per editor path: a group cell's own path when it has an editor, else its field."""
    out: dict[str, list[Finding]] = {}
    for f in findings:
        if not f.field:
            continue
        path = f.field if f.field in paths else f.field.split("[", 1)[0].split(".", 1)[0]
        out.setdefault(path, []).append(f)
    return out


class FindingsPanel(QWidget):
    jump = Signal(str)  # the field path of the finding (or return comment) clicked

    def __init__(self, form: FormSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = form
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("findings")
        self.list.setAccessibleName("问题列表")
        self.list.setWordWrap(True)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        self.notes_heading = QLabel()
        self.notes_heading.setWordWrap(True)
        self.notes_list = QListWidget()
        self.notes_list.setObjectName("returnNotes")
        self.notes_list.setAccessibleName("退回意见")
        self.notes_list.setWordWrap(True)
        self.notes_list.itemClicked.connect(self._clicked)
        self.notes_list.itemActivated.connect(self._clicked)
        layout.addWidget(self.notes_heading)
        layout.addWidget(self.notes_list, 1)
        self.notes_heading.hide()
        self.notes_list.hide()
        self._shown: tuple = ()

    def show_notes(self, notes: list) -> None:
        """The return comments on this record (services NoteView: field, label, comment,
        author); a click jumps to the field."""
        self.notes_list.clear()
        for n in notes:
            where = n.label or (self.form.label_of(n.field) if n.field else "整条记录")
            item = QListWidgetItem(f"意见  {where}：{n.comment}（{n.author}）")
            item.setForeground(QColor(NOTE_COLOUR))
            item.setData(PATH_ROLE, n.field)
            item.setToolTip(n.comment)
            self.notes_list.addItem(item)
        self.notes_heading.setText(f"上级退回意见 {len(notes)} 条：改正后重新导出上报包，"
                                   "导出即视为已答复。")
        self.notes_heading.setVisible(bool(notes))
        self.notes_list.setVisible(bool(notes))

    def show_findings(self, findings: list[Finding],
                      reasons: Mapping[tuple[str, str], str] = {}, unfilled: int = 0) -> None:
        key = (unfilled, *((f.field, f.severity, f.message, reasons.get((f.field, f.code)))
                           for f in findings))
        if key == self._shown:
            return
        self._shown = key
        counts = {s: sum(f.severity == s for f in findings) for s in "EWI"}
        later = f"另有 {unfilled} 个必填栏目尚未填写。" if unfilled else ""
        if findings:
            parts = [f"{SEVERITY_WORDS[s]} {n}" for s, n in counts.items() if n]
            self.heading.setText("本条记录的问题：" + "，".join(parts) + "（点击条目跳到对应栏目）"
                                 + later)
        else:
            self.heading.setText(later or "本条记录没有发现问题。")
        # items are reused, not rebuilt: this runs on every keystroke
        while self.list.count() > len(findings):
            self.list.takeItem(self.list.count() - 1)
        for i, f in enumerate(findings):
            where = self.form.label_of(f.field) if f.field else "整条记录"
            text = f"{MARK_GLYPH} {SEVERITY_WORDS[f.severity]}  {where}：{f.message}"
            reason = reasons.get((f.field, f.code))
            if f.severity == "W" and reason:
                text += f"（已确认：{reason}）"
            item = self.list.item(i)
            if item is None:
                item = QListWidgetItem()
                self.list.addItem(item)
            if item.text() != text:
                item.setText(text)
                item.setForeground(QColor(MARK_COLOURS[f.severity]))
                item.setData(PATH_ROLE, f.field)
                item.setToolTip(f.message)

    def _clicked(self, item: QListWidgetItem) -> None:
        path = item.data(PATH_ROLE)
        if path:
            self.jump.emit(path)
