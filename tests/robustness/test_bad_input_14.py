"""Bad input that crashed or passed silently (issue 14): each is now a clear Chinese message and
writes nothing. Driven through the command line as tests/cli does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
import xlsxwriter

import desktop.commands.common as common
from tests.cli.test_validate import parsed
from tests.conftest import assert_no_crash, count_records, make_firm_records, stored_data


def run(dengji, *argv):
    result = dengji(*argv)
    assert_no_crash(result)
    return result


# --- a .jsonl file ----------------------------------------------------------------------------


@pytest.fixture
def records():
    return make_firm_records(seed=1401, members=3, today=__import__("datetime").date.today())


def test_an_unknown_key_in_a_group_row_is_a_finding_naming_it(dengji, db, jsonl, records):
    org = json.loads(json.dumps(records.org, ensure_ascii=False))
    group = next(k for k, v in org.items() if isinstance(v, list) and v and isinstance(v[0], dict))
    org[group][0]["律所邮箱"] = "x@example.com"
    path = jsonl([org], "org.jsonl")
    result = run(dengji, "validate", "--form", "party_org", path)
    assert result.code == 1
    [(row, where, severity, message)] = [r[:4] for r in parsed(result) if "律所邮箱" in r[3]]
    assert (row, severity) == (1, "E") and "未知的栏目“律所邮箱”" in message and group in where
    result = run(dengji, "import", "--db", db, "--form", "party_org", path)
    assert result.code == 1 and count_records(db) == 0


def duplicate_line(member: dict, key: str, value: str) -> str:
    text = json.dumps(member, ensure_ascii=False)
    return text[:-1] + f', {json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}}}'


@pytest.mark.parametrize("key", ["姓名", "公民身份号码"])
def test_a_line_naming_a_field_twice_is_an_error_naming_it(dengji, db, jsonl, records, key):
    m = records.members
    path = jsonl([m[0], duplicate_line(m[1], key, "李四" if key == "姓名" else "110105198001010018"),
                  m[2]])
    result = run(dengji, "validate", "--form", "lawyer_member", "--format", "json", path)
    assert result.code == 1
    found = [d for d in result.json() if d["row"] == 2 and d["severity"] == "E"]
    assert any(f"“{key}”" in d["message"] and "两次" in d["message"] for d in found), found
    result = run(dengji, "import", "--db", db, "--form", "lawyer_member", path)
    assert result.code == 1 and count_records(db) == 0


def test_a_nested_duplicate_and_one_field_under_two_names(dengji, jsonl, records):
    org = json.loads(json.dumps(records.org, ensure_ascii=False))
    group = next(k for k, v in org.items() if isinstance(v, list) and v and isinstance(v[0], dict))
    row = json.dumps(org[group][0], ensure_ascii=False)
    sub = next(iter(org[group][0]))
    twice_inside = json.dumps(org, ensure_ascii=False).replace(
        row, row[:-1] + f', "{sub}": "另一个"}}')
    result = run(dengji, "validate", "--form", "party_org", jsonl([twice_inside], "o.jsonl"))
    assert result.code == 1 and f"两次写了栏目“{sub}”" in result.out
    m = dict(records.members[0], name="李四")  # 姓名 by its label and by its field id
    result = run(dengji, "validate", "--form", "lawyer_member", jsonl([m], "m.jsonl"))
    assert result.code == 1 and "写了两次" in result.out and "“name”" in result.out


def test_colons_in_values_do_not_make_a_duplicate(dengji, jsonl, records):
    m = dict(records.members[0], 备注="时间 10:30：地址 http://a.b:80")
    result = run(dengji, "validate", "--form", "lawyer_member", jsonl([m]))
    assert "两次" not in result.out


# --- a workbook -------------------------------------------------------------------------------


def bool_workbook(path: Path, member: dict, field: str, value: bool) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("附件1")
    keys = list(member)
    ws.write_row(0, 0, keys)
    for j, k in enumerate(keys):
        if k == field:
            ws.write_boolean(1, j, value)
        else:
            ws.write(1, j, member[k])
    wb.close()
    return path


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_cell_in_a_text_field_is_a_finding(dengji, db, tmp_path, records, value):
    path = bool_workbook(tmp_path / "bool.xlsx", records.members[0], "姓名", value)
    result = run(dengji, "validate", "--form", "lawyer_member", "--format", "json", path)
    assert result.code == 1
    [note] = [d for d in result.json() if d["code"] == "xlsx_bool_in_text"]
    assert note["severity"] == "E" and note["field"] == "姓名" and note["cell"] == "A2"
    assert ("TRUE" if value else "FALSE") in note["message"]
    result = run(dengji, "import", "--db", db, "--form", "lawyer_member", "--partial", path)
    assert count_records(db) == 0
    assert all(d.get("name") not in ("是", "否") for d in stored_data(db, "lawyer_member"))


# --- a register that cannot be written --------------------------------------------------------


def _chattr(flag: str, path: Path) -> bool:
    chattr = shutil.which("chattr")
    return bool(chattr) and subprocess.run([chattr, flag, str(path)],
                                           capture_output=True).returncode == 0


@contextmanager
def read_only(path: Path):
    """`path` (a file or folder) made read-only for this process: by its mode for a normal
    user; as root, whom modes do not stop, by the immutable attribute where the file system
    has it (else the test is skipped)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if not _chattr("+i", path):
        pytest.skip("running as root, and no immutable attribute here: permissions are not enforced")
    try:
        yield
    finally:
        _chattr("-i", path)


@pytest.fixture
def separate(dengji, tmp_path):
    """A register alone in its own folder (so that folder can be made read-only)."""
    folder = tmp_path / "库"
    folder.mkdir()
    path = folder / "register.dengji"
    result = dengji("init", "--db", path, "--level", "firm", "--unit-name",
                    "通商律师事务所（第1所）", "--unit-code", "311301028813998665")
    assert result.code == 0, result.err
    return path


def attempts(dengji, db, jsonl, records, out: Path):
    """import and export-excel of the register at `db`: each a clear message, nothing written."""
    path = jsonl(records.members)
    result = run(dengji, "import", "--db", db, "--form", "lawyer_member", path)
    assert result.code == 2 and "无法写入登记库" in result.err and "未写入任何内容" in result.err
    result = run(dengji, "export-excel", "--db", db, "--form", "lawyer_member", "--out", out)
    assert result.code == 2 and "无法写入登记库" in result.err
    assert not out.exists()


@pytest.mark.parametrize("what", ["file", "folder"])
@pytest.mark.parametrize("checked", [True, False], ids=["up-front", "while-writing"])
def test_a_read_only_register_is_said_plainly(dengji, separate, jsonl, records, tmp_path,
                                              monkeypatch, what, checked):
    if not checked:  # the permissions change after the check: the write itself is refused
        monkeypatch.setattr(common, "check_writable", lambda path: None)
    before = separate.read_bytes()
    target = separate if what == "file" else separate.parent
    with read_only(target):
        attempts(dengji, separate, jsonl, records, tmp_path / "导出.xlsx")
    assert count_records(separate) == 0
    if what == "file":
        assert separate.read_bytes() == before


def test_write_refused_is_recognised_through_wrappers():
    import sqlite3

    from sqlalchemy.exc import OperationalError

    inner = sqlite3.OperationalError("attempt to write a readonly database")
    inner.sqlite_errorname = "SQLITE_READONLY"
    assert common._write_refused(OperationalError("INSERT …", {}, inner))
    assert common._write_refused(RuntimeError("x").with_traceback(None)) is False
    try:
        try:
            raise PermissionError(13, "denied")
        except PermissionError as e:
            raise ValueError("wrapped") from e
    except ValueError as outer:
        assert common._write_refused(outer)
