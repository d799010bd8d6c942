"""Issue 14, privacy at the edges: crash reports hold no personal data and are owner-only; no
ID number on a command line; values from files and packages cannot steer the terminal."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from desktop.commands.common import TerminalGuard, escape_controls
from desktop.errors import crash_report
from tests.conftest import assert_no_crash, count_records, make_firm_records

# --- crash reports ----------------------------------------------------------------------------


def personal_values(members: list[dict]) -> list[str]:
    """Every name, number and date the imported rows hold (4 characters and more, so that the
    search cannot hit the report's own words by chance)."""
    out = set()
    for m in members:
        for key in ("姓名", "公民身份号码", "手机号码", "出生日期", "律师执业证号"):
            value = str(m.get(key) or "")
            if len(value) >= 2:
                out.add(value)
    return sorted(out)


def raise_with_parameters(members):
    """A storage call failing as SQLAlchemy does: the message carries the statement's
    parameters (the rows being written)."""
    params = [(m["姓名"], m["公民身份号码"], m.get("手机号码")) for m in members]

    def fail(*_a, **_k):
        raise IntegrityError("INSERT INTO record (name, id_number, mobile) VALUES (?, ?, ?)",
                             params, sqlite3.IntegrityError(
                                 f"UNIQUE constraint failed: {members[0]['公民身份号码']}"))

    return fail


def raise_with_value(members):
    def fail(*_a, **_k):
        try:
            raise KeyError(members[1]["手机号码"])
        except KeyError as inner:
            raise ValueError(f"无法处理 {members[0]['姓名']} 的号码 {members[0]['公民身份号码']}"
                             ) from inner

    return fail


@pytest.mark.parametrize("make_error", [raise_with_parameters, raise_with_value])
def test_a_crash_during_import_leaves_no_personal_data_in_the_report(
        dengji, db, jsonl, tmp_path, monkeypatch, make_error):
    members = make_firm_records(seed=77, members=6).members
    failing = make_error(members)
    import desktop.services.intake.importing as importing
    monkeypatch.setattr(importing, "bulk_insert_rows", failing)
    monkeypatch.setattr(importing, "bulk_insert_records", failing)
    result = dengji("import", "--db", db, "--form", "lawyer_member", jsonl(members))
    assert result.code == 3 and "程序内部错误" in result.err
    reports = sorted((tmp_path / "home" / "reports").glob("crash-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in result.err
    text = reports[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "importing.py" in text  # it says where …
    assert ("IntegrityError" if make_error is raise_with_parameters else "ValueError") in text
    leaked = [v for v in personal_values(members) if v in text]
    assert leaked == []  # … and nothing of whom
    assert "INSERT" not in text and str(Path.home()) not in text
    assert stat.S_IMODE(reports[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(reports[0].parent.stat().st_mode) == 0o700
    assert count_records(db) == 0


def test_a_loose_reports_folder_is_made_owner_only(dengji, db, jsonl, tmp_path, monkeypatch):
    folder = tmp_path / "home" / "reports"
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    (folder / "crash-old.txt").write_text("x")
    members = make_firm_records(seed=78, members=2).members
    import desktop.services.intake.importing as importing
    monkeypatch.setattr(importing, "bulk_insert_rows", raise_with_value(members))
    monkeypatch.setattr(importing, "bulk_insert_records", raise_with_value(members))
    assert dengji("import", "--db", db, "--form", "lawyer_member", jsonl(members)).code == 3
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(list(folder.glob("crash-*.txt"))) == 2  # a report never overwrites another


def test_the_report_names_driver_codes_not_messages():
    err = sqlite3.OperationalError("no such table: 张三的表")
    try:
        try:
            raise err
        except sqlite3.OperationalError as inner:
            raise RuntimeError("王五 110105198005170014") from inner
    except RuntimeError as outer:
        text = crash_report(outer)
    assert "sqlite3.OperationalError" in text and "RuntimeError" in text
    assert "张三" not in text and "王五" not in text and "110105198005170014" not in text
    assert "direct cause" in text or "another exception" in text


# --- terminal output ----------------------------------------------------------------------------

RAW = ("\x1b", "\x9b", "\x07", "\x08", "\x7f", "\u202e", "\u2066", "\r")


def test_escape_controls_makes_every_control_visible():
    hostile = "\x1b[2J\x1b[H通过\r\x9b1m\u202eLTR\u2066\x00\x7f\x85"
    shown = escape_controls(hostile)
    assert not any(ch in shown for ch in RAW + ("\x00", "\x85"))
    assert "\\u001b[2J" in shown and "\\u202e" in shown and "通过" in shown
    assert json.loads(json.dumps(shown).replace("\\\\u", "\\u")) == hostile  # JSON-exact
    assert escape_controls("普通 text\n", keep="\n") == "普通 text\n"


def test_the_guard_passes_newlines_and_tabs_only():
    raw = io.StringIO()
    guard = TerminalGuard(raw)
    print("单位\t\x1b[31m红\x1b[0m\n第二行\r覆盖", file=guard)
    assert raw.getvalue() == "单位\t\\u001b[31m红\\u001b[0m\n第二行\\u000d覆盖\n"


def no_raw_controls(result) -> None:
    for stream in (result.out, result.err):
        assert not any(ch in stream for ch in RAW), repr(stream[:400])


def test_a_workbook_cell_with_escape_sequences_cannot_steer_the_terminal(
        dengji, db, tmp_path):
    import xlsxwriter

    path = tmp_path / "坏\x1b[2J表.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("附件1")
    for row, values in enumerate([["姓名", "性别", "公民身份号码", "备注"],
                                  ["\x1b[2J\x1b[H通过\u202e", "男", "110105198005170014\x1b[8m",
                                   "\x9b2J"]]):
        ws.write_row(row, 0, values)
    wb.close()
    for fmt in ("text", "json"):
        result = dengji("validate", "--form", "lawyer_member", "--format", fmt, path)
        assert_no_crash(result)
        no_raw_controls(result)
    result = dengji("import", "--db", db, "--form", "lawyer_member", path)
    no_raw_controls(result)
    assert result.code != 0 and count_records(db) == 0


def test_a_package_sender_name_cannot_print_a_fake_pass(dengji, tmp_path, jsonl):
    """A firm whose unit name and a member's name are escape sequences: `keys trust`,
    `verify` and `merge` at the city show them escaped."""
    firm, city = tmp_path / "firm.dengji", tmp_path / "city.dengji"
    hostile = "\x1b[2J\x1b[H通过\u202e律师事务所党支部\n核验通过。"
    assert dengji("init", "--db", city, "--level", "city", "--unit-name", "北京市律师行业党委",
                  "--unit-code", "110100").code == 0
    result = dengji("init", "--db", firm, "--level", "firm", "--unit-name", hostile,
                    "--unit-code", "31110000MD01234564", "--parent-code", "110100")
    no_raw_controls(result)
    assert result.code == 0, result.err
    city_key = tmp_path / "city.djkey"
    assert dengji("keys", "--db", city, "export-public", "--out", city_key).code == 0
    city_fp = dengji("keys", "--db", city, "show", "--format", "json").json()["fingerprint"]
    assert dengji("keys", "--db", firm, "trust", city_key, "--fingerprint", city_fp).code == 0
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    result = dengji("export", "--db", firm, "--out", outbox, "--no-files")
    no_raw_controls(result)
    assert result.code == 0, result.err
    package = next(outbox.glob("*.djpkg"))
    firm_fp = dengji("keys", "--db", firm, "show", "--format", "json").json()["fingerprint"]
    shown = ""
    for argv in (("keys", "--db", city, "trust", package, "--fingerprint", firm_fp),
                 ("verify", package), ("merge", "--db", city, package),
                 ("keys", "--db", city, "list"), ("keys", "--db", city, "list", "--format", "json")):
        result = dengji(*argv)
        assert_no_crash(result)
        no_raw_controls(result)
        shown += result.out + result.err
        lines = (result.out + result.err).splitlines()
        assert result.code == 0 or "核验通过。" not in lines  # no line of the sender's making
    assert "\\u001b[2J" in shown and "\\u000a核验通过。" in shown  # the name, visibly escaped


@pytest.mark.skipif(os.name != "posix", reason="file names with ESC")
def test_file_names_are_escaped_in_messages(dengji, tmp_path):
    path = tmp_path / "\x1b]0;标题\x07.jsonl"
    path.write_text("{\"姓名\": \"张三\"}\n", encoding="utf-8")
    result = dengji("validate", "--form", "lawyer_member", path)
    no_raw_controls(result)


# --- the window's crash reports -----------------------------------------------------------------

SECRET = ("张秀英", "110105198005170024")


def test_a_worker_bug_is_reported_without_its_message(qapp, tmp_path, monkeypatch):
    from desktop.ui.workers import TaskRunnable

    monkeypatch.setenv("DENGJI_HOME", str(tmp_path / "home"))

    def task():
        yield None
        raise ValueError(f"{SECRET[0]} 的号码 {SECRET[1]} 无法处理")

    job = TaskRunnable(task)
    said: list[str] = []
    job.signals.failed.connect(said.append)
    job.run()
    [message] = said
    [report] = (tmp_path / "home" / "reports").glob("crash-*.txt")
    assert str(report) in message and "程序内部错误" in message
    text = report.read_text(encoding="utf-8")
    assert "ValueError" in text and not any(s in text for s in SECRET)
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_the_windows_excepthook_keeps_no_message(qapp, tmp_path, monkeypatch, capsys):
    import desktop.ui.start as start

    monkeypatch.setenv("DENGJI_HOME", str(tmp_path / "home"))
    shown: list[str] = []
    monkeypatch.setattr(start.QMessageBox, "critical",
                        staticmethod(lambda _p, _t, text: shown.append(text)))
    try:
        raise KeyError(SECRET[1])
    except KeyError as err:
        start._report_bug(type(err), err, err.__traceback__)
    [report] = (tmp_path / "home" / "reports").glob("crash-*.txt")
    printed = capsys.readouterr().err
    for text in (report.read_text(encoding="utf-8"), printed, shown[0]):
        assert not any(s in text for s in SECRET)
    assert "KeyError" in printed and str(report) in shown[0]


def test_the_audit_log_names_files_not_the_folders_they_were_in(dengji, db, tmp_path):
    """The audit log travels upward in every package: an import or an Excel export names the
    file, never the folder it was in (a folder is often named for a person: 王敏的文件)."""
    from tests.society.conftest import audit_entries

    folder = tmp_path / "王敏的文件"
    folder.mkdir()
    rows = make_firm_records().members[:2]
    path = folder / "附件1.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    assert dengji("import", "--db", db, "--form", "lawyer_member", path).code in (0, 1)
    out = folder / "导出.xlsx"
    assert dengji("export-excel", "--db", db, "--form", "lawyer_member", "--out", out).code == 0
    entries = audit_entries(db)
    assert {"import", "export.excel"} & {action for _, action, _ in entries}
    text = json.dumps([detail for _, _, detail in entries], ensure_ascii=False)
    assert "王敏的文件" not in text and str(tmp_path) not in text
