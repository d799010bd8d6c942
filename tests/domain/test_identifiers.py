"""公民身份号码, 统一社会信用代码, 律师执业证号, phones and masking (FORMS.md, Identifiers)."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from desktop.domain import identifiers as ids
from desktop.domain.rules.identity import id_tables
from desktop.formspec import shipped_forms
from tests.conftest import TODAY


def shipped_id_tables() -> ids.IdTables:
    """The closed lists of forms/codes (regions, residence_permits, countries)."""
    t = shipped_forms().tables
    return id_tables(t["regions"], t["residence_permits"], t["countries"])


def with_check(body17: str) -> str:
    """A number with a correct ISO 7064 MOD 11-2 check character."""
    assert len(body17) == 17
    return body17 + ric.calc_check_digit(body17 + "0")


def codes(problems) -> list[tuple[str, str]]:
    return [(p.severity, p.code) for p in problems]


# --- 公民身份号码 -------------------------------------------------------------------


def test_valid_resident_id():
    assert ids.check_resident_id("11010519491231002X", TODAY) == []
    assert ids.id_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert ids.id_sex("11010519491231002X") == "2"  # digit 17 = 2, even: 女


def test_bad_checksum():
    assert codes(ids.check_resident_id("110105194912310021", TODAY)) == [("E", "id_checksum")]


def test_every_wrong_check_character_is_caught():
    good = "11010519491231002X"
    for ch in "0123456789":
        assert codes(ids.check_resident_id(good[:17] + ch, TODAY)) == [("E", "id_checksum")]


def test_future_birth_date_is_an_error():
    number = with_check("11010521000101001")
    assert number == "110105210001010015"
    assert codes(ids.check_resident_id(number, TODAY)) == [("E", "id_birth_future")]


def test_birth_tomorrow_is_future_and_today_is_not():
    tomorrow = with_check(f"110105{date(2026, 11, 23):%Y%m%d}001")
    today = with_check(f"110105{TODAY:%Y%m%d}001")
    assert codes(ids.check_resident_id(tomorrow, TODAY)) == [("E", "id_birth_future")]
    assert ids.check_resident_id(today, TODAY) == []


def test_impossible_birth_date():
    number = with_check("11010519490230002")
    assert codes(ids.check_resident_id(number, TODAY)) == [("E", "id_birth_invalid")]


@pytest.mark.parametrize(
    ("area", "place", "permit"),
    [("810000", "香港居民", "2"), ("820000", "澳门居民", "2"), ("830000", "台湾居民", "3")],
)
def test_residence_permit_numbers(area, place, permit):
    tables = shipped_id_tables()
    number = with_check(f"{area}19900101001")
    assert ids.check_resident_id(number, TODAY, permit=permit, tables=tables) == []
    problems = ids.check_resident_id(number, TODAY, tables=tables)
    assert codes(problems) == [("E", "id_permit_area")]
    assert problems[0].params["place"] == place


def test_residence_permit_number_still_needs_its_checksum():
    number = with_check("81000019900101001")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert codes(ids.check_resident_id(wrong, TODAY, permit="2", tables=shipped_id_tables())
                 ) == [("E", "id_checksum")]


def test_unknown_county_level_area_code_is_only_a_warning():
    # issue #15: only county-level codes missing from the history stay a W; a number whose
    # first two digits name no province (99…) is an E (tests/domain/test_standards_ids.py)
    number = with_check("11019919900101001")
    assert codes(ids.check_resident_id(number, TODAY, tables=shipped_id_tables())) == [
        ("W", "id_area_unknown")]


def test_a_retired_area_code_is_valid_for_people_born_while_it_existed():
    # 110103 崇文区 was merged into 东城区 in 2010
    assert ids.check_resident_id(with_check("11010319700101001"), TODAY) == []
    assert codes(ids.check_resident_id(with_check("11010320150101001"), TODAY)) == [
        ("W", "id_area_unknown")
    ]


def test_15_digit_number_refused_on_entry_and_converted_on_import():
    old = "110105491231002"
    assert codes(ids.check_resident_id(old, TODAY)) == [("E", "id_legacy15")]
    new = ids.id15_to_18(old)
    assert new == "11010519491231002X"
    assert ids.check_resident_id(new, TODAY) == []
    assert ids.normalise_id(old) == new
    assert ids.normalise_id(old, convert_legacy=False) == old


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1101051949123100", "id_length"),
        ("1101051949123100211", "id_length"),
        ("11010519491231002Y", "id_format"),
        ("X1010519491231002X", "id_format"),
    ],
)
def test_malformed_numbers(number, code):
    assert codes(ids.check_resident_id(number, TODAY)) == [("E", code)]


@pytest.mark.parametrize(
    "typed",
    [
        "１１０１０５１９４９１２３１００２ｘ",
        "11010519491231002x",
        "110105 19491231 002X",
        "110105-19491231-002x",
        " 11010519491231002X\t",
    ],
)
def test_compact_normalises_width_spaces_hyphens_and_case(typed):
    assert ids.compact(typed) == "11010519491231002X"
    assert ids.check_resident_id(ids.compact(typed), TODAY) == []


def test_sex_from_digit_17():
    assert ids.id_sex(with_check("11010519800101001")) == "1"
    assert ids.id_sex(with_check("11010519800101002")) == "2"
    assert ids.id_sex("123") is None


# --- 统一社会信用代码 -----------------------------------------------------------------


def test_valid_uscc():
    assert ids.check_uscc("91110000600037341L") == []


def test_uscc_wrong_check_character():
    assert codes(ids.check_uscc("91110000600037341M")) == [("E", "uscc_checksum")]


def test_non_law_firm_code_is_a_warning_for_a_law_firm():
    assert codes(ids.check_uscc("91110000600037341L", law_firm=True)) == [
        ("W", "uscc_not_law_firm")
    ]


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("9111000060003734", "uscc_length"),
        ("91110000600037341LL", "uscc_length"),
        ("91110000600037341I", "uscc_format"),  # I is not in the alphabet
        ("9111000060003734lL", "uscc_format"),  # lower case
    ],
)
def test_malformed_uscc(code, problem):
    assert codes(ids.check_uscc(code)) == [("E", problem)]


def test_sample_law_firm_uscc_is_clean(firm_records):
    assert firm_records.firm.uscc.startswith("31")
    assert ids.check_uscc(firm_records.firm.uscc, law_firm=True) == []


# --- 律师执业证号 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("11101200510123456", None),
        ("1110120051012345", "licence_format"),  # 16 digits
        ("21101200510123456", "licence_format"),  # does not start with 1
        ("1110120051012345A", "licence_format"),
        ("19901200510123456", "licence_province"),  # 99 is no province
        ("11101197910123456", "licence_year"),  # before 1980
        ("11101202710123456", "licence_year"),  # after this year
        ("11101200500123456", "licence_category"),  # category digit 0
    ],
)
def test_licence(number, problem):
    found = codes(ids.check_licence(number, TODAY))
    assert found == ([] if problem is None else [("E", problem)])


def test_licence_category_and_sex_digits():
    assert ids.licence_category("11101200520123456") == "2"
    assert ids.licence_sex("11101200510123456") == "1"  # digit 11 = 0: 男
    assert ids.licence_sex("11101200511123456") == "2"  # digit 11 = 1: 女
    assert ids.licence_sex("11101200519123456") is None


# --- phones -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored", "mobile", "landline"),
    [
        ("13800138000", "13800138000", True, False),
        ("138 0013 8000", "13800138000", True, False),
        ("+86 138-0013-8000", "13800138000", True, False),
        ("１３８００１３８０００", "13800138000", True, False),
        ("12800138000", "12800138000", False, False),
        ("1380013800", "1380013800", False, False),
        ("0311-85551234", "0311-85551234", False, True),
        ("010-6555123", "010-6555123", False, True),
        ("(0311)85551234", "0311-85551234", False, True),
        ("（0311）85551234", "0311-85551234", False, True),
        ("0311 85551234", "0311-85551234", False, True),
        ("85551234", "85551234", False, False),
    ],
)
def test_phones(typed, stored, mobile, landline):
    value = ids.normalise_phone(typed)
    assert value == stored
    assert ids.is_mobile(value) is mobile
    assert ids.is_landline(value) is landline


# --- masking ------------------------------------------------------------------


def test_masking():
    assert ids.mask_id("11010519491231002X") == "110105********002X"
    assert ids.mask_phone("13800138000") == "138****8000"
    assert ids.mask_phone("0311-85551234") == "0311-****1234"
    assert ids.mask_id(None) == "" and ids.mask_phone("") == ""
    assert "19491231" not in ids.mask_id("11010519491231002X")


def test_inner_organisation_code_check_digit_is_a_warning(firm_records):
    from desktop import sampledata

    good = firm_records.firm.uscc
    org = good[8:16]
    wrong_digit = next(d for d in "0123456789X" if d != good[16])
    body = good[:16] + wrong_digit
    alphabet = sampledata._USCC
    total = sum(alphabet.index(ch) * pow(3, i, 31) for i, ch in enumerate(body))
    code = body + alphabet[(31 - total % 31) % 31]
    assert ids.org_code_check(org) == good[16]
    assert codes(ids.check_uscc(code, law_firm=True)) == [("W", "uscc_org_code")]
