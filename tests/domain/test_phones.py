"""Phones (issue #15): mobile numbers in the allocated segments of forms/codes/mobile_segments,
landlines with a real 长途区号 (forms/codes/phone_areas) and a local number of the length that
area code has; both as warnings, in every phone field of every form."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from desktop.domain import identifiers as ids
from desktop.domain.context import Environment
from desktop.domain.rules.identity import phone_tables
from desktop.domain.validation import Validator
from desktop.errors import FormSpecError
from desktop.formspec import load_forms, shipped_forms
from desktop.paths import forms_dir
from tests.conftest import TODAY
from tests.domain.conftest import triples

ROOT = Path(__file__).resolve().parents[2]
#: 3-digit segments the 工业和信息化部 has not given to a 11-digit public mobile service (as of
#: 2026): 140–144/146/148 are 13-digit IoT numbers, 149 data-only cards, the rest unassigned
UNALLOCATED = ("140", "141", "142", "143", "144", "146", "148", "149", "154",
               "160", "163", "164", "168", "169", "179", "194")
#: segments of the three operators, 中国广电 (192) and the virtual operators (转售: 162, 165,
#: 167, 170, 171), as 工业和信息化部 allocated them
ALLOCATED = ("130", "131", "132", "133", "1340", "1348", "1349", "135", "139", "145", "147",
             "150", "153", "159", "162", "165", "166", "167", "1700", "1705", "1709", "171",
             "172", "173", "17400", "17405", "175", "177", "178", "180", "184", "189", "190",
             "191", "192", "193", "195", "196", "197", "198", "199")


@pytest.fixture(scope="module")
def tables() -> ids.PhoneTables:
    t = shipped_forms().tables
    return phone_tables(t["mobile_segments"], t["phone_areas"])


def codes(problems) -> list[tuple[str, str]]:
    return [(p.severity, p.code) for p in problems]


# --- the tables ---------------------------------------------------------------------


@pytest.mark.parametrize("table_id", ["mobile_segments", "phone_areas", "countries",
                                      "residence_permits"])
def test_each_new_table_says_its_source_and_when_it_was_taken(table_id):
    table = shipped_forms().tables[table_id]
    assert table.source and table.codes
    assert date.fromisoformat(table.taken) <= date.today()


def test_no_segment_is_the_prefix_of_another():
    """The longest-match lookup needs prefix-free segments."""
    segments = [c.code for c in shipped_forms().tables["mobile_segments"].codes]
    for a in segments:
        assert a.startswith("1") and 3 <= len(a) <= 5
        assert not [b for b in segments if b != a and b.startswith(a)], a


def test_area_codes_are_3_or_4_digits_and_the_big_cities_have_8_digit_numbers(tables):
    """The national numbering plan (《电信网编号计划》, 工业和信息化部): 长途区号 010 and 02x (3 digits) for the largest cities, whose
    local numbers have 8 digits; 0 + 3 digits elsewhere, with 7 or 8 digits."""
    for area, (_name, lengths) in tables.areas.items():
        assert area[0] == "0" and len(area) in (3, 4), area
        assert lengths and lengths <= {7, 8}, area
        if len(area) == 3:
            assert area == "010" or area[1] == "2"
            assert lengths == {8}, area
        else:
            assert area[1] in "3456789", area
    assert {"010", "020", "021", "022", "023", "024", "025", "027", "028", "029"} <= set(
        tables.areas)
    assert "026" not in tables.areas  # 026 is reserved for 台湾


# --- mobile numbers -------------------------------------------------------------------


@pytest.mark.parametrize("segment", ALLOCATED)
def test_numbers_in_allocated_segments_pass(segment, tables):
    number = (segment + "12345678901")[:11]
    assert ids.is_mobile(number)
    assert ids.check_mobile(number, tables) == []


@pytest.mark.parametrize("segment", UNALLOCATED)
def test_numbers_in_unallocated_segments_are_a_warning(segment, tables):
    number = segment + "12345678"
    assert ids.is_mobile(number)
    problems = ids.check_mobile(number, tables)
    assert codes(problems) == [("W", "mobile_segment")]
    assert problems[0].params["segment"] == segment


@pytest.mark.parametrize(("number", "allocated"), [
    ("17400123456", True), ("17405123456", True), ("17406123456", False),
    ("17490123456", False), ("13490123456", True),
])
def test_segments_can_be_four_or_five_digits(number, allocated, tables):
    """1740x: 17400–17405 are the 卫星 segments; 1349 is 中国卫通's."""
    assert (ids.check_mobile(number, tables) == []) is allocated


def test_without_the_table_only_the_pattern_is_checked():
    assert ids.check_mobile("19412345678", ids.PhoneTables()) == []


# --- landlines ------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("010-62345678", []),
    ("021-52345678", []),
    ("0311-85551234", []),
    ("0312-5551234", []),  # 保定: 7-digit numbers
    ("0433-2345678", []),  # 延边: 7 or 8 digits
    ("0433-23456789", []),
    ("0311-85551234-808", []),  # an extension
    ("010-6234567", [("W", "landline_local_length")]),  # Beijing has 8 digits
    ("0311-8555123", [("W", "landline_local_length")]),
    ("0312-55512345", [("W", "landline_local_length")]),
    ("010-12345678", [("W", "landline_local_start")]),  # 1xx: service numbers
    ("010-92345678", [("W", "landline_local_start")]),
    ("010-02345678", [("W", "landline_local_start")]),
    ("026-22345678", [("W", "landline_area")]),
    ("0200-2345678", [("W", "landline_area")]),
    ("0123-2345678", [("W", "landline_area")]),
    ("0001-2345678", [("W", "landline_area")]),
])
def test_landlines(value, expected, tables):
    assert ids.is_landline(value)
    assert codes(ids.check_landline(value, tables)) == expected


def test_the_length_message_names_the_area_and_its_lengths(validate, firm_records):
    member = dict(firm_records.members[0], 固定电话="010-6234567")
    findings = [f for f in validate("lawyer_member", member)[1] if f.field == "landline"]
    assert [(f.severity, f.code) for f in findings] == [("W", "landline_local_length")]
    assert "北京" in findings[0].message and "8 位" in findings[0].message


# --- every phone field of every form --------------------------------------------------


def _phone_fields(forms):
    for form in forms.forms.values():
        for field in form.fields:
            for spec in (field, *field.fields):
                if spec.type in ("mobile", "landline", "phone"):
                    yield form, spec


def test_every_phone_field_of_every_form_reads_the_tables():
    forms = shipped_forms()
    segments, areas = forms.tables["mobile_segments"], forms.tables["phone_areas"]
    seen = 0
    for form, spec in _phone_fields(forms):
        refs = [r for r in spec.rules if r.rule in ("mobile", "landline", "phone")]
        assert refs, (form.id, spec.id)
        for ref in refs:
            if ref.rule in ("mobile", "phone"):
                assert ref.params["segments_table"] is segments, (form.id, spec.id)
            if ref.rule in ("landline", "phone"):
                assert ref.params["areas_table"] is areas, (form.id, spec.id)
        seen += 1
    assert seen >= 6


@pytest.mark.parametrize(("form_id", "label", "value", "code"), [
    ("lawyer_member", "手机号码", "19412345678", "mobile_segment"),
    ("lawyer_member", "固定电话", "0311-8555123", "landline_local_length"),
    ("staff_member", "手机号码", "14912345678", "mobile_segment"),
    ("staff_member", "固定电话", "026-22345678", "landline_area"),
    ("party_org", "联系电话", "16012345678", "mobile_segment"),
    ("party_org", "联系电话", "010-12345678", "landline_local_start"),
    ("society_member", "手机", "17912345678", "mobile_segment"),
])
def test_phone_warnings_in_each_form(validate, forms, form_id, label, value, code):
    spec = forms.form(form_id).field_by_label(label)
    findings = [f for f in validate(form_id, {label: value})[1] if f.field == spec.id]
    assert [(f.severity, f.code) for f in findings] == [("W", code)]


# --- the loader hands the rules their tables ------------------------------------------


def _copy_forms(tmp_path: Path) -> Path:
    import shutil

    folder = tmp_path / "forms"
    shutil.copytree(forms_dir(), folder)
    return folder


def test_a_rule_naming_a_missing_table_is_refused_at_load(tmp_path):
    folder = _copy_forms(tmp_path)
    path = folder / "party_org.toml"
    text = path.read_text(encoding="utf-8")
    assert 'rules = [{ rule = "phone" }]' in text
    path.write_text(text.replace('rules = [{ rule = "phone" }]',
                                 'rules = [{ rule = "phone", areas_table = "area_codes" }]'),
                    encoding="utf-8")
    with pytest.raises(FormSpecError, match="area_codes"):
        load_forms(folder)


def test_a_bad_taken_date_is_refused_at_load(tmp_path):
    folder = _copy_forms(tmp_path)
    path = folder / "codes" / "phone_areas.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('taken = "', 'taken = "约', 1),
                    encoding="utf-8")
    with pytest.raises(FormSpecError, match="taken"):
        load_forms(folder)


def test_without_the_default_table_the_rule_checks_the_pattern_only(tmp_path):
    folder = _copy_forms(tmp_path)
    (folder / "codes" / "mobile_segments.toml").unlink()
    form = load_forms(folder).form("lawyer_member")
    ref = next(r for r in form.field("mobile").rules)
    assert ref.params["segments_table"] is None
    validator = Validator(form, Environment(today=TODAY))
    found = {(f.field, f.code) for f in validator.validate({"手机号码": "19412345678"})[1]}
    assert ("mobile", "mobile_segment") not in found
    assert ("mobile", "mobile") in {(f.field, f.code) for f in validator.validate(
        {"手机号码": "12412345678"})[1]}


# --- the generator -------------------------------------------------------------------


@pytest.mark.skipif(importlib.util.find_spec("phonenumbers") is None,
                    reason="tools/make_phone_codes.py reads the phonenumbers package")
def test_the_generator_rebuilds_the_shipped_tables(tmp_path):
    """tools/make_phone_codes.py, run on the same libphonenumber version and date, writes the
    shipped tables byte for byte."""
    from importlib.metadata import version

    shipped = shipped_forms().tables["mobile_segments"]
    if version("phonenumbers") not in shipped.source:
        pytest.skip("another phonenumbers version than the one the tables were taken from")
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_phone_codes.py"), "--taken",
                    shipped.taken, str(tmp_path)], check=True, capture_output=True)
    for name in ("mobile_segments.toml", "phone_areas.toml"):
        assert (tmp_path / name).read_bytes() == (forms_dir() / "codes" / name).read_bytes()


def test_an_unallocated_mobile_is_a_warning_not_an_error(validate, firm_records):
    member = dict(firm_records.members[0], 手机号码="19412345678")
    assert ("mobile", "W", "mobile_segment") in triples(validate("lawyer_member", member)[1])
