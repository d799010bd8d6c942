"""The commands on a register in PostgreSQL: `dengji init --db postgresql://…`, then `dengji
import`, then `dengji export-excel`; the database itself holds no member's name or number."""

from __future__ import annotations

from datetime import date

import psycopg
from python_calamine import CalamineWorkbook

from tests.conftest import UNIT_CODE, UNIT_NAME, make_firm_records


def _xlsx_text(path) -> str:
    wb = CalamineWorkbook.from_path(str(path))
    return "\n".join("\t".join(str(c) for c in row)
                     for name in wb.sheet_names for row in wb.get_sheet_by_name(name).to_python())


def test_init_import_and_export_excel_on_postgresql(dengji, jsonl, pg_url, tmp_path):
    made = dengji("init", "--db", pg_url, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE)
    assert made.code == 0, made.err
    assert "已创建登记库" in made.out and "恢复密钥" in made.err
    again = dengji("init", "--db", pg_url, "--level", "firm", "--unit-name", UNIT_NAME,
                   "--unit-code", UNIT_CODE)
    assert again.code != 0 and "已经有登记库" in again.err

    records = make_firm_records(seed=1818, members=6, today=date.today())
    for form, rows in (("party_org", [records.org]), ("lawyer_member", records.members)):
        result = dengji("import", "--db", pg_url, "--form", form, jsonl(rows, f"{form}.jsonl"))
        assert result.code == 0, result.err

    book = tmp_path / "附件1.xlsx"
    result = dengji("export-excel", "--db", pg_url, "--form", "lawyer_member", "--out", book,
                    "--full")
    assert result.code == 0, result.err
    text = _xlsx_text(book)
    for member in records.members:
        assert member["姓名"] in text and member["公民身份号码"] in text

    audit = dengji("audit", "--db", pg_url)
    assert audit.code == 0, audit.err

    with psycopg.connect(pg_url) as conn:
        stored = repr(conn.execute("SELECT * FROM record").fetchall()
                      + conn.execute("SELECT * FROM audit_entry").fetchall())
        assert conn.execute("SELECT count(*) FROM record").fetchone()[0] == 7
    for member in records.members:
        assert member["姓名"] not in stored and member["公民身份号码"] not in stored


def test_a_url_with_a_password_is_refused_by_every_command(dengji):
    result = dengji("audit", "--db", "postgresql://clerk:hunter2@db.example/register")
    assert result.code != 0 and ".pgpass" in result.err and "hunter2" not in result.err


def test_a_duplicate_is_found_through_the_keyed_hashes_on_postgresql(dengji, jsonl, pg_url):
    assert dengji("init", "--db", pg_url, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE).code == 0
    records = make_firm_records(seed=1819, members=3, today=date.today())
    rows = jsonl(records.members, "members.jsonl")
    assert dengji("import", "--db", pg_url, "--form", "lawyer_member", rows).code == 0
    again = dengji("import", "--db", pg_url, "--form", "lawyer_member", "--format", "json", rows)
    assert again.code != 0
    assert {f["severity"] for f in again.json()} == {"E"}
    assert len(again.json()) >= 3
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM record").fetchone()[0] == 3


def test_backup_on_postgresql_and_restore_left_to_pg_restore(dengji, pg_url, tmp_path):
    assert dengji("init", "--db", pg_url, "--level", "firm", "--unit-name", UNIT_NAME,
                  "--unit-code", UNIT_CODE).code == 0
    out = tmp_path / "省登记库.dump"
    result = dengji("backup", "--db", pg_url, "--out", out)
    assert result.code == 0, result.err
    assert out.read_bytes().startswith(b"PGDMP") and "校验通过" in result.out
    refused = dengji("restore", "--db", pg_url, out)
    assert refused.code != 0 and "pg_restore" in refused.err


def test_every_db_option_takes_a_url_and_a_path():
    from pathlib import Path

    from desktop.cli import build_parser
    from desktop.storage.server import ServerLocation

    parser = build_parser()
    url = "postgresql:///dj?host=/run/postgresql"
    nested = parser.parse_args(["records", "void", "--db", url, "--id", "x"])
    assert nested.db == ServerLocation(url) and str(nested.db) == url
    assert parser.parse_args(["audit", "--db", "库.dengji"]).db == Path("库.dengji")
    found = []

    def walk(p):
        for action in p._actions:
            if "--db" in action.option_strings:
                found.append(action.type)
            if isinstance(action.choices, dict):
                for child in action.choices.values():
                    walk(child)

    walk(parser)
    assert len(found) > 30 and {getattr(t, "__name__", t) for t in found} == {
        "register_location"}
