"""Writing a sample's verification workbook (抽查核验表).

Sheets: 说明 (the sample, its seed and method, how to fill in); one sheet per form with one row
per sampled record: 序号, 单位名称, 单位代码, the four columns the verifier fills (核验结果 from
a drop-down 属实/不实/无法核实, 说明, 核验人, 核验日期), the record's QR code (the text of its
printed page's code, reports/pdf/qr.py, which is also written beside it), the record's fields
(masked as every output is), 记录码 and 记录编号; a hidden, protected sheet 抽查标识 names the
sample (sample id, register, seed, method), so the workbook comes back to the right sample.
Every sheet's second row prints the seed and the method. The record sheets are protected except
the four input columns, so a slip of the mouse cannot change what was drawn.

XlsxWriter writes the sheets in memory with each record sheet's first row; the other rows and
their QR images are added by bulk.py, while another process makes the PNGs (qr.py).
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

import xlsxwriter

from desktop.reports.xlsx.cells import put_text
from desktop.reports.xlsx.spotcheck.bulk import STYLE_NAMES, Bulk, complete
from desktop.reports.xlsx.spotcheck.layout import (
    HEADER_ROW,
    HELP,
    IDENTITY,
    INPUTS,
    KEYS,
    LEAD,
    QR,
    ROW_HEIGHT,
    SEED_ROW,
    TAIL,
    TITLE_ROW,
    VERIFIED_ON,
    SampleBook,
    SampleSheet,
)
from desktop.reports.xlsx.spotcheck.qr import QrImages, qr_png

STYLE_ROW = len(KEYS) + 1  # the identity sheet's row (0-based) of the styles' cells


def sample_book(book: SampleBook, *, today: date, parallel: bool | None = None) -> bytes:
    """The verification workbook's bytes (the caller publishes them once the register has
    recorded the sample)."""
    out = BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"title": "抽查核验表", "author": "登记 Dengji",
                       "comments": book.seed_line})
    fmt = {
        "bold": wb.add_format({"bold": True, "font_size": 14}),
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                               "text_wrap": True, "valign": "vcenter", "align": "center"}),
        "cell": wb.add_format({"border": 1, "valign": "vcenter", "text_wrap": True}),
        "quoted": wb.add_format({"border": 1, "valign": "vcenter", "text_wrap": True,
                                 "quote_prefix": True}),
        "entry": wb.add_format({"border": 1, "valign": "vcenter", "locked": False,
                                "bg_color": "#FFF2CC", "text_wrap": True}),
        "entry_date": wb.add_format({"border": 1, "valign": "vcenter", "locked": False,
                                     "bg_color": "#FFF2CC", "num_format": "yyyy-mm-dd"}),
        "tech": wb.add_format({"border": 1, "valign": "vcenter", "font_color": "#808080"}),
    }
    plain = wb.add_format({"text_wrap": True, "valign": "top"})
    ws = wb.add_worksheet(HELP)
    ws.set_column(0, 0, 72)
    ws.set_paper(9)  # A4 upright: the column fits its width
    put_text(ws, "抽查核验表", at=(0, 0), fmt=fmt["bold"])
    for r, line in enumerate((book.seed_line, "", *book.help_lines), start=1):
        put_text(ws, line, at=(r, 0), fmt=plain)
        # a wrapped cell keeps one line's height unless told (LibreOffice draws the lines over
        # each other): a 72-wide column holds about 34 Chinese characters a line
        ws.set_row(r, 16 * max(1, -(-len(line) // 34)))

    # the PNGs of every row but each sheet's first are made on another process meanwhile
    images = QrImages([row.code for sheet in book.sheets for row in sheet.rows[1:]],
                      parallel=parallel)
    try:
        bulks = [_record_sheet(wb, sheet, book, today, fmt) for sheet in book.sheets]
        ident = wb.add_worksheet(IDENTITY)
        for r, (key, value) in enumerate(zip(KEYS, book.identity.values(), strict=True)):
            put_text(ident, key, at=(r, 0))
            put_text(ident, value, at=(r, 1))
        # one styled blank cell in each format of the bulk rows, below the keys (read.py reads
        # only rows whose first cell is a key): XlsxWriter gives every format a cell uses its
        # style number, and complete() reads them back from this row of the written sheet
        # (the quoted one may be used by no cell of the first rows)
        for j, name in enumerate(STYLE_NAMES):
            ident.write_blank(STYLE_ROW, j, None, fmt[name])
        ident.set_column(0, 1, 40)
        ident.protect()
        ident.very_hidden()
        wb.close()
        if not any(b.rows for b in bulks):
            return out.getvalue()

        def pngs() -> list[list[bytes]]:
            made = iter(images.get())
            return [[next(made) for _ in b.rows] for b in bulks]

        return complete(out.getvalue(), bulks, (ident.index + 1, STYLE_ROW), pngs)
    finally:
        images.close()


def _record_sheet(wb: Any, sheet: SampleSheet, book: SampleBook, today: date,
                  fmt: dict[str, Any]) -> Bulk:
    """Write a record sheet with its first row; return the rest for bulk.py."""
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
    if n:
        row = sheet.rows[0]
        ws.set_row(first, ROW_HEIGHT)
        ws.write_number(first, 0, row.position, fmt["cell"])
        put_text(ws, row.unit_name, at=(first, 1), fmt=fmt["cell"], quoted=fmt["quoted"])
        put_text(ws, row.unit_code, at=(first, 2), fmt=fmt["cell"], quoted=fmt["quoted"])
        for j in range(3, 6):
            ws.write_blank(first, j, None, fmt["entry"])
        ws.write_blank(first, 6, None, fmt["entry_date"])
        ws.write_blank(first, qr_col, None, fmt["cell"])
        for j, text in enumerate(row.texts, start=qr_col + 1):
            put_text(ws, text, at=(first, j), fmt=fmt["cell"], quoted=fmt["quoted"])
        put_text(ws, row.code, at=(first, last - 1), fmt=fmt["tech"])
        put_text(ws, row.record_id, at=(first, last), fmt=fmt["tech"])
        ws.insert_image(first, qr_col, "qr.png", {
            "image_data": BytesIO(qr_png(row.code)), "x_offset": 2, "y_offset": 2,
            "x_scale": 0.82, "y_scale": 0.82, "object_position": 1, "description": row.code})
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
    return Bulk(ws.index + 1, first, len(labels), qr_col, sheet.rows[1:])


def _width(label: str) -> float:
    return min(max(len(label) * 2 + 2, 10), 30)
