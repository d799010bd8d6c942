"""No workbook the program writes runs a formula that came from data (issue 14).

Text that starts with =, +, -, @, a tab or a carriage return — in a record, a unit name taken
from a received package, a form's labels, a finding's message — is written as a string cell
(with Excel's quote prefix), never as a formula: every writer goes through
reports.xlsx.cells.put_text. Each test writes one kind of workbook with such values everywhere
it can, unzips it and finds no <f> element, and finds each value back as text.
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from desktop.domain.society.results import Notice
from desktop.domain.society.stats import CleanupStats
from desktop.progress import run
from desktop.reports.xlsx.annotate import Mark, annotate_workbook
from desktop.reports.xlsx.cells import put_text
from desktop.reports.xlsx.stats import notice_workbook, stats_workbook
from desktop.reports.xlsx.template import write_template
from desktop.reports.xlsx.write import DocProps, TableSheet, UnitLine, write_tables
from desktop.services.cleanup.paper import write_stats
from desktop.services.packages.stats import unit_table
from desktop.storage import UnitInfo
from tests.exchange.conftest import World
from tests.exchange.test_society_stats import CITY, merged, society
from tests.society.conftest import entry, ident

#: what a hostile sender or a careless clerk puts in a text field
PAYLOADS = ['=HYPERLINK("http://evil.example/x","点我")', "=1+1", "+1+cmd|' /C calc'!A0",
            "-2+3", "@SUM(A1:A9)", "\t=1+2", "\r=3+4", "#N/A", "=cmd|' /C calc'!A0"]


#: the cleanup workbook read from a register, on both stores (tests/reports/conftest.py)
BOTH_STORES = {"test_the_cleanup_workbook_writes_members_as_text"}


def formulas(path: Path) -> list[str]:
    """Every <f> element of every part of the workbook (sheets, and anything else)."""
    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".xml"):
                xml = zf.read(name).decode("utf-8")
                found += re.findall(r"<(?:\w+:)?f\b[^>]*>.*?</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>",
                                    xml, re.S)
    return found


def texts(path: Path) -> dict[str, str]:
    """Every string cell's text → its data type as openpyxl reads it back ('s' for text)."""
    wb = load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):  # XML reads a carriage return as a line feed
                    out[_lf(c.value)] = c.data_type
    return out


def _lf(text: str) -> str:
    """A carriage return as openpyxl reads it back (XML makes it a line feed; XlsxWriter
    writes it as _x000D_, which openpyxl leaves as it is)."""
    return text.replace("_x000D_", "\n").replace("\r", "\n")


def assert_safe(path: Path, payloads: list[str], *, contained: bool = False) -> None:
    assert formulas(path) == [], formulas(path)
    found = texts(path)
    for p in payloads:
        p = _lf(p)
        hits = [t for t in found if (p in t if contained else t == p)]
        assert hits, f"{p!r} was not written as text"
        assert all(found[t] == "s" for t in hits), (p, [found[t] for t in hits])


def quoted(path: Path, payload: str) -> bool:
    """Whether the cell holding exactly `payload` carries Excel's quote prefix."""
    wb = load_workbook(path)
    return any(c.value == payload and c.quotePrefix for ws in wb.worksheets
               for row in ws.iter_rows() for c in row)


def test_put_text_is_text_in_every_writer(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    for i, p in enumerate(PAYLOADS, start=1):
        assert put_text(ws.cell(i, 1), p).data_type == "s"
    wb.save(tmp_path / "a.xlsx")
    assert_safe(tmp_path / "a.xlsx", PAYLOADS)
    assert quoted(tmp_path / "a.xlsx", "=1+1") and quoted(tmp_path / "a.xlsx", "@SUM(A1:A9)")
    assert not quoted(tmp_path / "a.xlsx", "#N/A")  # text, but not a formula when edited
    wo = Workbook(write_only=True)
    sheet = wo.create_sheet("x")
    assert put_text(sheet, "张三") == "张三"  # plain text stays a plain value (fast)
    for p in PAYLOADS:
        sheet.append([put_text(sheet, p)])
    wo.save(tmp_path / "b.xlsx")
    assert_safe(tmp_path / "b.xlsx", PAYLOADS)


def test_an_official_table_writes_data_as_text(tmp_path: Path) -> None:
    n = len(PAYLOADS)
    sheet = TableSheet(
        name="附件4", title=PAYLOADS[0], columns=[f"{p}列" for p in PAYLOADS] + PAYLOADS[:1],
        column_types=["text"] * n + ["code"],
        rows=[[*PAYLOADS[i:], *PAYLOADS[:i], PAYLOADS[i]] for i in range(n)], row_count=n,
        totals_row=["合计", *PAYLOADS], totals=[(PAYLOADS[1], [(PAYLOADS[2], 3)])],
        unit_line=UnitLine(PAYLOADS[3], PAYLOADS[4], PAYLOADS[5], date(2024, 1, 2)),
        note=PAYLOADS[6])
    out = run(write_tables(tmp_path / "t.xlsx", [sheet],
                           DocProps(title=PAYLOADS[0], author=PAYLOADS[1])))
    assert_safe(out, PAYLOADS)
    assert_safe(out, [f"填报单位：{PAYLOADS[3]}", f"{PAYLOADS[2]} 3"])
    assert quoted(out, "=1+1") and quoted(out, "-2+3")


def test_a_template_writes_labels_hints_and_codes_as_text(tmp_path: Path, forms) -> None:
    form = forms.form("lawyer_member")
    fields = []
    for i, spec in enumerate(form.fields):
        p = PAYLOADS[i % len(PAYLOADS)]
        codes = spec.codes
        if codes is not None:
            codes = dataclasses.replace(codes, label=p, codes=tuple(
                dataclasses.replace(c, label=f"{PAYLOADS[j % len(PAYLOADS)]}{j}")
                for j, c in enumerate(codes.codes)))
        fields.append(dataclasses.replace(spec, label=f"{p}{i}", hint=p, codes=codes))
    form = dataclasses.replace(form, fields=tuple(fields))
    out = write_template(form, tmp_path / "template.xlsx")
    assert_safe(out, [f"{p}{i}" for i, p in enumerate(PAYLOADS)])


def test_the_cleanup_workbook_writes_members_as_text(dengji, sdb: Path, load, tmp_path: Path
                                                     ) -> None:
    rows = []
    for i, p in enumerate(PAYLOADS):
        born = f"19{60 + i}-0{i % 9 + 1}-1{i % 9}"
        rows.append(entry(f"0024-{i + 1:06d}", f"张{'三四五六七八九十甲乙'[i]}", idn=ident(born),
                          工作单位=p, 手机=None))
        rows.append(entry(f"0024-{i + 101:06d}", f"李{'三四五六七八九十甲乙'[i]}", idn=ident(born),
                          工作单位=p))  # a duplicate of the row above: listed with its employer
        rows.append(entry(f"0024-{i + 201:06d}", f"王{'三四五六七八九十甲乙'[i]}", 工作单位=p))
    load(rows)
    out = tmp_path / "清理表.xlsx"
    result = dengji("cleanup", "propose", "--db", sdb, "--out", out)
    assert result.code == 0, result.err
    assert_safe(out, [p.strip() for p in PAYLOADS])  # as imported: trimmed


def test_statistics_with_unit_names_from_received_packages_are_text(world: World, tmp_path: Path
                                                                    ) -> None:
    city = society(world, CITY, ["1", "1"], seed=0)
    names = [PAYLOADS[0], "@SUM(A1:A9)", "-2+3"]
    for n, name in enumerate(names, start=1):
        county = society(world, UnitInfo(f"024-0{n}", name, "society-county", CITY.code),
                         ["1", "2", "1"], seed=n)
        world.link(county, city)
        merged(world, city, world.export(county, attachments={}).path)
    table = unit_table(city, filed=date.today().isoformat())
    assert {p.unit for p in table.parts} >= set(names)  # the senders' own names, as sent
    out = tmp_path / "统计表.xlsx"
    write_stats(out, table)
    assert_safe(out, names)


def test_the_statistics_and_notice_workbooks_write_every_text_as_text(tmp_path: Path) -> None:
    part = CleanupStats(PAYLOADS[0], 3, 1, 0, 0, 1, unit_code="024-01")
    stats = CleanupStats(PAYLOADS[1], 3, 1, 0, 0, 1, filler=PAYLOADS[2], contact=PAYLOADS[3],
                         filed="2024-01-02", parts=(part,))
    stats_workbook(stats).save(tmp_path / "s.xlsx")
    assert_safe(tmp_path / "s.xlsx", [f"填报人：{PAYLOADS[2]}", PAYLOADS[0]])
    notice = Notice(PAYLOADS[4], stats, None, [(p, p, p) for p in PAYLOADS], True,
                    date(2024, 1, 2))
    notice_workbook(notice).save(tmp_path / "n.xlsx")
    assert_safe(tmp_path / "n.xlsx", PAYLOADS)


@pytest.mark.parametrize("stream", [False, True])
def test_an_annotated_copy_keeps_text_text_and_writes_findings_as_text(tmp_path: Path, stream,
                                                                      monkeypatch) -> None:
    """Through openpyxl (a small workbook) and as a stream (a large one)."""
    from desktop.reports.xlsx import annotate

    if stream:
        monkeypatch.setattr(annotate, "STREAM_FROM", 0)
    source = tmp_path / "in.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "附件1"
    ws.append(["姓名", "工作单位"])
    for i, p in enumerate(PAYLOADS, start=2):
        put_text(ws.cell(i, 1), p)
        put_text(ws.cell(i, 2), p)
    wb.save(source)
    marks = [Mark("附件1", f"A{i}", "E", p, p) for i, p in enumerate(PAYLOADS, start=2)]
    out = annotate_workbook(source, tmp_path / "out.xlsx", marks)
    assert_safe(out, PAYLOADS)
    assert quoted(out, "=1+1") or stream  # the stream's list: inline strings, no quote prefix
