"""附件1 律师党员基本信息登记表: every rule of FORMS.md, one mutated field at a time, starting
from valid records made by desktop.sampledata. Findings are compared exactly: field, severity
and code, and the Chinese message names the field."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from desktop.domain.context import Environment
from desktop.domain.validation import Validator
from tests.conftest import TODAY, make_firm_records
from tests.domain.conftest import peers_from, triples

FORM = "lawyer_member"


@pytest.fixture
def member(firm_records) -> dict:
    """A valid 正式党员, female, born 1979-07-29, joined 2006-07-29, confirmed 2007-07-29,
    学历 博士研究生毕业."""
    m = dict(firm_records.members[0])
    assert (m["性别"], m["出生日期"], m["入党日期"], m["转正日期"]) == (
        "女",
        "1979-07-29",
        "2006-07-29",
        "2007-07-29",
    )
    return m


@pytest.fixture
def probationer(member) -> dict:
    """A valid 预备党员 who joined this year."""
    return dict(member, 人员类别="预备党员", 入党日期="2026-03-01", 转正日期="")


@pytest.fixture
def check(validate):
    def run(raw, **kw):
        return triples(validate(FORM, raw, **kw)[1])

    return run


def test_sample_records_are_valid(validate):
    for seed in range(8):
        for raw in make_firm_records(seed, 5, full_only=False).members:
            values, findings = validate(FORM, raw)
            assert findings == [], (raw, findings)


def test_valid_record_is_stored_as_codes(validate, member):
    values, _ = validate(FORM, member)
    assert values["sex"] == "2" and values["ethnicity"] == "01"
    assert values["category"] == "1" and values["practice_category"] == "1"
    assert values["transferred"] is True and values["flowing"] is False
    assert values["birth_date"] == "1979-07-29"


def test_probationer_is_valid(check, probationer):
    assert check(probationer) == set()


# --- identity -----------------------------------------------------------------


def test_sex_disagrees_with_id_digit_17(check, member):
    # the licence's digit 11 says 女 too, so it also warns on the licence
    assert check(dict(member, 性别="男")) == {
        ("sex", "E", "sex_mismatch"),
        ("licence", "W", "licence_sex_mismatch"),
    }


def test_birth_date_disagrees_with_id(check, member):
    assert check(dict(member, 出生日期="1979-07-30")) == {("birth_date", "E", "birth_mismatch")}


def test_birth_date_in_the_future(check, member):
    assert check(dict(member, 出生日期="2027-01-01")) == {
        ("birth_date", "E", "date_future"),
        ("birth_date", "E", "birth_mismatch"),
        ("join_date", "E", "join_age"),
    }


def test_bad_id_checksum(check, member):
    number = member["公民身份号码"]
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert check(dict(member, 公民身份号码=wrong)) == {("id_number", "E", "id_checksum")}


def test_15_digit_id_is_refused_on_entry(check, member):
    assert check(dict(member, 公民身份号码="130102790729112")) == {
        ("id_number", "E", "id_legacy15")
    }


def test_id_number_with_lower_x_and_full_width_digits(validate):
    raw = next(m for m in make_firm_records(9, 30).members if m["公民身份号码"].endswith("X"))
    typed = (
        raw["公民身份号码"][:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        + "x"
    )
    values, findings = validate(FORM, dict(raw, 公民身份号码=typed))
    assert findings == []
    assert values["id_number"] == raw["公民身份号码"]


def _permit_number(birth: str, female: bool) -> str:
    body = f"810000{birth.replace('-', '')}00{2 if female else 1}"
    return body + ric.calc_check_digit(body + "0")


def test_residence_permit_needs_the_matching_id_type(check, member):
    permit = dict(member, 公民身份号码=_permit_number(member["出生日期"], True))
    assert check(dict(permit, 证件类型="港澳居民居住证")) == set()
    assert check(permit) == {("id_number", "E", "id_permit_area")}


def test_passport_is_not_checked_as_a_resident_id(check, member):
    assert check(dict(member, 证件类型="护照", 公民身份号码="E12345678", 性别="男")) == {
        ("licence", "W", "licence_sex_mismatch")
    }


def test_unknown_area_code_is_a_warning_only_below_the_province(check, member):
    # issue #15: a county-level code missing from the history is a W; first two digits that
    # name no province (20…) are an E (before, 990101 was a W)
    body = "110199" + member["公民身份号码"][6:17]
    assert check(dict(member, 公民身份号码=body + ric.calc_check_digit(body + "0"))) == {
        ("id_number", "W", "id_area_unknown")
    }
    body = "200101" + member["公民身份号码"][6:17]
    assert check(dict(member, 公民身份号码=body + ric.calc_check_digit(body + "0"))) == {
        ("id_number", "E", "id_province")
    }


def test_name_rules(check, member):
    assert check(dict(member, 姓名="阿依古丽·买买提")) == set()
    assert check(dict(member, 姓名="张3")) == {("name", "E", "person_name")}
    assert check(dict(member, 姓名="张" * 31)) == {("name", "E", "too_long")}


def test_legacy_ethnicity_names_are_accepted(validate, member):
    values, findings = validate(FORM, dict(member, 民族="崩龙族"))
    assert (values["ethnicity"], findings) == ("46", [])
    values, findings = validate(FORM, dict(member, 民族="毛难族"))
    assert (values["ethnicity"], findings) == ("36", [])


def test_unknown_ethnicity(check, member):
    assert ("ethnicity", "E", "code_unknown") in check(dict(member, 民族="火星族"))


@pytest.mark.parametrize(
    ("label", "typed", "field_id", "code"),
    [
        ("民族", "火星族", "ethnicity", "code_unknown"),
        ("出生日期", "1979-02-30", "birth_date", "date_invalid"),
    ],
)
def test_unparsable_required_value_is_reported_once(check, member, label, typed, field_id, code):
    assert check(dict(member, **{label: typed})) == {(field_id, "E", code)}


# --- practice -----------------------------------------------------------------


@pytest.mark.parametrize("category", ["兼职", "公职", "公司", "法律援助", "军队", "香港居民"])
def test_out_of_scope_lawyers(validate, member, category):
    _, findings = validate(FORM, dict(member, 执业类别=category))
    assert triples(findings) == {
        ("practice_category", "E", "out_of_scope"),
        ("practice_category", "W", "licence_category_mismatch"),
    }
    scope = next(f for f in findings if f.code == "out_of_scope")
    assert "不纳入本次登记核查范围" in scope.message and category in scope.message


def test_licence_digit_10_disagrees_with_the_category(check, member):
    licence = member["律师执业证号"]
    assert check(dict(member, 律师执业证号=licence[:9] + "2" + licence[10:])) == {
        ("practice_category", "W", "licence_category_mismatch")
    }


def test_bad_licence(check, member):
    assert check(dict(member, 律师执业证号="1130120041161501")) == {
        ("licence", "E", "licence_format")
    }
    assert check(dict(member, 律师执业证号="19901200411615011")) == {
        ("licence", "E", "licence_province")
    }


def test_firm_uscc(check, member):
    assert check(dict(member, 执业机构统一社会信用代码="91110000600037341L")) == {
        ("firm_uscc", "W", "uscc_not_law_firm")
    }
    assert check(dict(member, 执业机构统一社会信用代码="91110000600037341M")) == {
        ("firm_uscc", "E", "uscc_checksum")
    }


# --- personal -----------------------------------------------------------------


def test_doctorate_without_postgraduate_education(check, member):
    assert check(dict(member, 学历="大学本科毕业", 学位="法学博士学位")) == {
        ("degree", "W", "degree_education")
    }
    assert check(dict(member, 学历="博士研究生毕业", 学位="法学博士学位")) == set()
    assert check(dict(member, 学历="大学本科毕业", 学位="法学硕士学位")) == set()


def test_mobile_and_landline(check, member):
    assert check(dict(member, 手机号码="12345678901")) == {("mobile", "E", "mobile")}
    assert check(dict(member, 固定电话="85551234")) == {("landline", "W", "landline")}
    assert check(dict(member, 固定电话="")) == set()


def test_short_address_is_a_warning(check, member):
    assert check(dict(member, 家庭住址="长安区1号")) == {("address", "W", "too_short")}
    assert check(dict(member, 家庭住址="长安区中山路1号")) == set()  # exactly 8


REQUIRED = [
    "姓名",
    "性别",
    "民族",
    "公民身份号码",
    "出生日期",
    "学历",
    "手机号码",
    "家庭住址",
    "律师执业证号",
    "执业类别",
    "执业机构",
    "执业机构统一社会信用代码",
    "人员类别",
    "入党日期",
    "党籍状态",
    "组织关系所在党组织",
]


@pytest.mark.parametrize("label", REQUIRED)
@pytest.mark.parametrize("how", ["missing", "blank"])
def test_required_fields(validate, forms, member, label, how):
    raw = dict(member)
    if how == "missing":
        del raw[label]
    else:
        raw[label] = "  "
    _, findings = validate(FORM, raw)
    field_id = forms.form(FORM).field_by_label(label).id
    required = [f for f in findings if f.code == "required"]
    assert [(f.field, f.severity) for f in required] == [(field_id, "E")]
    assert required[0].message == f"“{label}”必须填写"


def test_unknown_label_is_an_error_naming_it(validate, member):
    _, findings = validate(FORM, dict(member, 微信号="abc"))
    assert triples(findings) == {("微信号", "E", "unknown_field")}
    assert "微信号" in findings[0].message


def test_header_variants_are_accepted(check, member):
    raw = dict(member)
    raw["身份证号"] = raw.pop("公民身份号码")
    raw["执业证号"] = raw.pop("律师执业证号")
    raw["住址"] = raw.pop("家庭住址")
    assert check(raw) == set()


# --- party --------------------------------------------------------------------


def test_joined_under_18(check, member):
    assert check(dict(member, 入党日期="1997-07-28", 转正日期="1998-07-28")) == {
        ("join_date", "E", "join_age")
    }
    assert check(dict(member, 入党日期="1997-07-29", 转正日期="1998-07-29")) == set()


def test_join_date_in_the_future(check, probationer):
    assert check(dict(probationer, 入党日期="2027-01-01")) == {("join_date", "E", "date_future")}


def test_probationer_with_a_confirmation_date(check, probationer):
    assert check(dict(probationer, 转正日期="2026-10-01")) == {("confirm_date", "E", "empty_if")}


def test_full_member_without_a_confirmation_date(check, member):
    assert check(dict(member, 转正日期="")) == {("confirm_date", "E", "required_if")}


@pytest.mark.parametrize(
    ("confirmed", "expected"),
    [
        ("2007-07-28", {("confirm_date", "E", "probation_short")}),
        ("2007-01-29", {("confirm_date", "E", "probation_short")}),
        ("2007-07-29", set()),
        ("2008-01-29", {("confirm_date", "W", "probation_extended")}),  # +18 months
        ("2008-07-29", {("confirm_date", "W", "probation_extended")}),  # +2 years, the limit
        ("2008-07-30", {("confirm_date", "E", "probation_long")}),
    ],
)
def test_probation_length(check, member, confirmed, expected):
    assert check(dict(member, 转正日期=confirmed)) == expected


def test_probation_overdue_and_expired(check, probationer):
    assert check(dict(probationer, 入党日期="2025-10-01")) == {
        ("category", "W", "probation_overdue")
    }
    assert check(dict(probationer, 入党日期="2024-11-22")) == {
        ("category", "E", "probation_expired")
    }


def test_transfer_case_required_when_not_transferred(check, member):
    moved = dict(member, 组织关系是否已转入本所党组织="否")
    assert check(moved) == {("transfer_case", "E", "required_if")}
    assert check(dict(moved, 未转入情形="1")) == set()
    assert check(dict(moved, 未转入情形="组织关系介绍信过期或丢失")) == set()


@pytest.mark.parametrize("case", ["4", "5"])
def test_handling_required_for_cases_4_and_5(validate, member, case):
    moved = dict(member, 组织关系是否已转入本所党组织="否", 未转入情形=case)
    _, findings = validate(FORM, moved)
    assert triples(findings) == {("handling", "E", "required_if")}
    assert "处理情况" in findings[0].message and "未转入情形" in findings[0].message
    _, findings = validate(FORM, dict(moved, 处理情况="已于2026年5月书面报告上级党组织"))
    assert findings == []


def test_probationer_cannot_hold_a_party_post(check, probationer, member):
    assert check(dict(probationer, 党内职务="书记")) == {("party_post", "E", "probationer_post")}
    assert check(dict(probationer, 党内职务="无")) == set()
    assert check(dict(member, 党内职务="书记")) == set()
    assert check(dict(member, 党内职务="委员", 党籍状态="停止党籍")) == {
        ("party_post", "W", "suspended_post")
    }


def test_lost_contact_date(check, member):
    lost = dict(member, 是否失联党员="是")
    assert check(lost) == {("lost_date", "E", "required_if")}
    assert check(dict(lost, 失去联系日期="2021-03")) == set()
    assert check(dict(lost, 失去联系日期="2006-07")) == set()  # the month of joining
    assert check(dict(lost, 失去联系日期="2006-06")) == {("lost_date", "E", "date_order")}
    assert check(dict(lost, 失去联系日期="2026-12")) == {("lost_date", "E", "date_future")}


def test_flowing_member_destination(check, member):
    flowing = dict(member, 是否流动党员="是")
    assert check(flowing) == {("destination", "E", "required_if")}
    assert check(dict(flowing, 外出流向="河北省-石家庄市-正定县")) == set()
    assert check(dict(flowing, 外出流向=["130000", "130600", "130602"])) == set()
    # 竞秀区 (130602) is in 保定市, not 石家庄市
    assert check(dict(flowing, 外出流向=["130000", "130100", "130602"])) == {
        ("destination", "E", "region_nesting")
    }
    assert check(dict(flowing, 外出流向="河北省-石家庄市")) == {
        ("destination", "E", "region_nesting")
    }
    assert check(dict(flowing, 外出流向="北京市-石家庄市-正定县")) == {
        ("destination", "E", "region_nesting")
    }


def test_check_field_runs_the_rules_of_one_field(forms, member):
    validator = Validator(forms.form(FORM), Environment(today=TODAY))
    values, _ = validator.parse(member)
    assert validator.check_field("mobile", dict(values, mobile="123")) == [
        f for f in validator.check(dict(values, mobile="123")) if f.field == "mobile"
    ]
    assert [
        (f.field, f.severity, f.code)
        for f in validator.check_field("mobile", dict(values, mobile="123"))
    ] == [("mobile", "E", "mobile")]
    assert validator.check_field("mobile", values) == []


# --- cross rules (need the unit's other records) ------------------------------


def test_cross_rules_are_skipped_without_peers(check, member):
    assert check(
        dict(member, 执业机构="不存在律师事务所", 执业机构统一社会信用代码="91110000600037341L")
    ) == {("firm_uscc", "W", "uscc_not_law_firm")}


def test_firm_must_be_registered_in_attachment_3(forms, firm_records, validate, member):
    empty = peers_from(forms, party_org=[])
    _, findings = validate(FORM, member, peers=empty)
    assert triples(findings) == {("firm", "E", "firm_not_registered")}
    assert firm_records.firm.name in findings[0].message
    assert findings[0].scope == "cross"

    registered = peers_from(forms, party_org=[firm_records.org])
    assert validate(FORM, member, peers=registered)[1] == []
    # matched by the USCC even when the name is spelled differently
    assert validate(FORM, dict(member, 执业机构="通商律所"), peers=registered)[1] == []


def test_two_secretaries_in_one_organisation(forms, firm_records, validate, member):
    other = dict(firm_records.members[1], 党内职务="书记")
    peers = peers_from(forms, party_org=[firm_records.org], lawyer_member=[other])
    _, findings = validate(FORM, dict(member, 党内职务="书记"), peers=peers)
    assert triples(findings) == {("party_post", "E", "two_secretaries")}
    assert other["姓名"] in findings[0].message
    assert validate(FORM, dict(member, 党内职务="副书记"), peers=peers)[1] == []


def test_today_decides_what_is_in_the_future(forms, member):
    validator = Validator(forms.form(FORM), Environment(today=date(2005, 1, 1)))
    _, findings = validator.validate(member)
    assert ("join_date", "E", "date_future") in triples(findings)
