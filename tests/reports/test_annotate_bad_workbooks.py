"""`--annotate` on workbooks openpyxl cannot take as they are (issue 14): what can be annotated
is annotated; what cannot is said plainly in Chinese, and nothing broken is written.

The workbooks are made with XlsxWriter and then edited in their XML, as WPS and old export
tools leave them: an empty `<fill/>` in the styles, a cell holding `_x0000_` (read back as a NUL
character), a styles part whose values are not numbers.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import python_calamine as pc
import xlsxwriter
from openpyxl import load_workbook

from desktop.reports.xlsx.annotate import RESULT_SHEET

HEADER = ["姓名", "公民身份号码", "性别"]


def workbook(path: Path, name: str = "张X三") -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("附件1")
    ws.write_row(0, 0, HEADER)
    ws.write_row(1, 0, [name, "1234", "男"])
    wb.close()
    return path


def edit(path: Path, member: str, change) -> Path:
    """Replace `member` of the zip at `path` by change(its bytes), in place."""
    with zipfile.ZipFile(path) as zin:
        items = [(i, zin.read(i)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            if info.filename == member:
                new = change(data)
                assert new != data, f"the edit of {member} changed nothing"
                data = new
            zout.writestr(info.filename, data)
    return path


def check_output(out: Path, source_bytes: bytes, source: Path) -> None:
    """The annotated copy opens in calamine and openpyxl, marks the bad ID number in red with
    a comment, lists the findings; the source is unchanged."""
    assert source.read_bytes() == source_bytes
    book = pc.CalamineWorkbook.from_path(str(out))
    assert RESULT_SHEET in book.sheet_names
    wb = load_workbook(out)
    cell = wb["附件1"]["B2"]
    assert cell.fill.fgColor.rgb == "FFFF8B8B" and cell.comment is not None
    assert "18 位" in cell.comment.text
    listed = [c.value for row in wb[RESULT_SHEET].iter_rows() for c in row]
    assert "附件1!B2" in listed


def test_an_empty_fill_in_the_styles_is_annotated(dengji, tmp_path: Path) -> None:
    source = workbook(tmp_path / "wps.xlsx")
    edit(source, "xl/styles.xml",
         lambda xml: xml.replace(b'<fill><patternFill patternType="none"/></fill>', b"<fill/>", 1))
    before = source.read_bytes()
    out = tmp_path / "marked.xlsx"
    result = dengji("validate", "--form", "lawyer_member", source, "--annotate", out)
    assert result.code == 1, result.err
    assert "已把问题标注在" in result.out + result.err
    check_output(out, before, source)


def test_a_cell_holding_x0000_is_annotated_without_the_nul(dengji, tmp_path: Path) -> None:
    source = workbook(tmp_path / "nul.xlsx")
    edit(source, "xl/sharedStrings.xml",
         lambda xml: xml.replace("张X三".encode(), "张_x0000_三".encode()))
    assert any("\x00" in str(v) for row in pc.CalamineWorkbook.from_path(str(source))
               .get_sheet_by_index(0).to_python() for v in row)  # read back as a NUL
    before = source.read_bytes()
    out = tmp_path / "marked.xlsx"
    result = dengji("validate", "--form", "lawyer_member", source, "--annotate", out)
    assert result.code == 1, result.err
    check_output(out, before, source)
    wb = load_workbook(out)
    name = wb["附件1"]["A2"]
    assert name.comment is not None and "姓名" in name.comment.text  # its finding is there
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)] + [name.comment.text]
    assert not any("\x00" in t for t in texts)


def test_styles_openpyxl_cannot_read_are_said_plainly_and_nothing_is_written(
        dengji, tmp_path: Path) -> None:
    for n, (old, new) in enumerate([(b'<sz val="11"/>', b'<sz val="abc"/>'),
                                    (b"<border>", b'<border><left style="weird"/>')]):
        source = workbook(tmp_path / f"odd{n}.xlsx")
        edit(source, "xl/styles.xml", lambda xml, old=old, new=new: xml.replace(old, new, 1))
        out = tmp_path / f"marked{n}.xlsx"
        result = dengji("validate", "--form", "lawyer_member", source, "--annotate", out)
        assert result.code == 2, result.out + result.err
        assert "无法在" in result.err and "标注" in result.err and "没有写出标注文件" in result.err
        assert "18 位" in result.out  # the findings themselves are still listed
        assert not out.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
