"""Return comments in the record editor: a line under each field commented on (with an 意见 tag
beside the field), record-wide comments above the form, and all of them in the findings panel.
They are the open comments of an imported return file; the next export answers them.
RecordEditor.show_notes puts them on the editor (this module knows nothing of the editor)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop.ui.records.findings import NOTE_COLOUR


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


def note_texts(notes: Sequence, field_ids: Collection[str]) -> tuple[dict[str, list[str]], str]:
    """The lines under each field commented on, and the banner text for the comments on the
    record as a whole (or on a field the editor does not show); '' when there are none."""
    by_field: dict[str, list[str]] = {}
    whole = []
    for n in notes:
        if n.field and n.field in field_ids:
            by_field.setdefault(n.field, []).append(f"退回意见（{n.author}）：{n.comment}")
        else:
            whole.append(n)
    banner = "\n".join([f"本记录被退回（{whole[0].author}），请按意见修改后重新导出上报包："]
                       + [f"· {n.comment}" for n in whole]) if whole else ""
    return by_field, banner
