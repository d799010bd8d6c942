"""Return comments in the record editor: a line under each field commented on (with an 意见 tag
beside the field), record-wide comments above the form, and all of them in the findings panel.
They are the open comments of an imported return file; the next export answers them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop.ui.records.findings import NOTE_COLOUR

if TYPE_CHECKING:
    from desktop.ui.records.editor import RecordEditor


def note_line(field_id: str) -> QLabel:
    """The (hidden) comment line under a field."""
    note = QLabel()
    note.setObjectName(f"note:{field_id}")
    note.setWordWrap(True)
    note.setStyleSheet(f"color: {NOTE_COLOUR};")
    note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    note.hide()
    return note


def record_banner() -> QLabel:
    """The (hidden) box above the form for comments on the record as a whole."""
    label = QLabel()
    label.setObjectName("recordNotes")
    label.setWordWrap(True)
    label.setStyleSheet(f"QLabel#recordNotes {{ color: {NOTE_COLOUR}; background: #fff8ec;"
                        " border: 1px solid #f0c987; padding: 4px; }")
    label.hide()
    return label


def show_notes(editor: RecordEditor) -> None:
    """Show the open return comments on the editor's record (nothing to do when there are
    none, and none were shown)."""
    from desktop.services.packages import record_notes

    rid = editor.session.record_id
    notes = record_notes(editor.session.register, rid) if rid else []
    if not notes and not editor.notes:
        return
    editor.notes = notes
    by_field: dict[str, list] = {}
    whole = []
    for n in notes:
        if n.field and n.field in editor.editors:
            by_field.setdefault(n.field, []).append(n)
        else:
            whole.append(n)
    for fid, label in editor.note_labels.items():
        mine = by_field.get(fid, [])
        texts = [f"退回意见（{n.author}）：{n.comment}" for n in mine]
        label.setText("\n".join(texts))
        label.setVisible(bool(mine))
        editor.editors[fid].show_notes(texts)
    editor.record_notes.setText("\n".join(
        [f"本记录被退回（{whole[0].author}），请按意见修改后重新导出上报包："]
        + [f"· {n.comment}" for n in whole]) if whole else "")
    editor.record_notes.setVisible(bool(whole))
    editor.findings_panel.show_notes(notes)
