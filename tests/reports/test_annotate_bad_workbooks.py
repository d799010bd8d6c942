"""`--annotate` on workbooks openpyxl cannot take as they are (issue 14): what can be annotated
is annotated; what cannot is said plainly in Chinese, and nothing broken is written.

The workbooks are made with XlsxWriter and then edited in their XML, as WPS and old export
tools leave them: an empty `<fill/>` in the styles, a cell holding `_x0000_` (read back as a NUL
character), a styles part whose values are not numbers.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
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


def annotated(dengji, source: Path, tmp_path: Path) -> Path:
    """`dengji validate --annotate` of `source`: the marked copy, checked (check_output)."""
    before = source.read_bytes()
    out = tmp_path / "marked.xlsx"
    result = dengji("validate", "--form", "lawyer_member", source, "--annotate", out)
    assert result.code == 1, result.err
    assert "已把问题标注在" in result.out + result.err
    check_output(out, before, source)
    return out


def test_an_empty_fill_in_the_styles_is_annotated(dengji, tmp_path: Path) -> None:
    source = workbook(tmp_path / "wps.xlsx")
    edit(source, "xl/styles.xml",
         lambda xml: xml.replace(b'<fill><patternFill patternType="none"/></fill>', b"<fill/>", 1))
    annotated(dengji, source, tmp_path)


def test_a_cell_holding_x0000_is_annotated_without_the_nul(dengji, tmp_path: Path) -> None:
    source = workbook(tmp_path / "nul.xlsx")
    edit(source, "xl/sharedStrings.xml",
         lambda xml: xml.replace("张X三".encode(), "张_x0000_三".encode()))
    assert any("\x00" in str(v) for row in pc.CalamineWorkbook.from_path(str(source))
               .get_sheet_by_index(0).to_python() for v in row)  # read back as a NUL
    wb = load_workbook(annotated(dengji, source, tmp_path))
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


# --- a large workbook, marked as a stream (reports.xlsx.stream_marks) ------------------------


def streamed(monkeypatch, *, openpyxl_max: int | None = None) -> None:
    """Mark every workbook as a large one would be (the threshold is a size)."""
    from desktop.reports.xlsx import annotate

    monkeypatch.setattr(annotate, "STREAM_FROM", 0)
    if openpyxl_max is not None:
        monkeypatch.setattr(annotate, "OPENPYXL_MAX", openpyxl_max)


def test_a_large_workbook_is_marked_as_a_stream(dengji, tmp_path: Path, monkeypatch) -> None:
    streamed(monkeypatch)
    source = workbook(tmp_path / "big.xlsx")
    edit(source, "xl/styles.xml",  # an empty fill does not matter to the stream either
         lambda xml: xml.replace(b'<fill><patternFill patternType="none"/></fill>', b"<fill/>", 1))
    wb = load_workbook(annotated(dengji, source, tmp_path))
    ws = wb["附件1"]
    assert ws["B2"].value == "1234" and ws["A2"].value == "张X三"  # values kept
    assert ws["C1"].comment is None and ws["C1"].value == "性别"  # unmarked cells untouched
    links = {c.value: c.hyperlink.location for c in wb[RESULT_SHEET]["A"] if c.hyperlink}
    assert links["附件1!B2"] == "'附件1'!B2"
    summary = wb[RESULT_SHEET]["A1"].value
    assert "个错误" in summary and "已保留" in summary


def test_the_stream_adds_cells_and_rows_it_must_mark(tmp_path: Path, monkeypatch) -> None:
    from desktop.reports.xlsx.annotate import FILLS, Mark, annotate_workbook

    streamed(monkeypatch)
    source = workbook(tmp_path / "gaps.xlsx")
    out = annotate_workbook(source, tmp_path / "marked.xlsx", [
        Mark("附件1", "E2", "E", "民族", "“民族”必须填写"),  # past the row's last cell
        Mark("附件1", "A2", "W", "姓名", "=HYPERLINK(\"http://x\",\"点我\")"),
        Mark("附件1", "B5", "E", "公民身份号码", "第 5 行没有这一行"),  # a row not in the sheet
        Mark("附件1", "A1", "I", "", "提示：没有填充"),
    ])
    wb = load_workbook(out)
    ws = wb["附件1"]
    assert ws["E2"].fill.fgColor.rgb == FILLS["E"].fgColor.rgb and "民族" in ws["E2"].comment.text
    assert ws["A2"].fill.fgColor.rgb == FILLS["W"].fgColor.rgb and ws["A2"].value == "张X三"
    assert ws["B5"].fill.fgColor.rgb == FILLS["E"].fgColor.rgb and ws["B5"].comment is not None
    assert ws["A1"].fill.fill_type is None and ws["A1"].comment is not None
    assert ws["A1"].value == "姓名"
    with zipfile.ZipFile(out) as zf:
        assert not any(b"<f>" in zf.read(n) or b"<f " in zf.read(n) for n in zf.namelist()
                       if n.endswith(".xml"))
    rows = pc.CalamineWorkbook.from_path(str(out)).get_sheet_by_name(RESULT_SHEET).to_python()
    assert ["附件1!A2", "姓名", "警告", "=HYPERLINK(\"http://x\",\"点我\")"] in rows


def test_a_large_sheet_with_comments_of_its_own(tmp_path: Path, monkeypatch) -> None:
    """The stream does not merge a clerk's own comments: openpyxl does it for a workbook it
    can hold, and a larger one is refused plainly, nothing written."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    from desktop.errors import UsageError
    from desktop.reports.xlsx.annotate import Mark, annotate_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["姓名", "公民身份号码"])
    ws.append(["张三", "123"])
    ws["B2"].comment = Comment("原有批注", "王敏")
    source = tmp_path / "comments.xlsx"
    wb.save(source)
    marks = [Mark("名单", "B2", "E", "公民身份号码", "应为 18 位")]
    streamed(monkeypatch)
    out = annotate_workbook(source, tmp_path / "small.xlsx", marks)
    assert load_workbook(out)["名单"]["B2"].comment.text.startswith("原有批注")
    streamed(monkeypatch, openpyxl_max=0)
    try:
        annotate_workbook(source, tmp_path / "large.xlsx", marks)
    except UsageError as err:
        assert "无法在" in str(err) and "没有写出标注文件" in str(err)
    else:
        raise AssertionError("a large sheet with comments was not refused")
    assert not (tmp_path / "large.xlsx").exists()


def test_rows_without_numbers_are_left_to_openpyxl(tmp_path: Path, monkeypatch) -> None:
    """The stream finds rows by their numbers: a sheet whose rows have none is marked by
    openpyxl (small) or refused plainly (large), never marked in the wrong row."""
    from desktop.errors import UsageError
    from desktop.reports.xlsx.annotate import FILLS, Mark, annotate_workbook

    source = workbook(tmp_path / "unnumbered.xlsx")
    edit(source, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b'<row r="2"', b"<row"))
    marks = [Mark("附件1", "B2", "E", "公民身份号码", "应为 18 位")]
    streamed(monkeypatch)
    out = annotate_workbook(source, tmp_path / "small.xlsx", marks)
    assert load_workbook(out)["附件1"]["B2"].fill.fgColor.rgb == FILLS["E"].fgColor.rgb
    streamed(monkeypatch, openpyxl_max=0)
    with pytest.raises(UsageError, match="没有写出标注文件"):
        annotate_workbook(source, tmp_path / "large.xlsx", marks)
    assert not (tmp_path / "large.xlsx").exists()
