"""附件4–6 from stored records: columns, masking, totals by group, the 未转入情形 4/5 list."""

from __future__ import annotations

import random
from datetime import date

import pytest

from desktop import sampledata as sd
from desktop.domain.context import Environment
from desktop.domain.summaries import age_on, build_summary
from desktop.domain.validation import Validator
from tests.conftest import TODAY, as_staff, make_firm_records

AGE_BANDS = ("35岁及以下", "36至45岁", "46至54岁", "55至59岁", "60岁及以上")
EDUCATION_BANDS = ("研究生", "大学本科", "大学专科", "中专", "高中/中技", "初中及以下")


def stored(forms, form_id: str, raw: dict) -> dict:
    values, findings = Validator(forms.form(form_id), Environment(today=TODAY)).parse(raw)
    assert not [f for f in findings if f.severity == "E"], findings
    return values


@pytest.fixture
def firm(forms):
    """One firm: six lawyers (one in case 4, one in case 5) and its 附件3 record."""
    recs = make_firm_records(seed=7, members=6, full_only=False)
    members = [dict(m) for m in recs.members]
    members[4].update({"组织关系是否已转入本所党组织": "否", "未转入情形": "4",
                       "处理情况": "已书面报告"})
    members[5].update({"组织关系是否已转入本所党组织": "否", "未转入情形": "5",
                       "处理情况": "已书面报告"})
    rows = [(f"m{i}", "lawyer_member", stored(forms, "lawyer_member", m))
            for i, m in enumerate(members)]
    rows.append(("org", "party_org", stored(forms, "party_org", recs.org)))
    return recs, members, rows


def test_the_three_summaries_are_listed(forms):
    assert tuple(forms.summaries) == ("lawyer_summary", "staff_summary", "org_summary")
    assert [s.attachment for s in forms.summaries.values()] == ["附件4", "附件5", "附件6"]
    assert [s.source_form for s in forms.summaries.values()] == [
        "lawyer_member", "staff_member", "party_org"]


def test_lawyer_summary_columns_rows_and_masking(forms, firm):
    _, members, rows = firm
    s = build_summary(forms, "lawyer_summary", rows, today=TODAY)
    assert s.title == "附件4 律师党员基本信息汇总表"
    assert len(s.columns) == 16 and s.columns[0] == "序号" and "公民身份号码" in s.columns
    assert len(s.column_types) == len(s.columns)
    assert s.count == 4 and [r[0] for r in s.rows] == ["1", "2", "3", "4"]
    assert set(s.record_ids) == {"m0", "m1", "m2", "m3"}
    id_col = s.columns.index("公民身份号码")
    phone_col = s.columns.index("手机号码")
    for row in s.rows:
        assert "********" in row[id_col] and "****" in row[phone_col]
    # codes are shown as labels
    assert {r[s.columns.index("性别")] for r in s.rows} <= {"男", "女"}
    assert s.totals_row[0] == "合计：4 人" and len(s.totals_row) == len(s.columns)
    assert s.full is False and s.counter == "人"

    full = build_summary(forms, "lawyer_summary", rows, today=TODAY, full=True)
    ids = {m["公民身份号码"] for m in members}
    assert {r[id_col] for r in full.rows} <= ids and full.full is True


def test_cases_4_and_5_are_listed_apart_not_counted(forms, firm):
    _, members, rows = firm
    s = build_summary(forms, "lawyer_summary", rows, today=TODAY)
    assert len(s.excluded_rows) == 2 and set(s.excluded_ids) == {"m4", "m5"}
    assert "未转入情形" in s.excluded_columns and "处理情况" in s.excluded_columns
    cases = {r[s.excluded_columns.index("未转入情形")] for r in s.excluded_rows}
    assert cases == {"离开执业律所六个月以上", "拒不转入且不参加组织生活"}
    assert all("********" in r[s.excluded_columns.index("公民身份号码")] for r in s.excluded_rows)
    assert sum(n for _, n in s.totals[1].items) == 4  # 人员类别 counts the registered only
    assert s.excluded_by is forms.summary("lawyer_summary").excluded
    assert s.excluded_by.reason == "未转入情形4、5"


def test_the_list_apart_reaches_the_workbook(forms, firm):
    """The workbook names the list apart from [summary.excluded], counts it in 人 and notes the
    masking (a summary once carried these fields shifted, and every export of it failed)."""
    from desktop.reports.xlsx.tables import MASK_NOTE, summary_sheets
    from desktop.reports.xlsx.write import UnitLine

    _, _, rows = firm
    s = build_summary(forms, "lawyer_summary", rows, today=TODAY)
    sheets = summary_sheets(s, UnitLine("测试律所", "", "", TODAY))
    apart = sheets[1]
    assert apart.name == "未纳入汇总（情形4、5）" and apart.rows == s.excluded_rows
    assert apart.totals_row[0] == "合计：2 人" and apart.note == MASK_NOTE
    assert sheets[0].note == MASK_NOTE
    full = build_summary(forms, "lawyer_summary", rows, today=TODAY, full=True)
    assert summary_sheets(full, UnitLine("测试律所", "", "", TODAY))[0].note == ""


def test_totals_by_group(forms, firm):
    _, members, rows = firm
    kept = members[:4]
    s = build_summary(forms, "lawyer_summary", rows, today=TODAY)
    groups = {g.label: dict(g.items) for g in s.totals}
    assert list(groups) == ["组织类别", "人员类别", "性别", "民族", "年龄", "学历"]
    assert groups["组织类别"]["党支部"] == 4 and groups["组织类别"]["党委"] == 0
    assert groups["性别"] == {"男": sum(m["性别"] == "男" for m in kept),
                            "女": sum(m["性别"] == "女" for m in kept)}
    assert groups["民族"]["汉族"] + groups["民族"]["少数民族"] == 4
    assert tuple(groups["年龄"]) == AGE_BANDS and sum(groups["年龄"].values()) == 4
    assert tuple(groups["学历"]) == EDUCATION_BANDS and sum(groups["学历"].values()) == 4
    assert groups["学历"]["研究生"] == sum("研究生" in m["学历"] for m in kept)


def test_a_member_whose_firm_has_no_party_org_record(forms, firm):
    _, _, rows = firm
    s = build_summary(forms, "lawyer_summary", [r for r in rows if r[1] != "party_org"],
                      today=TODAY)
    assert dict(s.totals[0].items)["未登记党组织"] == 4


@pytest.mark.parametrize("age,band", [(35, 0), (36, 1), (45, 1), (46, 2), (54, 2), (55, 3),
                                      (59, 3), (60, 4), (80, 4)])
def test_age_bands_at_their_edges(forms, age, band):
    today = date(2026, 11, 22)
    birth = date(today.year - age, 11, 22)  # birthday today: exactly `age`
    rng = random.Random(age)
    firm = sd.firms(rng, 1)[0]
    raw = sd.lawyer_member(rng, firm, today)
    raw.update(出生日期=birth.isoformat(), 公民身份号码=sd.resident_id(rng, birth, True, firm.area),
               性别="男")
    values = stored(forms, "lawyer_member", raw)
    s = build_summary(forms, "lawyer_summary", [("x", "lawyer_member", values)], today=today)
    ages = dict(next(g for g in s.totals if g.label == "年龄").items)
    assert ages[AGE_BANDS[band]] == 1
    assert age_on(birth, today) == age and age_on(birth, date(today.year, 11, 21)) == age - 1


def test_staff_summary_is_built_from_staff_records(forms, firm):
    recs, members, rows = firm
    staff = [("s1", "staff_member", stored(forms, "staff_member", as_staff(members[0])))]
    s = build_summary(forms, "staff_summary", staff + rows, today=TODAY)
    assert s.title == "附件5 律师事务所工作人员党员基本信息汇总表"
    assert s.record_ids == ("s1",) and "人员身份" in s.columns and "律师执业证号" not in s.columns
    assert s.rows[0][s.columns.index("人员身份")] == "律师助理"


def test_org_summary_sums_the_counts(forms, firm):
    recs, _, rows = firm
    other = make_firm_records(seed=8, members=3, firm_index=1)
    rows = rows + [("org2", "party_org", stored(forms, "party_org", other.org))]
    s = build_summary(forms, "org_summary", rows, today=TODAY)
    assert s.title == "附件6 党组织基本信息汇总表" and s.count == 2
    col = s.columns.index("律师党员数")
    assert s.totals_row[col] == str(recs.org["律师党员数"] + other.org["律师党员数"])
    assert s.totals_row[0] == "合计：2 个"
    firms = s.columns.index("覆盖律师事务所")
    assert {r[firms] for r in s.rows} == {recs.firm.name, other.firm.name}
    assert dict(s.totals[0].items)["党支部"] == 2
    assert "********" not in "".join(s.rows[0]) and "****" in s.rows[0][s.columns.index("联系电话")]
    assert s.excluded_rows == ()


def test_no_records_gives_an_empty_table_with_zero_totals(forms):
    s = build_summary(forms, "lawyer_summary", [], today=TODAY)
    assert s.rows == () and s.totals_row[0] == "合计：0 人"
    assert all(n == 0 for g in s.totals for _, n in g.items)


def test_unknown_codes_and_missing_values_are_counted_as_unfilled(forms, firm):
    _, _, rows = firm
    rid, fid, values = rows[0]
    broken = dict(values, sex=None, education="77", birth_date=None, id_number=None)
    s = build_summary(forms, "lawyer_summary", [(rid, fid, broken)], today=TODAY)
    groups = {g.label: dict(g.items) for g in s.totals}
    assert groups["性别"]["未填"] == 1 and groups["学历"]["未填"] == 1
    assert groups["年龄"]["未填"] == 1
