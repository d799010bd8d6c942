"""The first rows of a workbook's sheets, for a quick look (the import dialog's preview):
`first_rows` reads an .xlsx's sheet parts only as far as needed (reports.xlsx.parts);
`first_rows_whole` is the same from python-calamine, which reads each sheet whole.

Both give (visible worksheets, [(sheet name, first rows, sheet height)]).

`named_rows` reads a plain list (not a form: the expected units of the 收件看板) from the first
visible worksheet, its header row found as the form import finds it (reports.xlsx.read.header_row:
title rows above the header are passed over).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine as pc

from desktop.errors import UsageError
from desktop.reports.xlsx.book import open_book, worksheet_names
from desktop.reports.xlsx.cells import clean_text
from desktop.reports.xlsx.columns import normalise_header
from desktop.reports.xlsx.parts import Unusable, open_package
from desktop.reports.xlsx.read import header_row

#: the widest sheet whose <dimension> the preview believes (a form has far fewer columns)
MAX_COLUMNS = 256


def first_rows(path: Path, sheet: str | None, nrows: int
                ) -> tuple[list[str], list[tuple[str, list[list[Any]], int]]] | None:
    """(visible sheets, (name, first rows, height) of each sheet to look at) of an .xlsx
    without reading its sheets whole (reports.xlsx.parts); None when that cannot be done."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    package = open_package(path)
    if package is None:
        return None
    try:
        visible = package.worksheets()
        names = package.worksheets(sheet)
        if sheet is not None and not names:
            return None  # no such worksheet: the whole read words that
        heads = []
        for name in names:
            grid = package.head(name, nrows)
            book = package.book(name)
            # as wide as the whole sheet says it is (a used range out to column XFD, as a
            # formatted whole row gives, is not believed)
            said = book.width if book.width <= MAX_COLUMNS else 0
            wide = max(said, *(len(r) for r in grid)) if grid else 0
            grid = [r + [""] * (wide - len(r)) for r in grid]
            heads.append((name, grid, book.height or len(grid)))
        return visible, heads
    except Unusable:
        return None
    finally:
        package.close()


def first_rows_whole(path: Path, sheet: str | None, nrows: int
                      ) -> tuple[list[str], list[tuple[str, list[list[Any]], int]]]:
    """The same from python-calamine, which reads each sheet whole."""
    book = open_book(path)
    try:
        visible = worksheet_names(book, path, None)
        heads = []
        for name in worksheet_names(book, path, sheet):
            ws = book.get_sheet_by_name(name)
            heads.append((name, ws.to_python(skip_empty_area=False, nrows=nrows), ws.height))
        return visible, heads
    except pc.CalamineError as err:
        raise UsageError(f"无法读取工作簿 {path}：文件可能已损坏（{err}）") from None
    finally:
        book.close()


@dataclass(frozen=True)
class NamedColumn:
    path: str  # the key the column's cells are given under


class NamedHeaders:
    """header_row's matcher for a plain list: a header cell names the key of one of its
    spellings (compared as form headers are: without width, spaces or required marks)."""

    def __init__(self, names: Mapping[str, tuple[str, ...]]) -> None:
        self._keys = {normalise_header(s): NamedColumn(key)
                      for key, spellings in names.items() for s in spellings}

    def match(self, header: object) -> NamedColumn | None:
        return self._keys.get(normalise_header(header))


def named_rows(path: Path, names: Mapping[str, tuple[str, ...]], needed: int
               ) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
    """(Excel row of the header, [(Excel row, {key: cell})]) of the first visible worksheet of
    a plain list whose header names at least `needed` keys of `names` (any of their
    spellings); title rows above the header are passed over. No such header: (0, [])."""
    book = open_book(path)
    try:
        sheets = worksheet_names(book, path, None)
        if not sheets:
            return 0, []
        grid = book.get_sheet_by_name(sheets[0]).to_python(skip_empty_area=False)
    except pc.CalamineError as err:
        raise UsageError(f"无法读取工作簿 {path}：文件可能已损坏（{err}）") from None
    finally:
        book.close()
    matcher = NamedHeaders(names)
    _score, hrow = header_row(grid, matcher, needed)
    if hrow < 0:
        return 0, []
    keys = [(j, c.path) for j, c in enumerate(matcher.match(v) for v in grid[hrow])
            if c is not None]
    rows = []
    for i, cells in enumerate(grid[hrow + 1:], start=hrow + 2):
        row = {}
        for j, key in keys:
            value = cells[j] if j < len(cells) else ""
            row.setdefault(key, clean_text(value) if isinstance(value, str) else value)
        rows.append((i, row))
    return hrow + 1, rows
