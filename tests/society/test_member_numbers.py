"""会员证号: the numbering rule, the issuing societies table, the next free number, and the
checks of imported numbers."""

from __future__ import annotations

import pytest

from desktop.domain.society.member_numbers import (
    LEVEL_CAPITAL,
    LEVEL_CITY,
    LEVEL_COUNTY,
    LEVEL_PROVINCE,
    MemberNumber,
    check_member_numbers,
    next_member_number,
    own_society,
    parse_member_number,
    societies_from_table,
)


@pytest.fixture(scope="module")
def table(forms):
    return forms.tables["societies"]


@pytest.mark.parametrize(("text", "prefix", "serial"), [
    ("0311-000123", "0311", 123), ("00311-000123", "00311", 123),
    ("0312-01-000123", "0312-01", 123), ("024-000001", "024", 1), ("0024-999999", "0024", 999999),
    (" 0411-000002 ", "0411", 2),
])
def test_parse(text, prefix, serial):
    assert parse_member_number(text) == MemberNumber(prefix, serial)
    assert parse_member_number(text).text == text.strip()


@pytest.mark.parametrize("text", ["", "0311000123", "311-000123", "0311-12345", "0311-1-000001",
                                  "第12号", "0311-0000123"])
def test_parse_refuses(text):
    assert parse_member_number(text) is None


def test_the_shipped_table_follows_the_rule(table):
    societies = societies_from_table(table)
    assert societies["024"].level == LEVEL_PROVINCE
    assert societies["0024"].level == LEVEL_CAPITAL and societies["0024"].parent == "024"
    assert societies["0411"].level == LEVEL_CITY
    assert societies["0312-01"].level == LEVEL_COUNTY and societies["0312-01"].name == "保定市竞秀区法学会"
    for code, s in societies.items():
        assert parse_member_number(f"{code}-000001") is not None, code
        if s.level == LEVEL_COUNTY:
            assert societies[s.parent].level in (LEVEL_CITY, LEVEL_CAPITAL)


def test_own_society_by_name_or_code(table):
    assert own_society(table, "沈阳市法学会").code == "0024"
    assert own_society(table, " 沈阳市法学会 ").code == "0024"
    assert own_society(table, "某某县法学会") is None
    assert own_society(table, "某某县法学会", "0411-02").name == "大连市西岗区法学会"
    assert own_society(table, "沈阳市法学会", "9999") is None


def test_next_number_is_one_more_than_the_highest_ever_issued():
    numbers = ["0024-000001", "0024-000007", "0024-000003", "0024-01-000900", "024-000500",
               "bad", "", "00024-000800"]
    assert next_member_number("0024", numbers) == "0024-000008"
    assert next_member_number("0024-01", numbers) == "0024-01-000901"
    assert next_member_number("0411", numbers) == "0411-000001"


def test_serials_used_up():
    with pytest.raises(ValueError, match="已用完"):
        next_member_number("0024", ["0024-999999"])


def test_check_imported_numbers(table):
    entries = [("r1", "0024-000001", "沈阳市法学会", "王伟"),
               ("r2", "0024-000001", "沈阳市法学会", "王伟"),
               ("r3", "0024-000002", "大连市法学会", "李明"),
               ("r4", "0999-000001", "", "赵敏"),
               ("r5", "第12号", "", "钱勇"),
               ("r6", "", "", "孙丽")]
    issues = {(i.code, i.record_ids) for i in check_member_numbers(entries, table)}
    assert issues == {("member_no_duplicate", ("r1", "r2")), ("member_no_issuer", ("r3",)),
                      ("member_no_prefix_unknown", ("r4",)), ("member_no_invalid", ("r5",))}
    messages = " ".join(i.message for i in check_member_numbers(entries, table))
    assert "登记了 2 次" in messages and "沈阳市法学会" in messages
