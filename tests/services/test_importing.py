"""Importing into a register (services/importing.py): all or nothing, --partial, keys, audit.
Every test with a register runs on a file and on PostgreSQL (`db`, tests/services/conftest.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from desktop.errors import KnownError, UsageError
from desktop.progress import run
from desktop.services.intake.importing import import_file
from desktop.services.registers import init_register
from desktop.storage import AuditEntry, Record, RecordKey, open_register, verify_audit_chain
from desktop.storage.server.sealing import blind_value
from tests.conftest import PASSPHRASE, as_staff, count_records, stored_data
from tests.services.conftest import on_server


def do_import(db, forms, form_id, path, **kw):
    with open_register(db, PASSPHRASE) as reg:
        return run(import_file(reg, forms, forms.form(form_id), path, **kw))


def test_import_stores_records_keys_and_an_audit_entry(db, forms, firm_records, jsonl):
    path = jsonl(firm_records.members, "附件1.jsonl")
    result = do_import(db, forms, "lawyer_member", path)
    assert (result.imported, result.refused) == (4, 0)
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        records = session.exec(select(Record)).scalars().all()
        keys = session.exec(select(RecordKey)).scalars().all()
        audit = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        assert verify_audit_chain(session).ok
        person_hashes = {reg.person_hash(m["公民身份号码"]) for m in firm_records.members}
        # a server register keeps the key values as keyed hashes (what a file holds, blinded)
        licences = {blind_value(reg.engine, m["律师执业证号"]) for m in firm_records.members}
    assert {r.name for r in records} == {m["姓名"] for m in firm_records.members}
    assert {r.form_id for r in records} == {"lawyer_member"}
    assert {r.person_key for r in records} == person_hashes
    assert sorted(k.kind for k in keys) == ["licence"] * 4 + ["person"] * 4
    # ID numbers are keyed hashes, never plain text, in the key index
    ids = {m["公民身份号码"] for m in firm_records.members}
    assert not ids & {k.value for k in keys}
    assert {k.value for k in keys if k.kind == "licence"} == licences
    if on_server(reg):
        assert not {m["律师执业证号"] for m in firm_records.members} & {k.value for k in keys}
    else:
        assert licences == {m["律师执业证号"] for m in firm_records.members}
    assert [a.action for a in audit] == ["init", "recovery.new", "import"]
    detail = json.loads(audit[-1].detail)
    assert (detail["form"], detail["imported"], detail["refused"]) == ("lawyer_member", 4, 0)


def test_one_bad_row_and_nothing_is_written(db, forms, firm_records, jsonl):
    rows = firm_records.members[:3] + [dict(firm_records.members[3], 手机号码="123")]
    result = do_import(db, forms, "lawyer_member", jsonl(rows))
    assert (result.imported, result.refused) == (0, 1)
    assert [r.no for r in result.refused_rows] == [4]
    assert count_records(db) == 0
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        assert [a.action for a in session.exec(select(AuditEntry)).scalars()] == ["init",
                                                                                 "recovery.new"]


def test_partial_import_stores_the_good_rows(db, forms, firm_records, jsonl):
    rows = firm_records.members[:3] + [dict(firm_records.members[3], 手机号码="123"), "{oops"]
    result = do_import(db, forms, "lawyer_member", jsonl(rows), partial=True)
    assert (result.imported, result.refused) == (3, 2)
    assert [r.no for r in result.refused_rows] == [4, 5]
    assert count_records(db, "lawyer_member") == 3


def test_warnings_and_cross_errors_do_not_block(db, forms, firm_records, jsonl):
    rows = [dict(firm_records.members[0], 家庭住址="长安区1号")]
    result = do_import(db, forms, "lawyer_member", jsonl(rows))
    codes = {(f.severity, f.code, f.scope) for f in result.rows[0].findings}
    assert codes == {("W", "too_short", "field"), ("E", "firm_not_registered", "cross")}
    assert result.imported == 1


def test_second_import_of_the_same_file_is_refused(db, forms, firm_records, jsonl):
    path = jsonl(firm_records.members)
    assert do_import(db, forms, "lawyer_member", path).imported == 4
    again = do_import(db, forms, "lawyer_member", path)
    assert (again.imported, again.refused) == (0, 4)
    for row in again.rows:
        assert {(f.field, f.code) for f in row.findings if f.scope == "register"} == {
            ("id_number", "duplicate_in_register"),
            ("licence", "duplicate_in_register"),
        }
    assert count_records(db) == 4


def test_a_person_in_attachment_1_cannot_also_be_staff(db, forms, firm_records, jsonl):
    assert do_import(db, forms, "lawyer_member", jsonl(firm_records.members[:1])).imported == 1
    staff = do_import(
        db, forms, "staff_member", jsonl([as_staff(firm_records.members[0])], "staff.jsonl")
    )
    assert staff.imported == 0
    assert ("id_number", "E", "duplicate_in_register") in {
        (f.field, f.severity, f.code) for f in staff.rows[0].findings
    }


def test_legacy_id_is_stored_with_18_digits(db, forms, firm_records, jsonl):
    m = firm_records.members[0]
    legacy = m["公民身份号码"][:6] + m["公民身份号码"][8:17]
    result = do_import(db, forms, "lawyer_member", jsonl([dict(m, 公民身份号码=legacy)]))
    assert result.imported == 1
    assert [d["id_number"] for d in stored_data(db, "lawyer_member")] == [m["公民身份号码"]]
    # and the 18-digit number is then a duplicate
    again = do_import(db, forms, "lawyer_member", jsonl([m], "again.jsonl"))
    assert again.imported == 0


def test_unreadable_file_is_a_usage_error(db, forms, tmp_path):
    with pytest.raises(UsageError):
        do_import(db, forms, "lawyer_member", tmp_path / "missing.jsonl")


def test_init_register_refusals(tmp_path):
    with pytest.raises(KnownError, match="至少需要 8 个字符"):
        init_register(tmp_path / "a.dengji", "short", level="firm", unit_name="甲", unit_code="1")
    with pytest.raises(UsageError, match="未知的层级"):
        init_register(
            tmp_path / "a.dengji", PASSPHRASE, level="county", unit_name="甲", unit_code="1"
        )
    with pytest.raises(UsageError, match="单位名称"):
        init_register(tmp_path / "a.dengji", PASSPHRASE, level="firm", unit_name=" ", unit_code="1")
    assert not (tmp_path / "a.dengji").exists()
