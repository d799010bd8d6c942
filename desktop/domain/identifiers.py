"""Chinese identifiers: resident ID (GB 11643), USCC (GB 32100), lawyer licence, phones.

python-stdnum does the checksums and the address-code history; this module closes the gaps
FORMS.md lists: future birth dates, 港澳台居民居住证 numbers (810000/820000/830000), and an
unknown county-level address code being a warning rather than an error. The closed lists a
check needs (provinces, 居住证 address codes, nationalities, mobile segments, area codes) are
code tables of forms/codes, handed in by the rules (domain/rules/identity.py) as `IdTables` and
`PhoneTables`. Each check returns a list of `Problem`s (severity, message code, message
parameters) and never raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric

from desktop.domain.findings import Problem
from desktop.domain.masking import mask_id, mask_phone  # noqa: F401  (the masking scheme lives there)

_SPACES = re.compile(r"[\s\-‐‑–—_]+")
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-\d{7,8}(-\d{1,6})?$")
_LICENCE = re.compile(r"^1\d{16}$")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
#: province codes of GB/T 2260 (lawyer licence digits 2–3)
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65"
    .split()
)


@dataclass(frozen=True)
class IdTables:
    """The code tables a 公民身份号码 check reads (empty: that part is not checked)."""

    #: the first two digits a number may begin with: GB/T 2260 provinces and 居住证 areas
    provinces: frozenset[str] = frozenset()
    #: 居住证 address code → (the 证件类型 code it goes with, whose: 香港居民 …)
    permits: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: current GB/T 2260 codes (the regions table), known besides stdnum's history
    areas: frozenset[str] = frozenset()
    #: GB/T 2659 numeric code → name: the nationality of a 外国人永久居留身份证 number
    countries: Mapping[str, str] = field(default_factory=dict)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def compact(text: str) -> str:
    """NFKC (full-width digits), spaces and hyphens removed, upper case."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).upper()


# --- 公民身份号码 ---------------------------------------------------------------------------


def id15_to_18(number: str) -> str:
    """Convert a legacy 15-digit number: insert 19 before the birth date, append the check."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def normalise_id(text: str, *, convert_legacy: bool = True) -> str:
    """The form used for comparison and duplicate search (15-digit numbers converted)."""
    value = compact(text)
    if convert_legacy and _ID15.match(value):
        return id15_to_18(value)
    return value


def id_birth_date(number: str) -> date | None:
    return _id_facts(number)[0]


def id_sex(number: str) -> str | None:
    """GB/T 2261.1 sex code from digit 17: odd = 1 男, even = 2 女."""
    return _id_facts(number)[1]


@lru_cache(maxsize=1024)  # the rules of one record ask about its number 3–4 times
def _id_facts(number: str) -> tuple[date | None, str | None, str | None]:
    """id_birth_date, id_sex and the first problem of check_resident_id that depends on the
    number alone (id_legacy15, id_length, id_format, id_birth_invalid, id_checksum; None when
    there is none) of a str, worked out once."""
    if _ID18.match(number):
        sex = "1" if int(number[16]) % 2 else "2"
        try:
            birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            birth = None
    else:
        birth = sex = None
    if _ID15.match(number):
        code = "id_legacy15"
    elif len(number) != 18:
        code = "id_length"
    elif sex is None:
        code = "id_format"
    elif birth is None:
        code = "id_birth_invalid"
    elif ric.calc_check_digit(number) != number[-1]:
        code = "id_checksum"
    else:
        code = None
    return birth, sex, code


@lru_cache(maxsize=65536)
def _address_known(area: str, birth_year: int) -> bool:
    """Whether the address code existed at some time from the birth year on.

    An ID number carries the code of the place where it was first issued, which may be years
    after birth (numbers were issued from 1984), so python-stdnum's test against the birth year
    alone would reject real people: a code that was still in use at or after birth is accepted.
    """
    results = numdb.get("cn/loc").info(area)
    info = {k: v for _part, props in results for k, v in props.items()}
    if "county" not in info:
        return False
    for county in info["county"].split(","):
        if not county.startswith("["):
            return True
        end = county[1:].split("]")[0].split("-")[1]
        if not end or int(end) >= birth_year:
            return True
    return False


def check_resident_id(number: str, today: date, *, permit: str | None = None,
                      tables: IdTables = IdTables()) -> list[Problem]:
    """Check a normalised 18-character number. `permit`: the 证件类型 code of the 居住证 the
    record names (its number must carry that permit's address code), None for a 居民身份证."""
    birth, _sex, code = _id_facts(number)
    if code == "id_legacy15":
        return [Problem("E", "id_legacy15")]
    if code == "id_length":
        return [Problem("E", "id_length", {"n": len(number)})]
    if code == "id_format":
        return [Problem("E", "id_format")]
    if code == "id_birth_invalid":
        return [Problem("E", "id_birth_invalid", {"digits": number[6:14]})]
    if code == "id_checksum":
        return [Problem("E", "id_checksum")]
    return _dated_checks(number, birth, today, permit, tables)  # type: ignore[arg-type]


def _dated_checks(number: str, birth: date, today: date, permit: str | None,
                  tables: IdTables) -> list[Problem]:
    if birth > today:
        return [Problem("E", "id_birth_future", {"birth": birth.isoformat()})]
    if birth.year < 1900:
        return [Problem("E", "id_birth_invalid", {"digits": number[6:14]})]
    if number[0] == "9" and tables.countries:
        return [foreigner_problem(number, tables, "id_foreigner")]
    if tables.provinces and number[:2] not in tables.provinces:
        return [Problem("E", "id_province", {"code": number[:2]})]
    area = number[:6]
    held = tables.permits.get(area)
    if held is not None:
        if permit == held[0]:
            return []
        if permit is None:
            return [Problem("E", "id_permit_area", {"place": held[1]})]
        return [Problem("E", "id_permit_mismatch", {"place": held[1]})]
    if permit is not None and tables.permits:
        areas = "、".join(a for a, (kind, _who) in tables.permits.items() if kind == permit)
        return [Problem("E", "id_permit_expected", {"areas": areas or "居住证地址码"})]
    if area not in tables.areas and not _address_known(area, birth.year):
        return [Problem("W", "id_area_unknown", {"area": area})]
    return []


def is_foreigner_number(number: str) -> bool:
    """A well-formed 18-character number (date and MOD 11-2 check right) beginning with 9: the
    2023 外国人永久居留身份证 (9, issuing province 2, GB/T 2659 nationality 3, birth date 8,
    sequence 3, check 1), which no 公民身份号码 begins with (their province codes are 1x–8x)."""
    return number[:1] == "9" and _id_facts(number)[2] is None


def foreigner_problem(number: str, tables: IdTables, code: str) -> Problem:
    """The E of a 外国人永久居留身份证 number where a Chinese citizen's number is wanted."""
    country = tables.countries.get(number[3:6])
    if country is None:
        return Problem("E", "id_foreigner_country", {"code": number[3:6]})
    return Problem("E", code, {"country": country})


# --- 统一社会信用代码 ---------------------------------------------------------------------------


def org_code_check(body: str) -> str:
    """The check character (GB 11714 组织机构代码 rule) of the 8-character organisation code
    `body` inside a 统一社会信用代码."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(ch, 36) * w for ch, w in zip(body, weights, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def check_uscc(code: str, *, law_firm: bool = False, areas: frozenset[str] | None = None
               ) -> list[Problem]:
    """GB 32100. `areas`: the current GB/T 2260 codes; with them, positions 3–8 (the
    registration authority's area) must name an area of some period (a W otherwise)."""
    return list(_check_uscc(code, law_firm, areas))


@lru_cache(maxsize=8192)  # a firm's code recurs on every member of the firm
def _check_uscc(code: str, law_firm: bool, areas: frozenset[str] | None) -> tuple[Problem, ...]:
    return tuple(_uscc_problems(code, law_firm, areas))


@lru_cache(maxsize=4096)
def area_ever_known(area: str) -> bool:
    """Whether a 6-digit code names an area of GB/T 2260 in some period (stdnum's history)."""
    results = numdb.get("cn/loc").info(area)
    return any("county" in props for _part, props in results)


def _uscc_problems(code: str, law_firm: bool, areas: frozenset[str] | None) -> list[Problem]:
    if len(code) != 18:
        return [Problem("E", "uscc_length", {"n": len(code)})]
    if any(ch not in _USCC_ALPHABET for ch in code):
        return [Problem("E", "uscc_format")]
    # GB 32100 mod-31 check (as stdnum's uscc.calc_check_digit, which also re-cleans its input;
    # its validate() wants a digit in position 1, which the A/N/Y department codes lack).
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(code, _USCC_WEIGHTS, strict=False))
    if _USCC_ALPHABET[(31 - total % 31) % 31] != code[-1]:
        return [Problem("E", "uscc_checksum")]
    problems = []
    if law_firm and not code.startswith("31"):
        problems.append(Problem("W", "uscc_not_law_firm"))
    org = code[8:17]
    if org[:8].isalnum() and org[-1] != org_code_check(org[:8]):
        problems.append(Problem("W", "uscc_org_code"))
    area = code[2:8]
    if areas is not None and area not in areas and not area_ever_known(area):
        problems.append(Problem("W", "uscc_area", {"area": area}))
    return problems


# --- 律师执业证号 ---------------------------------------------------------------------------


def check_licence(number: str, today: date) -> list[Problem]:
    if not _LICENCE.match(number):
        return [Problem("E", "licence_format")]
    if number[1:3] not in PROVINCES:
        return [Problem("E", "licence_province", {"code": number[1:3]})]
    year = int(number[5:9])
    if not 1980 <= year <= today.year:
        return [Problem("E", "licence_year", {"year": year, "this_year": today.year})]
    if number[9] == "0":
        return [Problem("E", "licence_category")]
    if number[10] not in "01":
        return [Problem("E", "licence_sex_digit", {"digit": number[10]})]
    return []


def licence_category(number: str) -> str | None:
    return number[9] if _LICENCE.match(number) else None


def licence_sex(number: str) -> str | None:
    """Sex code from licence digit 11 (0 男, 1 女), as GB/T 2261.1 (1 男, 2 女)."""
    if not _LICENCE.match(number) or number[10] not in "01":
        return None
    return "1" if number[10] == "0" else "2"


def licence_codes(number: str) -> tuple[str | None, str | None]:
    """(licence_category, licence_sex) of a number, with one match."""
    if not _LICENCE.match(number):
        return None, None
    sex = number[10]
    return number[9], (None if sex not in "01" else "1" if sex == "0" else "2")


# --- phones ----------------------------------------------------------------------------------


def normalise_phone(text: str) -> str:
    value = _SPACES.sub("-", unicodedata.normalize("NFKC", text).strip()).strip("-")
    digits = value.replace("-", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if _MOBILE.match(digits):
        return digits
    if "(" in value or "（" in text:
        value = re.sub(r"[()]", "-", value).strip("-").replace("--", "-")
    return value


def is_mobile(value: str) -> bool:
    return bool(_MOBILE.match(value))


def is_landline(value: str) -> bool:
    return bool(_LANDLINE.match(value))


@dataclass(frozen=True)
class PhoneTables:
    """The code tables a phone check reads (None: that part is not checked)."""

    #: leading digits of allocated mobile numbers (3–5 digits) → 号段 label; and its date
    segments: Mapping[str, str] | None = None
    segments_taken: str = ""
    #: 长途区号 → (its label, the lengths a local number may have there)
    areas: Mapping[str, tuple[str, frozenset[int]]] | None = None


def check_mobile(value: str, tables: PhoneTables) -> list[Problem]:
    """A well-formed mobile number (is_mobile) in no allocated segment is a W."""
    segments = tables.segments
    if segments is None or value[:3] in segments or value[:4] in segments \
            or value[:5] in segments:
        return []
    return [Problem("W", "mobile_segment", {"segment": value[:3],
                                            "taken": tables.segments_taken or "—"})]


def check_landline(value: str, tables: PhoneTables) -> list[Problem]:
    """A well-formed landline (is_landline): a real 长途区号, a local number that starts with
    2–8 and has a length the area code allows; a W otherwise."""
    if tables.areas is None:
        return []
    area, local = value.split("-")[:2]
    known = tables.areas.get(area)
    if known is None:
        return [Problem("W", "landline_area", {"area": area})]
    name, lengths = known
    if local[0] not in "2345678":
        return [Problem("W", "landline_local_start", {"digit": local[0]})]
    if len(local) not in lengths:
        allowed = " 或 ".join(str(n) for n in sorted(lengths))
        return [Problem("W", "landline_local_length", {"area": name, "lengths": allowed,
                                                       "n": len(local)})]
    return []
