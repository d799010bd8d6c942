"""公民身份号码, 外国人永久居留身份证, 统一社会信用代码 and 律师执业证号 to the letter of their
standards (issue #15). Every number is built here from the standard's own rules: the check
characters are computed below, not taken from the code under test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc

from desktop.domain import identifiers as ids
from desktop.domain.rules.identity import id_tables
from desktop.formspec import shipped_forms
from tests.conftest import TODAY, as_staff
from tests.domain.conftest import triples

ROOT = Path(__file__).resolve().parents[2]
#: GB/T 2260 province-level codes (31 provinces, 台湾 71, 香港 81, 澳门 82)
GB2260_PROVINCES = set(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65"
    " 71 81 82".split())


def mod11_2(body17: str) -> str:
    """GB 11643-1999 §6.2 (ISO 7064:1983 MOD 11-2): weights W_i = 2^(i-1) mod 11 counted from
    the check character's place, S = Σ a_i·W_i, check = (12 − S mod 11) mod 11, 10 written X."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def citizen(area: str, birth: str = "19800315", seq: str = "123") -> str:
    """GB 11643-1999 §4–5: 6-digit address code, 8-digit birth date, 3-digit sequence
    (odd = male), check character."""
    body = area + birth + seq
    return body + mod11_2(body)


def foreigner(province: str = "11", nationality: str = "840", birth: str = "19800315",
              seq: str = "123") -> str:
    """The 2023 外国人永久居留身份证 number (国家移民管理局, 新版外国人永久居留身份证机读信息规则,
    2023-12-01): 9 (foreigner mark; citizens' numbers begin 1–8), 2-digit province of the
    issuing authority, 3-digit GB/T 2659 numeric nationality, birth date, sequence, and the
    MOD 11-2 check character of GB 11643."""
    body = "9" + province + nationality + birth + seq
    return body + mod11_2(body)


def uscc_code(body17: str) -> str:
    """GB 32100-2015 §5 and annex: characters 0–9 A–Y without I O Z S V valued 0–30, weights
    W_i = 3^(i-1) mod 31, check = 31 − (Σ C_i·W_i mod 31), 31 written 0."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(alphabet.index(ch) * pow(3, i, 31) for i, ch in enumerate(body17))
    return body17 + alphabet[(31 - total % 31) % 31]


def org_code(body8: str) -> str:
    """GB 11714-1997: the 组织机构代码 check character (weights 3 7 9 10 5 8 4 2, mod 11)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    value = 11 - total % 11
    return body8 + ("X" if value == 10 else "0" if value == 11 else str(value))


def law_firm(area: str) -> str:
    """GB 32100-2015 §4: 3 (司法行政) 1 (律师执业机构), the registration area, a 组织机构代码."""
    return uscc_code("31" + area + org_code("MD012345"))


@pytest.fixture(scope="module")
def tables() -> ids.IdTables:
    t = shipped_forms().tables
    return id_tables(t["regions"], t["residence_permits"], t["countries"])


def codes(problems) -> list[tuple[str, str]]:
    return [(p.severity, p.code) for p in problems]


def test_the_check_characters_built_here_agree_with_the_standards_examples():
    """GB 11643-1999 annex example 11010519491231002X; GB 32100 sample 91110000600037341L."""
    assert citizen("110105", "19491231", "002") == "11010519491231002X"
    assert uscc_code("91110000600037341") == "91110000600037341L"
    assert org_code("60003734") == "600037341"


# --- 公民身份号码: the province part is a closed list ----------------------------------


@pytest.mark.parametrize("first_two", [f"{n:02d}" for n in range(100) if n < 90])
def test_first_two_digits_name_a_province_or_the_number_is_an_error(first_two, tables):
    """GB 11643-1999 §5.1 and GB/T 2260: the address code begins with a province-level code
    (plus 83, 台湾居民居住证); any other first two digits make an impossible number (E), not a
    possibly historical area (W)."""
    number = citizen(first_two + "0101")
    found = codes(ids.check_resident_id(number, TODAY, tables=tables))
    if first_two in GB2260_PROVINCES or first_two == "83":
        assert ("E", "id_province") not in found
    else:
        assert found == [("E", "id_province")]


def test_the_closed_list_is_gbt2260_plus_83(tables):
    """GB/T 2260 provinces (11–65, 71, 81, 82) and 83 of the 台湾居民居住证, nothing else."""
    assert tables.provinces == GB2260_PROVINCES | {"83"}


def test_county_codes_missing_from_the_history_stay_a_warning(tables):
    """GB 11643-1999 §5.1: the code is that of the county at the first registration, which can
    be old; only the county part of a code unknown to the history table is a W."""
    assert codes(ids.check_resident_id(citizen("110199"), TODAY, tables=tables)) == [
        ("W", "id_area_unknown")]
    # 110103 崇文区 existed until 2010: valid for someone born before
    assert ids.check_resident_id(citizen("110103", "19700101"), TODAY, tables=tables) == []
    # a code only the current GB/T 2260 table has is known too
    newest = max(c for c in tables.areas if c[:2] == "11")
    assert ids.check_resident_id(citizen(newest, "20240101"), TODAY, tables=tables) == []


def test_stdnum_alone_would_refuse_the_taiwan_permit_and_accept_a_future_birth():
    """python-stdnum's stdnum.cn.ric (what it does and doesn't): its cn/loc table has no 83, so
    it refuses 830000 numbers, and it checks no birth date against today."""
    assert not ric.is_valid(citizen("830000", "19900101"))
    assert ric.is_valid(citizen("110105", "21000101"))
    assert codes(ids.check_resident_id(citizen("110105", "21000101"), TODAY)) == [
        ("E", "id_birth_future")]


# --- 港澳台居民居住证 -----------------------------------------------------------------


@pytest.mark.parametrize(("area", "id_type", "expected"), [
    ("810000", "港澳居民居住证", set()),
    ("820000", "港澳居民居住证", set()),
    ("830000", "台湾居民居住证", set()),
    ("830000", "港澳居民居住证", {("id_number", "E", "id_permit_mismatch")}),
    ("810000", "台湾居民居住证", {("id_number", "E", "id_permit_mismatch")}),
    ("820000", "台湾居民居住证", {("id_number", "E", "id_permit_mismatch")}),
    ("810000", "居民身份证", {("id_number", "E", "id_permit_area")}),
    ("830000", "居民身份证", {("id_number", "E", "id_permit_area")}),
    ("130102", "港澳居民居住证", {("id_number", "E", "id_permit_expected")}),
    ("130102", "台湾居民居住证", {("id_number", "E", "id_permit_expected")}),
    ("810000", "护照", set()),
])
def test_residence_permit_numbers_go_with_their_id_type(validate, firm_records, area, id_type,
                                                        expected):
    """《港澳台居民居住证申领发放办法》(国办发〔2018〕81号): the permit's 公民身份号码 carries the
    address code 810000 (香港), 820000 (澳门) or 830000 (台湾); 81/82 go with the 港澳居民居住证,
    83 with the 台湾居民居住证, and any mismatch is an E."""
    member = firm_records.members[0]
    birth = member["出生日期"].replace("-", "")
    number = citizen(area, birth, "002")  # even: 女, as the sample member
    raw = dict(member, 证件类型=id_type, 公民身份号码=number)
    found = triples(validate("lawyer_member", raw)[1])
    assert {t for t in found if t[0] == "id_number"} == expected


# --- 外国人永久居留身份证 (2023) ------------------------------------------------------


def test_a_foreigners_number_is_recognised_as_such(tables):
    """A well-formed 9-number is the foreigner's card, named with its GB/T 2659 nationality."""
    number = foreigner("31", "392")  # issued in 上海, 日本
    assert ids.is_foreigner_number(number)
    problems = ids.check_resident_id(number, TODAY, tables=tables)
    assert codes(problems) == [("E", "id_foreigner")]
    assert problems[0].params == {"country": "日本"}
    unknown = ids.check_resident_id(foreigner("11", "999"), TODAY, tables=tables)
    assert codes(unknown) == [("E", "id_foreigner_country")]


def test_a_broken_foreigners_number_is_not_recognised(tables):
    number = foreigner()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert not ids.is_foreigner_number(wrong)
    assert codes(ids.check_resident_id(wrong, TODAY, tables=tables)) == [("E", "id_checksum")]
    assert not ids.is_foreigner_number(citizen("110105"))


def test_a_foreigners_number_as_a_resident_id_says_what_it_is(validate):
    """The law society's register (no 证件类型): an E that names the card and the nationality."""
    raw = {"会员证号": "0311-000123", "发证法学会": "河北省法学会", "批准入会日期": "2015-05-01",
           "姓名": "李明", "性别": "男", "公民身份号码": foreigner("13", "840", "19800315", "123"),
           "会员状态": "在册"}
    findings = [f for f in validate("society_member", raw)[1] if f.field == "id_number"]
    assert [(f.severity, f.code) for f in findings] == [("E", "id_foreigner")]
    assert "美国" in findings[0].message and "外国人永久居留身份证" in findings[0].message


@pytest.mark.parametrize("id_type", ["居民身份证", "护照", "其他", "港澳居民居住证"])
@pytest.mark.parametrize("form", ["lawyer_member", "staff_member"])
def test_party_members_must_be_citizens_whatever_the_id_type(validate, firm_records, form,
                                                             id_type):
    """党章 第一条: 中国共产党党员 are Chinese citizens (年满十八岁的中国工人、农民、军人、知识分子
    和其他社会阶层的先进分子), so a 外国人永久居留身份证 number in 附件1/附件2 is an E even when
    the 证件类型 is 护照 or 其他, which are otherwise not checked."""
    member = firm_records.members[0]
    raw = member if form == "lawyer_member" else as_staff(member)
    number = foreigner("11", "826", member["出生日期"].replace("-", ""), "002")
    findings = validate(form, dict(raw, 证件类型=id_type, 公民身份号码=number))[1]
    id_findings = [f for f in findings if f.field == "id_number"]
    assert [(f.severity, f.code) for f in id_findings] == [("E", "id_foreigner_citizens")]
    assert "英国" in id_findings[0].message and "中国公民" in id_findings[0].message


def test_a_passport_number_stays_unchecked_in_a_party_form(validate, firm_records):
    member = firm_records.members[0]
    found = triples(validate("lawyer_member", dict(member, 证件类型="护照",
                                                   公民身份号码="E12345678"))[1])
    assert not {t for t in found if t[0] == "id_number"}


# --- 统一社会信用代码: positions 3–8 -------------------------------------------------


@pytest.mark.parametrize(("area", "known"), [
    ("110105", True),  # 朝阳区 (北京), current county
    ("110000", True),  # 北京市, province level
    ("130100", True),  # 石家庄市, city level
    ("110103", True),  # 崇文区, merged in 2010: a code of an earlier period
    ("440303", True),  # 罗湖区
    ("990000", False),  # no province 99
    ("110199", False),  # no such county in any period
    ("000000", False),
])
def test_uscc_registration_area_is_a_gbt2260_code_of_some_period(area, known):
    """GB 32100-2015 §4.3: characters 3–8 are the 登记管理机关行政区划码 (GB/T 2260); a code
    naming no area in any period is a W (the check character can still be right)."""
    code = law_firm(area)
    regions = frozenset(c.code for c in shipped_forms().tables["regions"].codes)
    found = codes(ids.check_uscc(code, law_firm=True, areas=regions))
    assert found == ([] if known else [("W", "uscc_area")])


def test_stdnum_uscc_checks_no_area():
    """python-stdnum's stdnum.cn.uscc checks format and check character only."""
    assert uscc.is_valid(law_firm("990000"))


def test_uscc_area_in_the_shipped_forms(validate, firm_records):
    member = firm_records.members[0]
    found = triples(validate("lawyer_member", dict(
        member, 执业机构统一社会信用代码=law_firm("990000")))[1])
    assert ("firm_uscc", "W", "uscc_area") in found


# --- 律师执业证号 --------------------------------------------------------------------


def licence(province: str = "13", sex: str = "1", category: str = "1") -> str:
    """《律师和律师事务所执业证号编制办法》 as domain-research §3.3 reads it: 1, province (2),
    city (2), year first licensed (4), 执业类别 (1), sex (1: 0 男, 1 女), serial (6)."""
    return f"1{province}01" + "2005" + category + sex + "123456"


@pytest.mark.parametrize("digit", list("0123456789"))
def test_the_sex_digit_is_0_or_1(digit):
    found = codes(ids.check_licence(licence(sex=digit), TODAY))
    assert found == ([] if digit in "01" else [("E", "licence_sex_digit")])


def test_sex_digit_disagreeing_with_the_sex_is_a_warning(validate, firm_records):
    member = firm_records.members[0]  # 女: digit 1
    number = member["律师执业证号"]
    found = triples(validate("lawyer_member", dict(
        member, 律师执业证号=number[:10] + "0" + number[11:]))[1])
    assert ("licence", "W", "licence_sex_mismatch") in found


def test_licence_province_and_firm_province_should_agree(validate, firm_records):
    """The licence's province (digits 2–3) is the province of the firm's 司法行政 registration
    (credit code positions 3–4): a lawyer who moves province is issued a new licence (W)."""
    member = firm_records.members[0]
    number, firm = member["律师执业证号"], member["执业机构统一社会信用代码"]
    assert number[1:3] == firm[2:4]
    other = "44" if number[1:3] != "44" else "32"
    moved = dict(member, 律师执业证号=number[:1] + other + number[3:])
    assert ("licence", "W", "licence_province_mismatch") in triples(
        validate("lawyer_member", moved)[1])
    same = dict(moved, 执业机构统一社会信用代码=law_firm(other + "0101"))
    assert ("licence", "W", "licence_province_mismatch") not in triples(
        validate("lawyer_member", same)[1])


@pytest.mark.skipif(not Path("/usr/share/iso-codes/json/iso_3166-1.json").exists(),
                    reason="tools/make_countries.py reads the iso-codes package")
def test_the_countries_generator_rebuilds_the_shipped_table(tmp_path):
    """tools/make_countries.py on the same iso-codes version and date writes the same bytes."""
    shipped = shipped_forms().tables["countries"]
    out = tmp_path / "countries.toml"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_countries.py"), "--taken",
                    shipped.taken, "/usr/share/iso-codes/json", str(out)], check=True,
                   capture_output=True)
    text = out.read_text(encoding="utf-8")
    if text.splitlines()[7] != shipped.path.read_text(encoding="utf-8").splitlines()[7]:
        pytest.skip("another iso-codes version than the one the table was taken from")
    assert out.read_bytes() == shipped.path.read_bytes()


def test_the_id_tables_agree_with_each_other():
    """Every 证件类型 says how its number is checked; every 居住证 address code names a 证件类型
    of the permit group, and both permit types have their address codes."""
    tables = shipped_forms().tables
    groups = {c.code: c.group for c in tables["id_type"].codes}
    assert set(groups.values()) == {"resident_id", "permit", "other"}
    permits = {c.code: c.group for c in tables["residence_permits"].codes}
    assert permits == {"810000": "2", "820000": "2", "830000": "3"}
    assert {groups[t] for t in permits.values()} == {"permit"}
    assert {t for t, g in groups.items() if g == "permit"} == set(permits.values())
