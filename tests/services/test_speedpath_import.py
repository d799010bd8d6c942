"""The pipelined import (services/importing.py with services/rowcheck.py): chunks are written
while later chunks are still being checked, yet the import stays all or nothing, a row found
bad after it was written is taken out again (--partial), and what is stored is what the
one-pass import stored. Every test runs on a file and on PostgreSQL (`db`, `db_society`:
tests/services/conftest.py)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from desktop.domain.identifiers import normalise_id
from desktop.progress import run
from desktop.services.intake import checking, rowcheck
from desktop.services.intake.importing import import_file
from desktop.storage import open_register
from desktop.storage.server.sealing import blind_value
from tests.conftest import PASSPHRASE, count_records, make_firm_records
from tests.services.conftest import plain


@pytest.fixture
def small_chunks(monkeypatch):
    """Every file goes through the workers in chunks of a few rows."""
    monkeypatch.setattr(checking, "PARALLEL_FROM_BYTES", 1)
    monkeypatch.setattr(rowcheck, "CHUNK_BYTES", 2000)
    monkeypatch.setattr(rowcheck, "workers", lambda: 2)


def members(n: int, seed: int = 31) -> list[dict]:
    return [dict(m) for m in make_firm_records(seed=seed, members=n).members]


def do_import(db, forms, path, form_id="lawyer_member", **kw):
    with open_register(db, PASSPHRASE) as reg:
        return run(import_file(reg, forms, forms.form(form_id), path, **kw))


def table_state(db) -> tuple[list, list]:
    """The record and key tables as raw SQL reads them, the sealed columns opened."""
    with open_register(db, PASSPHRASE) as reg, reg.session() as s:
        records = [(rid, plain(reg, "record", "data", rid, data),
                    plain(reg, "record", "name", rid, name), person_key)
                   for rid, data, name, person_key in s.execute(
                       text("SELECT id, data, name, person_key FROM record"))]
        keys = [tuple(k) for k in s.execute(text("SELECT record_id, kind, value FROM record_key"))]
    return sorted(records), sorted(keys)


def test_chunks_are_written_and_stored_as_before(db, forms, jsonl, small_chunks):
    rows = members(40)
    result = do_import(db, forms, jsonl(rows))
    assert (result.imported, result.refused) == (40, 0)
    records, keys = table_state(db)
    assert len(records) == 40 and len(keys) == 80
    assert {r[0] for r in records} == {k[0] for k in keys}  # no key without its record
    with open_register(db, PASSPHRASE) as reg:
        by_name = {r[2]: r for r in records}
        for m in rows:
            rid, data, _name, person_key = by_name[m["姓名"]]
            assert str(uuid.UUID(rid)) == rid
            assert person_key == reg.person_hash(normalise_id(m["公民身份号码"]))
            assert json.loads(data)["id_number"] == m["公民身份号码"]
            person = blind_value(reg.engine, reg.key_hash("person", m["公民身份号码"]))
            assert (rid, "person", person) in keys


def test_a_late_duplicate_refuses_everything(db, forms, jsonl, small_chunks):
    rows = members(40)
    assert do_import(db, forms, jsonl(rows[:3], "first.jsonl")).imported == 3
    before = table_state(db)
    again = rows[3:] + [rows[1]]  # the last row is already in the register
    result = do_import(db, forms, jsonl(again, "again.jsonl"))
    assert (result.imported, result.refused) == (0, 1)
    bad = [r for r in result.rows if r.findings and any(
        f.code == "duplicate_in_register" for f in r.findings)]
    assert [r.no for r in bad] == [len(again)]
    assert table_state(db) == before  # nothing of the chunks written before it stayed


def test_partial_takes_out_a_row_found_bad_later(db, forms, jsonl, small_chunks):
    rows = members(40)
    twin = dict(rows[30], 公民身份号码=rows[2]["公民身份号码"], 性别=rows[2]["性别"],
                出生日期=rows[2]["出生日期"])  # the same person as row 3, far below it
    rows[30] = twin
    result = do_import(db, forms, jsonl(rows), partial=True)
    assert (result.imported, result.refused) == (38, 2)
    refused = {r.no for r in result.refused_rows}
    assert refused == {3, 31}
    records, keys = table_state(db)
    assert len(records) == 38
    assert {r[0] for r in records} == {k[0] for k in keys}
    assert rows[2]["姓名"] not in {r[2] for r in records}
    assert count_records(db) == 38


def test_all_or_nothing_with_a_bad_row_in_the_first_chunk(db, forms, jsonl, small_chunks):
    rows = members(40)
    rows[0]["出生日期"] = "不是日期"
    result = do_import(db, forms, jsonl(rows))
    assert result.imported == 0 and result.refused == 1
    assert count_records(db) == 0


def test_a_workbook_imports_through_the_same_pipeline(db, forms, tmp_path, monkeypatch):
    from openpyxl import Workbook

    from desktop.services.intake import workbook as excel

    monkeypatch.setattr(excel, "PARALLEL_FROM", 5)
    monkeypatch.setattr(rowcheck, "CHUNK_ROWS", 7)
    monkeypatch.setattr(rowcheck, "workers", lambda: 2)
    rows = members(30)
    heads = list(rows[0])
    wb = Workbook()
    ws = wb.active
    ws.append(heads)
    for r in rows:
        ws.append([r.get(h, "") for h in heads])
    path = tmp_path / "名册.xlsx"
    wb.save(path)
    result = do_import(db, forms, path, sheet="Sheet", mapping=None)
    assert (result.imported, result.refused) == (30, 0)
    assert [r.no for r in result.rows] == list(range(2, 32))
    assert count_records(db, "lawyer_member") == 30
    with open_register(db, PASSPHRASE) as reg, reg.session() as s:
        seq, detail = s.execute(text("SELECT seq, detail FROM audit_entry WHERE action = 'import'")
                                ).one()
        detail = plain(reg, "audit_entry", "detail", seq, detail)
    assert json.loads(detail)["sheet"] == "Sheet"


def test_society_register_keeps_duplicates_and_members_without_id(db_society, forms, jsonl,
                                                                   small_chunks):
    from tests.society.legacy import legacy_rows

    data, truth = legacy_rows(300, seed=5)
    result = do_import(db_society, forms, jsonl(data), form_id="society_member")
    assert (result.imported, result.refused) == (300, 0)
    assert truth.without_id > 0 and truth.extra_same_id > 0
    records, keys = table_state(db_society)
    with open_register(db_society, PASSPHRASE) as reg:
        people = {reg.person_hash(normalise_id(r["公民身份号码"])) for r in data
                  if r.get("公民身份号码")}
    assert {r[3] for r in records if r[3]} == people
    assert sum(1 for r in records if r[3] is None) == truth.without_id


@pytest.fixture
def db_society(dengji, store):
    """A law society's register on each store."""
    assert dengji("init", "--db", store, "--level", "society-province", "--unit-name",
                  "辽宁省法学会", "--unit-code", "024").code == 0
    return store
