"""A reviewer role looks and prints but does not change (issue 18), enforced by PostgreSQL:
the grants and row-level security of `role_statements` let a reviewer append to the audit log
(under its own role) and nothing else; audited reads (Excel, print, 显示完整, 开放数据) work and
are logged under the reviewer's role; direct SQL as the reviewer (or as a clerk in another's
name) is refused by the server; on a database set up with the older grants an audited read is
refused before any file is written, saying what the administrator must run."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from desktop.errors import KnownError
from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services.exporting import export_excel
from desktop.services.listing import reveal
from desktop.services.opendata import export_open
from desktop.services.printing import print_records, print_tables
from desktop.storage import AuditEntry, Meta, Record, open_register, verify_audit_chain
from desktop.storage.concurrency import audit_refusal, can_write, role_statements
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)
from tests.pg.test_concurrency import FORM, new_record, office, office_with  # noqa: F401
from tests.storage.conftest import FAST_KDF, PASSPHRASE

DOCS = Path(__file__).resolve().parents[2] / "docs" / "postgresql.md"
DENIED = psycopg.errors.InsufficientPrivilege


def old_statements(database: str, *, clerks: str, reviewers: str) -> list[str]:
    """What role_statements made before reviewers could append to the audit log."""
    both = f"{clerks}, {reviewers}"
    return [f"CREATE ROLE {clerks} NOLOGIN", f"CREATE ROLE {reviewers} NOLOGIN",
            f"GRANT CONNECT ON DATABASE {database} TO {both}",
            f"GRANT USAGE ON SCHEMA public TO {both}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {clerks}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {clerks}",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reviewers}"]


@pytest.fixture
def old_office(pg_cluster, pg_url, pg_database):  # noqa: F811
    yield from office_with(pg_cluster, pg_url, pg_database, old_statements)


def entries(url: str) -> list[tuple[int, str, str, str]]:
    """(seq, action, target, actor) of every audit entry, read by the owner."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT seq, action, target, actor FROM audit_entry "
                            "ORDER BY seq").fetchall()


def chain_ok(url: str) -> bool:
    with open_register(url, PASSPHRASE, kdf=FAST_KDF) as register, \
            register.session() as session:
        return verify_audit_chain(session).ok


def refused(url: str, sql: str, params: tuple = ()) -> psycopg.Error:
    """The error PostgreSQL answers `sql` run by the role of `url` with (nothing committed)."""
    with psycopg.connect(url) as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute(sql, params)
    return caught.value


# -- the statements ----------------------------------------------------------------------


def test_the_docs_show_exactly_the_statements_the_code_makes():
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("### Roles: clerks and reviewers"):text.index("## 2. The design")]
    block = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    lines = [line for line in block.splitlines() if not line.lstrip().startswith("--")]
    shown = [s.strip() for s in " ".join(lines).split(";") if s.strip()]
    assert shown == role_statements("dengji_province", owner="zhang")
    again = role_statements("dengji_province", owner="zhang", create=False)
    assert again == shown[2:] and not any("CREATE ROLE" in s for s in again)


@pytest.mark.parametrize("name", ["db; DROP TABLE record", "a b", "名册", "x'y", "a-b", ""])
def test_names_that_are_not_plain_sql_are_refused_everywhere(name):
    for kwargs in ({"database": name}, {"database": "d", "clerks": name},
                   {"database": "d", "reviewers": name}, {"database": "d", "owner": name}):
        if name == "" and "owner" in kwargs:
            continue  # no owner: no default privileges
        with pytest.raises(ValueError):
            role_statements(**kwargs)


def test_the_statements_can_be_run_again(office, pg_database):  # noqa: F811
    names = {"clerks": f"{pg_database}_clerks", "reviewers": f"{pg_database}_reviewers"}
    with psycopg.connect(office["owner"], autocommit=True) as conn:
        for sql in role_statements(pg_database, create=False, **names):
            conn.execute(sql)


# -- audited reads by a reviewer ---------------------------------------------------------


def test_a_reviewer_exports_prints_and_reveals_audited_under_its_role(office, tmp_path):  # noqa: F811
    rid = new_record(office["owner"])
    role = office["roles"]["reviewer_c"]
    before = entries(office["owner"])
    forms = shipped_forms()
    with open_register(office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        assert not can_write(register.engine)
        with register.session() as session:
            assert audit_refusal(session) is None
        out = tmp_path / "附件1.xlsx"
        result = run(export_excel(register, forms, FORM, out, actor="审阅员"))
        assert out.is_file() and result.path == out
        printed = run(print_records(register, forms, FORM, [rid], actor="审阅员"))
        assert printed.pages >= 1 and printed.pdf.startswith(b"%PDF")
        run(print_tables(register, forms, "lawyer_summary", actor="审阅员"))
        reveal(register, forms.form(FORM), [rid], "审阅员")
        opened = run(export_open(register, forms, tmp_path / "开放数据", actor="审阅员"))
        assert opened.folder.is_dir()
    new = entries(office["owner"])[len(before):]
    assert [(a, t) for _, a, t, _ in new] == [
        ("export_excel", "附件1.xlsx"), ("print", rid), ("print", "lawyer_summary"),
        ("reveal", FORM), ("open.export", "开放数据")]
    assert {actor for *_, actor in new} == {f"审阅员@{role}"}
    assert [seq for seq, *_ in new] == list(range(len(before) + 1, len(before) + 6))
    assert chain_ok(office["owner"])


def test_a_reviewer_cannot_change_anything_but_append_in_its_own_name(office):  # noqa: F811
    rid = new_record(office["owner"])
    me, clerk = office["roles"]["reviewer_c"], office["roles"]["clerk_a"]
    url, before = office["reviewer_c"], entries(office["owner"])
    with psycopg.connect(office["owner"]) as conn:
        meta_before = conn.execute("SELECT key, value FROM meta ORDER BY key").fetchall()
    for sql in ("UPDATE record SET revision = revision + 1",
                "DELETE FROM record",
                "INSERT INTO record SELECT * FROM record",
                "UPDATE meta SET value = 'x' WHERE key = 'own_unit_id'",  # WITH CHECK: loud
                "UPDATE meta SET key = 'audit_head2' WHERE key = 'audit_head'",  # not its column
                "UPDATE meta SET value = value",  # every row: refused, not partly done
                "INSERT INTO meta (key, value) VALUES ('x', 'y')",
                "DELETE FROM meta WHERE key = 'audit_head'",
                "UPDATE audit_entry SET actor = 'x'",
                "DELETE FROM audit_entry",
                "TRUNCATE audit_entry",
                "UPDATE unit SET name = 'x'"):
        assert isinstance(refused(url, sql), DENIED), sql
    insert = ("INSERT INTO audit_entry (seq, ts, actor, action, target, detail, prev_hash, hash)"
              " VALUES (100000, 't', %s, 'x', 'x', 'x', 'x', 'x')")
    for actor in (clerk, f"张三@{clerk}", f"{me}@{clerk}", f"x@{me}x", f"x{me}", "system", ""):
        assert isinstance(refused(url, insert, (actor,)), DENIED), actor
    # what it may do, rolled back: append in its own name and move the head row's value
    with psycopg.connect(url) as conn:
        conn.execute(insert, (f"张三@{me}",))
        conn.execute(insert.replace("100000", "100001"), (me,))
        conn.execute("UPDATE meta SET value = value WHERE key = 'audit_head'")
        conn.rollback()
    # and the records are still its to read
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT id FROM record").fetchall() == [(rid,)]
    with psycopg.connect(office["owner"]) as conn:
        assert conn.execute("SELECT key, value FROM meta ORDER BY key").fetchall() == meta_before
    assert entries(office["owner"]) == before


def test_a_clerk_appends_only_in_its_own_name_and_never_edits_the_log(office):  # noqa: F811
    new_record(office["clerk_a"])  # a clerk's save: the entry names the clerk's role
    me, other = office["roles"]["clerk_a"], office["roles"]["clerk_b"]
    assert entries(office["owner"])[-1][3] == f"建档员@{me}"
    before = entries(office["owner"])
    url = office["clerk_a"]
    insert = ("INSERT INTO audit_entry (seq, ts, actor, action, target, detail, prev_hash, hash)"
              " VALUES (100000, 't', %s, 'x', 'x', 'x', 'x', 'x')")
    for actor in (other, f"张三@{other}", office["roles"]["reviewer_c"]):
        assert isinstance(refused(url, insert, (actor,)), DENIED), actor
    for sql in ("UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry",
                "TRUNCATE audit_entry"):
        assert isinstance(refused(url, sql), DENIED), sql
    with psycopg.connect(url) as conn:  # the rest of meta stays the clerks'
        conn.execute("UPDATE meta SET value = value")
        conn.execute("INSERT INTO meta (key, value) VALUES ('probe', 'x')")
        conn.execute("DELETE FROM meta WHERE key = 'probe'")
        conn.rollback()
    assert entries(office["owner"]) == before and chain_ok(office["owner"])


def test_records_stay_unchanged_by_a_reviewer_through_the_program(office):  # noqa: F811
    rid = new_record(office["owner"])
    with open_register(office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        with register.session() as session, pytest.raises(Exception) as caught:
            session.get(Record, rid).revision += 1
            session.commit()
        assert "permission denied" in str(caught.value)
        with register.session() as session, pytest.raises(Exception) as caught:
            session.get(Meta, "own_unit_id").value = "x"
            session.commit()
        assert "row-level security" in str(caught.value)


# -- a database with the older grants ----------------------------------------------------


def test_with_the_old_grants_nothing_is_written_and_the_message_says_what_to_run(
        old_office, tmp_path, pg_database):  # noqa: F811
    rid = new_record(old_office["owner"])
    before = entries(old_office["owner"])
    forms = shipped_forms()
    out = tmp_path / "out"
    out.mkdir()
    with open_register(old_office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        attempts = [
            lambda: run(export_excel(register, forms, FORM, out / "附件1.xlsx", actor="审阅员")),
            lambda: run(export_excel(register, forms, FORM, out / "全.xlsx", full=True)),
            lambda: run(print_records(register, forms, FORM, [rid], actor="审阅员")),
            lambda: run(print_tables(register, forms, "lawyer_summary", actor="审阅员")),
            lambda: reveal(register, forms.form(FORM), [rid], "审阅员"),
            lambda: run(export_open(register, forms, out / "开放数据", actor="审阅员")),
        ]
        for attempt in attempts:
            with pytest.raises(KnownError) as caught:
                attempt()
            said = str(caught.value)
            assert old_office["roles"]["reviewer_c"] in said and "不能写入审计日志" in said
            assert "未生成任何文件" in said and "重新执行" in said
            assert "docs/postgresql.md" in said and "role_statements" in said
        # a masked preview is not audited: it still works
        assert run(print_records(register, forms, FORM, [rid], preview=True)).pages >= 1
    assert list(out.iterdir()) == [] and list(tmp_path.iterdir()) == [out]
    assert entries(old_office["owner"]) == before
    # the administrator runs the statements again (without CREATE ROLE): it works
    names = {"clerks": f"{pg_database}_clerks", "reviewers": f"{pg_database}_reviewers"}
    with psycopg.connect(old_office["owner"], autocommit=True) as conn:
        for sql in role_statements(pg_database, create=False, **names):
            conn.execute(sql)
    with open_register(old_office["reviewer_c"], PASSPHRASE, kdf=FAST_KDF) as register:
        run(export_excel(register, forms, FORM, out / "附件1.xlsx", actor="审阅员"))
    assert (out / "附件1.xlsx").is_file()
    with psycopg.connect(old_office["owner"]) as conn:
        actor, = conn.execute("SELECT actor FROM audit_entry ORDER BY seq DESC LIMIT 1"
                              ).fetchone()
    assert actor == f"审阅员@{old_office['roles']['reviewer_c']}"


def test_a_file_register_is_never_asked(tmp_path):
    from desktop.storage import create_register
    from tests.storage.conftest import OWN_UNIT

    with create_register(tmp_path / "r.dengji", PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        with register.session() as session:
            assert audit_refusal(session) is None
            assert session.execute(select(AuditEntry.seq)).first() is not None


@pytest.fixture
def as_office(dengji, monkeypatch):
    """`dengji` with the office's passphrase and key derivation (no re-wrap at open)."""
    from desktop.storage import crypto

    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)
    return dengji


def test_the_commands_export_and_print_as_a_reviewer(office, as_office, tmp_path):  # noqa: F811
    dengji = as_office
    rid = new_record(office["owner"])
    out = tmp_path / "new"
    out.mkdir()
    done = dengji("export-excel", "--db", office["reviewer_c"], "--form", FORM,
                  "--out", out / "附件1.xlsx")
    assert done.code == 0 and (out / "附件1.xlsx").is_file()
    done = dengji("print", "--db", office["reviewer_c"], "--form", FORM, "--record", rid,
                  "--out", out / "记录.pdf")
    assert done.code == 0 and (out / "记录.pdf").is_file()
    assert [a for _, a, _, actor in entries(office["owner"])[-2:]
            if actor.endswith("@" + office["roles"]["reviewer_c"])] == ["export_excel", "print"]


def test_the_commands_with_the_old_grants_say_what_to_run_and_write_nothing(
        old_office, as_office, tmp_path):
    dengji = as_office
    rid = new_record(old_office["owner"])
    old = tmp_path / "old"
    old.mkdir()
    for argv in (("export-excel", "--out", old / "附件1.xlsx"),
                 ("print", "--record", rid, "--out", old / "记录.pdf")):
        done = dengji(argv[0], "--db", old_office["reviewer_c"], "--form", FORM, *argv[1:])
        assert done.code == 1 and "不能写入审计日志" in done.err and "重新执行" in done.err
    assert list(old.iterdir()) == []


def test_a_workbook_whose_audit_entry_fails_is_removed(tmp_path, monkeypatch):
    """A refusal the check did not foresee (a grant revoked meanwhile, a lost connection): the
    workbook does not stay behind without its entry."""
    from desktop.services import exporting
    from desktop.storage import create_register
    from tests.storage.conftest import OWN_UNIT

    def refused(*_a, **_k):
        raise KnownError("审计日志写入失败")

    monkeypatch.setattr(exporting, "append_audit", refused)
    out = tmp_path / "附件1.xlsx"
    with create_register(tmp_path / "r.dengji", PASSPHRASE, OWN_UNIT, kdf=FAST_KDF) as register:
        with pytest.raises(KnownError):
            run(export_excel(register, shipped_forms(), FORM, out))
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["r.dengji"]
