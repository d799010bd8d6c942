"""The chunked workbook reader (services/excel.read_sheet with services/rowcheck.py) says the
same as reading the sheet in one pass, with the same cell references, forked or spawned; and the
hot paths it relies on (Validator's parse cache, new record ids, the bulk insert's timestamps)
change nothing that is stored or shown."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import Workbook

from desktop.domain.context import Environment
from desktop.domain.validation import Validator
from desktop.progress import run
from desktop.services.ids import IdMaker
from desktop.services.intake import rowcheck
from desktop.services.intake import workbook as excel
from desktop.services.intake.workbook import check_workbook
from tests.conftest import TODAY, make_firm_records
from tests.services.conftest import on_server, plain

HEADERS = ["序号", "姓名", "性别", "民族", "公民身份号码", "出生年月", "学历", "学位", "手机",
           "家庭住址", "律师执业证号", "执业类别", "执业机构", "执业机构统一社会信用代码",
           "人员类别", "入党日期", "转正日期", "党籍状态", "组织关系所在党组织", "失去联系日期",
           "是否失联党员", "姓名", "备用"]


def tricky_book(path):
    """Title rows above the header, a duplicate and an extra column, ID numbers Excel rounded,
    dates as date cells and as Chinese text, a 年月 Excel made ambiguous, full-width digits,
    stray spaces, empty rows, a 合计 row and a record after it."""
    recs = [dict(m) for m in make_firm_records(seed=17, members=45).members]
    wb = Workbook()
    ws = wb.active
    ws.title = "党员名册"
    ws.append(["某律师事务所党员名册"])
    ws.append(["填报单位：某所"])
    ws.append(HEADERS)
    for i, r in enumerate(recs, start=1):
        row = [i] + [r.get(h, "") for h in HEADERS[1:21]] + [r["姓名"], "x"]
        if i % 9 == 1:
            row[4] = int(r["公民身份号码"]) if r["公民身份号码"].isdigit() else row[4]
        if i % 5 == 0:
            row[15] = datetime.fromisoformat(r["入党日期"])
        if i % 7 == 3:
            row[5] = r["出生日期"][:7].replace("-", ".")  # 出生年月 1980.01
        if i % 11 == 4:
            row[19], row[20] = 2021.1, "是"  # ambiguous 年月
        if i % 8 == 2:
            row[8] = "１３８００１３８０００"  # full-width
        if i % 6 == 5:
            row[1] = f" {row[1]}　"
        if i % 13 == 0:
            row[15] = "二〇一八年三月五日"
        ws.append(row)
        if i % 17 == 0:
            ws.append([])
    ws.append(["合计", len(recs)])
    ws.append(["", "张三", "男", "汉族", "110105194912310021"])
    wb.save(path)
    return path


def summary(results):
    return [(r.no, r.values, [(f.field, f.severity, f.code, f.message) for f in r.findings],
             [r.where(f) for f in r.findings], [r.cell(f) for f in r.findings])
            for r in results]


@pytest.mark.parametrize("fork", [True, False])
def test_chunked_reading_says_the_same_at_the_same_cells(forms, tmp_path, monkeypatch, fork):
    path = tricky_book(tmp_path / "名册.xlsx")
    form = forms.form("lawyer_member")
    one = run(check_workbook(forms, form, path, today=TODAY))
    monkeypatch.setattr(excel, "PARALLEL_FROM", 3)
    monkeypatch.setattr(rowcheck, "CHUNK_ROWS", 4)
    monkeypatch.setattr(rowcheck, "workers", lambda: 2)
    monkeypatch.setattr(excel, "_use_fork", lambda: fork)
    many = run(check_workbook(forms, form, path, today=TODAY))
    assert summary(many) == summary(one)
    codes = {f.code for r in many for f in r.findings}
    assert {"xlsx_number_rounded", "xlsx_yearmonth_ambiguous", "xlsx_extra_column",
            "xlsx_duplicate_column", "xlsx_rows_after_foot", "xlsx_birth_from_id"} <= codes
    # what is said about the sheet sits on the first record, at its header cell
    first = many[0]
    assert first.no == 4
    assert any(first.where(f) == "党员名册!W3" for f in first.findings
               if f.code == "xlsx_extra_column")
    rounded = next(r for r in many if any(f.code == "xlsx_number_rounded" for f in r.findings))
    assert rounded.where(next(f for f in rounded.findings
                              if f.code == "xlsx_number_rounded")) == f"党员名册!E{rounded.no}"


def test_storage_packing_does_not_change_the_results(forms, tmp_path):
    path = tricky_book(tmp_path / "名册.xlsx")
    form = forms.form("lawyer_member")
    plain, _ = run(excel.read_sheet(form, path, today=TODAY))
    seen = []
    stored, keys = run(excel.read_sheet(form, path, today=TODAY, storage=True,
                                        on_rows=lambda rows, packed: seen.extend(packed)))
    assert [(r.no, r.values, r.findings) for r in stored] == \
        [(r.no, r.values, r.findings) for r in plain]
    assert [p[3] for p in seen] == keys.keys
    import json

    assert all(p[4] is None or json.loads(p[4]) == p[1] for p in seen)


def test_parse_cache_gives_what_parsing_gives(forms):
    form = forms.form("lawyer_member")
    cached = Validator(form, Environment(today=TODAY, convert_legacy=True))
    recs = make_firm_records(seed=3, members=30).members
    for r in recs * 3:
        fresh = Validator(form, Environment(today=TODAY, convert_legacy=True))
        assert cached.parse(r) == fresh.parse(r)
    # a region is a list: each record gets its own
    a, _ = cached.parse({"外出流向": "河北省-石家庄市-长安区"})
    b, _ = cached.parse({"外出流向": "河北省-石家庄市-长安区"})
    assert a["destination"] == b["destination"] and a["destination"] is not b["destination"]
    # the legacy conversion is part of what is cached
    id15 = "110105491231002"
    converted, notes = cached.parse({"公民身份号码": id15})
    cached.env.convert_legacy = False
    kept, none = cached.parse({"公民身份号码": id15})
    assert len(converted["id_number"]) == 18 and notes
    assert kept["id_number"] == id15 and not none


def test_record_ids_are_time_ordered_uuids():
    maker = IdMaker()
    ids = [maker.next() for _ in range(1000)]
    assert len(set(ids)) == 1000 and ids == sorted(ids)
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 7 for i in ids)
    other = IdMaker().next()
    assert other not in ids


def test_bulk_insert_stores_timestamps_as_the_driver_does(db):
    """On both stores (`db`, tests/services/conftest.py)."""
    from sqlalchemy import text

    from desktop.storage import bulk_insert_records, open_register
    from tests.conftest import PASSPHRASE

    when = datetime(2026, 11, 22, 8, 30, 15, 123456, tzinfo=UTC)
    other = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    with open_register(db, PASSPHRASE) as reg, reg.session() as s:
        unit = reg.own_unit_id
        bulk_insert_records(s, [{"id": f"r{i}", "form_id": "lawyer_member", "form_version": "1",
                                 "unit_id": unit, "data": {"n": i}, "name": f"n{i}",
                                 "created_at": when, "updated_at": other if i == 1 else when}
                                for i in range(3)], [])
        rows = s.execute(text("SELECT id, created_at, updated_at, data FROM record "
                              "ORDER BY id")).all()
        s.rollback()
    if on_server(reg):  # a timestamptz column: the driver gives the instants back
        assert {r[1] for r in rows} == {when}
        assert [r[2] for r in rows] == [when, other, when]
        assert [r[1].utcoffset() for r in rows] == [timedelta(0)] * 3  # the session is UTC
    else:
        assert {r[1] for r in rows} == {"2026-11-22 08:30:15.123456+00:00"}
        assert [r[2] for r in rows] == [rows[0][1], "2025-01-02 03:04:05+00:00", rows[0][1]]
    assert plain(reg, "record", "data", "r2", rows[2][3]) == '{"n": 2}'
