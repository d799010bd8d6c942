"""Issue 15, party rules built from their sources: the length of a probation and its one
extension, the structure of the 14-digit 实习证编号, and a 联合党支部 covering a firm that
should have its own 党支部. Each test's docstring quotes the source it is built from."""

from __future__ import annotations

import dataclasses
import random

import pytest

from desktop import sampledata
from desktop.domain.context import Environment
from desktop.domain.forms import FormSet
from desktop.domain.rules.registry import RULES
from desktop.domain.validation import Validator
from tests.conftest import TODAY, as_staff, make_firm_records
from tests.domain.conftest import peers_from, triples

# --- probation: 党章 第七条, 发展党员工作细则 ------------------------------------------------


@pytest.fixture
def member(firm_records) -> dict:
    """A 正式党员 who joined on 2006-07-29 (sampledata, seed 2026)."""
    m = dict(firm_records.members[0])
    assert m["入党日期"] == "2006-07-29"
    return m


@pytest.fixture
def check(validate):
    def run(raw, form_id="lawyer_member", **kw):
        return triples(validate(form_id, raw, **kw)[1])

    return run


SHORT = {("confirm_date", "E", "probation_short")}
BETWEEN = {("confirm_date", "E", "probation_between")}
EXTENDED = {("confirm_date", "W", "probation_extended")}
LONG = {("confirm_date", "E", "probation_long")}


@pytest.mark.parametrize(
    ("confirmed", "expected"),
    [
        ("2007-07-28", SHORT),  # a day before the year is out
        ("2007-07-29", set()),  # 预备期满一年: 转正 on the day
        ("2007-07-30", BETWEEN),  # a day after: no extension is that short
        ("2007-08-29", BETWEEN),  # +13 months
        ("2008-01-28", BETWEEN),  # a day short of an extension of six months
        ("2008-01-29", EXTENDED),  # +1 year and 6 months: the shortest extension
        ("2008-04-15", EXTENDED),  # an extension of eight and a half months
        ("2008-07-29", EXTENDED),  # +2 years: the longest extension
        ("2008-07-30", LONG),  # a day more: the extension exceeds one year
        ("2010-07-29", LONG),
    ],
)
def test_probation_is_one_year_or_extended_once_by_six_to_twelve_months(
        check, member, confirmed, expected):
    """党章 第七条: “预备党员的预备期为一年。……预备期满……不够条件的，可以延长预备期，但不能超过
    一年。” 《中国共产党发展党员工作细则》(2014) 第二十八、二十九条: 延长预备期只能一次，时间
    不能少于半年，最长不超过一年; 转正时间按预备期满之日计算. So 转正 is +1 year, or +1½ to
    +2 years: between +1 and +1½ years is an E (it cannot happen), +1½ to +2 years the W of a
    prolonged probation, after +2 years an E."""
    assert check(dict(member, 转正日期=confirmed)) == expected


def test_the_staff_form_follows_the_same_rule(check, member):
    """附件2 members are party members like 附件1's: the same 党章 第七条 limits."""
    staff = as_staff(member)
    assert check(dict(staff, 转正日期="2007-10-01"), "staff_member") == BETWEEN
    assert check(dict(staff, 转正日期="2008-03-01"), "staff_member") == EXTENDED


def test_a_leap_day_joining(check, member):
    """入党 on 29 February: a year later is 28 February (that month has no 29th); a year and
    six months later is 29 August — 细则: 延长预备期不能少于半年."""
    joined = dict(member, 入党日期="2008-02-29")
    assert check(dict(joined, 转正日期="2009-02-28")) == set()
    assert check(dict(joined, 转正日期="2009-08-28")) == BETWEEN
    assert check(dict(joined, 转正日期="2009-08-29")) == EXTENDED
    assert check(dict(joined, 转正日期="2010-02-28")) == EXTENDED
    assert check(dict(joined, 转正日期="2010-03-01")) == LONG


def test_probationer_past_the_longest_extension(check, member):
    """党章 第七条: a 预备党员 whose one year and the one extension (at most a year) are over
    cannot still be a 预备党员: E; one past the first year only is due for 转正: W."""
    probationer = dict(member, 人员类别="预备党员", 转正日期="")
    assert check(dict(probationer, 入党日期="2025-11-21")) == {
        ("category", "W", "probation_overdue")}
    assert check(dict(probationer, 入党日期="2024-11-23")) == {
        ("category", "W", "probation_overdue")}
    assert check(dict(probationer, 入党日期="2024-11-22")) == {
        ("category", "E", "probation_expired")}


def _with_probation(forms: FormSet, **params) -> Validator:
    form = forms.form("lawyer_member")
    rules = tuple(dataclasses.replace(r, params={**r.params, **params})
                  if r.rule == "probation" else r for r in form.rules)
    return Validator(dataclasses.replace(form, rules=rules), Environment(today=TODAY))


def test_the_durations_are_the_forms_parameters(forms, member):
    """The durations are written in forms/*.toml (党章 and 细则 give them; a change of the rules
    is an edit of the form, not of Python): the same 转正 is judged by the form's months."""
    raw = dict(member, 转正日期="2007-11-29")  # +16 months
    assert triples(_with_probation(forms).validate(raw)[1]) == BETWEEN
    shorter = _with_probation(forms, extension_min_months=3)
    assert triples(shorter.validate(raw)[1]) == EXTENDED
    # the words follow the parameters too: a form allowing at most 9 months of extension
    late = dict(member, 转正日期="2008-06-01")  # +22 months
    [finding] = _with_probation(forms, extension_max_months=9).validate(late)[1]
    assert finding.code == "probation_long" and "9 个月" in finding.message
    assert "21 个月" in finding.message and "2008-04-29" in finding.message
    params = next(r.params for r in forms.form("lawyer_member").rules if r.rule == "probation")
    assert (params["probation_months"], params["extension_min_months"],
            params["extension_max_months"]) == (12, 6, 12)


def test_the_probation_parameters_are_required_and_checked():
    """A form must say the durations; nonsense is refused when the form is loaded."""
    rule = RULES["probation"]
    base = {"category_field": "c", "join_field": "j", "confirm_field": "f"}
    assert "缺少参数" in rule.check_params(base)
    full = dict(base, probation_months=12, extension_min_months=6, extension_max_months=12)
    assert rule.check_params(full) is None
    assert rule.check_params(dict(full, extension_min_months=13))
    assert rule.check_params(dict(full, probation_months=0))
    assert rule.check_params(dict(full, probation_months="12"))


# --- 实习证编号 --------------------------------------------------------------------------------


def cert(prov="44", city="01", ym="2401", sex="1", cat="1", seq="0001") -> str:
    return prov + city + ym + sex + cat + seq


@pytest.fixture
def intern(firm_records) -> dict:
    """An intern (申请律师执业实习人员) whose 性别 is 男, so a sex digit of 1 agrees."""
    staff = as_staff(firm_records.members[0])
    return dict(staff, 人员身份="申请律师执业实习人员", 性别="男",
                公民身份号码=_male_id(staff["公民身份号码"]))


def _male_id(number: str) -> str:
    from stdnum.cn import ric

    body = number[:16] + "1"
    return body + ric.calc_check_digit(body + "0")


def W(code: str) -> set:  # noqa: N802 (a finding's severity)
    return {("intern_cert", "W", code)}


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (cert(), set()),
        (cert(ym="8001"), set()),  # 1980, the year the practising system's numbers start
        (cert(ym="9912"), set()),
        (cert(ym="0001"), set()),  # 2000
        (cert(ym="2611"), set()),  # this month (TODAY is 2026-11-22)
        (cert(ym="2612"), W("intern_cert_year")),  # next month: 2026-12 (or 1926)
        (cert(ym="7912"), W("intern_cert_year")),  # 1979 is before 1980, 2079 is to come
        (cert(ym="2413"), W("intern_cert_month")),
        (cert(ym="2400"), W("intern_cert_month")),
        (cert(sex="0"), W("intern_cert_sex")),  # 1 男 2 女: 0 is no sex digit here
        (cert(sex="3"), W("intern_cert_sex")),
        (cert(sex="2"), W("intern_cert_sex_mismatch")),  # 女, but the record says 男
        (cert(cat="3"), W("intern_cert_category")),  # 1 专职 2 兼职
        (cert(cat="0"), W("intern_cert_category")),
        (cert(prov="99"), W("intern_cert_province")),
        (cert(prov="00", ym="2413", sex="5", cat="9"),
         W("intern_cert_province") | W("intern_cert_month") | W("intern_cert_sex")
         | W("intern_cert_category")),
        ("4401240111000", W("pattern")),  # 13 digits: another province's format, not parsed
    ],
)
def test_intern_certificate_structure(check, intern, number, expected):
    """domain-research §2.2, from the Guangdong and Zhejiang bar associations: 14 digits =
    省代码2 + 市代码2 + 取得年月4 (YYMM) + 性别1 (1 男 2 女) + 类别1 (1 专职 2 兼职) + 序号4.
    “Treat as soft (W) only” — provinces number differently — so a part that cannot be right
    is a W, never an E. The year's lower bound is the 1980 of the lawyer licence (§3.3)."""
    assert check(dict(intern, 实习证编号=number), "staff_member") == expected


def test_the_intern_certificate_rule_never_blocks(check, intern):
    """“Treat as soft (W) only”: whatever the digits, nothing is an E."""
    rng = random.Random(15)
    for _ in range(300):
        number = "".join(rng.choice("0123456789") for _ in range(14))
        assert all(s == "W" for _, s, _ in check(dict(intern, 实习证编号=number),
                                                 "staff_member"))


# --- 联合党支部 ----------------------------------------------------------------------------


@pytest.fixture
def two_firms():
    """Firm A with 4 正式党员 (make_firm_records) and firm B with 2, B's members made for B."""
    a = make_firm_records()
    b = make_firm_records(7, 2, firm_index=1)
    assert a.firm.uscc != b.firm.uscc
    return a, b


def _joint(a, b, category="联合党支部") -> dict:
    org = dict(a.org, 组织类别=category, 党组织所在单位情况="联合党支部")
    org["律师事务所"] = [*a.org["律师事务所"], *b.org["律师事务所"]]
    return org


@pytest.fixture
def joint_check(validate, forms):
    def run(org, lawyers, staff=()):
        peers = peers_from(forms, lawyer_member=list(lawyers), staff_member=list(staff))
        found = triples(validate("party_org", org, peers=peers, record_id="org")[1])
        return {f for f in found if f[2] == "joint_branch_firm_large"}

    return run


LARGE_A = {("firms[1].name", "W", "joint_branch_firm_large")}


def test_joint_branch_covering_a_firm_with_three_full_members(joint_check, two_firms):
    """《中国共产党支部工作条例（试行）》(2018) 第五条: “企业……等基层单位正式党员3人以上的，应当
    成立党支部”; 正式党员不足3人的单位可以与邻近单位成立联合党支部. Firm A has 4 正式党员 of its
    own: a W on its row of the 联合党支部; firm B (2) is what a 联合党支部 is for."""
    a, b = two_firms
    assert joint_check(_joint(a, b), a.members + b.members) == LARGE_A


def test_exactly_three_full_members_is_enough_and_two_are_not(joint_check, two_firms):
    """第五条: “正式党员3人以上” — 3 counts, 2 does not."""
    a, b = two_firms
    assert joint_check(_joint(a, b), a.members[:3] + b.members) == LARGE_A
    assert joint_check(_joint(a, b), a.members[:2] + b.members) == set()


def test_only_registered_full_members_count(joint_check, two_firms):
    """第五条 counts 正式党员: 预备党员 do not count, nor members not registered in the firm
    (未转入情形 4/5: their 组织关系 stays elsewhere, as the 党支部's own count leaves them out)."""
    a, b = two_firms
    two = a.members[:2]
    probationer = dict(a.members[2], 人员类别="预备党员", 入党日期="2026-03-01", 转正日期="")
    assert joint_check(_joint(a, b), [*two, probationer, *b.members]) == set()
    elsewhere = dict(a.members[2], 组织关系是否已转入本所党组织="否", 未转入情形="4",
                     处理情况="已书面报告上级党组织")
    assert joint_check(_joint(a, b), [*two, elsewhere, *b.members]) == set()


def test_staff_members_count_too(joint_check, two_firms):
    """正式党员 of the firm are its 附件1 lawyers and its 附件2 staff alike."""
    a, b = two_firms
    staff = [as_staff(a.members[2])]
    assert joint_check(_joint(a, b), a.members[:2] + b.members, staff) == LARGE_A


def test_temporary_joint_branch_and_other_categories(joint_check, two_firms):
    """临时联合党支部 (932) is a 联合党支部 too; a 党支部 (631) covering a firm is what 第五条
    asks for, so no such W."""
    a, b = two_firms
    assert joint_check(_joint(a, b, "临时联合党支部"), a.members + b.members) == LARGE_A
    assert joint_check(dict(a.org), a.members) == set()


def test_the_member_is_matched_to_the_firm_by_name_when_the_code_differs(joint_check, two_firms):
    """A member is matched to a covered firm by USCC or by name (as the org's counts do)."""
    a, b = two_firms
    other = sampledata.firms(random.Random(3), 3)[2]
    moved = [dict(m, 执业机构统一社会信用代码=other.uscc) for m in a.members]
    assert joint_check(_joint(a, b), moved + b.members) == LARGE_A
