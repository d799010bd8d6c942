"""Bulk insert of records and their unique keys; duplicate lookup."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from desktop.domain.states import COMPLETE
from desktop.storage import Record, RecordKey, Register, bulk_insert_records, find_keys


@pytest.fixture
def register(store_register: Register) -> Register:
    """These tests hold on both stores: a SQLCipher file and a PostgreSQL database."""
    return store_register


def make_batch(register: Register, count: int) -> tuple[list[dict], list[dict], list[str]]:
    """`count` lawyer records; every 100th person also appears a second time."""
    records, keys, ids = [], [], []
    for n in range(count):
        person = n - 1 if n % 100 == 1 else n  # record 1 repeats person 0, 101 repeats 100, ...
        record_id = str(uuid.uuid4())
        id_number = f"11010119900307{person:04d}"
        person_key = register.person_hash(id_number)
        records.append({
            "id": record_id,
            "form_id": "lawyer_member",
            "form_version": "1",
            "unit_id": register.own_unit_id,
            "data": json.dumps({"姓名": f"张{n}", "公民身份号码": id_number}, ensure_ascii=False),
            "name": f"张{n}",
            "person_key": person_key,
        })
        keys.append({"record_id": record_id, "form_id": "lawyer_member", "kind": "person",
                     "value": person_key})
        keys.append({"record_id": record_id, "form_id": "lawyer_member", "kind": "licence",
                     "value": register.key_hash("licence", f"1310120{n:08d}")})
        ids.append(record_id)
    return records, keys, ids


def test_bulk_insert_and_find_duplicates(register: Register) -> None:
    records, keys, ids = make_batch(register, 10_000)
    with register.session() as session:
        bulk_insert_records(session, records, keys)
        session.commit()

    with register.session() as session:
        assert session.execute(select(func.count()).select_from(Record)).scalar_one() == 10_000
        assert session.execute(select(func.count()).select_from(RecordKey)).scalar_one() == 20_000
        first = session.get(Record, ids[0])
        assert (first.state, first.revision, first.name) == (COMPLETE, 1, "张0")  # a file's records come in complete
        assert first.created_at.tzinfo is not None

        people = [r["person_key"] for r in records]
        found = find_keys(session, "person", people)
    duplicates = {value: hits for value, hits in found.items() if len(hits) > 1}
    assert len(duplicates) == 100
    zero = register.person_hash("110101199003070000")
    assert sorted(rid for rid, _ in duplicates[zero]) == sorted([ids[0], ids[1]])
    assert {form for hits in duplicates.values() for _, form in hits} == {"lawyer_member"}
    assert len(found) == 9_900  # every distinct person


def test_find_keys_excludes_and_skips_unknown(register: Register) -> None:
    records, keys, ids = make_batch(register, 300)
    with register.session() as session:
        bulk_insert_records(session, records, keys)
        zero = register.person_hash("110101199003070000")
        found = find_keys(session, "person", [zero, "not-there"], exclude_record_ids={ids[1]})
        assert found == {zero: [(ids[0], "lawyer_member")]}
        assert find_keys(session, "licence", [zero]) == {}  # kinds do not mix
        assert find_keys(session, "person", []) == {}


def test_bulk_insert_uses_the_caller_transaction(register: Register) -> None:
    records, keys, _ = make_batch(register, 50)
    with register.session() as session:
        bulk_insert_records(session, records, keys)
        session.rollback()
    with register.session() as session:
        assert session.execute(select(func.count()).select_from(Record)).scalar_one() == 0


def test_bulk_insert_on_a_connection_with_defaults(register: Register) -> None:
    with register.engine.begin() as conn:
        bulk_insert_records(conn, [{"form_id": "staff_member", "form_version": "1",
                                    "unit_id": register.own_unit_id,
                                    "data": {"姓名": "王五"}, "name": "王五"}], [])
    with register.session() as session:
        row = session.execute(select(Record)).scalar_one()
    assert uuid.UUID(row.id) and row.person_key is None and json.loads(row.data) == {"姓名": "王五"}


def test_foreign_keys_are_enforced(register: Register) -> None:
    records, _, _ = make_batch(register, 1)
    records[0]["unit_id"] = "no-such-unit"
    with register.session() as session, pytest.raises(IntegrityError):
        bulk_insert_records(session, records, [])


def test_deleting_a_record_deletes_its_keys(register: Register) -> None:
    records, keys, ids = make_batch(register, 3)
    with register.session() as session:
        bulk_insert_records(session, records, keys)
        session.execute(text("DELETE FROM record WHERE id = :id"), {"id": ids[0]})
        left = session.execute(select(RecordKey.record_id)).scalars().all()
        session.commit()
    assert ids[0] not in left and len(left) == 4


def test_unknown_columns_are_refused(register: Register) -> None:
    with register.session() as session, pytest.raises(ValueError, match="unknown record columns"):
        bulk_insert_records(session, [{"form_id": "x", "colour": "red"}], [])
