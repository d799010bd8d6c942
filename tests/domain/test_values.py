"""Parsing what people type or import into stored values (desktop/domain/values.py)."""

from __future__ import annotations

import pytest

from desktop.domain.forms import FieldSpec
from desktop.domain.values import display_value, parse_value, upgrade_stored


@pytest.fixture
def lawyer(forms):
    return forms.form("lawyer_member")


def parse(form, field_id, raw, **kw):
    value, problems = parse_value(form.field(field_id), raw, **kw)
    return value, [(p.severity, p.code) for p in problems]


# --- dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "2020-01-05",
        "2020.1.5",
        "20200105",
        "2020年1月5日",
        "2020/1/5",
        "2020-1-5",
        "2020年01月05日",
        "２０２０－０１－０５",
        " 2020.01.05 ",
        20200105,
    ],
)
def test_dates_people_type(lawyer, typed):
    assert parse(lawyer, "join_date", typed) == ("2020-01-05", [])


@pytest.mark.parametrize(
    "typed",
    [
        "2020-02-30",
        "2021-02-29",
        "2020-13-01",
        "2020-00-10",
        "5/1/2020",
        "昨天",
        "2020",
        "2020-01-05T10:00",
    ],
)
def test_invalid_dates(lawyer, typed):
    assert parse(lawyer, "join_date", typed) == (None, [("E", "date_invalid")])


def test_leap_day_is_a_date(lawyer):
    assert parse(lawyer, "join_date", "2020.2.29") == ("2020-02-29", [])


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2021-03", "2021-03"),
        ("2021.3", "2021-03"),
        ("202103", "2021-03"),
        ("2021年3月", "2021-03"),
        ("2021/03", "2021-03"),
        ("2021-03-15", "2021-03"),
        ("2021年3月15日", "2021-03"),
    ],
)
def test_yearmonth(lawyer, typed, stored):
    assert parse(lawyer, "lost_date", typed) == (stored, [])


@pytest.mark.parametrize("typed", ["2021-13", "2021-00", "三月", "21-03"])
def test_invalid_yearmonth(lawyer, typed):
    assert parse(lawyer, "lost_date", typed) == (None, [("E", "yearmonth_invalid")])


# --- empty, bool, int, text ---------------------------------------------------


@pytest.mark.parametrize("empty", [None, "", "   ", []])
def test_empty_input_is_none_without_a_problem(lawyer, empty):
    assert parse(lawyer, "join_date", empty) == (None, [])


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("是", True),
        ("否", False),
        (True, True),
        (False, False),
        ("Y", True),
        ("no", False),
        ("1", True),
        ("0", False),
        ("有", True),
        ("无", False),
    ],
)
def test_bool(lawyer, typed, stored):
    assert parse(lawyer, "flowing", typed) == (stored, [])


@pytest.mark.parametrize("typed", ["对", "maybe", "2"])
def test_invalid_bool(lawyer, typed):
    assert parse(lawyer, "flowing", typed) == (None, [("E", "type_bool")])


def test_int(forms):
    org = forms.form("party_org")
    assert parse(org, "full_members", "12") == (12, [])
    assert parse(org, "full_members", "１２") == (12, [])
    assert parse(org, "full_members", 12.0) == (12, [])
    assert parse(org, "full_members", "12.0") == (12, [])
    assert parse(org, "full_members", "十二") == (None, [("E", "type_int")])
    assert parse(org, "full_members", True) == (None, [("E", "type_int")])
    assert parse(org, "full_members", "12.5") == (None, [("E", "type_int")])


def test_text_is_trimmed_and_nfkc_where_the_form_says(lawyer):
    assert parse(lawyer, "name", "  张三  ") == ("张三", [])
    assert parse(lawyer, "name", "ＡＢ　张") == ("AB 张", [])  # name: nfkc = true
    assert parse(lawyer, "address", "  ３号楼 ") == ("３号楼", [])  # address: no nfkc


def test_structured_value_in_a_text_field(lawyer):
    assert parse(lawyer, "name", {"姓": "张"}) == (None, [("E", "type_text")])


def test_structured_value_in_a_date_field_is_not_a_code_problem(lawyer):
    value, problems = parse(lawyer, "birth_date", {"year": 1980})
    assert value is None
    assert problems and problems[0][1] != "code_unknown"


# --- codes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("汉族", "01"),
        ("01", "01"),
        ("1", "01"),
        ("汉", "01"),
        ("回族", "03"),
        ("崩龙族", "46"),
        ("毛难族", "36"),
        ("德昂族", "46"),
        ("毛南族", "36"),
        ("基诺族", "56"),
        (" 汉族 ", "01"),
        (1, "01"),
    ],
)
def test_ethnicity_by_label_code_and_alias(lawyer, typed, code):
    assert parse(lawyer, "ethnicity", typed) == (code, [])


@pytest.mark.parametrize("typed", ["火星族", "57", "99", "汉族人"])
def test_unknown_code(lawyer, typed):
    value, problems = parse(lawyer, "ethnicity", typed)
    assert (value, problems) == (None, [("E", "code_unknown")])


def test_code_unknown_names_the_table(lawyer):
    _, problems = parse_value(lawyer.field("ethnicity"), "火星族")
    assert problems[0].params == {"value": "火星族", "table": "民族"}


@pytest.mark.parametrize(
    ("field_id", "typed", "code"),
    [
        ("sex", "男", "1"),
        ("sex", "女性", "2"),
        ("sex", 2, "2"),
        ("education", "大学本科毕业", "21"),
        ("education", "本科", "21"),
        ("education", "硕士", "14"),
        ("degree", "法学学士学位", "403"),
        ("practice_category", "专职律师", "1"),
        ("category", "预备", "2"),
        ("party_post", "支部书记", "1"),
        ("transfer_case", "4", "4"),
    ],
)
def test_other_code_tables(lawyer, field_id, typed, code):
    assert parse(lawyer, field_id, typed) == (code, [])


def test_display_value(lawyer):
    assert display_value(lawyer.field("ethnicity"), "46") == "德昂族"
    assert display_value(lawyer.field("flowing"), True) == "是"
    assert (
        display_value(lawyer.field("destination"), ["130000", "130100", "130123"])
        == "河北省-石家庄市-正定县"
    )
    assert display_value(lawyer.field("join_date"), None) == ""


# --- identifiers and phones as values -----------------------------------------


def test_id_number_is_compacted(lawyer):
    assert parse(lawyer, "id_number", "１１０１０５ １９４９１２３１ ００２ｘ") == (
        "11010519491231002X",
        [],
    )


def test_15_digit_id_is_converted_only_on_import(lawyer):
    assert parse(lawyer, "id_number", "110105491231002") == ("110105491231002", [])
    assert parse(lawyer, "id_number", "110105491231002", convert_legacy=True) == (
        "11010519491231002X",
        [("I", "id_legacy15_converted")],
    )


def test_phone_values_are_normalised(lawyer):
    assert parse(lawyer, "mobile", "+86 138 0013 8000") == ("13800138000", [])
    assert parse(lawyer, "landline", "（0311）85551234") == ("0311-85551234", [])


# --- regions and groups -------------------------------------------------------


def test_region_by_codes_and_unique_names(lawyer):
    assert parse(lawyer, "destination", "130000-130100-130123") == (
        ["130000", "130100", "130123"],
        [],
    )
    assert parse(lawyer, "destination", "河北省-石家庄市-正定县") == (
        ["130000", "130100", "130123"],
        [],
    )
    assert parse(lawyer, "destination", ["河北省", "保定市", "竞秀区"]) == (
        ["130000", "130600", "130602"],
        [],
    )
    assert parse(lawyer, "destination", "河北省/石家庄市/无此县") == (
        None,
        [("E", "region_invalid")],
    )
    assert parse(lawyer, "destination", "1-2-3-4") == (None, [("E", "region_invalid")])


def test_region_with_its_exact_table_label(lawyer):
    assert parse(lawyer, "destination", "河北省-石家庄市-长安区（石家庄市）") == (
        ["130000", "130100", "130102"],
        [],
    )


def test_region_hint_example_of_the_form_parses(lawyer):
    hint = lawyer.field("destination").hint
    example = hint.split("如", 1)[1].strip()
    assert example == "河北省-石家庄市-长安区"
    assert parse(lawyer, "destination", example) == (["130000", "130100", "130102"], [])


def test_group_rows_by_label_or_id(forms):
    org = forms.form("party_org")
    rows, problems = parse_value(
        org.field("firms"),
        [
            {
                "名称": "甲律师事务所",
                "统一社会信用代码": "31110000 mD0123456x",
                "组织形式": "普通合伙",
            },
            {"name": "乙律师事务所", "uscc": "31110000MD0123456X", "颜色": "红"},
        ],
    )
    assert rows[0] == {
        "name": "甲律师事务所",
        "uscc": "31110000MD0123456X",
        "org_form": rows[0]["org_form"],
    }
    assert rows[0]["org_form"] is not None
    assert rows[1]["name"] == "乙律师事务所"
    assert [(p.severity, p.code, p.field) for p in problems] == [
        ("E", "unknown_field", "firms[2].颜色")
    ]


def test_group_must_be_a_list_of_objects(forms):
    org = forms.form("party_org")
    assert parse(org, "firms", "甲律师事务所") == (None, [("E", "type_group")])
    assert parse(org, "firms", ["甲律师事务所"]) == (None, [("E", "type_group")])


def test_renamed_field_keeps_its_stored_value():
    spec = FieldSpec(id="mobile", label="手机号码", type="mobile", renamed_from=("cellphone",))
    assert upgrade_stored((spec,), {"cellphone": "13800138000"}) == {"mobile": "13800138000"}
    # an existing value under the new id wins
    assert upgrade_stored((spec,), {"cellphone": "1", "mobile": "2"}) == {
        "cellphone": "1",
        "mobile": "2",
    }
