"""Reading a sheet in parts (reports/xlsx_parts.py) gives the cells a read of the whole sheet
gives, and refuses what it cannot read that way (the caller then reads the whole sheet)."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime

import pytest
import python_calamine as pc
import xlsxwriter
from openpyxl import Workbook

from desktop.reports.xlsx import parts as xlsx_parts
from desktop.reports.xlsx.parts import Unusable, open_package, read_part


def whole(path, sheet=0):
    with pc.CalamineWorkbook.from_path(str(path)) as wb:
        ws = wb.get_sheet_by_index(sheet) if isinstance(sheet, int) else wb.get_sheet_by_name(
            sheet)
        return ws.to_python(skip_empty_area=False)


def by_parts(package, name, size):
    """The sheet put together again from its parts, as the whole read gives it."""
    book = package.book(name)
    grid: list[list] = []
    for xml in package.parts(name, size):
        row0, col0, rows = read_part(book, xml)
        for i, cells in enumerate(rows):
            while len(grid) < row0 + i:
                grid.append([])
            grid.append([""] * col0 + cells)
    return grid


def same_cells(a, b):
    """Equal but for trailing empty cells and empty rows at the end (a part's range ends
    where its last value is)."""
    def trim(grid):
        rows = [list(r) for r in grid]
        for r in rows:
            while r and r[-1] == "":
                r.pop()
        while rows and not rows[-1]:
            rows.pop()
        return rows
    return trim(a) == trim(b)


def openpyxl_book(path, rows=600):
    """openpyxl (inline strings): dates, numbers, an empty column A, a title row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "名册"
    ws.append([None, "某所党员名册"])
    ws.append([None, "姓名", "出生日期", "手机", "备注"])
    for i in range(rows):
        ws.append([None, f"张{i % 37}", date(1980 + i % 30, 1 + i % 12, 1 + i % 28),
                   13800138000 + i, "＜备注＞ & \"引号\"" if i % 5 else None])
        if i % 50 == 7:
            ws.append([])
    ws.append([None, "合计", rows])
    wb.save(path)
    return path


def xlsxwriter_book(path, rows=600, *, date1904=False, shared=False):
    """XlsxWriter: inline strings in its constant memory mode, else a shared strings table as
    Excel and WPS write; optionally the 1904 date system."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": not shared, "date_1904": date1904})
    ws = wb.add_worksheet("表一")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["姓名", "入党日期", "数"])
    for i in range(1, rows + 1):
        ws.write_string(i, 0, f"李{i % 97}")
        ws.write_datetime(i, 1, datetime(2000 + i % 20, 1 + i % 12, 3), day)
        ws.write_number(i, 2, i * 1.5)
    wb.close()
    return path


@pytest.mark.parametrize("size", [300, 4096, 50_000, 1 << 30])
def test_parts_put_together_are_the_whole_sheet(tmp_path, size):
    path = openpyxl_book(tmp_path / "a.xlsx")
    package = open_package(path)
    assert package is not None and [s.name for s in package.sheets] == ["名册"]
    parts = list(package.parts("名册", size))
    assert len(parts) > 1 or size > 50_000
    assert all(p.lstrip().startswith(b"<row") for p in parts)
    assert same_cells(by_parts(package, "名册", size), whole(path))
    package.close()


@pytest.mark.parametrize("date1904", [False, True])
@pytest.mark.parametrize("shared", [False, True])
def test_shared_or_inline_strings_and_the_1904_date_system(tmp_path, date1904, shared):
    path = xlsxwriter_book(tmp_path / "b.xlsx", date1904=date1904, shared=shared)
    package = open_package(path)
    assert package.date1904 is date1904
    assert bool(package.book("表一").strings) is shared
    assert same_cells(package.head("表一"), whole(path)[:len(package.head("表一"))])
    grid = by_parts(package, "表一", 2000)
    assert same_cells(grid, whole(path))
    assert grid[1][1] == date(2001, 2, 3)
    package.close()


def test_a_few_rows_need_only_the_first_shared_strings():
    table = (b'<?xml version="1.0"?><sst count="4" uniqueCount="4"><si><t>a</t></si><si/>'
             b'<si><r><t>b</t></r></si><si><t>c</t></si></sst>')
    rows = b'<row r="1"><c r="A1" t="s"><v>2</v></c><c r="B1" t="s"><v>0</v></c></row>'
    assert xlsx_parts._strings_for(table, rows).endswith(b"<r><t>b</t></r></si></sst>")
    assert b"<t>c</t>" not in xlsx_parts._strings_for(table, rows)
    none = xlsx_parts._strings_for(table, b'<row r="1"><c r="A1"><v>1</v></c></row>')
    assert none == b'<?xml version="1.0"?><sst count="4" uniqueCount="4"></sst>'
    odd = b"<row r=\"1\"><c r=\"A1\" t='s'><v>3</v></c><c t=\"s\"><v>1</v></c></row>"
    assert xlsx_parts._strings_for(table, odd) == table  # not sure which: all of them


def test_head_is_the_first_rows_of_the_whole_read(tmp_path):
    path = openpyxl_book(tmp_path / "a.xlsx")
    package = open_package(path)
    head = package.head("名册")
    full = whole(path)
    assert len(head) >= xlsx_parts.HEAD_ROWS
    assert same_cells(head, full[:len(head)])
    assert head[1][1] == "姓名"
    package.close()


@pytest.mark.parametrize("piece", [1, 7, 13, 4096])
def test_tags_cut_across_the_inflated_blocks(tmp_path, monkeypatch, piece):
    """The sheet's XML arrives in blocks that cut row tags and the end tag anywhere."""
    path = openpyxl_book(tmp_path / "a.xlsx", rows=80)
    package = open_package(path)
    real = xlsx_parts.Package._stream

    def in_pieces(self, name, size):
        data = b"".join(real(self, name, size))
        for i in range(0, len(data), piece):
            yield data[i:i + piece]

    monkeypatch.setattr(xlsx_parts.Package, "_stream", in_pieces)
    parts = list(package.parts("名册", 500))
    assert len(parts) > 5 and all(p.startswith(b"<row") for p in parts)
    assert not parts[-1].endswith(b"</sheetData>") and parts[-1].endswith(b"</row>")
    assert same_cells(by_parts(package, "名册", 500), whole(path))
    package.close()


def test_hidden_sheets_and_chart_sheets_are_told_apart(tmp_path):
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.sheet_state = "hidden"
    wb.create_sheet("数据").append(["姓名"])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    package = open_package(path)
    assert [(s.name, s.visible, s.worksheet) for s in package.sheets] == [
        ("说明", False, True), ("数据", True, True)]
    package.close()


def rewrite(path, out, fn):
    """A copy of the workbook with the first sheet's XML changed by `fn`."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = fn(data)
            dst.writestr(info.filename, data)
    return out


def test_rows_without_row_numbers_are_read_whole(tmp_path):
    path = xlsxwriter_book(tmp_path / "b.xlsx")
    bare = rewrite(path, tmp_path / "bare.xlsx",
                   lambda x: re.sub(rb'<row r="\d+"', b"<row", x))
    package = open_package(bare)
    with pytest.raises(Unusable):
        package.head("表一")
    book = package.book("表一")
    later = list(package.parts("表一", 2000))[1]
    with pytest.raises(Unusable):
        read_part(book, later)
    package.close()


def test_a_damaged_sheet_is_unusable_not_wrong(tmp_path):
    path = xlsxwriter_book(tmp_path / "b.xlsx")
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle:middle + 8] = b"\x00" * 8
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(bytes(data))
    package = open_package(broken)
    with pytest.raises(Unusable):
        list(package.parts("表一", 1 << 30))
    package.close()


def test_what_is_no_zip_workbook_is_left_to_the_whole_read(tmp_path):
    text = tmp_path / "x.xlsx"
    text.write_text("姓名,性别\n")
    assert open_package(text) is None
    empty_zip = tmp_path / "y.xlsx"
    with zipfile.ZipFile(empty_zip, "w") as z:
        z.writestr("a.txt", "x")
    assert open_package(empty_zip) is None
