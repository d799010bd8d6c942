"""The masking scheme (domain.masking, docs/privacy.md): a masked ID number never keeps a birth
digit, a masked birth date keeps year and month, so the two together never give the 8 birth
digits back — for any length of number and any way of writing a date."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from stdnum.cn import ric

from desktop.domain.identifiers import id15_to_18
from desktop.domain.identifiers import mask_id as reexported_mask_id
from desktop.domain.masking import MASK_KINDS, mask_birth, mask_id, mask_phone, masked_text
from desktop.formspec import shipped_forms


def random_id(rng: random.Random) -> tuple[str, date]:
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
    body = f"110105{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body), born


def test_the_birth_part_is_always_hidden():
    rng = random.Random(14)
    for _ in range(2000):
        number, born = random_id(rng)
        masked = mask_id(number)
        assert masked == number[:6] + "********" + number[-4:]
        assert masked_text("birth", born.isoformat()) == f"{born:%Y-%m}"
        # what the two masked columns hold, put together: the day stays unknown
        joined = masked + " " + masked_text("birth", born.isoformat())
        assert f"{born:%Y%m%d}" not in joined.replace("-", "")
        assert number not in joined


def test_a_legacy_15_digit_number_hides_its_birth_digits():
    number = "110105800517123"  # born 1980-05-17
    masked = mask_id(number)
    assert masked == "110105******123"
    assert "800517" not in masked and "17" not in masked[6:12]
    assert id15_to_18(number)[6:14] == "19800517"


@pytest.mark.parametrize("length", range(0, 25))
def test_any_length_keeps_no_character_of_the_birth_part(length):
    number = "".join(str(i % 10) for i in range(length))
    masked = mask_id(number)
    birth_end = 12 if length == 15 else 14
    for i, ch in enumerate(masked):
        if 6 <= i < birth_end or (length <= 10 and i >= 2):
            assert ch == "*", (number, masked)


@pytest.mark.parametrize(("text", "shown"), [
    ("1980-05-17", "1980-05"), ("1980-5-7", "1980-05"), ("1980/05/17", "1980-05"),
    ("1980.05.17", "1980-05"), ("1980年5月17日", "1980-05"), ("19800517", "********"),
    ("not a date", "**********"), ("", ""),
])
def test_a_birth_date_shows_year_and_month_only(text, shown):
    assert mask_birth(text) == shown


def test_phones_and_unknown_kinds():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("010-62345678") == "010-****5678"
    assert masked_text(None, "张三") == "张三" and masked_text("id", "") == ""
    with pytest.raises(ValueError):
        masked_text("name", "张三")


def test_identifiers_reexports_the_one_scheme():
    assert reexported_mask_id is mask_id


def test_every_shipped_birth_date_is_masked_with_its_id_number():
    """A form that masks an ID number masks the birth date that the ID rule compares with it
    (`birth_field` of its rules): else a masked output would print the other half."""
    forms = shipped_forms()
    for form in forms.forms.values():
        assert {f.mask for f in form.fields if f.mask} <= set(MASK_KINDS)
        named = {rule.params.get("birth_field") for rule in form.rules} | {
            r.params.get("birth_field") for f in form.fields for r in f.rules}
        births = {f.id for f in form.fields if f.type == "date" and (
            f.id in named or re.search("birth", f.id))}
        if any(f.mask == "id" for f in form.fields):
            assert births, form.id
        for fid in births:
            assert form.field(fid).mask == "birth", (form.id, fid)
