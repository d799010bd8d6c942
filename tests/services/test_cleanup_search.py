"""The 清理 screens' member search on both stores (issue 18): whole 公民身份号码 and 会员证号 found
by their keyed hashes, parts of names and numbers from the opened index on PostgreSQL, and that
index kept current by every way an entry changes (a save, a new entry, a deletion, a
re-import of the same record, another clerk's save)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete

from desktop.domain.society.cleanup import NO_ID, READMITTED
from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services.cleanup.members import readmit
from desktop.services.cleanup.search import (
    find_members,
    index_ready,
    load_member_index,
    moved_out,
)
from desktop.services.intake.importing import import_file
from desktop.services.registers import init_register
from desktop.storage import Record, RecordKey, open_register
from tests.services.test_cleanup_stores import ident, other_unit
from tests.storage.conftest import FAST_KDF
from tests.stores import pg_cluster, pg_database, pg_url, store  # noqa: F401 (fixtures)

PASS = "清理测试口令-1234"
FORM = "society_member"
ZHAO_ID, WANG_ID, LI_ID = ident("1968-09-09", 24), ident("1970-01-02", 13), ident("1980-05-06", 35)


@pytest.fixture
def reg(store: str):  # noqa: F811 (the fixture)
    r = init_register(store, PASS, level="society-city", unit_name="沈阳市法学会",
                      unit_code="0024", kdf=FAST_KDF)
    yield r
    r.close()


def load(reg, tmp_path: Path, rows: list[dict], name: str = "members.jsonl") -> None:
    """Import legacy rows as the clerk does (person_key and record_key written by the import)."""
    forms = shipped_forms()
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    result = run(import_file(reg, forms, forms.form(FORM), path))
    assert result.refused == 0, [f.message for r in result.refused_rows for f in r.findings]


def member(no: str, name: str, idn: str = "", **extra: str) -> dict:
    return {"会员证号": no, "姓名": name, "公民身份号码": idn, "工作单位": "辽宁大学法学院", **extra}


def ids_of(reg) -> dict[str, str]:
    """会员证号 -> record id of the own entries."""
    return {h.member_no: h.record_id for h in find_members(reg, "")}


def names(hits) -> list[str]:
    return [h.name for h in hits]


@pytest.fixture
def members(reg, tmp_path):
    load(reg, tmp_path, [member("0024-000003", "赵敏", ZHAO_ID),
                         member("0024-000001", "王伟", WANG_ID),
                         member("0024-000002", "王小伟"),
                         member("00241-000500", "李明", LI_ID)])
    return reg


def test_whole_id_numbers_and_member_numbers(members):
    reg = members
    assert names(find_members(reg, ZHAO_ID)) == ["赵敏"]
    assert names(find_members(reg, f" {ZHAO_ID.lower()} ")) == ["赵敏"]  # x, spaces
    assert names(find_members(reg, ZHAO_ID[:6] + ZHAO_ID[8:17])) == ["赵敏"]  # its 15 digits
    assert find_members(reg, ZHAO_ID[:-1]) == []  # a part of an ID number finds nobody
    assert find_members(reg, ZHAO_ID[:-1] + "0") == []  # nor a mistyped one
    # a whole number also finds the numbers that hold it, as any part of a number does
    assert names(find_members(reg, "0024-000003")) == ["赵敏"]
    assert names(find_members(reg, "0024-00000")) == ["王伟", "王小伟", "赵敏"]
    assert names(find_members(reg, "0024")) == ["王伟", "王小伟", "赵敏", "李明"]
    assert names(find_members(reg, "伟")) == ["王伟", "王小伟"]
    assert names(find_members(reg, LI_ID, active=False)) == []
    assert names(find_members(reg, LI_ID, active=True)) == ["李明"]
    assert names(find_members(reg, "", limit=2)) == ["王伟", "王小伟"]


def test_another_units_entries_are_not_found(members, tmp_path):
    reg = members
    county = other_unit(reg)
    with reg.session() as session:  # an entry of a county, as a merge leaves it
        rec = session.get(Record, ids_of(reg)["0024-000003"])
        session.add(Record(form_id=FORM, form_version=rec.form_version, unit_id=county,
                           data=json.dumps({"name": "赵敏", "member_no": "024-01-000001"},
                                           ensure_ascii=False),
                           name="赵敏", person_key=rec.person_key))
        session.add(RecordKey(record_id=rec.id, form_id=FORM, kind="member_no",
                              value="024-01-000001"))  # a key pointing at the own entry
        session.commit()
    assert names(find_members(reg, ZHAO_ID)) == ["赵敏"]  # the own entry only
    assert [h.member_no for h in find_members(reg, "赵敏")] == ["0024-000003"]


def test_the_search_follows_every_change(members, tmp_path):
    reg, forms = members, shipped_forms()
    assert names(find_members(reg, "伟")) == ["王伟", "王小伟"]  # loaded
    ids = ids_of(reg)
    # a save (another name, revision + 1)
    with reg.session() as session:
        rec = session.get(Record, ids["0024-000002"])
        values = json.loads(rec.data)
        values["name"] = "王晓薇"
        rec.data, rec.name = json.dumps(values, ensure_ascii=False), "王晓薇"
        rec.revision += 1
        session.commit()
    assert names(find_members(reg, "伟")) == ["王伟"]
    assert names(find_members(reg, "晓薇")) == ["王晓薇"]
    # a cleanup decision and a re-admission (status, ID number and person_key change)
    with reg.session() as session:
        rec = session.get(Record, ids["0024-000002"])
        rec.data = json.dumps({**json.loads(rec.data), "status": NO_ID}, ensure_ascii=False)
        rec.revision += 1
        session.commit()
    assert names(find_members(reg, "", active=False)) == ["王晓薇"]
    assert moved_out(reg) == [(ids["0024-000002"], "0024-000002", "王晓薇")]
    new_id = ident("1975-03-04", 57)
    readmit(reg, forms, id_number=new_id, handler="王敏", agreed=True,
            member_no="0024-000002", when=date(2021, 3, 1))
    assert [(h.name, h.status) for h in find_members(reg, new_id)] == [("王晓薇", READMITTED)]
    assert find_members(reg, "", active=False) == [] and moved_out(reg) == []
    # a new entry, and one deleted
    load(reg, tmp_path, [member("0024-000009", "钱伟")], "more.jsonl")
    assert names(find_members(reg, "伟")) == ["王伟", "钱伟"]
    with reg.session() as session:
        session.execute(delete(RecordKey).where(RecordKey.record_id == ids["0024-000001"]))
        session.execute(delete(Record).where(Record.id == ids["0024-000001"]))
        session.commit()
    assert names(find_members(reg, "伟")) == ["钱伟"]
    assert find_members(reg, WANG_ID) == []


def test_a_record_replaced_under_the_same_id_and_revision(members):
    """A re-import deletes and inserts the record again: the same id and revision 1."""
    reg = members
    assert names(find_members(reg, "赵")) == ["赵敏"]
    rid = ids_of(reg)["0024-000003"]
    with reg.session() as session:
        rec = session.get(Record, rid)
        fields = {c: getattr(rec, c) for c in ("form_id", "form_version", "unit_id",
                                               "person_key", "state", "revision")}
        values = {**json.loads(rec.data), "name": "赵明"}
        session.execute(delete(RecordKey).where(RecordKey.record_id == rid))
        session.execute(delete(Record).where(Record.id == rid))
        session.flush()
        session.add(Record(id=rid, data=json.dumps(values, ensure_ascii=False), name="赵明",
                           **fields))
        session.commit()
    assert names(find_members(reg, "赵")) == ["赵明"]


def test_before_the_index_is_loaded_whole_values_answer_at_once(members):
    reg = members
    if reg.kind != "server":
        assert index_ready(reg) and run(load_member_index(reg)) == 0  # SQLite needs none
        return
    fresh = open_register(reg.path, PASS)  # a new window on the register
    try:
        assert not index_ready(fresh)
        assert names(find_members(fresh, ZHAO_ID, wait=False)) == ["赵敏"]
        assert names(find_members(fresh, "0024-000001", wait=False)) == ["王伟"]
        assert find_members(fresh, "伟", wait=False) == []  # a part: the index is needed
        assert not index_ready(fresh)
        assert run(load_member_index(fresh)) == 4
        assert index_ready(fresh) and run(load_member_index(fresh)) == 0  # nothing changed
        assert names(find_members(fresh, "伟", wait=False)) == ["王伟", "王小伟"]
    finally:
        fresh.close()


def test_another_clerks_save_is_seen(members):
    reg = members
    if reg.kind != "server":
        pytest.skip("one process holds a register file; several clerks share a server")
    assert names(find_members(reg, "王")) == ["王伟", "王小伟"]
    other = open_register(reg.path, PASS)  # the other clerk's process
    try:
        with other.session() as session:
            rec = session.get(Record, ids_of(reg)["0024-000001"])
            rec.data = json.dumps({**json.loads(rec.data), "name": "汪伟"}, ensure_ascii=False)
            rec.name = "汪伟"
            rec.revision += 1
            session.commit()
    finally:
        other.close()
    assert names(find_members(reg, "王")) == ["王小伟"]
    assert run(load_member_index(reg)) == 0  # the search read that one entry again already
