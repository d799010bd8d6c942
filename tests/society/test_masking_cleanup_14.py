"""The cleanup workbook (清理表) masked by default gives no ID number back (issue 14): the
重复录入 sheet prints a masked number and the birth date in one row, so the birth date is
year and month only; --full shows both whole (the control)."""

from __future__ import annotations

from tests.reports.test_masking_outputs_14 import leaks, xlsx_text
from tests.society.conftest import entry, ident


def people_rows():
    wang, li = ident("1970-03-15"), ident("1981-11-27", 33)
    rows = [entry("0024-000001", "王伟", idn=wang), entry("0024-000002", "王伟", idn=wang),
            entry("0024-000005", "李娜", idn=li), entry("0024-000006", "李娜", idn=li,
                                                        工作单位="辽宁大学"),
            entry("0024-000009", "赵敏", 出生日期="1966-02-13", 手机="13912345678")]
    people = [{"姓名": r["姓名"], "公民身份号码": r["公民身份号码"], "出生日期": r["出生日期"]}
              for r in rows if "公民身份号码" in r]
    return rows, people


def test_cleanup_workbook_masked_gives_no_number_back(dengji, sdb, load, tmp_path):
    rows, people = people_rows()
    load(rows)
    out = tmp_path / "清理表.xlsx"
    assert dengji("cleanup", "propose", "--db", sdb, "--out", out).code == 0
    text = xlsx_text(out)
    assert "1970-03" in text and "1966-02" in text  # the birth columns are there, to the month
    assert leaks(text, people) == []
    assert "1966-02-13" not in text  # no ID number: the birth date is masked all the same
    full = tmp_path / "清理表-全号.xlsx"
    assert dengji("cleanup", "propose", "--db", sdb, "--out", full, "--full").code == 0
    assert leaks(xlsx_text(full), people)
