"""Typing a recovery key: 16 boxes of 6 digits, four to a line as on the sheet.

A box that is full moves on to the next; a whole key pasted (or typed) into one box is spread
over the boxes from there (any separators, full-width digits). Each full box is checked as it
is typed (storage.recovery.parse_key, each group is a multiple of 11): a mistyped group is
marked and named at once, before the whole key is there.
"""

from __future__ import annotations

import re
import unicodedata

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLineEdit, QWidget

from desktop.storage.recovery import GROUP_DIGITS, GROUPS, RecoveryKeyError, parse_key

PER_LINE = 4
BAD_STYLE = "border: 2px solid #c62828;"
#: what stands in for a group not yet typed when the typed ones are checked (a valid group)
BLANK = "0" * GROUP_DIGITS


def digits_of(text: str) -> str:
    """The digits of what was typed or pasted (full-width ones too)."""
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text or ""))


class KeyEntry(QWidget):
    """The 16 boxes. `changed` is emitted on every edit; `text()` is the key as printed
    (groups joined by "-"); `problem()` names the first mistyped full group (None: none)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryKeyEntry")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        self.boxes: list[QLineEdit] = []
        for n in range(GROUPS):
            box = QLineEdit()
            box.setObjectName(f"recoveryGroup{n + 1}")
            box.setAccessibleName(f"恢复密钥第 {n + 1} 组")
            box.setPlaceholderText(f"第{n + 1}组")
            box.setMinimumWidth(78)
            box.textEdited.connect(lambda text, i=n: self._edited(i, text))
            grid.addWidget(box, n // PER_LINE, n % PER_LINE)
            self.boxes.append(box)
        self.bad: int | None = None
        self.message: str | None = None

    def _edited(self, index: int, text: str) -> None:
        digits = digits_of(text)
        if len(digits) > GROUP_DIGITS or digits != text:
            self.spread(index, digits)
        elif len(digits) == GROUP_DIGITS and index + 1 < GROUPS:
            self.boxes[index + 1].setFocus()
        self._check()

    def spread(self, start: int, digits: str) -> None:
        """Fill the boxes from `start` with `digits`, six to a box; focus the next empty one."""
        index = start
        for index in range(start, GROUPS):
            chunk = digits[(index - start) * GROUP_DIGITS:(index - start + 1) * GROUP_DIGITS]
            if not chunk and index > start:
                break
            self.boxes[index].setText(chunk)
        after = min(start + max(len(digits) // GROUP_DIGITS, 0), GROUPS - 1)
        self.boxes[after].setFocus()

    def set_text(self, text: str) -> None:
        """Show a whole key (read from a scanned sheet, or pasted)."""
        for box in self.boxes:
            box.clear()
        self.spread(0, digits_of(text))
        self._check()

    def clear(self) -> None:
        for box in self.boxes:
            box.clear()
        self._check()

    def groups(self) -> list[str]:
        return [box.text() for box in self.boxes]

    def text(self) -> str:
        return "-".join(self.groups())

    def complete(self) -> bool:
        return all(len(g) == GROUP_DIGITS for g in self.groups())

    def problem(self) -> str | None:
        """The first full group that cannot be right, said in Chinese (the boxes not yet full
        are not judged)."""
        return self.message

    def _check(self) -> None:
        typed = [g if len(g) == GROUP_DIGITS else BLANK for g in self.groups()]
        self.bad, self.message = None, None
        try:
            parse_key("-".join(typed))
        except RecoveryKeyError as err:
            self.bad, self.message = err.group, str(err)
        for n, box in enumerate(self.boxes):
            box.setStyleSheet(BAD_STYLE if self.bad == n + 1 else "")
        self.changed.emit()
