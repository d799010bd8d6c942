"""`dengji` usage, `dengji init` and `dengji audit`, driven in process.

The tests on a register (`db`, `place`) run on a file and on PostgreSQL (tests/cli/conftest.py).
Usage errors and refusals that come before any register is opened or made (a short
passphrase, an unknown level, a blank unit, no passphrase) run once, on a file path; so do
the tests about the file itself (what init leaves on disk, a text file or a folder given as
the register), whose server counterpart is test_a_database_that_is_not_a_register."""

from __future__ import annotations

import pytest

from tests.conftest import (
    PASSPHRASE,
    UNIT_CODE,
    UNIT_NAME,
    count_records,
    has_cjk,
    stored_state,
)
from tests.stores import is_server


def init(dengji, path, *extra, level="firm"):
    return dengji(
        "init",
        "--db",
        path,
        "--level",
        level,
        "--unit-name",
        UNIT_NAME,
        "--unit-code",
        UNIT_CODE,
        *extra,
    )


def test_help_lists_the_commands(capsys):
    from desktop.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for command in ("init", "validate", "import", "audit", "print", "export", "merge"):
        assert command in out
    assert "登记 Dengji" in out


@pytest.mark.parametrize("argv", [["bogus"], ["verfy", "x.jsonl"]])
def test_unknown_subcommand(dengji, argv):
    result = dengji(*argv)
    assert result.code == 2
    assert "用法错误" in result.err and "无效的选项" in result.err
    assert argv[0] in result.err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["validate", "x.jsonl"], "缺少必需的参数"),
        (["validate", "--form", "no_such_form", "x.jsonl"], "无效的选项"),
        (["import", "--form", "lawyer_member", "x.jsonl"], "缺少必需的参数"),
        (["audit"], "缺少必需的参数"),
        (["audit", "--db", "a", "--verbose"], "无法识别的参数"),
    ],
)
def test_usage_errors_are_chinese_with_exit_2(dengji, argv, words):
    result = dengji(*argv)
    assert result.code == 2
    assert words in result.err
    assert "-h 查看帮助" in result.err


def test_init_creates_the_register(dengji, tmp_path):
    """The file itself (its size, its encrypted header, the files beside it); init on a server:
    tests/pg/test_cli_pg.py."""
    path = tmp_path / "sub" / "new.dengji"
    result = init(dengji, path)
    assert result.code == 0, result.err
    assert path.is_file() and path.stat().st_size >= 4096
    assert UNIT_NAME in result.out and UNIT_CODE in result.out
    assert not path.read_bytes().startswith(b"SQLite format 3")  # encrypted
    # no leftovers: the register and its recovery slot (issue 19), nothing else
    assert sorted(p.name for p in path.parent.iterdir()) == ["new.dengji", "new.dengji-recovery"]
    audit = dengji("audit", "--db", path)
    assert audit.code == 0 and "完整" in audit.out


def test_init_refuses_an_existing_register(dengji, db):
    before = stored_state(db)
    result = init(dengji, db)
    assert result.code == 1
    if is_server(db):
        assert "已经有登记库" in result.err and "未作任何改动" in result.err
    else:
        assert "已存在" in result.err and str(db) in result.err
    assert stored_state(db) == before


def test_init_refuses_an_existing_text_file(dengji, tmp_path):
    path = tmp_path / "notes.dengji"
    path.write_text("我的笔记", encoding="utf-8")
    assert init(dengji, path).code == 1
    assert path.read_text(encoding="utf-8") == "我的笔记"


@pytest.mark.parametrize("passphrase", ["", "1234567", "短口令"])
def test_init_refuses_a_short_passphrase(dengji, tmp_path, monkeypatch, passphrase):
    monkeypatch.setenv("DENGJI_PASSPHRASE", passphrase)
    path = tmp_path / "short.dengji"
    result = init(dengji, path)
    assert result.code == 1
    assert "口令至少需要 8 个字符" in result.err
    assert not path.exists()


def test_init_refuses_an_unknown_level(dengji, tmp_path):
    path = tmp_path / "x.dengji"
    result = init(dengji, path, level="county")
    assert result.code == 2
    assert "无效的选项" in result.err and "county" in result.err
    assert not path.exists()


def test_init_requires_the_unit(dengji, tmp_path):
    result = dengji("init", "--db", tmp_path / "x.dengji", "--level", "firm")
    assert result.code == 2 and "缺少必需的参数" in result.err


def test_init_refuses_a_blank_unit_name(dengji, tmp_path):
    result = dengji(
        "init",
        "--db",
        tmp_path / "x.dengji",
        "--level",
        "firm",
        "--unit-name",
        "  ",
        "--unit-code",
        UNIT_CODE,
    )
    assert result.code == 2 and "单位名称不能为空" in result.err


def test_without_a_passphrase_and_no_terminal(dengji, tmp_path, monkeypatch):
    monkeypatch.delenv("DENGJI_PASSPHRASE")
    result = init(dengji, tmp_path / "x.dengji")
    assert result.code == 2
    assert "DENGJI_PASSPHRASE" in result.err and has_cjk(result.err)


def test_audit_on_a_fresh_register(dengji, db):
    result = dengji("audit", "--db", db)
    assert result.code == 0
    # init, then the recovery key init makes (recovery.new, issue 19)
    assert "共 2 条记录" in result.out and "哈希链校验通过" in result.out


def test_audit_after_imports(dengji, db, live_firm_records, jsonl):
    members = jsonl(live_firm_records.members, "members.jsonl")
    org = jsonl([live_firm_records.org], "org.jsonl")
    assert dengji("import", "--db", db, "--form", "lawyer_member", members).code == 0
    assert dengji("import", "--db", db, "--form", "party_org", org).code == 0
    assert dengji("import", "--db", db, "--form", "party_org", org).code == 1  # refused
    result = dengji("audit", "--db", db)
    assert result.code == 0
    assert "共 4 条记录" in result.out  # init, recovery.new, two imports (the refused one: none)


def test_wrong_passphrase(dengji, db, monkeypatch, live_firm_records, jsonl):
    path = jsonl(live_firm_records.members)
    before = stored_state(db)
    monkeypatch.setenv("DENGJI_PASSPHRASE", "这不是正确的口令 wrong")
    for argv in (
        ["audit", "--db", db],
        ["import", "--db", db, "--form", "lawyer_member", path],
        ["validate", "--db", db, "--form", "lawyer_member", path],
    ):
        result = dengji(*argv)
        assert result.code == 1, argv
        assert result.err.strip() == (
            f"口令不正确，无法打开登记库 {db}。请检查口令（区分大小写）后重试。"
        )
        assert result.out == ""
    assert stored_state(db) == before
    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    assert count_records(db) == 0


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("这只是一个文本文件\n", "这是文本文件"),
        ("", "文件为空"),
    ],
)
def test_a_database_path_that_is_not_a_register(dengji, tmp_path, content, words):
    path = tmp_path / "notes.dengji"
    path.write_text(content, encoding="utf-8")
    result = dengji("audit", "--db", path)
    assert result.code == 2
    assert "不是登记库文件" in result.err and words in result.err
    assert path.read_text(encoding="utf-8") == content


def test_a_database_path_that_is_a_folder_or_missing(dengji, tmp_path):
    result = dengji("audit", "--db", tmp_path)
    assert result.code == 2 and "文件夹" in result.err
    result = dengji("audit", "--db", tmp_path / "missing.dengji")
    assert result.code == 2 and "找不到登记库文件" in result.err and "dengji init" in result.err


def test_broken_forms_folder_is_reported_with_the_file(
    dengji, tmp_path, monkeypatch, live_firm_records, jsonl
):
    import shutil

    from desktop.paths import forms_dir

    folder = tmp_path / "forms"
    shutil.copytree(forms_dir(), folder)
    text = (folder / "party_org.toml").read_text(encoding="utf-8")
    (folder / "party_org.toml").write_text(
        text.replace('type = "int"', 'type = "integer"', 1), encoding="utf-8"
    )
    monkeypatch.setenv("DENGJI_FORMS_DIR", str(folder))
    result = dengji("validate", "--form", "lawyer_member", jsonl(live_firm_records.members))
    assert result.code == 2
    assert "party_org.toml" in result.err and "integer" in result.err


def test_top_level_db_option_is_not_silently_ignored(dengji, db, jsonl, live_firm_records):
    path = jsonl(live_firm_records.members)
    assert dengji("import", "--db", db, "--form", "lawyer_member", path).code == 0
    # control: with the sub-command's --db the duplicates are found
    assert dengji("validate", "--db", db, "--form", "lawyer_member", path).code == 1
    result = dengji("--db", db, "validate", "--form", "lawyer_member", path)
    assert result.code == 2
    assert "--db 应写在命令之后" in result.err


def test_a_database_that_is_not_a_register(dengji, pg_url):
    """The server's counterpart of the two tests above: an empty database, and one holding
    another program's table, are refused by a command and by init, and left as they were."""
    import psycopg

    empty = dengji("audit", "--db", pg_url)
    assert empty.code == 2 and "不是登记库" in empty.err and "dengji init" in empty.err
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE notes (body text)")
        conn.execute("INSERT INTO notes VALUES ('我的笔记')")
    before = stored_state(pg_url)
    other = dengji("audit", "--db", pg_url)
    assert other.code == 2 and "不是登记库" in other.err
    refused = init(dengji, pg_url)
    assert refused.code == 1 and "不是空的" in refused.err and "notes" in refused.err
    assert stored_state(pg_url) == before
