"""附件3 党组织基本信息登记表: its own rules, and the cross rules that compare it with the
member records of the unit (a PeerIndex built from desktop.sampledata records)."""

from __future__ import annotations

import random

import pytest

from desktop import sampledata
from desktop.domain.context import Environment
from desktop.domain.validation import Validator
from tests.conftest import TODAY, make_firm_records
from tests.domain.conftest import peers_from, triples

FORM = "party_org"
ORG_ID = "org-under-test"


@pytest.fixture
def org_check(validate, forms):
    """org_check(org_raw, members) → findings triples, with the members as the unit's 附件1."""

    def run(org, members, staff=()):
        peers = peers_from(forms, lawyer_member=list(members), staff_member=list(staff))
        return triples(validate(FORM, org, peers=peers, record_id=ORG_ID)[1])

    return run


def test_consistent_org_is_valid(org_check, firm_records):
    assert org_check(firm_records.org, firm_records.members) == set()


def test_without_peers_only_its_own_rules_run(validate, firm_records):
    assert validate(FORM, dict(firm_records.org, 正式党员数=99))[1] == []


def test_joint_branch_needs_two_firms(org_check, firm_records):
    joint = dict(firm_records.org, 组织类别="联合党支部", 党组织所在单位情况="联合党支部")
    # the first firm has 3 or more 正式党员 of its own: it should form its own 党支部 (issue 15,
    # 支部工作条例 第五条; tests/domain/test_party_rules_15.py)
    own_branch = ("firms[1].name", "W", "joint_branch_firm_large")
    assert org_check(joint, firm_records.members) == {("firms", "E", "min_rows_if"), own_branch}
    second = sampledata.firms(random.Random(99), 1)[0]
    joint["律师事务所"] = [
        *joint["律师事务所"],
        {"名称": second.name, "统一社会信用代码": second.uscc, "组织形式": "个人"},
    ]
    assert org_check(joint, firm_records.members) == {own_branch}


def test_joint_branch_category_alone_needs_two_firms(org_check, firm_records):
    joint = dict(firm_records.org, 组织类别="联合党支部")
    del joint["党组织所在单位情况"]
    assert ("firms", "E", "min_rows_if") in org_check(joint, firm_records.members)


@pytest.mark.parametrize("firms", [None, []])
def test_org_without_any_firm_is_refused(validate, firm_records, firms):
    org = dict(firm_records.org)
    if firms is None:
        del org["律师事务所"]
    else:
        org["律师事务所"] = firms
    findings = triples(validate(FORM, org)[1])
    assert any(f == "firms" and s == "E" for f, s, _ in findings), findings


def test_more_than_five_firms_is_a_warning(org_check, firm_records):
    extra = sampledata.firms(random.Random(5), 5)
    org = dict(firm_records.org, 组织类别="联合党支部", 党组织所在单位情况="联合党支部")
    org["律师事务所"] = org["律师事务所"] + [
        {"名称": f.name, "统一社会信用代码": f.uscc} for f in extra
    ]
    # the first firm has 3 or more 正式党员 of its own (issue 15: it should form its own 党支部)
    assert org_check(org, firm_records.members) == {
        ("firms", "W", "max_rows_warn"), ("firms[1].name", "W", "joint_branch_firm_large")}


@pytest.mark.parametrize(
    ("label", "typed", "field_id"),
    [
        ("正式党员数", 5, "full_members"),
        ("正式党员数", 3, "full_members"),
        ("预备党员数", 1, "probationary_members"),
        ("律师党员数", 0, "lawyer_members"),
        ("工作人员党员数", 2, "staff_members"),
    ],
)
def test_typed_count_disagrees_with_the_records(
    validate, forms, firm_records, label, typed, field_id
):
    peers = peers_from(forms, lawyer_member=firm_records.members)
    _, findings = validate(
        FORM, dict(firm_records.org, **{label: typed}), peers=peers, record_id=ORG_ID
    )
    assert triples(findings) == {(field_id, "E", "count_mismatch")}
    computed = {
        "full_members": 4,
        "probationary_members": 0,
        "lawyer_members": 4,
        "staff_members": 0,
    }[field_id]
    assert findings[0].message == f"“{label}”填写为 {typed}，按登记表统计为 {computed}"


def test_empty_counts_are_not_compared(org_check, firm_records):
    org = {k: v for k, v in firm_records.org.items() if not k.endswith("党员数")}
    assert org_check(org, firm_records.members) == set()


def test_total_lawyers_below_the_party_members(org_check, firm_records):
    assert org_check(dict(firm_records.org, 执业律师总数=3), firm_records.members) == {
        ("lawyer_total", "E", "count_exceeds_total")
    }


def test_members_of_another_firm_are_not_counted(org_check, firm_records):
    other = make_firm_records(7, 2, firm_index=1).members
    assert org_check(firm_records.org, firm_records.members + other) == set()


def test_members_in_cases_4_and_5_are_not_counted(org_check, firm_records):
    members = list(firm_records.members)
    members.append(
        dict(
            make_firm_records(2026, 5).members[4],
            组织关系是否已转入本所党组织="否",
            未转入情形="4",
            处理情况="已书面报告",
        )
    )
    assert org_check(firm_records.org, members) == set()  # typed 4, five records, one case 4


def test_branch_needs_three_full_members(org_check):
    records = make_firm_records(3, 2)
    assert (records.org["正式党员数"], records.org["组织类别"]) == (2, "党支部")
    assert org_check(records.org, records.members) == {("org_category", "E", "branch_min_members")}


def test_joint_branch_also_needs_three_full_members(org_check):
    records = make_firm_records(3, 2)
    second = sampledata.firms(random.Random(99), 1)[0]
    org = dict(records.org, 组织类别="联合党支部", 党组织所在单位情况="联合党支部")
    org["律师事务所"] = [*org["律师事务所"], {"名称": second.name, "统一社会信用代码": second.uscc}]
    assert org_check(org, records.members) == {("org_category", "E", "branch_min_members")}


def test_probationers_do_not_make_a_branch(org_check):
    records = make_firm_records(3, 2)
    records.members.append(
        dict(
            make_firm_records(4, 1).members[0],
            人员类别="预备党员",
            入党日期="2026-03-01",
            转正日期="",
            执业机构=records.firm.name,
            执业机构统一社会信用代码=records.firm.uscc,
        )
    )
    org = records.refresh_org()
    assert (org["正式党员数"], org["预备党员数"]) == (2, 1)
    assert org_check(org, records.members) == {("org_category", "E", "branch_min_members")}


@pytest.fixture
def with_probationer(firm_records):
    """Four 正式党员 and one 预备党员 (named 预备甲) of the firm, with a consistent org."""
    probationer = dict(
        make_firm_records(2026, 5).members[4],
        姓名="预备甲",
        人员类别="预备党员",
        入党日期="2026-03-01",
        转正日期="",
    )
    firm_records.members.append(probationer)
    firm_records.refresh_org()
    return firm_records


def test_secretary_must_be_a_full_member(org_check, with_probationer):
    org = dict(with_probationer.org, 书记="预备甲")
    assert org_check(org, with_probationer.members) == {("secretary", "E", "secretary_not_full")}


def test_secretary_with_suspended_membership(org_check, firm_records):
    name = firm_records.members[1]["姓名"]
    firm_records.members[1] = dict(firm_records.members[1], 党籍状态="停止党籍")
    assert org_check(dict(firm_records.org, 书记=name), firm_records.members) == {
        ("secretary", "E", "secretary_not_full")
    }


def test_secretary_must_be_among_the_members(validate, forms, firm_records):
    peers = peers_from(forms, lawyer_member=firm_records.members)
    _, findings = validate(
        FORM, dict(firm_records.org, 书记="查无此人"), peers=peers, record_id=ORG_ID
    )
    assert triples(findings) == {("secretary", "E", "secretary_not_found")}
    assert "查无此人" in findings[0].message


def test_secretary_who_is_a_full_member(org_check, with_probationer):
    name = with_probationer.members[0]["姓名"]
    assert org_check(dict(with_probationer.org, 书记=name), with_probationer.members) == set()


def test_vacant_secretary_is_allowed(org_check, firm_records):
    assert org_check(dict(firm_records.org, 书记=""), firm_records.members) == set()


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-07-01", "2027-07-01", set()),
        ("2023-01-01", "2026-01-01", {("term_end", "W", "term_overdue")}),
        ("2022-01-01", "2025-01-01", {("term_end", "W", "term_long_overdue")}),
        (
            "2024-07-01",
            "2026-07-01",
            {("term_end", "W", "term_length"), ("term_end", "W", "term_overdue")},
        ),
        (
            "2024-07-01",
            "2024-06-01",
            {
                ("term_end", "E", "date_order"),
                ("term_end", "W", "term_length"),
                ("term_end", "W", "term_long_overdue"),
            },
        ),
    ],
)
def test_term(org_check, firm_records, start, end, expected):
    org = dict(firm_records.org, 本届任期开始=start, 届满日期=end)
    assert org_check(org, firm_records.members) == expected


def test_party_committee_term_is_five_years(org_check, firm_records):
    org = dict(firm_records.org, 组织类别="党委", 本届任期开始="2024-07-01", 届满日期="2029-07-01")
    assert org_check(org, firm_records.members) == {("org_category", "W", "committee_size")}
    org["届满日期"] = "2027-07-01"
    assert ("term_end", "W", "term_length") in org_check(org, firm_records.members)


def test_general_branch_with_few_members(org_check, firm_records):
    org = dict(firm_records.org, 组织类别="党总支部")
    assert org_check(org, firm_records.members) == {("org_category", "W", "general_branch_size")}


def test_committee_rules(org_check, firm_records):
    org = dict(firm_records.org, 是否设支部委员会="是")
    assert org_check(org, firm_records.members) == {
        ("committee_size", "E", "required_if"),
        ("has_committee", "W", "committee_not_needed"),
    }
    big = make_firm_records(11, 7)
    assert big.org["是否设支部委员会"] == "是" and big.org["委员人数"] == 3
    assert org_check(big.org, big.members) == set()
    assert org_check(dict(big.org, 是否设支部委员会="否", 委员人数=None), big.members) == {
        ("has_committee", "W", "committee_needed")
    }
    assert org_check(dict(big.org, 委员人数=6), big.members) == {
        ("committee_size", "W", "committee_members")
    }


def test_firm_row_problems_name_the_row(validate, firm_records):
    org = dict(firm_records.org)
    uscc = org["律师事务所"][0]["统一社会信用代码"]
    org["律师事务所"] = [
        dict(
            org["律师事务所"][0],
            统一社会信用代码=uscc[:-1] + "0" if uscc[-1] != "0" else uscc[:-1] + "1",
        )
    ]
    _, findings = validate(FORM, org)
    assert triples(findings) == {("firms[1].uscc", "E", "uscc_checksum")}
    assert "律师事务所[1]/统一社会信用代码" in findings[0].message


def test_firm_row_without_a_name(validate, firm_records):
    org = dict(firm_records.org)
    org["律师事务所"] = [{"统一社会信用代码": firm_records.firm.uscc}]
    assert triples(validate(FORM, org)[1]) == {("firms[1].name", "E", "required")}


def test_contact_phone_needs_an_area_code(validate, firm_records):
    assert triples(validate(FORM, dict(firm_records.org, 联系电话="85551234"))[1]) == {
        ("contact_phone", "E", "phone")
    }
    assert validate(FORM, dict(firm_records.org, 联系电话="13800138000"))[1] == []


def test_required_org_fields(validate, firm_records):
    org = {
        k: v for k, v in firm_records.org.items() if k not in ("党组织名称（全称）", "上级党组织")
    }
    assert triples(validate(FORM, org)[1]) == {
        ("org_name", "E", "required"),
        ("parent_org", "E", "required"),
    }


def test_founded_in_the_future(validate, firm_records):
    assert triples(validate(FORM, dict(firm_records.org, 成立日期="2027-01-01"))[1]) == {
        ("founded", "E", "date_future")
    }


def test_rechecking_an_edited_org_uses_the_new_values(forms, firm_records):
    other = sampledata.firms(random.Random(99), 1)[0]
    peers = peers_from(forms, lawyer_member=firm_records.members)
    validator = Validator(forms.form(FORM), Environment(today=TODAY, peers=peers))
    wrong = dict(firm_records.org)
    wrong["律师事务所"] = [{"名称": other.name, "统一社会信用代码": other.uscc}]
    values, findings = validator.validate(wrong, ORG_ID)
    assert ("full_members", "E", "count_mismatch") in triples(findings)
    # the clerk corrects the firm row of the same record
    fixed, _ = validator.parse(firm_records.org)
    assert validator.check(fixed, ORG_ID) == []


def test_a_branch_of_more_than_50_members(org_check):
    records = make_firm_records(51, 51)
    assert records.org["正式党员数"] == 51
    assert org_check(records.org, records.members) == {("org_category", "W", "branch_max_members")}
