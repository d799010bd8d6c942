"""The spot-check verification workbook (抽查核验表) and the report workbook: layout (the
sheets' names and the plain data a workbook is written from), book (writing it: XlsxWriter
for each sheet's frame and first row), bulk (the other rows and their QR images as sheet XML),
qr (the QR PNGs, on another process for a large sample), read (reading it back strictly; the
report per unit in the official layout)."""

from desktop.reports.xlsx.spotcheck.book import sample_book
from desktop.reports.xlsx.spotcheck.layout import (
    CODE,
    HEADER_ROW,
    HELP,
    IDENTITY,
    INPUTS,
    KEYS,
    NOTE,
    NUMBER,
    QR,
    RECORD,
    RESULT,
    SEED_ROW,
    TAIL,
    TITLE_ROW,
    UNIT,
    UNIT_CODE,
    VERIFIED_ON,
    VERIFIER,
    Identity,
    SampleBook,
    SampleRow,
    SampleSheet,
)
from desktop.reports.xlsx.spotcheck.qr import QrImages, qr_png
from desktop.reports.xlsx.spotcheck.read import (
    ReadBook,
    ReadSheet,
    read_sample_book,
    write_report_book,
)

__all__ = ["CODE", "HEADER_ROW", "HELP", "IDENTITY", "INPUTS", "KEYS", "NOTE", "NUMBER", "QR",
           "RECORD", "RESULT", "SEED_ROW", "TAIL", "TITLE_ROW", "UNIT", "UNIT_CODE",
           "VERIFIED_ON", "VERIFIER", "Identity", "QrImages", "ReadBook", "ReadSheet",
           "SampleBook", "SampleRow", "SampleSheet", "qr_png", "read_sample_book",
           "sample_book", "write_report_book"]
