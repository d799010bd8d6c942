"""The dashboard: expected units (imported from Excel, CSV or .jsonl, or typed) against
received, late, returned and accepted packages, with record and issue counts."""

from __future__ import annotations

from datetime import date, timedelta

import openpyxl
import pytest

from desktop.errors import KnownError
from desktop.services import packages as svc
from tests.exchange.conftest import CITY, World, counts

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_expected_against_received", "test_issue_counts_come_from_the_received_records"}


def test_expected_against_received(world: World) -> None:
    city = world.register(CITY)
    on_time = world.firm(seed=71, parent=city)
    returned = world.firm(seed=72, parent=city)
    unlisted = world.firm(seed=73, parent=city)
    codes = [svc.own_public_key(f.register).code for f in (on_time, returned, unlisted)]
    yesterday, tomorrow = date.today() - timedelta(days=1), date.today() + timedelta(days=1)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["单位代码", "单位名称", "截止日期"])
    sheet.append([codes[0], "甲所", tomorrow.isoformat()])
    sheet.append([codes[1], "乙所", None])
    sheet.append(["MISSING-1", "丙所（未报）", yesterday.isoformat()])
    sheet.append(["MISSING-2", "丁所（未报）", None])
    book.save(world.folder / "名单.xlsx")
    assert svc.import_expected_units(city, world.folder / "名单.xlsx",
                                     deadline=tomorrow.isoformat()) == (4, 0)
    sent = {c: world.export(f.register) for c, f in zip(codes, (on_time, returned, unlisted),
                                                        strict=True)}
    world.merge(city, *(s.path for s in sent.values()))
    svc.accept_package(city, sent[codes[0]].package_id)
    comments = world.folder / "c.jsonl"
    comments.write_text('{"comment": "附件3 未盖章"}\n', "utf-8")
    svc.return_package(city, world.forms, sent[codes[1]].package_id, comments, world.folder)
    rows = {r.code: r for r in svc.dashboard(city)}
    assert list(rows) == [codes[0], codes[1], "MISSING-1", "MISSING-2", codes[2]]
    assert (rows[codes[0]].status, rows[codes[0]].late, rows[codes[0]].records) == (
        "已接收", False, 5)
    assert (rows[codes[1]].status, rows[codes[1]].open_comments) == ("已退回", 1)
    assert rows[codes[1]].deadline == tomorrow.isoformat()  # the default deadline
    assert (rows["MISSING-1"].status, rows["MISSING-1"].late) == ("未收到", True)
    assert (rows["MISSING-2"].status, rows["MISSING-2"].late) == ("未收到", False)
    assert (rows[codes[2]].expected, rows[codes[2]].status) == (False, "已收到（待审核）")
    assert all(r.errors == 0 and r.conflicts == 0 for r in rows.values())


def test_a_late_package(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=74, parent=city)
    code = svc.own_public_key(firm.register).code
    svc.add_expected_unit(city, code, "戊所", (date.today() - timedelta(days=3)).isoformat())
    world.merge(city, world.export(firm.register).path)
    [row] = svc.dashboard(city)
    assert row.late and row.status == "已收到（待审核）"


def test_issue_counts_come_from_the_received_records(world: World) -> None:
    """A package whose 附件3 disagrees with its members (as a firm with other rules would send)
    shows its errors on the dashboard, but is still merged for the clerk to return."""
    import json

    from sqlalchemy import select, update

    from desktop.storage import Record

    city = world.register(CITY)
    firm = world.firm(seed=75, parent=city)
    sent = world.export(firm.register)
    with firm.register.session() as session:  # after export, 附件3 gets a wrong count
        org = session.execute(select(Record).where(Record.form_id == "party_org")).scalar_one()
        values = dict(json.loads(org.data), lawyer_members=40)
        session.execute(update(Record).where(Record.id == org.id)
                        .values(data=json.dumps(values, ensure_ascii=False)))
        session.commit()
    from desktop.exchange.format.writer import write_registration
    from desktop.exchange.outbound import build_content, next_sequence
    from desktop.exchange.trust import own_sender, parent_recipient

    with firm.register.session() as session:  # written past the export check, on purpose
        sender, _ = own_sender(session, firm.register)
        seq, sup = next_sequence(session, sender.info.code)
        content = build_content(session, firm.register, world.forms, seq + 1, sent.package_id,
                                {})
        written = write_registration(content, sender, parent_recipient(session, firm.register))
    path = world.folder / written.file_name
    path.write_bytes(written.data)
    [report] = world.merge(city, path)
    assert report.status == "merged" and report.outcome.errors >= 1
    [row] = svc.dashboard(city)
    assert row.errors == report.outcome.errors


@pytest.mark.parametrize("content, suffix, word", [
    ("单位代码,单位名称\n,没有代码的所\n", ".csv", "缺少单位代码或名称"),
    ('{"code": "A", "name": "甲", "deadline": "下周"}\n', ".jsonl", "无法识别"),
    ("只有表头\n", ".csv", "没有任何单位"),
    ("x", ".txt", ".xlsx、.csv 或 .jsonl"),
])
def test_a_bad_list_of_units_imports_nothing(world: World, content, suffix, word) -> None:
    city = world.register(CITY)
    path = world.folder / f"list{suffix}"
    path.write_text(content, "utf-8")
    before = counts(city)
    with pytest.raises(KnownError, match=word):
        svc.import_expected_units(city, path)
    assert counts(city) == before


def test_a_gbk_csv(world: World) -> None:
    city = world.register(CITY)
    path = world.folder / "list.csv"
    path.write_bytes("单位代码,单位名称,截止日期\nA1,甲律师事务所,2026年12月31日\n".encode("gbk"))
    assert svc.import_expected_units(city, path) == (1, 0)
    [row] = svc.dashboard(city)
    assert (row.name, row.deadline) == ("甲律师事务所", "2026-12-31")
    assert svc.import_expected_units(city, path) == (0, 0)
