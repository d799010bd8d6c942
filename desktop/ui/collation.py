"""Chinese sort order (拼音, as Excel and WPS sort names) for large lists.

Comparing QCollatorSortKey objects from Python is slow for 200,000 names, so each distinct
character is ranked once with QCollator and a name becomes a string of ranks that Python
compares in C.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QCollator, QLocale


class PinyinKeys:
    def __init__(self) -> None:
        self._collator = QCollator(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
        self._table: dict[int, str] = {}

    def keys(self, texts: Iterable[str]) -> list[str]:
        texts = list(texts)
        new = {ch for t in texts for ch in t} - {chr(c) for c in self._table}
        if new:
            ranked = sorted({chr(c) for c in self._table} | new, key=self._collator.sortKey)
            self._table = {ord(ch): chr(0x100 + i) for i, ch in enumerate(ranked)}
        table = self._table
        return [t.translate(table) for t in texts]
