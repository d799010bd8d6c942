"""The law society's 个人会员清理工作情况统计表 travels in its packages (issues 7 and 4): a county
sends its table, the city checks it against the county's records, keeps it and sends its
summed table on to the province, which sums its cities; a changed table is refused with the
package, and a table that disagrees with the package's records is reported to the clerk."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.domain.society.stats import ACTUAL, ENTRIES, TOTAL
from desktop.exchange.format.stats_check import stats_member
from desktop.progress import run
from desktop.services import packages as svc
from desktop.services.intake.importing import import_file
from desktop.services.packages.stats import received_tables, unit_table
from desktop.storage import DEFAULT_KDF, Record, Register, UnitInfo
from tests.exchange.conftest import PASSPHRASE, World, counts, resign, write_jsonl
from tests.exchange.formats import open_payload, reseal
from tests.society.conftest import entry, ident

#: on both stores (tests/exchange/conftest.py): what reads or writes sealed columns
BOTH_STORES = {"test_county_city_province_chain_sums_right",
               "test_a_table_that_disagrees_with_the_records_is_reported_and_kept"}


CITY = UnitInfo("SYFXH-0024", "沈阳市法学会", "society-city", "LNFXH")
PROVINCE = UnitInfo("LNFXH", "辽宁省法学会", "society-province")
NAMES = "张伟王芳李娜刘洋陈静杨帆赵磊黄丽周强吴敏徐刚孙悦"
DUPLICATES, VIOLATIONS, NO_ID = "清理重复录入人次数", "清理严重违法违纪人员数", "清理无身份证号人员数"


def society(world: World, unit: UnitInfo, statuses: list[str], seed: int = 0, **kw
            ) -> Register:
    """A society register whose members have `statuses` (status codes of FORMS.md)."""
    reg = world.register(unit, f"{unit.code}.dengji", **kw)
    rows = [entry(f"0024-{seed * 100 + i + 1:06d}", NAMES[i % 12] + "甲乙丙丁"[seed % 4],
                  idn=ident(f"19{70 + seed}-0{i % 9 + 1}-1{i % 9}", 11 + 2 * i))
            for i in range(len(statuses))]
    path = write_jsonl(world.folder / f"members-{unit.code}.jsonl", rows)
    result = run(import_file(reg, world.forms, world.forms.form("society_member"), path))
    assert result.refused == 0
    set_statuses(reg, statuses)
    return reg


def set_statuses(reg: Register, statuses: list[str]) -> None:
    """The cleanup's decisions written into the members' values, in the order they were
    imported (through the ORM: on PostgreSQL `data` is sealed)."""
    with reg.session() as session:
        members = session.scalars(select(Record).where(
            Record.form_id == "society_member", Record.unit_id == reg.own_unit_id)
            .order_by(Record.created_at, Record.id)).all()
        for member, status in zip(members, statuses, strict=True):
            if status == "1":
                continue
            more = {"status": status, "handler": "王敏", "approver": "李强",
                    "basis": "辽会〔2020〕28号", "cleanup_date": "2020-11-30",
                    **({"merged_into": "0024-000001"} if status == "2" else {}),
                    **({"ineligible_reason": "8"} if status == "4" else {})}
            member.data = json.dumps({**json.loads(member.data), **more}, ensure_ascii=False)
        session.commit()


def table_in(path: Path, code: str, sender: Register) -> dict:
    """The table a package carries, read by its sender (it is inside the encryption)."""
    return json.loads(open_payload(path.read_bytes(), sender)[stats_member(code)])


def merged(world: World, reg: Register, path: Path) -> svc.MergeReport:
    [report] = world.merge(reg, path)
    assert report.status == "merged", report.reason
    return report


@pytest.fixture
def chain(world: World):
    province = world.register(PROVINCE)
    city = society(world, CITY, ["1", "1", "2"], seed=0)
    a = society(world, UnitInfo("024-01", "沈阳市和平区法学会", "society-county", CITY.code),
                ["1", "1", "1", "2", "3", "5"], seed=1)
    b = society(world, UnitInfo("024-02", "沈阳市沈河区法学会", "society-county", CITY.code),
                ["1", "1", "6", "4"], seed=2)
    for county in (a, b):
        world.link(county, city)
    world.link(city, province)
    return province, city, a, b


def test_county_city_province_chain_sums_right(world: World, chain) -> None:
    province, city, a, b = chain
    pa = world.export(a, attachments={}).path
    assert table_in(pa, "024-01", a)[ENTRIES] == 6 and table_in(pa, "024-01", a)[TOTAL] == 3
    for path in (pa, world.export(b, attachments={}).path):
        report = merged(world, city, path)
        assert report.stats_finding == ""
        assert any(c.name == "统计表" and c.ok for c in report.verification.checks)
        svc.accept_package(city, report.outcome.package_id)
    assert [t.unit_code for t in received_tables(city)] == ["024-01", "024-02"]
    summed = unit_table(city, filed=date.today().isoformat())
    assert (summed.entries, summed.duplicates, summed.violations, summed.ineligible,
            summed.no_id, summed.actual) == (13, 2, 1, 1, 2, 7)

    up = world.export(city, attachments={}).path
    carried = table_in(up, CITY.code, city)
    assert (carried[ENTRIES], carried[DUPLICATES], carried[ACTUAL]) == (13, 2, 7)
    assert [p["单位代码"] for p in carried["组成"]] == [CITY.code, "024-01", "024-02"]
    report = merged(world, province, up)
    assert report.stats_finding == ""  # 13 records forwarded, as the table says
    [table] = received_tables(province)
    assert table.unit_code == CITY.code and table.entries == 13 and table.no_id == 2


def test_stats_received_on_the_command_line(world: World, dengji, monkeypatch) -> None:
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    city = society(world, CITY, ["1", "1", "2"], kdf=DEFAULT_KDF)
    a = society(world, UnitInfo("024-01", "沈阳市和平区法学会", "society-county", CITY.code),
                ["1", "1", "1", "2", "3", "5"], seed=1)
    world.link(a, city)
    path = world.export(a, attachments={}).path
    city.close()
    verify = dengji("verify", path, "--db", city.path)
    assert verify.code == 0 and "[通过] 统计表" in verify.out, verify.out + verify.err
    result = dengji("merge", "--db", city.path, path)
    assert result.code == 0 and "注意" not in result.out, result.out + result.err
    out = dengji("stats", "--db", city.path, "--received", "--format", "json")
    assert out.code == 0, out.err
    got = out.json()
    assert (got[ENTRIES], got[DUPLICATES], got[VIOLATIONS], got[NO_ID]) == (9, 2, 1, 1)
    assert [p["单位代码"] for p in got["组成"]] == [CITY.code, "024-01"]


def test_a_tampered_table_is_refused_by_the_signature(world: World, chain) -> None:
    _, city, a, _ = chain
    path = world.export(a, attachments={}).path
    name = stats_member("024-01")
    table = json.loads(open_payload(path.read_bytes(), a)[name])
    table[DUPLICATES], table[TOTAL], table[ACTUAL] = 0, 2, 4  # hides the duplicate, adds up
    changed = {name: json.dumps(table, ensure_ascii=False).encode()}
    # the table changed inside the payload, the manifest and its signature kept
    path.write_bytes(reseal(path.read_bytes(), a, members=changed, sign=False))
    before = counts(city)
    [report] = world.merge(city, path)
    assert report.status == "refused" and "完整性" in report.reason
    # rehashed and re-signed by another key: the signature is not the county's
    other = world.register(UnitInfo("024-09", "冒充的法学会", "society-county", CITY.code))
    path.write_bytes(reseal(world.export(a, attachments={}).path.read_bytes(), other,
                            members=changed, reader=a))
    [report] = world.merge(city, path)
    assert report.status == "refused" and "发送单位" in report.reason
    assert counts(city) == before


def test_a_table_that_disagrees_with_the_records_is_reported_and_kept(world: World, chain,
                                                                       monkeypatch) -> None:
    _, city, a, _ = chain
    import desktop.services.packages.export as packages_module
    from desktop.domain.society.stats import stats_from_statuses, stats_to_json
    from desktop.exchange.format.stats_check import table_bytes

    wrong = stats_from_statuses({"1": 6}, unit="沈阳市和平区法学会", unit_code="024-01")
    monkeypatch.setattr(packages_module, "stats_members", lambda *args: {
        stats_member("024-01"): table_bytes(stats_to_json(wrong))})  # signed, but untrue
    report = merged(world, city, world.export(a, attachments={}).path)
    assert "统计表与数据包中的会员记录不符" in report.stats_finding
    assert "清理重复录入人次数 表中为 0、按记录计算为 1" in report.stats_finding
    [table] = received_tables(city)
    assert table.duplicates == 0  # kept as received; the clerk has been told

    from desktop.storage import AuditEntry

    with city.session() as session:
        detail = session.execute(select(AuditEntry.detail).where(AuditEntry.action == "merge")
                                 ).scalar_one()
    assert "不符" in json.loads(detail)["packages"][0]["stats"]


def test_a_malformed_table_refuses_the_package(world: World, chain) -> None:
    _, city, a, _ = chain
    name = stats_member("024-01")
    path = world.export(a, attachments={}).path
    path.write_bytes(resign(path.read_bytes(), a, members={name: b"{not json"}))
    before = counts(city)
    [report] = world.merge(city, path)
    assert report.status == "refused" and "统计表" in report.reason
    assert counts(city) == before
