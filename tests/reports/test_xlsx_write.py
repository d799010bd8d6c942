"""The official layout: title, unit line, frozen header, data, totals, signatures, print setup,
document properties — and no cell that Excel could run as a formula."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from desktop.errors import KnownError
from desktop.progress import run
from desktop.reports.xlsx.cells import needs_quote
from desktop.reports.xlsx.write import (
    DocProps,
    TableSheet,
    UnitLine,
    text_width,
    write_tables,
)

DANGEROUS = ["=1+1", "+86 138", "-3", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\",\"点我\")"]


def sheet(rows, **kw) -> TableSheet:
    base = dict(name="附件4", title="附件4 律师党员基本信息汇总表",
                columns=("序号", "姓名", "公民身份号码", "执业机构", "人数"),
                column_types=("seq", "text", "id_number", "text", "int"), rows=rows,
                row_count=len(rows) if isinstance(rows, list) else 0,
                totals_row=("合计：2 人", "", "", "", "7"),
                totals=[("性别", (("男", 1), ("女", 1)))],
                unit_line=UnitLine("某某律师事务所党支部", "王敏", "010-85551234",
                                   date(2026, 11, 22)),
                note="注：公民身份号码已部分遮蔽。")
    base.update(kw)
    return TableSheet(**base)


def write(tmp_path: Path, sheets, **props) -> Path:
    out = tmp_path / "out.xlsx"
    run(write_tables(out, sheets, DocProps(title="附件4 律师党员基本信息汇总表",
                                           company="某某律师事务所党支部", author="王敏",
                                           custom={"dengji_form": "lawyer_summary"}, **props)))
    return out


def test_layout_rows_and_cells(tmp_path):
    rows = [("1", "张三", "110105********002X", "甲律师事务所", "3"),
            ("2", "李四", "", "乙律师事务所", "4")]
    wb = load_workbook(write(tmp_path, [sheet(rows)]))
    ws = wb["附件4"]
    assert ws["A1"].value == "附件4 律师党员基本信息汇总表" and ws["A1"].font.b
    assert "A1:E1" in {str(r) for r in ws.merged_cells.ranges}
    unit_line = " ".join(str(c.value) for r in (2, 3) for c in ws[r] if c.value)
    for part in ("填报单位：某某律师事务所党支部", "填报人：王敏", "联系电话：010-85551234",
                 "填报日期：2026年11月22日"):
        assert part in unit_line
    # a narrow table puts the unit line on two rows
    assert [c.value for c in ws[4]] == ["序号", "姓名", "公民身份号码", "执业机构", "人数"]
    assert ws.freeze_panes == "C5"
    assert ws.auto_filter.ref == "A4:E6"
    assert ws["A5"].value == 1 and ws["E5"].value == 3  # numbers as numbers
    assert ws["C5"].value == "110105********002X" and ws["C5"].data_type == "s"
    assert ws["C6"].border.left.style == "thin"  # an empty cell keeps its border
    assert ws["A7"].value == "合计：2 人" and ws["E7"].value == 7
    texts = [str(c.value) for row in ws.iter_rows(min_row=8) for c in row if c.value]
    assert any("男 1；女 1" in t for t in texts) and "性别" in texts
    assert "注：公民身份号码已部分遮蔽。" in texts
    assert any(t.startswith("填报人（签字）") for t in texts)
    assert any("单位负责人（签字）" in t for t in texts)
    assert any("（单位盖章）" in t for t in texts)


def test_print_setup_and_properties(tmp_path):
    wide = sheet([("1",) + ("x" * 20,) * 14], columns=tuple(f"栏目{i}" for i in range(15)),
                 column_types=("seq",) + ("text",) * 14, totals_row=None, totals=())
    narrow = sheet([("1", "张三")], name="窄表", columns=("序号", "姓名"),
                   column_types=("seq", "text"), totals_row=None, totals=())
    wb = load_workbook(write(tmp_path, [wide, narrow]))
    ws = wb["附件4"]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$3:$3"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert wb["窄表"].page_setup.orientation == "portrait"
    widths = [wb["窄表"].column_dimensions[c].width for c in "AB"]
    assert sum(widths) >= text_width("附件4 律师党员基本信息汇总表") * 1.5  # the title fits
    props = wb.properties
    assert props.title == "附件4 律师党员基本信息汇总表" and props.creator == "王敏"
    assert props.created is not None
    custom = {p.name: p.value for p in wb.custom_doc_props.props}
    assert custom["dengji_form"] == "lawyer_summary"


def test_a_very_wide_table_prints_over_several_page_widths(tmp_path):
    cols = tuple(f"栏目{i}" for i in range(40))
    wide = sheet([tuple(str(i) for i in range(40))], columns=cols,
                 column_types=("seq",) + ("id_number",) * 39, totals_row=None, totals=())
    ws = load_workbook(write(tmp_path, [wide]))["附件4"]
    assert ws.page_setup.fitToWidth > 1 and ws.print_title_cols == "$A:$B"


@pytest.mark.parametrize("text", DANGEROUS)
def test_text_that_looks_like_a_formula_stays_text(tmp_path, text):
    assert needs_quote(text)
    rows = [("1", text, text, text, "")]
    ws = load_workbook(write(tmp_path, [sheet(rows, title=text, unit_line=UnitLine(text))]))[
        "附件4"]
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    header = next(r for r in range(1, 9) if ws.cell(r, 1).value == "序号")
    cell = ws.cell(header + 1, 2)
    # a carriage return is stored as Excel's escape _x000D_, which openpyxl leaves as it is
    assert cell.value.replace("_x000D_", "\r") == text
    assert cell.data_type == "s" and cell.quotePrefix


def test_ordinary_text_gets_no_quote_prefix(tmp_path):
    assert not needs_quote("张三") and not needs_quote("") and not needs_quote("1-2")
    ws = load_workbook(write(tmp_path, [sheet([("1", "张三", "", "", "")])]))["附件4"]
    assert ws["B5"].value == "张三" and not ws["B5"].quotePrefix


def test_rows_stream_and_progress_is_reported(tmp_path):
    rows = (("", f"人{i}", "", "", str(i)) for i in range(5000))
    steps = []
    out = tmp_path / "big.xlsx"
    run(write_tables(out, [sheet(rows, row_count=5000)], DocProps("t")), steps.append)
    assert steps[-1].done == steps[-1].total and len(steps) > 2
    ws = load_workbook(out, read_only=True)["附件4"]
    assert ws.max_row >= 5003


def test_an_unwritable_place_is_a_clear_error(tmp_path):
    with pytest.raises(KnownError, match="文件夹不存在"):
        run(write_tables(tmp_path / "no" / "x.xlsx", [sheet([])], DocProps("t")))
    assert not list(tmp_path.glob(".*.part"))
