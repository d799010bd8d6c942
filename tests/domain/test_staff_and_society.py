"""附件2 律师事务所工作人员党员基本信息登记表 and the law society's 个人会员 register."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from tests.conftest import as_staff
from tests.domain.conftest import peers_from, triples

# --- 附件2 ----------------------------------------------------------------------


@pytest.fixture
def staff(firm_records) -> dict:
    return as_staff(firm_records.members[0])


@pytest.fixture
def check_staff(validate):
    def run(raw, **kw):
        return triples(validate("staff_member", raw, **kw)[1])

    return run


def test_valid_staff_member(check_staff, staff, firm_records):
    assert check_staff(staff) == set()
    for m in firm_records.members:
        assert check_staff(as_staff(m)) == set()


def test_lawyer_headers_are_accepted_for_the_firm(check_staff, staff):
    raw = dict(staff)
    raw["执业机构"] = raw.pop("所在律师事务所")
    raw["执业机构统一社会信用代码"] = raw.pop("所在律师事务所统一社会信用代码")
    assert check_staff(raw) == set()


def test_staff_form_has_no_licence(check_staff, staff):
    assert check_staff(dict(staff, 律师执业证号="11301200411615011")) == {
        ("律师执业证号", "E", "unknown_field")
    }


def test_staff_identity_is_required_and_coded(check_staff, staff):
    raw = dict(staff)
    del raw["人员身份"]
    assert check_staff(raw) == {("staff_identity", "E", "required")}
    assert ("staff_identity", "E", "code_unknown") in check_staff(dict(staff, 人员身份="律师"))


def test_intern_certificate_format_is_a_warning_only(check_staff, staff):
    intern = dict(staff, 人员身份="申请律师执业实习人员")
    sex = "1" if staff["性别"] == "男" else "2"
    # 省13 市01 取得年月2401 性别 类别1 序号0001 (the 14-digit format; issue 15 checks its parts)
    assert check_staff(dict(intern, 实习证编号=f"13012401{sex}10001")) == set()
    # 0120: month 20; category digit 4 — parts that cannot be right, still warnings only
    assert check_staff(dict(intern, 实习证编号="13010120240001")) == {
        ("intern_cert", "W", "intern_cert_month"), ("intern_cert", "W", "intern_cert_category")}
    assert check_staff(dict(intern, 实习证编号="SX-2024-1")) == {("intern_cert", "W", "pattern")}


def test_work_start(check_staff, staff):
    assert check_staff(dict(staff, 在本所工作起始日期="2027-01-01")) == {
        ("work_start", "E", "date_future")
    }
    assert check_staff(dict(staff, 在本所工作起始日期="1970-01-01")) == {
        ("work_start", "E", "date_order")
    }


def test_staff_party_rules(check_staff, staff):
    assert check_staff(dict(staff, 性别="男")) == {("sex", "E", "sex_mismatch")}
    assert check_staff(dict(staff, 转正日期="")) == {("confirm_date", "E", "required_if")}
    assert check_staff(
        dict(staff, 人员类别="预备党员", 入党日期="2026-03-01", 转正日期="", 党内职务="委员")
    ) == {("party_post", "E", "probationer_post")}
    assert check_staff(dict(staff, 组织关系是否已转入本所党组织="否")) == {
        ("transfer_case", "E", "required_if")
    }


def test_staff_firm_must_be_registered(forms, validate, staff, firm_records):
    _, findings = validate("staff_member", staff, peers=peers_from(forms, party_org=[]))
    assert triples(findings) == {("firm", "E", "firm_not_registered")}
    peers = peers_from(forms, party_org=[firm_records.org])
    assert validate("staff_member", staff, peers=peers)[1] == []


def test_staff_members_are_counted_in_the_org(forms, validate, firm_records, staff):
    peers = peers_from(forms, lawyer_member=firm_records.members, staff_member=[staff])
    org = dict(firm_records.org, 正式党员数=5, 工作人员党员数=1)
    assert validate("party_org", org, peers=peers, record_id="org")[1] == []
    _, findings = validate("party_org", firm_records.org, peers=peers, record_id="org")
    assert triples(findings) == {
        ("full_members", "E", "count_mismatch"),
        ("staff_members", "E", "count_mismatch"),
    }


# --- 法学会个人会员 ------------------------------------------------------------------


def society_id(birth: str, male: bool) -> str:
    body = f"130102{birth.replace('-', '')}01{1 if male else 2}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def member() -> dict:
    return {
        "会员证号": "0311-000123",
        "发证法学会": "河北省法学会",
        "批准入会日期": "2015-05-01",
        "姓名": "李明",
        "性别": "男",
        "出生日期": "1980-03-15",
        "民族": "汉族",
        "公民身份号码": society_id("1980-03-15", True),
        "政治面貌": "中共党员",
        "学历": "大学本科毕业",
        "学位": "法学学士学位",
        "所学专业是否法学": "是",
        "工作单位": "河北某大学法学院",
        "手机": "13912345678",
        "通讯地址": "石家庄市长安区中山东路100号",
        "最近联系日期": "2025-06-01",
        "会员状态": "在册",
    }


@pytest.fixture
def check_member(validate):
    def run(raw):
        return triples(validate("society_member", raw)[1])

    return run


def test_valid_society_member(check_member, member, validate):
    assert check_member(member) == set()
    values, _ = validate("society_member", member)
    assert (values["political_status"], values["status"], values["law_major"]) == ("01", "1", True)


def test_missing_id_number_is_not_an_error(check_member, member):
    raw = dict(member)
    del raw["公民身份号码"]
    assert check_member(raw) == set()
    assert check_member(dict(member, 公民身份号码="")) == set()


def test_society_id_number_is_still_checked_when_given(check_member, member):
    number = member["公民身份号码"]
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert check_member(dict(member, 公民身份号码=wrong)) == {("id_number", "E", "id_checksum")}
    assert check_member(dict(member, 性别="女")) == {("sex", "E", "sex_mismatch")}


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("0311-000123", True),
        ("00311-000123", True),
        ("0312-01-000123", True),
        ("010-000001", True),
        ("311-000123", False),
        ("0311-00012", False),
        ("0311-1-000123", False),
        ("0311000123", False),
    ],
)
def test_member_number(check_member, member, number, ok):
    expected = set() if ok else {("member_no", "E", "member_number")}
    assert check_member(dict(member, 会员证号=number)) == expected


def test_introducer_number_is_a_warning(check_member, member):
    assert check_member(dict(member, 介绍人会员证号="0311-000001")) == set()
    assert check_member(dict(member, 介绍人会员证号="第12号")) == {
        ("introducer", "W", "member_number")
    }


@pytest.mark.parametrize(
    ("law", "education", "warn"),
    [
        ("是", "大学专科毕业", False),
        ("是", "大学本科毕业", False),
        ("是", "普通高中毕业", True),
        ("否", "大学专科毕业", True),
        ("否", "大学本科毕业", False),
        ("否", "硕士研究生毕业", False),
        ("否", "中等专科毕业", True),
    ],
)
def test_admission_rule(check_member, member, law, education, warn):
    expected = {("education", "W", "admission_rule")} if warn else set()
    assert check_member(dict(member, 所学专业是否法学=law, 学历=education)) == expected


def test_admission_rule_needs_both_fields(check_member, member):
    raw = dict(member, 学历="普通高中毕业")
    del raw["所学专业是否法学"]
    assert check_member(raw) == set()


def test_approval_before_18_is_a_warning(check_member, member):
    assert check_member(dict(member, 批准入会日期="1997-01-01")) == {
        ("approved", "W", "approval_age")
    }


def test_mobile_is_only_a_warning_here(check_member, member):
    assert check_member(dict(member, 手机="12345")) == {("mobile", "W", "mobile")}


def test_cleanup_needs_who_why_and_approval(check_member, member):
    removed = dict(member, 会员状态="已清理-不符合条件")
    assert check_member(removed) == {
        ("ineligible_reason", "E", "required_if"),
        ("basis", "E", "required_if"),
        ("handler", "E", "required_if"),
        ("approver", "E", "required_if"),
    }
    complete = dict(
        removed,
        不符合条件情形="1",
        依据="会员管理办法第十条",
        经办人="王敏",
        审批人="张强",
        清理批次="2026-1",
        日期="2026-10-01",
    )
    assert check_member(complete) == set()
    assert check_member(dict(member, 会员状态="已清理-重复录入")) == {
        ("handler", "E", "required_if")
    }
