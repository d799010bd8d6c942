"""Reading a filled cleanup workbook (reports/xlsx/cleanup.py) back as plain rows, with
python-calamine: every sheet as a list of rows of cell values. What the rows mean is decided in
services/cleanup/workbook.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.errors import UsageError
from desktop.reports.xlsx.book import open_book


def read_sheets(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet of the workbook at `path` by name, as rows of cell values; a file that is
    not an .xlsx, is missing or cannot be read is a UsageError that says so."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UsageError(f"清理表应为 Excel 文件（.xlsx）：{path}")
    wb = open_book(path)  # a regular file, within its size's limit, a workbook
    try:
        return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}
    except Exception as err:  # calamine raises its own errors for damaged or non-Excel files
        raise UsageError(f"无法读取 Excel 文件 {path}（{err}）。请确认文件已保存为 .xlsx 且没有损坏。"
                         ) from None
    finally:
        wb.close()
