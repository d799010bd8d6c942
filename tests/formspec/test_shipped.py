"""The shipped forms and code tables agree with FORMS.md and with what the rules read."""

from __future__ import annotations

import pytest

from desktop.domain.rules import RULES
from desktop.domain.rules.party import MEMBER_FORMS, ORG_FORM

MEMBER_FIELDS = {
    "name",
    "sex",
    "id_number",
    "birth_date",
    "category",
    "join_date",
    "confirm_date",
    "party_status",
    "party_post",
    "org_name",
    "transferred",
    "transfer_case",
    "handling",
    "lost_contact",
    "lost_date",
    "flowing",
    "destination",
    "firm",
    "firm_uscc",
}


@pytest.mark.parametrize("form_id", MEMBER_FORMS)
def test_member_forms_have_the_fields_cross_rules_read(forms, form_id):
    form = forms.form(form_id)
    assert MEMBER_FIELDS <= {f.id for f in form.fields}


def test_lawyer_form_has_the_fields_of_forms_md(forms):
    labels = [f.label for f in forms.form("lawyer_member").fields]
    for label in [
        "姓名",
        "性别",
        "民族",
        "证件类型",
        "公民身份号码",
        "出生日期",
        "学历",
        "学位",
        "手机号码",
        "固定电话",
        "家庭住址",
        "律师执业证号",
        "执业类别",
        "执业机构",
        "执业机构统一社会信用代码",
        "所内职务",
        "人员类别",
        "入党日期",
        "转正日期",
        "党籍状态",
        "组织关系所在党组织",
        "组织关系是否已转入本所党组织",
        "未转入情形",
        "处理情况",
        "是否参加组织生活",
        "是否按时交纳党费",
        "党内职务",
        "是否失联党员",
        "失去联系日期",
        "是否流动党员",
        "外出流向",
        "备注",
    ]:
        assert label in labels


def test_staff_form_has_no_lawyer_only_fields_but_its_own(forms):
    form = forms.form("staff_member")
    ids = {f.id for f in form.fields}
    assert not ids & {"licence", "practice_category", "firm_position"}
    assert {"staff_identity", "intern_cert", "work_start", "job"} <= ids


def test_party_org_firms_group(forms):
    firms = forms.form(ORG_FORM).field("firms")
    assert firms.type == "group" and firms.min_rows == 1
    assert [f.id for f in firms.fields] == ["name", "uscc", "org_form"]


@pytest.mark.parametrize("form_id", ["lawyer_member", "staff_member", "society_member"])
def test_id_numbers_are_masked_and_hashed(forms, form_id):
    form = forms.form(form_id)
    assert form.field("id_number").mask == "id"
    id_keys = [k for k in form.keys if k.field == "id_number"]
    assert id_keys and all(k.hashed for k in id_keys)


@pytest.mark.parametrize("form_id", ["lawyer_member", "staff_member"])
def test_member_identifiers_are_unique_in_the_register(forms, form_id):
    keys = {(k.kind, k.field): k for k in forms.form(form_id).keys}
    assert keys["person", "id_number"].unique
    if form_id == "lawyer_member":
        assert keys["licence", "licence"].unique


def test_society_id_number_is_optional_and_not_unique(forms):
    form = forms.form("society_member")
    assert not form.field("id_number").required
    assert not any(k.unique for k in form.keys if k.field == "id_number")


def test_every_rule_a_form_names_is_registered_with_the_right_scope(forms):
    for form in forms.forms.values():
        for ref in form.rules:
            assert RULES[ref.rule].scope in ("record", "cross")
        for f in form.fields:
            for sub in (f, *f.fields):
                for ref in sub.rules:
                    assert RULES[ref.rule].scope == "field"


def test_ethnicity_table_is_gb_3304_in_standard_order(forms):
    table = forms.tables["ethnicity"]
    codes = [c.code for c in table.codes]
    assert codes == [f"{i:02d}" for i in range(1, 57)] + ["97", "98"]
    assert table.get("01").label == "汉族" and table.get("56").label == "基诺族"
    assert table.lookup("崩龙族").code == "46" and table.get("46").label == "德昂族"
    assert table.lookup("毛难族").code == "36" and table.get("36").label == "毛南族"


def test_education_codes_carry_the_statistics_bands(forms):
    bands = {c.group for c in forms.tables["education"].codes}
    assert bands == {"研究生", "大学本科", "大学专科", "中专", "高中/中技", "初中及以下"}


def test_practice_category_codes_match_licence_digit_10(forms):
    table = forms.tables["practice_category"]
    assert [(c.code, c.label) for c in table.codes] == [
        ("1", "专职"),
        ("2", "兼职"),
        ("3", "香港居民"),
        ("4", "澳门居民"),
        ("5", "台湾居民"),
        ("6", "公职"),
        ("7", "公司"),
        ("8", "法律援助"),
        ("9", "军队"),
    ]


def test_org_category_and_transfer_cases(forms):
    assert {c.code for c in forms.tables["org_category"].codes} >= {"611", "621", "631", "632"}
    assert [c.code for c in forms.tables["transfer_case"].codes] == ["1", "2", "3", "4", "5"]


def test_regions_nest_province_city_county(forms):
    table = forms.tables["regions"]
    by_code = {c.code: c for c in table.codes}
    for c in table.codes:
        if c.group == "province":
            assert c.parent is None
        elif c.group == "city":
            assert by_code[c.parent].group == "province", c
        else:
            assert c.group == "county" and by_code[c.parent].group == "city", c
    assert by_code["130102"].parent == "130100" and by_code["130100"].parent == "130000"
