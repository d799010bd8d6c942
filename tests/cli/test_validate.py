"""`dengji validate`: output formats, exit status, and bad input that must never crash."""

from __future__ import annotations

import json
import re

import pytest

from desktop.services.intake.jsonl import MAX_LINE_BYTES
from tests.conftest import assert_no_crash, has_cjk

LINE = re.compile(r"^(\d+)\t([^\t]*)\t([EWI])\t([^\t]+)$")


def validate(dengji, path, *extra, form="lawyer_member"):
    return dengji("validate", "--form", form, *extra, path)


def parsed(result):
    rows = []
    for line in result.out.splitlines():
        m = LINE.match(line)
        assert m, f"not row<TAB>label<TAB>E|W|I<TAB>message: {line!r}"
        rows.append((int(m[1]), m[2], m[3], m[4]))
    return rows


def test_clean_file(dengji, jsonl, live_firm_records):
    result = validate(dengji, jsonl(live_firm_records.members))
    assert result.code == 0
    assert result.out == ""
    assert "共 4 条记录，没有错误。" in result.err


def test_text_output_format(dengji, jsonl, live_firm_records):
    m = live_firm_records.members
    rows = [m[0], dict(m[1], 手机号码="12345"), dict(m[2], 家庭住址="一号")]
    result = validate(dengji, jsonl(rows))
    assert result.code == 1
    assert parsed(result) == [
        (2, "手机号码", "E", "“手机号码”应为 11 位手机号码（1 开头，第二位 3–9）"),
        (3, "家庭住址", "W", "“家庭住址”过短（少于 8 个字），请写完整"),
    ]
    assert "共 3 条记录，1 条有错误（E）。" in result.err


def test_warnings_alone_exit_0(dengji, jsonl, live_firm_records):
    result = validate(dengji, jsonl([dict(live_firm_records.members[0], 固定电话="85551234")]))
    assert result.code == 0
    assert [r[:3] for r in parsed(result)] == [(1, "固定电话", "W")]


def test_json_output(dengji, jsonl, live_firm_records):
    m = live_firm_records.members
    result = validate(
        dengji,
        jsonl([m[0], dict(m[1], 性别="男" if m[1]["性别"] == "女" else "女")]),
        "--format",
        "json",
    )
    assert result.code == 1
    data = result.json()
    assert isinstance(data, list) and data
    for item in data:
        assert set(item) == {"row", "field", "severity", "code", "message"}
        assert has_cjk(item["message"])
    assert {(d["row"], d["field"], d["severity"], d["code"]) for d in data} == {
        (2, "性别", "E", "sex_mismatch"),
        (2, "律师执业证号", "W", "licence_sex_mismatch"),
    }


def test_json_output_of_a_clean_file(dengji, jsonl, live_firm_records):
    result = validate(dengji, jsonl(live_firm_records.members), "--format", "json")
    assert (result.code, result.json()) == (0, [])


def test_missing_file(dengji, tmp_path):
    result = validate(dengji, tmp_path / "nope.jsonl")
    assert result.code == 2 and "找不到文件" in result.err and "nope.jsonl" in result.err


@pytest.mark.parametrize("content", [b"", b"\n \n"])
def test_empty_file(dengji, tmp_path, content):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    result = validate(dengji, path)
    assert result.code == 2 and "没有任何记录" in result.err


@pytest.mark.parametrize("name", ["rows.txt", "rows.xlsx", "rows.json"])
def test_wrong_file_type(dengji, tmp_path, name, live_firm_records):
    path = tmp_path / name
    path.write_text(json.dumps(live_firm_records.members[0], ensure_ascii=False), encoding="utf-8")
    result = validate(dengji, path)
    assert result.code == 2 and name in result.err and has_cjk(result.err)


def test_a_folder_instead_of_a_file(dengji, tmp_path):
    (tmp_path / "dir.jsonl").mkdir()
    result = validate(dengji, tmp_path / "dir.jsonl")
    assert result.code == 2 and "文件夹" in result.err


@pytest.mark.parametrize(
    ("line", "code_words"),
    [
        ('{"姓名": "张三", ', "不是有效的 JSON"),
        ('["姓名", "张三"]', "应为一个 JSON 对象"),
        ("null", "应为一个 JSON 对象"),
        ("张三,男,汉族".encode("gbk"), "不是 UTF-8"),
        (json.dumps({"备注": "长" * MAX_LINE_BYTES}, ensure_ascii=False), "超过 1024 KB"),
    ],
)
def test_bad_lines_are_findings_never_tracebacks(
    dengji, jsonl, live_firm_records, line, code_words
):
    m = live_firm_records.members
    result = validate(dengji, jsonl([m[0], line, m[1]]))
    assert_no_crash(result)
    assert result.code == 1
    ((row, label, severity, message),) = parsed(result)
    assert (row, label, severity) == (2, "", "E")
    assert message.startswith("第 2 行") and code_words in message


def test_bad_lines_in_json_output(dengji, jsonl, live_firm_records):
    result = validate(
        dengji, jsonl([live_firm_records.members[0], "{oops", "[1]"]), "--format", "json"
    )
    assert result.code == 1
    assert [(d["row"], d["field"], d["code"]) for d in result.json()] == [
        (2, "", "json_invalid"),
        (3, "", "json_not_object"),
    ]


def test_unknown_label(dengji, jsonl, live_firm_records):
    result = validate(dengji, jsonl([dict(live_firm_records.members[0], 籍贯="河北")]))
    assert result.code == 1
    ((row, label, severity, message),) = parsed(result)
    assert (row, label, severity) == (1, "籍贯", "E")
    assert "籍贯" in message and "未知的栏目" in message


def test_values_of_the_wrong_json_type(dengji, jsonl, live_firm_records):
    raw = dict(live_firm_records.members[0], 姓名=["张", "三"], 是否流动党员=7, 入党日期=20130410.5)
    result = validate(dengji, jsonl([raw]), "--format", "json")
    assert_no_crash(result)
    assert result.code == 1
    codes = {(d["field"], d["code"]) for d in result.json()}
    assert ("姓名", "type_text") in codes and ("是否流动党员", "type_bool") in codes
    assert ("入党日期", "date_invalid") in codes


def test_same_id_number_twice_in_a_file(dengji, jsonl, live_firm_records):
    m = live_firm_records.members
    twin = dict(
        m[2],
        公民身份号码=m[0]["公民身份号码"].lower(),
        性别=m[0]["性别"],
        出生日期=m[0]["出生日期"],
    )
    result = validate(dengji, jsonl([m[0], m[1], twin]), "--format", "json")
    assert result.code == 1
    dup = [
        (d["row"], d["field"], d["severity"])
        for d in result.json()
        if d["code"] == "duplicate_in_file"
    ]
    assert dup == [(1, "公民身份号码", "E"), (3, "公民身份号码", "E")]


def test_legacy_15_digit_number_is_converted_with_information(dengji, jsonl, live_firm_records):
    m = live_firm_records.members[0]
    legacy = m["公民身份号码"][:6] + m["公民身份号码"][8:17]
    result = validate(dengji, jsonl([dict(m, 公民身份号码=legacy)]))
    assert result.code == 0
    ((row, label, severity, message),) = parsed(result)
    assert (row, label, severity) == (1, "公民身份号码", "I")
    assert m["公民身份号码"] in message


def test_other_forms(dengji, jsonl, live_firm_records):
    result = validate(dengji, jsonl([live_firm_records.org]), form="party_org")
    assert result.code == 0, result.out
    result = validate(
        dengji, jsonl([{"姓名": "李明", "会员证号": "0311-000123"}]), form="society_member"
    )
    assert result.code == 0, result.out


@pytest.mark.parametrize(
    "line",
    ["[" * 100_000 + "]" * 100_000, '{"执业律师总数": ' + "1" * 5000 + "}"],
    ids=["nested", "huge-int"],
)
def test_pathological_json_line(dengji, jsonl, live_firm_records, line):
    result = validate(dengji, jsonl([live_firm_records.members[0], line]))
    assert_no_crash(result)
    assert result.code == 1
    assert parsed(result)[0][:3] == (2, "", "E")


def test_text_output_stays_four_columns_with_tabs_and_newlines(dengji, jsonl, live_firm_records):
    raw = dict(live_firm_records.members[0], 民族="火星\n族")
    raw["籍\t贯"] = "河北"
    result = validate(dengji, jsonl([raw]))
    assert result.code == 1
    assert all(len(line.split("\t")) == 4 for line in result.out.splitlines())
    assert len(parsed(result)) == len(validate(dengji, jsonl([raw]), "--format", "json").json())
