"""Reading the workbooks people really have: headers anywhere and in any order, variants,
numbers Excel rounded, dates in the usual Chinese ways, broken and locked files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from desktop.errors import UsageError
from desktop.reports.xlsx.read import read_workbook
from tests.conftest import make_firm_records

FIXTURES = Path(__file__).parent / "fixtures"


def write_book(path: Path, rows: Sequence[Sequence[Any]], *, sheet: str = "Sheet1",
               more: dict[str, Sequence[Sequence[Any]]] | None = None) -> Path:
    """A workbook as a clerk would make it in Excel (openpyxl, normal mode)."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    for name, extra in (more or {}).items():
        other = wb.create_sheet(name)
        for row in extra:
            other.append(list(row))
    wb.save(path)
    return path


def members(n: int = 3, seed: int = 3) -> list[dict]:
    return make_firm_records(seed=seed, members=n).members


def table(records: list[dict], headers: Sequence[str], rename: dict[str, str] | None = None
          ) -> list[list[Any]]:
    rename = rename or {}
    return [list(headers)] + [[r.get(rename.get(h, h), "") for h in headers] for r in records]


LAWYER_HEADERS = ["姓名", "性别", "民族", "公民身份号码", "出生日期", "学历", "手机号码",
                  "家庭住址", "律师执业证号", "执业机构", "执业机构统一社会信用代码", "人员类别",
                  "入党日期", "转正日期", "党籍状态", "组织关系所在党组织"]


@pytest.fixture
def lawyer(forms):
    return forms.form("lawyer_member")


def test_a_plain_sheet_reads_back_by_label(tmp_path, lawyer):
    recs = members()
    book = write_book(tmp_path / "a.xlsx", table(recs, LAWYER_HEADERS))
    wb = read_workbook(book, lawyer)
    assert wb.sheet == "Sheet1" and wb.header_row == 1
    assert [r.no for r in wb.rows] == [2, 3, 4]
    assert wb.rows[0].raw["公民身份号码"] == recs[0]["公民身份号码"]
    assert wb.rows[1].raw["姓名"] == recs[1]["姓名"]
    assert wb.notes == [] and wb.row_notes == {}
    assert wb.cell(3, "id_number") == "D3" and wb.cells(3)["name"] == "A3"


def test_header_below_a_title_in_another_order_with_variants(tmp_path, lawyer):
    recs = members()
    headers = ["序号", "身份证号码", "姓 名", "出生年月", "手机", "性别*",
               "入党时间（yyyy-mm-dd）", "执业证号"]
    rename = {"身份证号码": "公民身份号码", "姓 名": "姓名", "出生年月": "出生日期",
              "手机": "手机号码", "性别*": "性别", "入党时间（yyyy-mm-dd）": "入党日期",
              "执业证号": "律师执业证号"}
    rows = [["某某律师事务所党员名册"], ["填报单位：某所", None, None, "填报日期：2026年1月1日"],
            *table(recs, headers, rename)]
    for i, row in enumerate(rows[3:], start=1):
        row[0] = i
    wb = read_workbook(write_book(tmp_path / "b.xlsx", rows), lawyer)
    assert wb.header_row == 3
    raw = wb.rows[0].raw
    assert raw["姓名"] == recs[0]["姓名"] and raw["公民身份号码"] == recs[0]["公民身份号码"]
    assert raw["出生日期"] == recs[0]["出生日期"] and raw["律师执业证号"] == recs[0]["律师执业证号"]
    assert wb.cell(4, "name") == "C4" and wb.cell(4, "id_number") == "B4"
    # 序号 is known and ignored silently; the missing required columns are said once each
    missing = {f.field for f in wb.notes if f.code == "xlsx_missing_column"}
    assert {"ethnicity", "education", "address", "firm"} <= missing
    assert "name" not in missing and "id_number" not in missing
    assert not [f for f in wb.notes if f.code == "xlsx_extra_column"]


def test_extra_unnamed_and_duplicate_columns_are_reported_at_their_header(tmp_path, lawyer):
    recs = members(2)
    rows = table(recs, ["姓名", "工号", "公民身份号码", "身份证号", ""])
    for i, row in enumerate(rows[1:]):
        row[1], row[3], row[4] = f"A{i}", "110105194912310021", "备用"
    wb = read_workbook(write_book(tmp_path / "c.xlsx", rows), lawyer)
    by_code = {f.code: f for f in wb.notes}
    extra = [f for f in wb.notes if f.code == "xlsx_extra_column"]
    assert len(extra) == 2
    assert wb.note_cells[extra[0]] == "B1" and "工号" in extra[0].message
    assert wb.note_cells[extra[1]] == "E1" and "没有栏目名称" in extra[1].message
    dup = by_code["xlsx_duplicate_column"]
    assert dup.severity == "W" and wb.note_cells[dup] == "D1" and "列 C" in dup.message
    assert wb.rows[0].raw["公民身份号码"] == recs[0]["公民身份号码"]  # the first column wins
    assert wb.where(2, extra[0]) == "Sheet1!B1"


def test_id_numbers_stored_as_numbers(tmp_path, lawyer):
    rows = [["姓名", "公民身份号码"], ["张三", 110105194912310021], ["李四", 110105491231002],
            ["王五", "１１０１０５１９４９１２３１００２Ｘ "]]
    wb = read_workbook(write_book(tmp_path / "d.xlsx", rows), lawyer)
    rounded = wb.row_notes[2]
    assert [(f.field, f.severity, f.code) for f in rounded] == [
        ("id_number", "E", "xlsx_number_rounded")]
    assert "15 位有效数字" in rounded[0].message and "110105194912310000" in rounded[0].message
    assert "公民身份号码" not in wb.rows[0].raw  # never guessed
    assert wb.where(2, rounded[0]) == "Sheet1!B2"
    assert wb.rows[1].raw["公民身份号码"] == "110105491231002"  # 15 digits survive
    assert wb.rows[2].raw["公民身份号码"] == "１１０１０５１９４９１２３１００２Ｘ"  # NFKC comes later


def test_dates_in_the_usual_ways(tmp_path, lawyer):
    rows = [["姓名", "入党日期"], ["a", dt.datetime(2020, 1, 5)], ["b", 43835], ["c", 20200105],
            ["d", "2020年1月5日"], ["e", "二〇二〇年一月五日"], ["f", "２０２０．１．５ "],
            ["g", "2020/1/5"], ["h", dt.date(2020, 1, 5)]]
    wb = read_workbook(write_book(tmp_path / "e.xlsx", rows), lawyer)
    from desktop.domain.values import parse_date

    for row in wb.rows:
        assert parse_date(row.raw["入党日期"]) == dt.date(2020, 1, 5), row


def test_birth_year_month_is_completed_from_the_id_number(tmp_path, lawyer):
    rows = [["姓名", "公民身份号码", "出生年月"], ["张三", "11010519491231002X", "1949.12"],
            ["李四", "11010519491231002X", 1949.12], ["王五", "11010519491231002X", "1950.01"],
            ["赵六", "11010519491231002X", "19491231"]]
    wb = read_workbook(write_book(tmp_path / "f.xlsx", rows), lawyer)
    assert wb.rows[0].raw["出生日期"] == "1949-12-31" == wb.rows[1].raw["出生日期"]
    assert wb.row_notes[2][0].code == "xlsx_birth_from_id" and wb.row_notes[2][0].severity == "I"
    assert wb.rows[2].raw["出生日期"] == "1950.01" and 4 not in wb.row_notes  # disagrees: kept
    assert wb.rows[3].raw["出生日期"] == "19491231" and 5 not in wb.row_notes  # a full date


def test_a_year_month_excel_made_ambiguous(tmp_path, lawyer):
    rows = [["姓名", "失去联系日期"], ["a", 2021.1], ["b", 2021.12], ["c", 2021.3], ["d", 202103]]
    wb = read_workbook(write_book(tmp_path / "g.xlsx", rows), lawyer)
    assert wb.row_notes[2][0].code == "xlsx_yearmonth_ambiguous"
    assert "失去联系日期" not in wb.rows[0].raw
    assert [r.raw.get("失去联系日期") for r in wb.rows[1:]] == ["2021-12", "2021-03", "2021-03"]


def test_phone_numbers_as_numbers(tmp_path, lawyer):
    rows = [["姓名", "手机号码", "固定电话"], ["a", 13800138000, 31185551234]]
    wb = read_workbook(write_book(tmp_path / "h.xlsx", rows), lawyer)
    assert wb.rows[0].raw["手机号码"] == "13800138000"
    assert [(f.field, f.code, f.severity) for f in wb.row_notes[2]] == [
        ("landline", "xlsx_phone_number", "W")]


def test_spaces_and_invisible_characters_are_trimmed(tmp_path, lawyer):
    rows = [["姓名 ", "民族"], ["\u200b张三\u3000", " 汉族\xa0"], ["   ", "  "]]
    wb = read_workbook(write_book(tmp_path / "i.xlsx", rows), lawyer)
    assert len(wb.rows) == 1 and wb.rows[0].raw == {"姓名": "张三", "民族": "汉族"}


def test_group_columns_numbered_and_in_one_cell(tmp_path, forms):
    form = forms.form("party_org")
    rows = [["党组织名称（全称）", "律师事务所1名称", "律师事务所1统一社会信用代码",
             "律师事务所（2）名称", "统一社会信用代码2"],
            ["中共甲所支部", "甲所", "31110000MD0123456X", "乙所", "31110000MD0654321X"]]
    wb = read_workbook(write_book(tmp_path / "j.xlsx", rows), form)
    assert wb.rows[0].raw["律师事务所"] == [
        {"名称": "甲所", "统一社会信用代码": "31110000MD0123456X"},
        {"名称": "乙所", "统一社会信用代码": "31110000MD0654321X"}]
    assert wb.cell(2, "firms[2].uscc") == "E2" and wb.cell(2, "firms") == "B2"
    rows = [["党组织名称（全称）", "律师事务所名称", "律师事务所统一社会信用代码"],
            ["中共联合支部", "甲所；乙所", "31110000MD0123456X\n31110000MD0654321X"]]
    wb = read_workbook(write_book(tmp_path / "k.xlsx", rows), form)
    assert [f["名称"] for f in wb.rows[0].raw["律师事务所"]] == ["甲所", "乙所"]
    assert wb.cell(2, "firms[2].uscc") == "C2"


def test_reading_stops_at_the_foot_of_a_table(tmp_path, lawyer):
    recs = members(2)
    rows = [*table(recs, ["姓名", "公民身份号码"]), ["合计：2 人"], [],
            ["填报人（签字）：", None, "审核人（签字）："]]
    wb = read_workbook(write_book(tmp_path / "l.xlsx", rows), lawyer)
    assert len(wb.rows) == 2
    assert {f.code for f in wb.notes} == {"xlsx_missing_column"}
    rows = [*table(recs, ["姓名", "公民身份号码", "性别", "民族"]), ["合计"],
            ["张三", "11010519491231002X", "男", "汉族"]]
    wb = read_workbook(write_book(tmp_path / "m.xlsx", rows), lawyer)
    assert len(wb.rows) == 2
    after = [f for f in wb.notes if f.code == "xlsx_rows_after_foot"]
    assert len(after) == 1 and wb.note_cells[after[0]] == "A4"


def test_the_sheet_that_holds_the_form_is_chosen(tmp_path, lawyer):
    recs = members(1)
    book = write_book(tmp_path / "n.xlsx", [["说明"], ["本表用于……"]], sheet="说明",
                      more={"党员": table(recs, LAWYER_HEADERS)})
    assert read_workbook(book, lawyer).sheet == "党员"
    with pytest.raises(UsageError, match="没有名为“别的”的工作表"):
        read_workbook(book, lawyer, sheet="别的")
    with pytest.raises(UsageError, match="没有找到表头行"):
        read_workbook(book, lawyer, sheet="说明")


def test_a_workbook_saved_with_the_wrong_suffix_is_still_read(tmp_path, lawyer):
    book = write_book(tmp_path / "o.xlsx", table(members(1), LAWYER_HEADERS))
    renamed = book.rename(tmp_path / "o.xls")
    assert len(read_workbook(renamed, lawyer).rows) == 1


@pytest.mark.parametrize("content,message", [
    (b"name,id\n1,2\n", "不是 Excel 工作簿"),
    (b"PK\x03\x04broken", "不是 Excel 工作簿"),
    (b"", "不是 Excel 工作簿"),
])
def test_what_is_not_a_workbook_is_refused(tmp_path, lawyer, content, message):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message) as err:
        read_workbook(path, lawyer)
    assert err.value.exit_code == 2


def test_a_password_protected_workbook_is_refused_clearly(lawyer, tmp_path):
    with pytest.raises(UsageError, match="设有打开密码"):
        read_workbook(FIXTURES / "password_protected.xlsx", lawyer)
    renamed = tmp_path / "locked.xls"
    renamed.write_bytes((FIXTURES / "password_protected.xlsx").read_bytes())
    with pytest.raises(UsageError, match="设有打开密码"):
        read_workbook(renamed, lawyer)


def test_no_header_no_rows_no_file(tmp_path, lawyer):
    with pytest.raises(UsageError, match="没有找到表头行"):
        read_workbook(write_book(tmp_path / "p.xlsx", [["a", "b"], [1, 2]]), lawyer)
    with pytest.raises(UsageError, match="下面没有任何记录"):
        read_workbook(write_book(tmp_path / "q.xlsx", [["姓名", "公民身份号码"]]), lawyer)
    with pytest.raises(UsageError, match="找不到文件"):
        read_workbook(tmp_path / "none.xlsx", lawyer)
    with pytest.raises(UsageError, match="文件夹"):
        read_workbook(tmp_path, lawyer)


def test_a_mapping_chosen_by_hand_overrides_the_headers(tmp_path, lawyer, forms):
    rows = [["名字", "号码", "姓名"], ["张三", "11010519491231002X", "不是这个"]]
    book = write_book(tmp_path / "r.xlsx", rows)
    wb = read_workbook(book, lawyer, mapping={0: "name", 1: "id_number", 2: None})
    assert wb.rows[0].raw == {"姓名": "张三", "公民身份号码": "11010519491231002X"}
    assert wb.cell(2, "name") == "A2" and not [f for f in wb.notes if f.code.endswith("column")
                                               and f.field in ("name", "id_number")]
    with pytest.raises(UsageError, match="不是附件1"):
        read_workbook(book, lawyer, mapping={0: "nothing"})
    org = write_book(tmp_path / "s.xlsx", [["党组织名称（全称）", "所"], ["中共甲所支部", "甲所"]])
    wb = read_workbook(org, forms.form("party_org"), mapping={1: "firms[2].name"})
    assert wb.rows[0].raw["律师事务所"] == [{}, {"名称": "甲所"}]
