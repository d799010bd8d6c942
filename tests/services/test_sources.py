"""Reading .jsonl files: a bad line is a finding on its row, an unreadable file a UsageError."""

from __future__ import annotations

import json

import pytest

from desktop.errors import UsageError
from desktop.services.intake.jsonl import MAX_LINE_BYTES, read_rows


def problems(rows):
    return [(r.no, r.problem.code) for r in rows if r.problem is not None]


def test_rows_are_numbered_by_line_and_blank_lines_skipped(jsonl):
    path = jsonl([{"姓名": "甲"}, "", "   ", {"姓名": "乙"}, "\t"])
    rows = read_rows(path)
    assert [(r.no, r.raw) for r in rows] == [(1, {"姓名": "甲"}), (4, {"姓名": "乙"})]


def test_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes('\ufeff{"姓名": "甲"}\r\n{"姓名": "乙"}\r\n'.encode())
    assert [r.raw for r in read_rows(path)] == [{"姓名": "甲"}, {"姓名": "乙"}]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ('{"姓名": "甲"', "json_invalid"),
        ("姓名=甲", "json_invalid"),
        ('{"姓名": "甲"} {"姓名": "乙"}', "json_invalid"),
        ('["姓名", "甲"]', "json_not_object"),
        ('"甲"', "json_not_object"),
        ("42", "json_not_object"),
        ("null", "json_not_object"),
        ("姓名,性别".encode("gbk"), "not_utf8"),
        ('{"姓名": "甲"}'.encode("utf-16"), "not_utf8"),
    ],
)
def test_bad_lines_are_findings_naming_the_line(jsonl, line, code):
    rows = read_rows(jsonl([{"姓名": "甲"}, line, {"姓名": "乙"}]))
    assert problems(rows) == [(2, code)]
    bad = rows[1]
    assert bad.raw is None
    assert bad.problem.severity == "E" and bad.problem.field == ""
    assert bad.problem.message.startswith("第 2 行")
    assert [r.raw for r in rows if r.raw] == [{"姓名": "甲"}, {"姓名": "乙"}]


def test_a_line_over_1_mib_is_skipped_and_numbering_goes_on(jsonl):
    long_line = json.dumps({"备注": "长" * MAX_LINE_BYTES}, ensure_ascii=False)
    rows = read_rows(jsonl([{"姓名": "甲"}, long_line, {"姓名": "乙"}]))
    assert problems(rows) == [(2, "line_too_long")]
    assert "1024 KB" in rows[1].problem.message
    assert [(r.no, r.raw) for r in rows if r.raw] == [(1, {"姓名": "甲"}), (3, {"姓名": "乙"})]


def _object_line(n_bytes: int) -> str:
    """A JSON object line of exactly n_bytes UTF-8 bytes (without its newline)."""
    head, tail = '{"备注": "', '"}'
    line = head + "x" * (n_bytes - len(head.encode()) - len(tail)) + tail
    assert len(line.encode()) == n_bytes
    return line


def test_the_1_mib_limit_is_exact(jsonl):
    rows = read_rows(
        jsonl([_object_line(MAX_LINE_BYTES), _object_line(MAX_LINE_BYTES + 1), {"姓名": "乙"}])
    )
    assert problems(rows) == [(2, "line_too_long")]
    assert rows[0].raw is not None and len(rows[0].raw["备注"]) > 1000
    assert rows[2].raw == {"姓名": "乙"}


def test_a_long_last_line_without_newline(tmp_path):
    path = tmp_path / "tail.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b"x" * (MAX_LINE_BYTES + 10))
    assert problems(read_rows(path)) == [(2, "line_too_long")]


NESTED = "[" * 100_000 + "]" * 100_000
HUGE_INT = '{"执业律师总数": ' + "1" * 5000 + "}"


@pytest.mark.parametrize(
    "line",
    [pytest.param(NESTED, id="nested"), pytest.param(HUGE_INT, id="huge-int")],
)
def test_pathological_json_is_a_finding(jsonl, line):
    rows = read_rows(jsonl([{"姓名": "甲"}, line]))
    assert problems(rows) == [(2, "json_invalid")]


@pytest.mark.parametrize("content", [b"", b"\n\n   \n"])
def test_a_file_without_records_is_refused(tmp_path, content):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    with pytest.raises(UsageError, match="没有任何记录") as info:
        read_rows(path)
    assert info.value.exit_code == 2 and str(path) in str(info.value)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("rows.txt", "无法识别的文件类型"),
        ("rows.csv", "无法识别的文件类型"),
        ("rows.xlsx", "Excel"),
        ("rows", "无法识别的文件类型"),
    ],
)
def test_other_file_types_are_refused(tmp_path, name, words):
    path = tmp_path / name
    path.write_text('{"姓名": "甲"}\n', encoding="utf-8")
    with pytest.raises(UsageError, match=words) as info:
        read_rows(path)
    assert name in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(UsageError, match="找不到文件"):
        read_rows(tmp_path / "nope.jsonl")
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(UsageError, match="文件夹"):
        read_rows(tmp_path / "dir.jsonl")


def test_upper_case_suffix_is_accepted(tmp_path):
    path = tmp_path / "ROWS.JSONL"
    path.write_text('{"姓名": "甲"}\n', encoding="utf-8")
    assert read_rows(path)[0].raw == {"姓名": "甲"}
