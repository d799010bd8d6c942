"""The statistics table as FORMS.md defines it, its sum over units and its JSON; the precedence
of the categories; the long-lost candidates."""

from __future__ import annotations

from datetime import date

import pytest

from desktop.domain.society.cleanup import (
    REASON_NO_CONTACT,
    REASON_NO_DUTY,
    latest_dates,
    overdue_candidates,
    transition,
)
from desktop.domain.society.stats import (
    ACTUAL,
    COLUMNS,
    ENTRIES,
    TOTAL,
    stats_from_json,
    stats_from_statuses,
    stats_to_json,
    sum_tables,
)
from tests.society.conftest import member

# --- the table ----------------------------------------------------------------------------------


def test_k_minus_one_and_one_category_per_person():
    # 10 entries: a person entered 3 times (2 removed), one entered twice and revoked on the
    # kept entry (1 removed + 1 违法违纪), one 不符合条件, two without ID (one now 已退会), one
    # re-admitted, two in the register.
    counts = {"2": 3, "3": 1, "4": 1, "5": 1, "6": 1, "7": 1, "1": 2}
    s = stats_from_statuses(counts, unit="沈阳市法学会")
    assert (s.entries, s.duplicates, s.violations, s.ineligible, s.no_id) == (10, 3, 1, 1, 2)
    assert s.total == 7 and s.actual == 3
    assert list(s.columns()) == list(COLUMNS)


def test_json_keys_are_the_column_titles_and_round_trip():
    s = stats_from_statuses({"1": 5, "2": 2}, unit="沈阳市和平区法学会", unit_code="024-01",
                            filler="王敏", contact="024-22345678", filed="2020-11-30")
    obj = stats_to_json(s)
    assert set(COLUMNS) <= set(obj) and obj[ENTRIES] == 7 and obj[TOTAL] == 2 and obj[ACTUAL] == 5
    assert {"填报单位", "填报人", "联系方式", "填报时间"} <= set(obj)
    assert stats_from_json(obj) == s


def test_a_city_sums_its_counties():
    a = stats_from_statuses({"1": 90, "2": 5, "5": 5}, unit="和平区", unit_code="024-01")
    b = stats_from_statuses({"1": 40, "3": 1, "4": 2, "6": 3}, unit="沈河区", unit_code="024-02")
    own = stats_from_statuses({"1": 10}, unit="沈阳市法学会", unit_code="0024")
    city = sum_tables([own, a, b], unit="沈阳市法学会", unit_code="0024")
    assert (city.entries, city.duplicates, city.violations, city.ineligible, city.no_id) == \
        (156, 5, 1, 2, 8)
    assert city.total == 16 and city.actual == 140
    assert [p.unit for p in city.parts] == ["沈阳市法学会", "和平区", "沈河区"]
    province = sum_tables([stats_from_json(stats_to_json(city))], unit="辽宁省法学会")
    assert province.columns() == city.columns()
    assert stats_from_json(stats_to_json(province)).parts[0].unit == "沈阳市法学会"


def test_the_same_unit_twice_is_refused():
    a = stats_from_statuses({"1": 3}, unit="和平区", unit_code="024-01")
    with pytest.raises(ValueError, match="出现了两次"):
        sum_tables([a, a], unit="沈阳市法学会")


@pytest.mark.parametrize(("change", "message"), [
    ({TOTAL: 99}, "四项清理数之和"),
    ({ACTUAL: 1}, "减去"),
    ({"清理重复录入人次数": -1}, "非负整数"),
    ({"清理重复录入人次数": "3"}, "非负整数"),
    ({"填报单位": ""}, "缺少"),
    ({"format": "other/9"}, "无法识别"),
])
def test_a_table_that_does_not_add_up_is_refused(change, message):
    obj = stats_to_json(stats_from_statuses({"1": 5, "2": 2}, unit="和平区"))
    obj.update(change)
    with pytest.raises(ValueError, match=message):
        stats_from_json(obj)


def test_not_a_table():
    with pytest.raises(ValueError, match="不是一个 JSON 对象"):
        stats_from_json([1, 2])


# --- precedence ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "target", "step"), [
    ("1", "2", "apply"), ("1", "3", "apply"), ("1", "5", "apply"),
    ("5", "3", "apply"), ("5", "4", "apply"), ("4", "3", "apply"), ("3", "2", "apply"),
    ("3", "4", "lower"), ("4", "5", "lower"), ("3", "5", "lower"),
    ("2", "3", "removed"), ("2", "5", "removed"),
    ("3", "3", "same"), ("5", "5", "same"),
    ("5", "7", "apply"), ("6", "7", "lower"), ("1", "7", "lower"),
    ("5", "6", "apply"), ("1", "6", "lower"), ("7", "5", "apply"),
])
def test_transitions_keep_one_category_per_person(before, target, step):
    assert transition(before, target) == step


# --- long-lost and no-duty candidates ---------------------------------------------------------


TODAY = date(2020, 10, 12)


def test_three_years_or_more_is_a_candidate():
    members = [
        member("exactly", contact="2017-10-12"),
        member("a-day-short", contact="2017-10-13"),
        member("no-duty", contact="2020-01-01", duty="2016-05-01"),
        member("both", contact="2015-01-01", duty="2016-05-01"),
        member("undated"),
        member("revoked", contact="2010-01-01", status="3"),
    ]
    found, undated = overdue_candidates(members, TODAY)
    got = {o.member.id: o.reason for o in found}
    assert got == {"exactly": REASON_NO_CONTACT, "no-duty": REASON_NO_DUTY,
                   "both": REASON_NO_CONTACT}
    assert undated == 1
    both = next(o for o in found if o.member.id == "both")
    assert "2015-01-01" in both.basis and "2016-05-01" in both.basis and "3 年" in both.basis


def test_leap_day_and_other_years():
    found, _ = overdue_candidates([member("m", contact="2016-02-29")], date(2020, 2, 28),
                                  years=4)
    assert found == []
    found, _ = overdue_candidates([member("m", contact="2016-02-29")], date(2020, 2, 29),
                                  years=4)
    assert [o.member.id for o in found] == ["m"]


def test_a_person_contacted_through_another_entry_is_not_lost():
    keep = member("keep", contact="2015-01-01")
    copy = member("copy", contact="2020-06-01")
    found, _ = overdue_candidates([keep], TODAY, dates_of=latest_dates([[keep, copy]]))
    assert found == []
