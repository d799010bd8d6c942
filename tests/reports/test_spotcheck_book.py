"""The verification workbook (reports/xlsx/spotcheck/): XlsxWriter writes each record sheet's
frame and first row, bulk.py the other rows and their QR images. Every row must come out as
the first does: the same cells read back (python-calamine, as `spotcheck record` reads, and
openpyxl), text never a formula, the same styles and protection, its QR image at its row
decoding to its own record code."""

from __future__ import annotations

import io
import random
import re
import zipfile
from copy import copy
from datetime import date
from xml.etree import ElementTree

import openpyxl
import pytest
import python_calamine
import zxingcpp
from PIL import Image

from desktop.reports.xlsx.spotcheck import (
    Identity,
    SampleBook,
    SampleRow,
    SampleSheet,
    read_sample_book,
    sample_book,
)
from desktop.reports.xlsx.spotcheck.qr import QR_MASK

HOSTILE = ("", "=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tTab", "<tag>&amp;\"'",
           " leading", "trailing ", "第一行\n第二行", "_x0041_ stays literal", "ctl\x01\x1f",
           "长" * 400, "普通文字")


def _book(n_rows: dict[str, int], seed: int = 3) -> SampleBook:
    rng = random.Random(seed)
    sheets, pos = [], 0
    for name, n in n_rows.items():
        labels = tuple(f"字段{j}" for j in range(rng.randint(1, 12)))
        rows = []
        for _ in range(n):
            pos += 1
            rid = f"0190a1b2-c3d4-7e5f-8a9b-{pos:012d}"
            rows.append(SampleRow(pos, rng.choice(HOSTILE) or "单位", rng.choice(HOSTILE),
                                  tuple(rng.choice(HOSTILE) for _ in labels),
                                  f"DJ1:R:{rid.upper()}:{rng.getrandbits(64):016X}", rid))
        sheets.append(SampleSheet(name, f"{name} 标题", labels, rows))
    ident = Identity("20261207-ABCD", "110000", "reg-id", "SEED1234", "dengji-spotcheck-1", pos)
    return SampleBook(ident, "样本编号 20261207-ABCD　随机种子 SEED1234", ("填写方法",), sheets)


def _expected(row: SampleRow) -> list:
    return [float(row.position), row.unit_name, row.unit_code, "", "", "", "", "", *row.texts,
            row.code, row.record_id]


@pytest.mark.parametrize("parallel", [False, True])
def test_every_row_reads_back_as_given(tmp_path, parallel):
    book = _book({"附件1": 700, "附件2": 1, "附件3": 40})
    path = tmp_path / "b.xlsx"
    path.write_bytes(sample_book(book, today=date(2026, 12, 7), parallel=parallel))
    z = zipfile.ZipFile(path)
    assert z.testzip() is None
    for name in z.namelist():  # every part Excel parses is well-formed XML
        if name.endswith((".xml", ".rels")):
            ElementTree.fromstring(z.read(name))
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    for sheet in book.sheets:
        values = wb.get_sheet_by_name(sheet.name).to_python()
        body = values[3:]
        assert len(body) == len(sheet.rows)
        for got, row in zip(body, sheet.rows, strict=True):
            want = _expected(row)
            assert got[:len(want)] == want, row.position
    read = read_sample_book(path)
    assert read.identity["随机种子"] == "SEED1234"
    assert [len(s.rows) for s in read.sheets] == [700, 1, 40]


def test_bulk_rows_have_the_first_rows_styles_and_text_is_never_a_formula(tmp_path):
    book = _book({"附件1": 60})
    path = tmp_path / "b.xlsx"
    path.write_bytes(sample_book(book, today=date(2026, 12, 7), parallel=False))
    ws = openpyxl.load_workbook(path)["附件1"]
    first = 4
    rows = book.sheets[0].rows
    width = len(_expected(rows[0]))
    for i, row in enumerate(rows):
        r = first + i
        assert ws.row_dimensions[r].height == 48
        for c, want in enumerate(_expected(row), start=1):
            cell, top = ws.cell(r, c), ws.cell(first, c)
            if isinstance(want, str) and want:
                assert cell.data_type == "s"
                assert cell.quotePrefix == (want[0] in "=+-@\t\r"), (r, c, want)
            for what in ("border", "fill", "font", "alignment"):  # copy(): the styles
                assert copy(getattr(cell, what)) == copy(getattr(top, what)), (r, c, what)
            assert cell.protection.locked == (c not in (4, 5, 6, 7)), (r, c)
            assert cell.number_format == top.number_format
    assert ws.max_column == width and ws.max_row == first + len(rows) - 1
    assert ws.protection.sheet
    checks = {dv.type: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert checks == {"list": f"D4:D{first + len(rows) - 1}", "date": f"G4:G{first + len(rows) - 1}"}
    assert ws.auto_filter.ref == f"A3:{openpyxl.utils.get_column_letter(width)}{first + len(rows) - 1}"


def test_each_rows_qr_image_is_at_its_row_and_decodes_to_its_code(tmp_path):
    book = _book({"附件1": 30, "附件3": 5})
    path = tmp_path / "b.xlsx"
    path.write_bytes(sample_book(book, today=date(2026, 12, 7), parallel=True))
    z = zipfile.ZipFile(path)
    sheets = {"附件1": "sheet2", "附件3": "sheet3"}
    for sheet in book.sheets:
        rels = z.read(f"xl/worksheets/_rels/{sheets[sheet.name]}.xml.rels").decode()
        drawing = re.search(r"drawings/(drawing\d+\.xml)", rels)[1]
        xml = z.read(f"xl/drawings/{drawing}").decode()
        targets = dict(re.findall(r'Id="([^"]+)"[^>]*Target="\.\./media/([^"]+)"',
                                  z.read(f"xl/drawings/_rels/{drawing}.rels").decode()))
        anchors = re.findall(r"<xdr:from><xdr:col>(\d+)</xdr:col><xdr:colOff>\d+</xdr:colOff>"
                             r"<xdr:row>(\d+)</xdr:row>.*?<xdr:cNvPr id=\"(\d+)\"[^>]*"
                             r"descr=\"([^\"]*)\".*?r:embed=\"([^\"]+)\"", xml, re.S)
        assert len(anchors) == len(sheet.rows)
        assert len({a[2] for a in anchors}) == len(anchors)  # drawing object ids are unique
        for (col, row, _, descr, rid), want in zip(anchors, sheet.rows, strict=True):
            assert (int(col), int(row)) == (7, 3 + want.position - sheet.rows[0].position)
            assert descr == want.code
            png = z.read(f"xl/media/{targets[rid]}")
            found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
            assert [b.text for b in found] == [want.code]
            assert found[0].extra["DataMask"] == QR_MASK
    images = openpyxl.load_workbook(path)["附件1"]._images
    assert len(images) == 30


def test_an_empty_sheet_and_a_one_row_sheet(tmp_path):
    book = _book({"附件1": 1, "附件2": 0})
    data = sample_book(book, today=date(2026, 12, 7), parallel=False)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb["附件1"].max_row == 4 and wb["附件2"].max_row == 3


def test_qr_images_shared_between_the_processes_come_back_in_the_codes_order():
    from desktop.reports.xlsx.spotcheck.qr import QR_CHUNK, QrImages, qr_png

    codes = [f"DJ1:R:0190A1B2-C3D4-7E5F-8A9B-{i:012d}:{i * 7919:016X}"
             for i in range(QR_CHUNK * 6 + 17)]
    images = QrImages(codes, parallel=True)
    try:
        made = images.get()
    finally:
        images.close()
    assert len(made) == len(codes)
    for i in range(0, len(codes), 97):
        assert made[i] == qr_png(codes[i])
        assert zxingcpp.read_barcode(Image.open(io.BytesIO(made[i]))).text == codes[i]
