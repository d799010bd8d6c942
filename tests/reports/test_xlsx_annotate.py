"""The user's own workbook back: bad cells filled red or yellow with the messages as comments,
a list of findings with links, the original untouched."""

from __future__ import annotations

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment

from desktop.errors import UsageError
from desktop.reports.xlsx.annotate import FILLS, RESULT_SHEET, Mark, annotate_workbook


@pytest.fixture
def book(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["姓名", "公民身份号码", "备注"])
    ws.append(["张三", "110105194912310021", "甲"])
    ws.append(["李四", "123", "乙"])
    ws["C2"].comment = Comment("原有批注", "王敏")
    ws.merge_cells("C3:D3")
    path = tmp_path / "名单.xlsx"
    wb.save(path)
    return path


def test_cells_are_filled_and_commented(tmp_path, book):
    before = book.read_bytes()
    out = annotate_workbook(book, tmp_path / "marked.xlsx", [
        Mark("名单", "B3", "E", "公民身份号码", "“公民身份号码”应为 18 位"),
        Mark("名单", "B3", "W", "公民身份号码", "第二条"),
        Mark("名单", "A2", "W", "姓名", "姓名较短"),
        Mark("名单", "C2", "E", "备注", "=cmd|' /C calc'!A0"),
        Mark("名单", "D3", "I", "", "提示"),
        Mark("别的表", "A1", "E", "", "不存在的表被跳过"),
    ])
    assert book.read_bytes() == before  # the original is never changed
    wb = load_workbook(out)
    ws = wb["名单"]
    assert ws["B3"].fill.fgColor.rgb == FILLS["E"].fgColor.rgb  # the worse finding wins
    assert ws["A2"].fill.fgColor.rgb == FILLS["W"].fgColor.rgb
    assert "应为 18 位" in ws["B3"].comment.text and "第二条" in ws["B3"].comment.text
    assert ws["C2"].comment.text.startswith("原有批注")  # a clerk's own comment is kept
    assert ws["C3"].comment is not None and ws["C3"].fill.fill_type is None  # merged; I: no fill
    assert ws["B2"].value == "110105194912310021" and ws["B2"].comment is None
    result = wb[RESULT_SHEET]
    rows = list(result.iter_rows(min_row=3, values_only=True))
    assert rows[0][:3] == ("名单!B3", "公民身份号码", "错误")
    assert result["A3"].hyperlink.location == "'名单'!B3"
    assert "共 2 个错误" in result["A1"].value
    for row in result.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    injected = next(r for r in result.iter_rows(min_row=3) if r[0].value == "名单!C2")
    assert injected[3].value.startswith("=cmd") and injected[3].quotePrefix


def test_what_cannot_be_marked(tmp_path, book):
    with pytest.raises(UsageError, match="另选一个文件名"):
        annotate_workbook(book, book, [])
    with pytest.raises(UsageError, match=r"\.xlsx"):
        annotate_workbook(book, tmp_path / "out.ods", [])
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UsageError, match="另存为 .xlsx"):
        annotate_workbook(old, tmp_path / "out.xlsx", [])
    with pytest.raises(UsageError, match="文件夹不存在"):
        annotate_workbook(book, tmp_path / "no" / "out.xlsx", [])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(UsageError, match="无法打开"):
        annotate_workbook(broken, tmp_path / "out.xlsx", [])


def test_a_second_result_sheet_gets_its_own_name(tmp_path, book):
    first = annotate_workbook(book, tmp_path / "one.xlsx", [Mark("名单", "A2", "E", "", "x")])
    second = annotate_workbook(first, tmp_path / "two.xlsx", [Mark("名单", "A2", "E", "", "y")])
    assert load_workbook(second).sheetnames == ["名单", RESULT_SHEET, f"{RESULT_SHEET}2"]
