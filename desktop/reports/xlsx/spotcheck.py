"""The spot-check verification workbook (抽查核验表): written for the verifiers, read back
strictly (services/spotcheck/record.py decides what the rows mean).

Sheets: 说明 (the sample, its seed and method, how to fill in); one sheet per form with one row
per sampled record: 序号, 单位名称, 单位代码, the four columns the verifier fills (核验结果 from
a drop-down 属实/不实/无法核实, 说明, 核验人, 核验日期), the record's QR code (the text of its
printed page's code, reports/pdf/qr.py, which is also written beside it), the record's fields
(masked as every output is), and 记录编号; a hidden, protected sheet 抽查标识 names the sample
(sample id, register, seed, method), so the workbook comes back to the right sample. Every
sheet's second row prints the seed and the method. The record sheets are protected except the
four input columns, so a slip of the mouse cannot change what was drawn.

Written with XlsxWriter in memory (no temporary file per QR image: 10,000 images cost about a
third of a millisecond each that way, about one and a half with a file each); the QR codes are
made by zxing-cpp (a quarter of a millisecond each; segno takes a millisecond).
"""

from __future__ import annotations

import multiprocessing
import os
import struct
import sys
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import xlsxwriter
import zxingcpp

from desktop.domain.spotcheck.report import COLUMNS, TITLE, SpotReport
from desktop.errors import UsageError
from desktop.processes import die_with_parent
from desktop.progress import Task
from desktop.reports.xlsx.book import open_book
from desktop.reports.xlsx.cells import put_text
from desktop.reports.xlsx.write import DocProps, TableSheet, UnitLine, write_tables

HELP, IDENTITY = "说明", "抽查标识"
NUMBER, UNIT, UNIT_CODE = "序号", "单位名称", "单位代码"
RESULT, NOTE, VERIFIER, VERIFIED_ON = "核验结果", "说明", "核验人", "核验日期"
QR, CODE, RECORD = "记录二维码", "记录码", "记录编号"
INPUTS = (RESULT, NOTE, VERIFIER, VERIFIED_ON)
LEAD = (NUMBER, UNIT, UNIT_CODE, *INPUTS, QR)
TAIL = (CODE, RECORD)
#: the identity sheet's keys, in its column A
KEYS = ("样本编号", "登记库单位代码", "登记库编号", "随机种子", "抽样方法", "记录数")
TITLE_ROW, SEED_ROW, HEADER_ROW = 0, 1, 2  # 0-based rows of a record sheet
QR_SCALE = 2  # pixels per module of the PNG
ROW_HEIGHT = 48  # points: the QR code fits the row
PARALLEL_QR = 500  # from this many codes on, the PNGs are made on another process
QR_CHUNK = 500


@dataclass(frozen=True)
class Identity:
    """What names a sample (written on the hidden sheet, compared when it comes back)."""

    sample_id: str
    register_code: str
    register_id: str
    seed: str
    method: str
    records: int

    def values(self) -> tuple[str, ...]:
        return (self.sample_id, self.register_code, self.register_id, self.seed, self.method,
                str(self.records))


@dataclass(frozen=True)
class SampleRow:
    position: int
    unit_name: str
    unit_code: str
    texts: tuple[str, ...]  # the form's fields as printed (masked)
    code: str  # the record page's code text, DJ1:R:…
    record_id: str


@dataclass(frozen=True)
class SampleSheet:
    name: str  # the tab's name, e.g. 附件1
    title: str  # 附件1 律师党员基本信息登记表
    labels: tuple[str, ...]  # the fields' labels
    rows: Sequence[SampleRow]


@dataclass(frozen=True)
class SampleBook:
    identity: Identity
    seed_line: str  # printed on every sheet: 样本编号 … 随机种子 … 抽样方法 …
    help_lines: tuple[str, ...]
    sheets: Sequence[SampleSheet] = field(default_factory=tuple)


_BITS = bytes.maketrans(bytes(range(256)), b"0" * 128 + b"1" * 128)  # dark → 0, light → 1


def qr_png(text: str) -> bytes:
    """A QR code of `text` (error correction M, quiet zone included) as a black-and-white
    (1 bit per pixel) PNG."""
    image = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M"
                                    ).to_image(scale=QR_SCALE, add_quiet_zones=True)
    height, width = image.shape[:2]
    pixels = bytes(image).translate(_BITS)
    pad = b"1" * (-width % 8)
    size = (width + 7) // 8
    raw = b"".join(b"\x00" + int(pixels[i * width:(i + 1) * width] + pad, 2).to_bytes(size)
                   for i in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0,
                                                               0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def _qr_chunk(codes: list[str]) -> list[bytes]:
    return [qr_png(c) for c in codes]


class QrImages:
    """The PNGs of many codes, made on another process while the caller writes the cells
    (forked, on Linux with two cores or more, from PARALLEL_QR codes on); `get()` waits for
    them, `close()` stops the process."""

    def __init__(self, codes: Sequence[str], *, parallel: bool | None = None) -> None:
        if parallel is None:
            parallel = (len(codes) >= PARALLEL_QR and sys.platform.startswith("linux")
                        and (os.cpu_count() or 1) > 1)
        self.codes, self.pool, self.futures = list(codes), None, []
        if parallel and self.codes:
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                            initializer=die_with_parent,
                                            initargs=(os.getpid(),))
            self.futures = [self.pool.submit(_qr_chunk, self.codes[i:i + QR_CHUNK])
                            for i in range(0, len(self.codes), QR_CHUNK)]

    def get(self) -> list[bytes]:
        if self.pool is None:
            return _qr_chunk(self.codes)
        return [png for f in self.futures for png in f.result()]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def sample_book(book: SampleBook, *, today: date, parallel: bool | None = None) -> bytes:
    """The verification workbook's bytes (the caller publishes them once the register has
    recorded the sample)."""
    out = BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"title": "抽查核验表", "author": "登记 Dengji",
                       "comments": book.seed_line})
    bold = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                          "valign": "vcenter", "align": "center"})
    cell = wb.add_format({"border": 1, "valign": "vcenter", "text_wrap": True})
    quoted = wb.add_format({"border": 1, "valign": "vcenter", "text_wrap": True,
                            "quote_prefix": True})
    entry = wb.add_format({"border": 1, "valign": "vcenter", "locked": False,
                           "bg_color": "#FFF2CC", "text_wrap": True})
    entry_date = wb.add_format({"border": 1, "valign": "vcenter", "locked": False,
                                "bg_color": "#FFF2CC", "num_format": "yyyy-mm-dd"})
    tech = wb.add_format({"border": 1, "valign": "vcenter", "font_color": "#808080"})
    plain = wb.add_format({"text_wrap": True, "valign": "top"})

    ws = wb.add_worksheet(HELP)
    ws.set_column(0, 0, 110)
    put_text(ws, "抽查核验表", at=(0, 0), fmt=bold)
    for r, line in enumerate((book.seed_line, "", *book.help_lines), start=1):
        put_text(ws, line, at=(r, 0), fmt=plain)

    images = QrImages([row.code for sheet in book.sheets for row in sheet.rows],
                      parallel=parallel)
    try:
        places = [_record_sheet(wb, sheet, book, today, {
            "bold": bold, "head": head, "cell": cell, "quoted": quoted, "entry": entry,
            "entry_date": entry_date, "tech": tech}) for sheet in book.sheets]
        pngs = iter(images.get())
    finally:
        images.close()
    for ws, rows, col in places:
        for r, row in rows:
            ws.insert_image(r, col, "qr.png", {
                "image_data": BytesIO(next(pngs)), "x_offset": 2, "y_offset": 2,
                "x_scale": 0.82, "y_scale": 0.82, "object_position": 1,
                "description": row.code})

    ident = wb.add_worksheet(IDENTITY)
    for r, (key, value) in enumerate(zip(KEYS, book.identity.values(), strict=True)):
        put_text(ident, key, at=(r, 0))
        put_text(ident, value, at=(r, 1))
    ident.set_column(0, 1, 40)
    ident.protect()
    ident.very_hidden()
    wb.close()
    return out.getvalue()


def _record_sheet(wb: Any, sheet: SampleSheet, book: SampleBook, today: date,
                  fmt: dict[str, Any]) -> tuple[Any, list[tuple[int, SampleRow]], int]:
    """Write a record sheet's cells; return where its QR codes go (the sheet, (row, record)
    pairs and the column)."""
    ws = wb.add_worksheet(sheet.name)
    labels = (*LEAD, *sheet.labels, *TAIL)
    last = len(labels) - 1
    ws.merge_range(TITLE_ROW, 0, TITLE_ROW, min(last, 12), "", fmt["bold"])
    put_text(ws, f"抽查核验表　{sheet.title}", at=(TITLE_ROW, 0), fmt=fmt["bold"])
    put_text(ws, book.seed_line, at=(SEED_ROW, 0))
    for j, label in enumerate(labels):
        put_text(ws, label, at=(HEADER_ROW, j), fmt=fmt["head"])
    widths = [6, 24, 20, 10, 24, 10, 12, 9] + [_width(x) for x in sheet.labels] + [30, 38]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w, fmt["entry"] if labels[j] in INPUTS[:3] else
                      fmt["entry_date"] if labels[j] == VERIFIED_ON else None)
    first = HEADER_ROW + 1
    n = len(sheet.rows)
    qr_col = labels.index(QR)
    for i, row in enumerate(sheet.rows):
        r = first + i
        ws.set_row(r, ROW_HEIGHT)
        ws.write_number(r, 0, row.position, fmt["cell"])
        put_text(ws, row.unit_name, at=(r, 1), fmt=fmt["cell"], quoted=fmt["quoted"])
        put_text(ws, row.unit_code, at=(r, 2), fmt=fmt["cell"], quoted=fmt["quoted"])
        for j in range(3, 6):
            ws.write_blank(r, j, None, fmt["entry"])
        ws.write_blank(r, 6, None, fmt["entry_date"])
        ws.write_blank(r, qr_col, None, fmt["cell"])
        for j, text in enumerate(row.texts, start=qr_col + 1):
            put_text(ws, text, at=(r, j), fmt=fmt["cell"], quoted=fmt["quoted"])
        put_text(ws, row.code, at=(r, last - 1), fmt=fmt["tech"])
        put_text(ws, row.record_id, at=(r, last), fmt=fmt["tech"])
    if n:
        end = first + n - 1
        ws.data_validation(first, 3, end, 3, {
            "validate": "list", "source": ["属实", "不实", "无法核实"],
            "error_title": "核验结果", "error_message": "请从下拉列表选择：属实、不实或无法核实。"})
        ws.data_validation(first, 6, end, 6, {
            "validate": "date", "criteria": "between", "minimum": date(2000, 1, 1),
            "maximum": date(today.year + 1, 12, 31), "error_title": "核验日期",
            "error_message": "请填写核验日期，如 2026-12-07。"})
    ws.freeze_panes(first, 3)
    ws.autofilter(HEADER_ROW, 0, max(first + n - 1, HEADER_ROW), last)
    ws.repeat_rows(HEADER_ROW)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.protect("", {"autofilter": True, "format_columns": True, "format_rows": True,
                    "select_locked_cells": True, "select_unlocked_cells": True})
    return ws, [(first + i, row) for i, row in enumerate(sheet.rows)], qr_col


def _width(label: str) -> float:
    return min(max(len(label) * 2 + 2, 10), 30)


# --- reading ----------------------------------------------------------------------------------


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
