"""The style numbers of the verification workbook's bulk rows (reports/xlsx/spotcheck/bulk.py)
come from cells XlsxWriter itself wrote in each format (a row of the hidden identity sheet),
read back from the written sheet: no private XlsxWriter call. A format no first row uses (the
quote prefix) still reaches the rows after it, and the styles' row is never read as a key."""

from __future__ import annotations

import zipfile
from copy import copy
from datetime import date

import openpyxl
import pytest
import python_calamine

from desktop.reports.xlsx import spotcheck as sc
from desktop.reports.xlsx.spotcheck.bulk import STYLE_NAMES, Styles, styles_at
from desktop.reports.xlsx.spotcheck.layout import KEYS


def _row(pos: int, text: str) -> sc.SampleRow:
    rid = f"0190a1b2-c3d4-7e5f-8a9b-{pos:012d}"
    return sc.SampleRow(pos, f"单位{pos}", text, (text, "普通"), f"DJ1:R:{rid.upper()}:{pos:016X}", rid)


def _book(sheets: dict[str, list[str]]) -> sc.SampleBook:
    made, pos = [], 0
    for name, texts in sheets.items():
        rows = []
        for text in texts:
            pos += 1
            rows.append(_row(pos, text))
        made.append(sc.SampleSheet(name, f"{name} 标题", ("字段甲", "字段乙"), rows))
    ident = sc.Identity("20261207-ABCD", "110000", "reg-id", "SEED1234", "dengji-spotcheck-1", pos)
    return sc.SampleBook(ident, "样本编号 20261207-ABCD　随机种子 SEED1234", ("填写方法",), made)


def test_a_quote_prefix_no_first_row_uses_reaches_the_later_rows(tmp_path):
    # no first row holds text that needs the quote prefix; later rows do, in every sheet
    book = _book({"附件1": ["普通", "=1+1", "+86 138", "普通"], "附件3": ["甲", "-5", "@x"]})
    path = tmp_path / "b.xlsx"
    path.write_bytes(sc.sample_book(book, today=date(2026, 12, 7), parallel=False))
    wb = openpyxl.load_workbook(path)
    for sheet in book.sheets:
        ws, first = wb[sheet.name], 4
        for i, row in enumerate(sheet.rows):
            r = first + i
            quoted = row.unit_code[:1] in ("=", "+", "-", "@")
            for c in (3, 9):  # 单位代码 and 字段甲 hold the text
                cell, top = ws.cell(r, c), ws.cell(first, c)
                assert cell.value == row.unit_code and cell.data_type == "s"
                assert cell.quotePrefix is quoted, (sheet.name, r, c)
                for what in ("border", "fill", "font", "alignment", "protection"):
                    assert copy(getattr(cell, what)) == copy(getattr(top, what)), (r, c, what)
            assert ws.cell(r, 10).quotePrefix is False and ws.cell(r, 10).value == "普通"
            assert ws.cell(r, 4).protection.locked is False  # the verifier's column
            assert ws.cell(r, 7).number_format == "yyyy-mm-dd"
            assert ws.cell(r, 11).font.color.rgb == ws.cell(first, 11).font.color.rgb  # 记录码


def test_the_styles_row_is_blank_below_the_keys_and_never_a_key(tmp_path):
    book = _book({"附件1": ["普通", "=x"]})
    path = tmp_path / "b.xlsx"
    path.write_bytes(sc.sample_book(book, today=date(2026, 12, 7), parallel=False))
    read = sc.read_sample_book(path)
    assert list(read.identity) == list(KEYS) and read.identity["记录数"] == "2"
    values = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(
        sc.IDENTITY).to_python(skip_empty_area=False)
    assert [row[:2] for row in values[:len(KEYS)]] == [
        [k, v] for k, v in zip(KEYS, book.identity.values(), strict=True)]
    assert all(v in ("", None) for row in values[len(KEYS):] for v in row)
    ws = openpyxl.load_workbook(path)[sc.IDENTITY]
    assert ws.sheet_state == "veryHidden" and ws.protection.sheet
    styled = [ws.cell(len(KEYS) + 2, c + 1) for c in range(len(STYLE_NAMES))]
    assert [c.value for c in styled] == [None] * len(STYLE_NAMES)
    assert styled[STYLE_NAMES.index("quoted")].quotePrefix
    assert styled[STYLE_NAMES.index("entry")].protection.locked is False


def test_styles_at_reads_the_row_and_refuses_a_row_without_them():
    xml = (b'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>k</t></is></c></row>'
           b'<row r="8" spans="1:5"><c r="A8" s="3"/><c r="B8" s="4"/><c r="C8"/>'
           b'<c r="D8" s="12"/><c r="E8" s="7"/></row></sheetData></worksheet>')
    assert styles_at(xml, 7) == Styles(cell=3, quoted=4, entry=0, entry_date=12, tech=7)
    with pytest.raises(ValueError):
        styles_at(xml, 0)  # one cell, not five
    with pytest.raises(ValueError):
        styles_at(xml, 8)  # no such row


def test_an_empty_sample_is_written_by_xlsxwriter_alone(tmp_path):
    path = tmp_path / "b.xlsx"
    path.write_bytes(sc.sample_book(_book({"附件1": []}), today=date(2026, 12, 7), parallel=False))
    assert zipfile.ZipFile(path).testzip() is None
    assert sc.read_sample_book(path).sheets[0].rows == []
