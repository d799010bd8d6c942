"""Issue 15, legacy values: a law-society register's 出生日期 is often a year and month only.
A date field whose `precision` is "month" (forms/society_member.toml) accepts it, stores it as
"YYYY-MM", and every rule compares it at that precision; full dates work as before, and a
field of day precision still refuses a year-month."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from desktop.domain.context import Environment
from desktop.domain.forms import FieldSpec
from desktop.domain.summaries import age_on
from desktop.domain.validation import Validator
from desktop.domain.values import (
    birth_span,
    date_span,
    display_value,
    filled_from_id,
    is_stored_date,
    parse_value,
    within,
)
from desktop.formspec import load_forms
from tests.conftest import TODAY
from tests.domain.conftest import triples
from tests.formspec.test_loader import GOOD, refused, write_forms

MONTH = FieldSpec("birth_date", "出生日期", "date", precision="month")
DAY = FieldSpec("birth_date", "出生日期", "date")


def ident(birth: str, seq: int = 11, area: str = "210102") -> str:
    """A valid ID number born on `birth` (seq odd = male), GB 11643-1999's MOD 11-2."""
    body = f"{area}{birth.replace('-', '')}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize("raw", ["1963年9月", "1963.09", "1963-9", "196309", "1963/09",
                                 "1963-09", "1963年09月", "１９６３年９月", " 1963.9 ", 196309])
def test_the_spellings_of_a_legacy_register(raw):
    """The brief's examples (“1963年9月”, “1963.09”, “196309”) and their relatives: the year
    and month are kept, at month precision."""
    assert parse_value(MONTH, raw) == ("1963-09", [])


@pytest.mark.parametrize(("raw", "stored"), [
    ("1963-09-12", "1963-09-12"), ("1963.9.12", "1963-09-12"), ("19630912", "1963-09-12"),
    ("1963年9月12日", "1963-09-12"), (date(1963, 9, 12), "1963-09-12")])
def test_full_dates_stay_full_dates(raw, stored):
    """A full date is a full date in either kind of field."""
    assert parse_value(MONTH, raw) == (stored, [])
    assert parse_value(DAY, raw) == (stored, [])


@pytest.mark.parametrize("raw", ["1963-13", "1963-00", "19631", "1963", "九月", "1963-02-30"])
def test_what_is_neither_a_date_nor_a_month_is_refused(raw):
    """A month 13, a year alone, a 30 February: nothing to store, an E that says how to write
    it (the two forms it accepts)."""
    value, problems = parse_value(MONTH, raw)
    assert value is None and [p.code for p in problems] == ["date_or_month_invalid"]


def test_a_field_of_day_precision_still_refuses_a_month():
    """Only fields that say so take a year-month: the party forms need the full date."""
    value, problems = parse_value(DAY, "1963年9月")
    assert value is None and [p.code for p in problems] == ["date_invalid"]


def test_spans_and_stored_forms():
    """A year-month is every day of its month (the 29th of February in a leap year)."""
    assert date_span("1963-09") == (date(1963, 9, 1), date(1963, 9, 30))
    assert date_span("2000-02") == (date(2000, 2, 1), date(2000, 2, 29))
    assert date_span("1963-12") == (date(1963, 12, 1), date(1963, 12, 31))
    assert date_span("1963-09-12") == (date(1963, 9, 12),) * 2
    for bad in ("1963-13", "1963-9", "1963-09-31", "", None, 1963):
        assert date_span(bad) is None
    assert is_stored_date(MONTH, "1963-09") and is_stored_date(MONTH, "1963-09-12")
    assert not is_stored_date(DAY, "1963-09") and is_stored_date(DAY, "1963-09-12")
    assert within("1963-09", date(1963, 9, 30)) and not within("1963-09", date(1963, 10, 1))
    assert display_value(MONTH, "1963-09") == "1963-09"


def test_the_society_form_says_month_precision(forms):
    """forms/society_member.toml: the register's 出生日期 may be a year-month; the party forms'
    may not."""
    assert forms.form("society_member").field("birth_date").precision == "month"
    for form_id in ("lawyer_member", "staff_member"):
        assert forms.form(form_id).field("birth_date").precision == "day"


def test_the_loader_checks_precision(tmp_path):
    """`precision` is a date field's option, "day" or "month"; anything else is refused with
    the file and the key named."""
    good = GOOD + '\n[[fields]]\nid = "born"\nlabel = "出生日期"\ntype = "date"\nprecision = "month"\n'
    assert load_forms(write_forms(tmp_path, good)).form("tiny").field("born").precision == "month"
    bad = GOOD + '\n[[fields]]\nid = "born"\nlabel = "出生日期"\ntype = "date"\nprecision = "year"\n'
    assert "precision" in refused(tmp_path / "a", bad)
    text = GOOD + '\n[[fields]]\nid = "note"\nlabel = "备注"\ntype = "text"\nprecision = "month"\n'
    assert "precision" in refused(tmp_path / "b", text)


# --- the society register's rules at month precision -------------------------------------


@pytest.fixture
def society(forms):
    def check(raw, today=TODAY):
        validator = Validator(forms.form("society_member"), Environment(today=today))
        values, findings = validator.validate(raw)
        return values, triples(findings)

    return check


BASE = {"会员证号": "0024-000001", "姓名": "张伟", "性别": "男", "批准入会日期": "1990-05-01"}


def test_a_legacy_month_is_stored_and_agrees_with_the_id_number(society):
    """The brief: store it with its precision, and compare it with the ID number at that
    precision — year and month must agree (GB 11643-1999: digits 7–14 are the birth date)."""
    values, found = society(dict(BASE, 出生日期="1963年9月", 公民身份号码=ident("1963-09-12")))
    assert values["birth_date"] == "1963-09" and found == set()
    _, found = society(dict(BASE, 出生日期="1963.09", 公民身份号码=ident("1963-10-01")))
    assert found == {("birth_date", "E", "birth_mismatch")}
    _, found = society(dict(BASE, 出生日期="196309", 公民身份号码=ident("1964-09-12")))
    assert found == {("birth_date", "E", "birth_mismatch")}


def test_the_mismatch_message_shows_the_id_at_the_same_precision(forms):
    """“出生日期”与公民身份号码中的出生日期 1963-10 不一致: compared month to month."""
    validator = Validator(forms.form("society_member"), Environment(today=TODAY))
    _, findings = validator.validate(dict(BASE, 出生日期="1963-09",
                                          公民身份号码=ident("1963-10-01")))
    [f] = [f for f in findings if f.code == "birth_mismatch"]
    assert "1963-10" in f.message and "1963-10-01" not in f.message


def test_full_dates_compare_to_the_day_as_before(society):
    """A full date must be the ID number's day, exactly as before."""
    assert society(dict(BASE, 出生日期="1963-09-12", 公民身份号码=ident("1963-09-12")))[1] == set()
    assert society(dict(BASE, 出生日期="1963-09-13", 公民身份号码=ident("1963-09-12")))[1] == {
        ("birth_date", "E", "birth_mismatch")}


def test_a_month_in_the_future_is_refused(society):
    """not_future at month precision: next month cannot be a birth month; this month can."""
    assert ("birth_date", "E", "date_future") in society(dict(BASE, 出生日期="2026-12"),
                                                         today=date(2026, 11, 22))[1]
    assert society(dict(BASE, 出生日期="2026-11", 批准入会日期=None),
                   today=date(2026, 11, 22))[1] == set()


@pytest.mark.parametrize(("birth", "approved", "warned"), [
    ("1972-05", "1990-04-30", True),  # under 18 whatever the day of May 1972
    ("1972-05", "1990-05-01", False),  # 18 if born on 1 May: not certain, no warning
    ("1972-05", "1990-05-31", False),
    ("1972-05-20", "1990-05-19", True),  # a full date: to the day, as before
    ("1972-05-20", "1990-05-20", False),
])
def test_approval_age_at_month_precision(society, birth, approved, warned):
    """FORMS.md 法学会个人会员: 批准入会 at 18 or older (W). With a birth month only, the W is
    given where no day of that month makes the member 18."""
    _, found = society(dict(BASE, 出生日期=birth, 批准入会日期=approved))
    assert (("approved", "W", "approval_age") in found) is warned


def test_birth_span_prefers_the_id_day_when_the_month_agrees():
    """A year-month that the ID number agrees with is known to the day (the ID's); one it does
    not agree with stays the month (the mismatch is the rule's finding)."""
    number = ident("1963-09-12")
    assert birth_span("1963-09", number) == (date(1963, 9, 12),) * 2
    assert birth_span("1963-08", number) == (date(1963, 8, 1), date(1963, 8, 31))
    assert birth_span("1963-09-01", number) == (date(1963, 9, 1),) * 2  # the field's day wins
    assert birth_span(None, number) == (date(1963, 9, 12),) * 2
    assert birth_span("1963-09", None) == (date(1963, 9, 1), date(1963, 9, 30))
    assert birth_span(None, "not a number") is None


def test_age_at_month_precision():
    """Whole years once the birth month has come (the age a month-precision birth gives)."""
    first = birth_span("1963-09", None)[0]
    assert age_on(first, date(2026, 8, 31)) == 62
    assert age_on(first, date(2026, 9, 1)) == 63


# --- what the ID number fills in ---------------------------------------------------------


def test_filled_from_id_fills_only_what_is_empty(forms):
    """出生日期 and 性别 read from a valid ID number (GB 11643-1999: digits 7–14 the birth date,
    digit 17 odd for 男) fill the empty fields only; a value given stays (its disagreement is
    the rule's finding), and an invalid number fills nothing."""
    form = forms.form("staff_member")
    number = ident("1980-01-05", seq=12)  # even: 女
    assert filled_from_id(form, {"id_number": number}, lambda _f: True) == {
        "birth_date": "1980-01-05", "sex": "2"}
    assert filled_from_id(form, {"id_number": number, "sex": "1"}, lambda _f: True) == {
        "birth_date": "1980-01-05"}
    assert filled_from_id(form, {"id_number": number, "birth_date": "1980-01-06"},
                          lambda _f: True) == {"sex": "2"}
    assert filled_from_id(form, {"id_number": number}, lambda _f: False) == {}
    assert filled_from_id(form, {}, lambda _f: True) == {}
