"""Reading a filled verification workbook back (python-calamine: plain values per sheet, the
identity sheet's keys; services/spotcheck/record.py decides what the rows mean), and the
report per unit as a workbook in the official layout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from desktop.domain.spotcheck.report import COLUMNS, TITLE, SpotReport
from desktop.errors import UsageError
from desktop.progress import Task
from desktop.reports.xlsx.book import open_book
from desktop.reports.xlsx.spotcheck.layout import HEADER_ROW, HELP, IDENTITY, KEYS, SEED_ROW
from desktop.reports.xlsx.write import DocProps, TableSheet, UnitLine, write_tables


@dataclass(frozen=True)
class ReadSheet:
    name: str
    seed_line: str
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (Excel row number, cell values) of non-empty rows


@dataclass(frozen=True)
class ReadBook:
    identity: dict[str, str]  # KEYS → value; empty when the sheet is missing
    sheets: list[ReadSheet]


def read_sample_book(path: Path) -> ReadBook:
    """Every sheet of a filled verification workbook as plain values (python-calamine), and
    the identity sheet's keys; what is not an .xlsx is a UsageError that says so."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UsageError(f"抽查核验表应为 Excel 文件（.xlsx）：{path}")
    wb = open_book(path)
    try:
        values = {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False)
                  for n in wb.sheet_names}
    except Exception as err:  # calamine raises its own errors for damaged files
        raise UsageError(f"无法读取 Excel 文件 {path}（{err}）。请确认文件已保存为 .xlsx 且没有损坏。"
                         ) from None
    finally:
        wb.close()
    identity: dict[str, str] = {}
    for row in values.pop(IDENTITY, []):
        if len(row) >= 2 and str(row[0]).strip() in KEYS:
            identity[str(row[0]).strip()] = str(row[1]).strip()
    values.pop(HELP, None)
    sheets = []
    for name, rows in values.items():
        if len(rows) <= HEADER_ROW:
            sheets.append(ReadSheet(name, "", [], []))
            continue
        seed_line = " ".join(str(v) for v in rows[SEED_ROW] if v not in (None, ""))
        header = [str(v).strip() if v is not None else "" for v in rows[HEADER_ROW]]
        body = [(r + 1, row) for r, row in enumerate(rows) if r > HEADER_ROW
                and any(v not in (None, "") for v in row)]
        sheets.append(ReadSheet(name, seed_line, header, body))
    return ReadBook(identity, sheets)


# --- the report ---------------------------------------------------------------------------------


def write_report_book(path: Path, report: SpotReport, *, today: date) -> Task[Path]:
    """The report as a workbook in the official layout (reports/xlsx/write.py): one row per
    unit, the 合计 row, the seed and method under the table."""
    numeric = ("int",) * 5
    sheet = TableSheet(
        name="抽查核验情况", title=TITLE, columns=COLUMNS,
        column_types=("uscc", "text", *numeric, "text", "text", "text", "text", "text"),
        rows=[(*line.cells()[:2], *(int(v) for v in line.cells()[2:7]), *line.cells()[7:])
              for line in report.lines],
        row_count=len(report.lines), totals_row=report.total_cells(),
        unit_line=UnitLine(unit=report.unit_name, filled_on=today),
        note=report.method_line)
    return (yield from write_tables(path, [sheet], DocProps(
        title=TITLE, subject=report.method_line, author="登记 Dengji",
        custom={"sample_id": report.sample_id, "seed": report.seed, "method": report.method})))
