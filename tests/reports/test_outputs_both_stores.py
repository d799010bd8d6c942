"""The same records give the same workbooks and the same printed pages on both stores (issue 18).

The same members, staff and 附件3 record are imported by `dengji import` into a register file
and into a PostgreSQL register (whose personal columns are sealed by the program,
storage/server/sealing.py); every Excel export (附件1–3, the summaries 附件4–6) and every print
is written from each, and the two compared cell by cell and word by word. A path that read a
sealed column without opening it would put `dj1.…` ciphertext in a cell or on a page, or sort
and count differently; the comparison finds that, and each output is also searched for the
names in clear, the masked numbers and no `dj1.`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from desktop.domain.masking import mask_id
from desktop.domain.society.stats import DUPLICATES, ENTRIES, TOTAL
from tests.conftest import as_staff, init_register, make_firm_records
from tests.reports.test_pdf_helpers import pdf_text, squeeze
from tests.society.conftest import SOCIETY, entry, fill, ident, years_ago

STORES = ("sqlite", "postgresql")
TABLES = ["lawyer_member", "staff_member", "party_org", "lawyer_summary", "staff_summary",
          "org_summary"]
#: what may differ between two outputs of the same records: the record ids (a hidden column
#: of the cleanup workbook) and the archive codes of the QR captions (DJ1:…), nothing else
RANDOM = re.compile(r"DJ1:[A-Z]:[0-9A-Z:\-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                    r"[0-9a-f]{12}", re.I)


@dataclass
class Twins:
    places: dict[str, Path | str]  # store → the register's path or URL
    people: list[dict]  # the six members, then the three staff, as imported


@pytest.fixture
def twins(dengji, jsonl, tmp_path: Path, pg_url: str) -> Twins:
    """The test unit's register on each store, holding the same imported records."""
    records = make_firm_records(seed=1818, members=6, today=date.today())
    staff = [dict(as_staff(m), 所在律师事务所=records.firm.name,
                  所在律师事务所统一社会信用代码=records.firm.uscc)
             for m in make_firm_records(seed=1819, members=3, today=date.today()).members]
    members = [dict(m) for m in records.members]
    members[0].update({"组织关系是否已转入本所党组织": "否", "未转入情形": "4",
                       "处理情况": "已书面报告"})  # listed apart (附件4's second table)
    places = {"sqlite": init_register(dengji, tmp_path / "register.dengji"),
              "postgresql": init_register(dengji, pg_url)}
    for db in places.values():
        for form, rows in (("party_org", [records.org]), ("lawyer_member", members),
                           ("staff_member", staff)):
            result = dengji("import", "--db", db, "--form", form, jsonl(rows, f"{form}.jsonl"))
            assert result.code == 0, result.err
    return Twins(places, members + staff)


def cells(path: Path) -> dict[str, list[list[str]]]:
    """Every sheet's cells as text, record ids (random) as #."""
    wb = CalamineWorkbook.from_path(str(path))
    return {name: [[RANDOM.sub("#", str(c)) for c in row] for row in wb.get_sheet_by_name(name).to_python()]
            for name in wb.sheet_names}


def assert_readable(text: str, people: list[dict], *, full: bool) -> None:
    """Names in clear, numbers masked (or whole with --full), no ciphertext."""
    flat = squeeze(text)
    assert "dj1." not in flat
    for p in people:
        assert p["姓名"] in flat, p["姓名"]
        number = p["公民身份号码"]
        assert (number in flat) == full, (p["姓名"], full)
        assert full or mask_id(number) in flat, p["姓名"]


def shows_people(target: str, text: str, people: list[dict], *, full: bool) -> None:
    """The members (附件1, 4) or the staff (附件2, 5) readable in `target`'s output; the
    organisation's tables (附件3, 6) name the party organisation."""
    if target in ("lawyer_member", "lawyer_summary"):
        assert_readable(text, people[:6], full=full)
    elif target in ("staff_member", "staff_summary"):
        assert_readable(text, people[6:], full=full)
    else:
        assert "dj1." not in text and "中共" in text


def from_each(dengji, places: dict[str, Path | str], folder: Path, name: str, *argv: str
              ) -> dict[str, object]:
    """`dengji *argv --db <register> --out <file>` on each store; each output read back (a
    workbook's cells, a PDF's text), record ids and archive codes as #."""
    got: dict[str, object] = {}
    for store, db in places.items():
        out = folder / f"{store}-{name}"
        result = dengji(*argv, "--db", db, "--out", out)
        assert result.code == 0, (store, name, result.err)
        got[store] = (cells(out) if out.suffix == ".xlsx"
                      else RANDOM.sub("#", pdf_text(out.read_bytes(), folder)))
    return got


@pytest.mark.parametrize("full", [False, True], ids=["masked", "full"])
def test_every_workbook_has_the_same_cells_on_both_stores(dengji, twins, tmp_path: Path,
                                                         full: bool) -> None:
    for target in TABLES:
        books = from_each(dengji, twins.places, tmp_path, f"{target}.xlsx", "export-excel",
                          "--form", target, *(["--full"] if full else []))
        assert books["postgresql"] == books["sqlite"], target
        shows_people(target, json.dumps(books["postgresql"], ensure_ascii=False),
                     twins.people, full=full)


def test_every_print_has_the_same_text_on_both_stores(dengji, twins, tmp_path: Path) -> None:
    for target in TABLES:
        texts = from_each(dengji, twins.places, tmp_path, f"{target}.pdf", "print", "--form",
                          target, "--filler", "王敏", "--contact", "0311-85551234")
        assert texts["postgresql"] == texts["sqlite"], target
        shows_people(target, str(texts["postgresql"]), twins.people, full=False)


# --- the law society's register ---------------------------------------------------------------


@pytest.fixture
def society_twins(dengji, jsonl, tmp_path: Path, pg_url: str) -> Twins:
    """A 法学会's register on each store with the same legacy entries: duplicates, members
    without an ID number, members long out of touch."""
    rows = [entry("0024-000001", "王伟", idn=ident("1970-03-05"), 手机="13912345678",
                  通讯地址="沈阳市和平区中山路1号"),
            entry("0024-000050", "王伟", idn=ident("1970-03-05")),
            entry("0024-000002", "李明", idn=ident("1981-06-02", 21)),
            entry("0024-000003", "赵敏"),
            entry("0024-000004", "钱勇", idn=ident("1966-11-30", 33), 最近联系日期=years_ago(5)),
            entry("0024-000005", "孙丽", idn=ident("1990-01-15", 42)),
            entry("0024-000007", "吴芳", 最近联系日期=years_ago(5))]
    places = {"sqlite": tmp_path / "society.dengji", "postgresql": pg_url}
    for db in places.values():
        result = dengji("init", "--db", db, "--level", "society-city", "--unit-name", SOCIETY,
                        "--unit-code", "0024")
        assert result.code == 0, result.err
        result = dengji("import", "--db", db, "--form", "society_member",
                        jsonl(rows, "legacy.jsonl"))
        assert result.code == 0, result.err
    return Twins(places, rows)


def test_the_society_register_gives_the_same_outputs_on_both_stores(dengji, society_twins,
                                                                    tmp_path: Path) -> None:
    """The cleanup workbook, the clerk's decisions applied, then the register's workbooks,
    prints and 统计表 (xlsx, PDF, JSON) of each store."""
    people = [p for p in society_twins.people if "公民身份号码" in p]
    outputs: dict[str, dict[str, object]] = {"sqlite": {}, "postgresql": {}}
    for store, db in society_twins.places.items():
        got = outputs[store]
        proposed = tmp_path / f"{store}-清理表.xlsx"
        result = dengji("cleanup", "propose", "--db", db, "--out", proposed)
        assert result.code == 0, (store, result.err)
        got["清理表.xlsx"] = cells(proposed)
        filled = fill(proposed, tmp_path / f"{store}-已填.xlsx",
                      agree={"重复录入": "all", "无身份证号": "all", "长期失联或不履行义务": "all"})
        result = dengji("cleanup", "apply", "--db", db, filled, "--handler", "王敏",
                        "--approver", "李会长")
        assert result.code == 0, (store, result.out + result.err)
        result = dengji("stats", "--db", db, "--format", "json", "--date", "2026-12-01")
        assert result.code == 0, result.err
        got["stats.json"] = result.json()
    for name, argv in (("member.xlsx", ["export-excel", "--form", "society_member"]),
                       ("member-full.xlsx", ["export-excel", "--form", "society_member",
                                             "--full"]),
                       ("统计表.xlsx", ["stats", "--filler", "王敏", "--contact", "024-1",
                                      "--date", "2026-12-01"]),
                       ("member.pdf", ["print", "--form", "society_member"]),
                       ("统计表.pdf", ["print", "--form", "society_stats"]),
                       ("统计表-stats.pdf", ["stats", "--filler", "王敏", "--date", "2026-12-01"])):
        for store, value in from_each(dengji, society_twins.places, tmp_path, name, *argv).items():
            outputs[store][name] = value
    for name, value in outputs["sqlite"].items():
        assert outputs["postgresql"][name] == value, name
    served = outputs["postgresql"]
    assert_readable(json.dumps(served["member.xlsx"], ensure_ascii=False), people, full=False)
    assert_readable(json.dumps(served["member-full.xlsx"], ensure_ascii=False), people,
                    full=True)
    assert_readable(str(served["member.pdf"]), people, full=False)
    sheets = json.dumps(served["清理表.xlsx"], ensure_ascii=False)
    assert "dj1." not in sheets and "王伟" in sheets and "吴芳" in sheets
    table = served["stats.json"]
    assert table[ENTRIES] == 7 and table[DUPLICATES] == 1 and table[TOTAL] >= 3, table
    assert SOCIETY in str(served["统计表.pdf"]) and "dj1." not in str(served["统计表.pdf"])
