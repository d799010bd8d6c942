"""Stored records against the audit chain: every entry that changes a record holds its content
digest, and `dengji audit` finds a record edited outside the application (a direct SQL UPDATE),
naming it without its personal values, while records whose last change predates content
digests are only counted. On both stores (a SQLCipher file and a PostgreSQL database, where
the records' values are sealed) but for the version-1 fixture, which is a file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from desktop.domain.digest import record_digest
from desktop.formspec import shipped_forms
from desktop.services.editing import EditSession
from desktop.storage import AuditEntry, Meta, Record, Register, open_register
from desktop.storage.audit import (
    GENESIS_HASH,
    HEAD_KEY,
    RECORD_HASH,
    RECORD_HASHES,
    check_records,
    entry_hash,
    verify_audit_chain,
)
from tests.conftest import PASSPHRASE, UNIT_CODE, UNIT_NAME, Run, make_firm_records

FIXTURE_V1 = Path(__file__).resolve().parent.parent / "fixtures" / "register-v1.dengji"
V1_PASSPHRASE = "测试口令 Correct-Horse-7"


@pytest.fixture
def db(dengji: Callable[..., Run], store: str) -> str:
    """A register made through `dengji init` on each store: a file, or a PostgreSQL database."""
    result = dengji("init", "--db", store, "--level", "firm", "--unit-name", UNIT_NAME,
                    "--unit-code", UNIT_CODE)
    assert result.code == 0, result.err
    return store


def rewrite_chain(register: Register, seq: int, change: Callable[[dict], None]) -> None:
    """What someone with the passphrase can do: change entry `seq`'s detail and re-hash every
    entry from there on (and the head in meta), so the register's own chain verifies again."""
    with register.session() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        prev = GENESIS_HASH
        for row in rows:
            if row.seq == seq:
                detail = json.loads(row.detail)
                change(detail)
                row.detail = json.dumps(detail, ensure_ascii=False, sort_keys=True,
                                        separators=(",", ":"))
            if row.seq >= seq:
                row.prev_hash = prev
                row.hash = entry_hash(row.seq, row.ts, row.actor, row.action, row.target,
                                      json.loads(row.detail), prev)
            prev = row.hash
        session.get(Meta, HEAD_KEY).value = f"{rows[-1].seq}:{rows[-1].hash}"
        session.commit()
        assert verify_audit_chain(session).ok


def sql_update(register: Register, record_id: str, **values: object) -> None:
    """A direct UPDATE of a record's values, as a SQLCipher shell would do it (no audit)."""
    with register.session() as session:
        data = json.loads(session.get(Record, record_id).data)
        data.update(values)
        session.execute(update(Record).where(Record.id == record_id)
                        .values(data=json.dumps(data, ensure_ascii=False)))
        session.commit()


def imported_db(dengji, db: Path, tmp_path: Path) -> tuple[list[dict], dict]:
    records = make_firm_records(seed=77, members=4)
    for form, rows in (("lawyer_member", records.members), ("party_org", [records.org])):
        path = tmp_path / f"{form}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                        "utf-8")
        result = dengji("import", "--db", db, "--form", form, path)
        assert result.code == 0, result.err
    return records.members, records.org


def test_import_entries_hold_the_digest_of_every_record(dengji, db: Path, tmp_path: Path
                                                       ) -> None:
    imported_db(dengji, db, tmp_path)
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        stored = session.execute(select(Record)).scalars().all()
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == "import")
                                  ).scalars().all()
        held = {}
        for e in entries:
            held.update(json.loads(e.detail)[RECORD_HASHES])
        assert held == {r.id: record_digest(r.id, r.form_id, r.form_version, r.revision,
                                            json.loads(r.data)) for r in stored}
        check = check_records(session)
    assert check.ok and check.checked == 5 and check.unhashed == 0
    result = dengji("audit", "--db", db)
    assert result.code == 0, result.err
    assert "5 条记录的内容与审计日志一致" in result.out


def test_a_direct_sql_update_is_found_and_named_without_personal_values(
        dengji, db: Path, tmp_path: Path) -> None:
    members, _ = imported_db(dengji, db, tmp_path)
    with open_register(db, PASSPHRASE) as reg:
        with reg.session() as session:
            victim = session.execute(select(Record).where(Record.form_id == "lawyer_member")
                                     .order_by(Record.id)).scalars().first()
            name = victim.name
        sql_update(reg, victim.id, mobile="13900000000")
    result = dengji("audit", "--db", db)
    assert result.code == 1
    assert "哈希链校验通过" in result.out  # the chain itself is intact: only the record moved
    assert victim.id in result.err and "lawyer_member" in result.err
    assert f"{name[0]}{'*' * (len(name) - 1)}" in result.err
    assert name not in result.err and "13900000000" not in result.err
    assert "在登记软件之外被直接改动" in result.err and "dengji restore" in result.err
    for m in members:
        assert m["公民身份号码"] not in result.out + result.err


def test_a_changed_revision_or_form_version_is_found(dengji, db: Path, tmp_path: Path) -> None:
    imported_db(dengji, db, tmp_path)
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        first, second = session.execute(select(Record.id).order_by(Record.id).limit(2)
                                        ).scalars().all()
        session.execute(update(Record).where(Record.id == first).values(revision=7))
        session.execute(update(Record).where(Record.id == second).values(form_version="0.1"))
        session.commit()
        check = check_records(session)
    assert {c.record_id for c in check.changed} == {first, second}
    assert check.checked == 5


def test_edits_through_the_application_keep_the_check_passing(store: str) -> None:
    from desktop.services.registers import init_register
    from desktop.storage import KdfParams

    forms = shipped_forms()
    reg = init_register(store, "记录审计口令-Correct-9", level="firm",
                        unit_name="测试律师事务所党支部", unit_code="31110000MD0123456X",
                        kdf=KdfParams(n=2**10, r=8, p=1))
    try:
        records = make_firm_records(seed=5, members=1)
        edit = EditSession(reg, forms, forms.form("lawyer_member"), reg.own_unit_id,
                           actor="测试员")
        for label, raw in records.members[0].items():
            edit.set_raw(edit.form.field_by_label(label).id, raw)
        assert edit.save()
        edit.set_raw("mobile", "13800000001")
        assert edit.save()  # a second revision: the newest entry is the one compared
        with reg.session() as session:
            last = session.execute(select(AuditEntry).where(AuditEntry.target == edit.record_id)
                                   .order_by(AuditEntry.seq.desc())).scalars().first()
            assert json.loads(last.detail)["revision"] == 2
            assert json.loads(last.detail)[RECORD_HASH]
            assert check_records(session).ok
        sql_update(reg, edit.record_id, mobile="13800000002")
        with reg.session() as session:
            [changed] = check_records(session).changed
        assert changed.record_id == edit.record_id and changed.seq == last.seq
        # a rewrite of the chain hides it here; the level above sees that (test_audit_anchor)
        with reg.session() as session:
            now = session.get(Record, edit.record_id)
            fresh = record_digest(now.id, now.form_id, now.form_version, now.revision,
                                  json.loads(now.data))
        rewrite_chain(reg, last.seq, lambda d: d.update({RECORD_HASH: fresh}))
        with reg.session() as session:
            assert check_records(session).ok
    finally:
        reg.close()


def test_entries_without_digests_are_counted_not_judged(dengji, db: Path, tmp_path: Path
                                                       ) -> None:
    imported_db(dengji, db, tmp_path)
    with open_register(db, PASSPHRASE) as reg:
        with reg.session() as session:
            first = session.execute(select(AuditEntry.seq).where(AuditEntry.action == "import")
                                    .order_by(AuditEntry.seq)).scalars().first()
        rewrite_chain(reg, first, lambda d: d.pop(RECORD_HASHES))  # as an older version wrote
    result = dengji("audit", "--db", db)
    assert result.code == 0, result.err
    assert "1 条记录的内容与审计日志一致" in result.out
    assert "另有 4 条记录的最后一次改动早于审计日志记录内容摘要" in result.out


def test_a_register_of_an_older_version_passes_with_its_records_counted(tmp_path: Path) -> None:
    path = tmp_path / "old.dengji"
    shutil.copy(FIXTURE_V1, path)
    with open_register(path, V1_PASSPHRASE) as reg, reg.session() as session:
        check = check_records(session)
        assert session.execute(text("SELECT count(*) FROM audit_anchor")).scalar_one() == 0
    assert check.ok and check.checked == 0 and check.unhashed == 5
    assert "另有 5 条记录" in check.message


def test_audit_command_reports_both_checks(dengji: Callable[..., Run], db: Path) -> None:
    result = dengji("audit", "--db", db)
    assert result.code == 0
    assert "哈希链校验通过" in result.out and "0 条记录的内容与审计日志一致" in result.out
