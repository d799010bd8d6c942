"""The law-society cleanup's reads and writes on both stores (issue 18): the member search of
the window, the list of members moved out, the next 会员证号 over every unit's numbers, and a
re-admission's writes, which a PostgreSQL register holds sealed and still finds by their keyed
hash. The commands' tests (tests/society, BOTH_STORES) cover propose, apply, withdraw, restore,
the 统计表 and the 通报 on both stores."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from desktop.domain.society.cleanup import DUPLICATE, IN_REGISTER, NO_ID, READMITTED
from desktop.errors import KnownError
from desktop.formspec import shipped_forms
from desktop.services.cleanup.members import next_number, readmit
from desktop.services.cleanup.search import find_members, moved_out
from desktop.services.registers import init_register
from desktop.storage import KdfParams, Unit, bulk_insert_records
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)

FAST = KdfParams(n=2**10, r=8, p=1)
FORM = "society_member"


def ident(birth: str, seq: int) -> str:
    body = f"210102{birth.replace('-', '')}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture(params=["sqlite", "postgresql"])
def reg(request: pytest.FixtureRequest, tmp_path):
    """The society's register, on each store: a file, or a new PostgreSQL database."""
    where = (tmp_path / "register.dengji" if request.param == "sqlite"
             else request.getfixturevalue("pg_url"))
    r = init_register(where, "清理测试口令-1234", level="society-city", unit_name="沈阳市法学会",
                      unit_code="0024", kdf=FAST)
    yield r
    r.close()


def add(reg, rows: list[tuple[str, dict]], unit_id: str | None = None, prefix: str = ""
        ) -> list[str]:
    """Member entries (name, values) of a unit, with their 会员证号 keys as an import writes
    them (stripped); their record ids (`prefix` + a UUID)."""
    from desktop.storage.tables import new_id

    ids = [prefix + new_id() for _ in rows]
    unit = unit_id or reg.own_unit_id
    records = [{"id": rid, "form_id": FORM, "form_version": "2026.1", "unit_id": unit,
                "name": name, "data": {"name": name, **values}, "state": "已提交"}
               for rid, (name, values) in zip(ids, rows, strict=True)]
    keys = [{"record_id": rid, "form_id": FORM, "kind": "member_no",
             "value": str(values["member_no"]).strip()}
            for rid, (_, values) in zip(ids, rows, strict=True) if values.get("member_no")]
    with reg.session() as session:
        bulk_insert_records(session, records, keys)
        session.commit()
    return ids


def other_unit(reg) -> str:
    with reg.session() as session:
        county = Unit(code="024-01", name="沈阳市和平区法学会", level="society-county",
                      parent_code="0024")
        session.add(county)
        session.commit()
        return county.id


def test_member_search_and_the_moved_out_list(reg):
    zhao, wang, xiaowei, li, later = add(reg, [
        ("赵敏", {"member_no": "0024-000003", "employer": "辽宁大学法学院"}),
        ("王伟", {"member_no": "0024-000001", "status": NO_ID}),
        ("王小伟", {"member_no": "0024-000002", "status": DUPLICATE}),
        ("李明", {"status": IN_REGISTER}),
        ("吴芳", {"member_no": "0024-000010", "status": READMITTED}),
    ])
    add(reg, [("王伟", {"member_no": "0024-000009", "status": NO_ID})], other_unit(reg))
    # the largest record id, listed first by its number
    [early] = add(reg, [("周杰", {"member_no": "0024-000000", "status": NO_ID})], prefix="z")

    every = find_members(reg, "")
    assert [h.record_id for h in every] == [li, early, wang, xiaowei, zhao, later]  # by number
    assert every[4].employer == "辽宁大学法学院" and every[4].status == IN_REGISTER
    assert every[0].member_no == "" and every[0].name == "李明"
    assert [h.name for h in find_members(reg, "  王伟 ")] == ["王伟"]  # the own unit's only
    assert [h.name for h in find_members(reg, "伟")] == ["王伟", "王小伟"]
    assert [h.name for h in find_members(reg, "0024-00000")] == ["周杰", "王伟", "王小伟", "赵敏"]
    assert [h.name for h in find_members(reg, "", active=True)] == ["李明", "赵敏", "吴芳"]
    assert [h.name for h in find_members(reg, "", active=False)] == ["周杰", "王伟", "王小伟"]
    assert [h.name for h in find_members(reg, "", limit=2)] == ["李明", "周杰"]
    assert find_members(reg, "无此人") == []
    assert moved_out(reg) == [(early, "0024-000000", "周杰"), (wang, "0024-000001", "王伟")]


def test_next_number_counts_every_units_numbers(reg):
    forms = shipped_forms()
    assert next_number(reg, forms).number == "0024-000001"
    add(reg, [("赵敏", {"member_no": "0024-000003"}), ("王伟", {"member_no": " 0024-000007 "}),
              ("李明", {"member_no": "00241-000500"}), ("钱勇", {"member_no": "0024-0050"})])
    add(reg, [("吴芳", {"member_no": "0024-000041"})], other_unit(reg))
    found = next_number(reg, forms)
    assert (found.number, found.issued) == ("0024-000042", 3)


def test_readmission_is_stored_sealed_and_found_by_its_key(reg):
    forms = shipped_forms()
    idn = ident("1968-09-09", 24)
    zhao, wu = add(reg, [("赵敏", {"member_no": "0024-000003", "status": NO_ID, "sex": "2"}),
                         ("吴芳", {"member_no": "0024-000007", "status": NO_ID})])
    when = date(2021, 3, 1)
    change = readmit(reg, forms, id_number=idn, handler="王敏", agreed=True,
                     member_no="0024-000003", when=when)
    assert (change.record_id, change.before, change.after) == (zhao, NO_ID, READMITTED)
    assert moved_out(reg) == [(wu, "0024-000007", "吴芳")]
    # the same ID number for another moved-out member: the register finds the person
    with pytest.raises(KnownError, match="0024-000003（赵敏"):
        readmit(reg, forms, id_number=idn, handler="王敏", agreed=True, record_id=wu, when=when)
    if reg.kind != "server":
        return
    with reg.engine.connect() as conn:
        data, name = conn.exec_driver_sql(
            "SELECT data, name FROM record WHERE id = %s", (zhao,)).one()
        values = [v for (v,) in conn.exec_driver_sql(
            "SELECT value FROM record_key WHERE record_id = %s", (zhao,))]
    assert data.startswith("dj1.") and name.startswith("dj1.") and idn not in data
    assert len(values) == 2 and not any(idn in v or "0024-000003" in v for v in values)
    assert reg.key_hash("society_person", idn) not in values
