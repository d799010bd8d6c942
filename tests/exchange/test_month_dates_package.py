"""Issue 15: a 出生日期 kept at month precision (a legacy society register's 1963-09) travels
in a package: the county exports it, the city's reader accepts it as a stored value of that
field (exchange/format/records.py checks every value strictly) and stores it unchanged, with
the signed digest intact. A year-month in a field of day precision is still refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from desktop.exchange.format.records import RecordsError, stored_values
from desktop.progress import run
from desktop.services.intake.importing import import_file
from desktop.storage import Record, Register, UnitInfo
from tests.exchange.conftest import World, write_jsonl

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_a_month_precision_birth_round_trips_through_a_package"}


CITY = UnitInfo("SYFXH-0024", "沈阳市法学会", "society-city", "LNFXH")
COUNTY = UnitInfo("024-01", "沈阳市和平区法学会", "society-county", CITY.code)


def ident(birth: str, seq: int) -> str:
    body = f"210102{birth.replace('-', '')}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def births(reg: Register) -> dict[str, str | None]:
    with reg.session() as session:
        rows = session.execute(select(Record.data).where(Record.form_id == "society_member"))
        return {d["member_no"]: d.get("birth_date") for d in (json.loads(r) for (r,) in rows)}


def test_a_month_precision_birth_round_trips_through_a_package(world: World):
    city = world.register(CITY)
    county = world.register(COUNTY)
    rows = [
        {"会员证号": "0024-000001", "姓名": "张伟", "出生日期": "1963年9月"},
        {"会员证号": "0024-000002", "姓名": "王芳", "出生日期": "196402",
         "公民身份号码": ident("1964-02-29", 12)},
        {"会员证号": "0024-000003", "姓名": "李娜", "出生日期": "1970-05-06"},
    ]
    path = write_jsonl(world.folder / "members.jsonl", rows)
    result = run(import_file(county, world.forms, world.forms.form("society_member"), path))
    assert result.refused == 0, [r.findings for r in result.refused_rows]
    sent = births(county)
    assert sent == {"0024-000001": "1963-09", "0024-000002": "1964-02",
                    "0024-000003": "1970-05-06"}
    world.link(county, city)
    package = world.export(county, attachments={}).path
    [report] = world.merge(city, package)
    assert report.status == "merged", report.reason
    assert births(city) == sent


def test_the_reader_takes_a_month_only_where_the_field_allows_it(forms):
    society, lawyer = forms.form("society_member"), forms.form("lawyer_member")
    assert stored_values(society, {"birth_date": "1963-09"}, 1) == {"birth_date": "1963-09"}
    assert stored_values(society, {"birth_date": "1963-09-12"}, 1)["birth_date"] == "1963-09-12"
    for bad in ("1963-9", "1963-13", "1963年9月", "196309"):  # not the stored form
        with pytest.raises(RecordsError, match="出生日期"):
            stored_values(society, {"birth_date": bad}, 1)
    with pytest.raises(RecordsError, match="出生日期"):  # a field of day precision
        stored_values(lawyer, {"birth_date": "1963-09"}, 1)


def test_outputs_show_the_month_as_stored(forms, tmp_path):
    """Excel export and PDF print show a month-precision birth as 1963-09 (the way full dates
    show as 1963-09-12), masked or not (a masked birth is the year and month anyway); the
    fill-in template keeps that column as text, so Excel does not turn 1963-09 into a day."""
    import openpyxl

    from desktop.reports.pdf.content import print_text
    from desktop.reports.xlsx.tables import form_sheet
    from desktop.reports.xlsx.template import write_template
    from desktop.reports.xlsx.write import UnitLine

    form = forms.form("society_member")
    spec = form.field("birth_date")
    assert print_text(spec, "1963-09", masked=False) == "1963-09"
    assert print_text(spec, "1963-09", masked=True) == "1963-09"
    assert print_text(spec, "1963-09-12", masked=False) == "1963-09-12"
    sheet = form_sheet(form, [{"name": "张伟", "birth_date": "1963-09"},
                              {"name": "王芳", "birth_date": "1963-09-12"}], UnitLine(), full=True)
    column = sheet.columns.index(spec.label)
    assert [row[column] for row in sheet.rows] == ["1963-09", "1963-09-12"]
    template = write_template(form, tmp_path / "template.xlsx")
    ws = openpyxl.load_workbook(template).worksheets[0]
    header = [c.value for c in ws[1]]
    letter = openpyxl.utils.get_column_letter(header.index(spec.label) + 1)
    assert ws.column_dimensions[letter].number_format == "@"
    lawyer = write_template(forms.form("lawyer_member"), tmp_path / "lawyer.xlsx")
    ws = openpyxl.load_workbook(lawyer).worksheets[0]
    header = [c.value for c in ws[1]]
    letter = openpyxl.utils.get_column_letter(header.index("出生日期") + 1)
    assert ws.column_dimensions[letter].number_format == "yyyy-mm-dd"
