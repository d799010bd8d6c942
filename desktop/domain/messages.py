"""The Chinese wording of every finding, by its stable code.

Codes are part of the `--format json` output and must not change; wording may. Templates use
str.format with the problem's parameters plus `label` (the field's label).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

MESSAGES: dict[str, str] = {
    # values and types
    "required": "“{label}”必须填写",
    "too_long": "“{label}”最多 {max} 个字，现有 {n} 个字",
    "too_short": "“{label}”过短（少于 {min} 个字），请写完整",
    "unknown_field": "未知的栏目“{label}”，本表没有这一项，请核对栏目名称",
    "field_twice": "“{label}”在同一条记录中写了两次（“{first}”和“{second}”），无法确定以哪个值为准，请只保留一个",
    "type_text": "“{label}”应为文字",
    "type_int": "“{label}”应为整数，现为“{value}”",
    "type_bool": "“{label}”应填“是”或“否”，现为“{value}”",
    "type_structure": "“{label}”应为文字、数字或日期，不能是列表或对象",
    "type_group": "“{label}”应为若干行（列表），每行一个对象",
    "date_invalid": "“{label}”不是有效日期：“{value}”（可写作 2020-01-05、2020.1.5 或 20200105）",
    "date_or_month_invalid": "“{label}”不是有效日期或年月：“{value}”（可写作 1963-09-12，只知年月的"
                             "可写作 1963-09、1963.9 或 1963年9月）",
    "yearmonth_invalid": "“{label}”不是有效年月：“{value}”（可写作 2020-01 或 2020.1）",
    "code_unknown": "“{label}”的值“{value}”不在代码表《{table}》中",
    "region_invalid": "“{label}”应为省-市-县三级行政区划，“{value}”无法识别",
    "region_nesting": "“{label}”的三级行政区划不相互隶属：{detail}",
    "date_future": "“{label}”不能晚于今天（{today}）",
    "int_range": "“{label}”应在 {min} 到 {max} 之间，现为 {value}",
    "pattern": "“{label}”的格式不符合要求（{hint}）",
    "person_name": "“{label}”只能包含汉字、字母和间隔号“·”，现有“{chars}”",
    # 公民身份号码
    "id_legacy15": "“{label}”是 15 位旧号码，请填写 18 位公民身份号码",
    "id_legacy15_converted": "“{label}”是 15 位旧号码，已转换为 18 位：{value}",
    "id_length": "“{label}”应为 18 位，现为 {n} 位",
    "id_format": "“{label}”前 17 位应为数字，最后一位为数字或 X",
    "id_birth_invalid": "“{label}”中的出生日期“{digits}”不是有效日期",
    "id_checksum": "“{label}”校验位不正确，请逐位核对号码",
    "id_birth_future": "“{label}”中的出生日期 {birth} 晚于今天",
    "id_area_unknown": "“{label}”的地址码 {area} 在行政区划代码表中未找到，请核对（旧地址码也可能有效）",
    "id_permit_area": "“{label}”以{place}居民居住证地址码开头，请将证件类型选为相应的居民居住证",
    "id_permit_mismatch": "“{label}”是{place}居住证的号码，与所选证件类型不符，请核对证件类型",
    "id_permit_expected": "证件类型为居住证，但“{label}”的地址码不是居住证地址码（{areas}），"
                          "请核对证件类型和号码",
    "id_province": "“{label}”前两位“{code}”不是省级行政区划代码，号码有误，请核对",
    "id_foreigner": "“{label}”是外国人永久居留身份证号码（国籍：{country}），不是公民身份号码，"
                    "请核对证件类型和号码",
    "id_foreigner_citizens": "党员应为中国公民，“{label}”却是外国人永久居留身份证号码"
                             "（国籍：{country}），请核对",
    "id_foreigner_country": "“{label}”以 9 开头（外国人永久居留身份证），但第 4–6 位的国籍代码"
                            "“{code}”不在 GB/T 2659 中，请核对",
    # 统一社会信用代码
    "uscc_length": "“{label}”应为 18 位，现为 {n} 位",
    "uscc_format": "“{label}”只能包含数字和除 I、O、Z、S、V 以外的大写字母",
    "uscc_checksum": "“{label}”校验位不正确，请逐位核对",
    "uscc_not_law_firm": "“{label}”不以“31”开头，律师事务所的统一社会信用代码通常以“31”开头",
    "uscc_org_code": "“{label}”中的组织机构代码校验位不符，请核对",
    "uscc_area": "“{label}”第 3–8 位的登记管理机关行政区划码“{area}”不是任何时期的行政区划代码，"
                 "请核对",
    # 律师执业证号
    "licence_format": "“{label}”应为以 1 开头的 17 位数字",
    "licence_province": "“{label}”第 2–3 位的省份代码“{code}”无效",
    "licence_year": "“{label}”第 6–9 位的首次执业年度 {year} 应在 1980 到 {this_year} 之间",
    "licence_category": "“{label}”第 10 位的执业类别代码无效",
    "licence_category_mismatch": "执业类别“{category}”与执业证号第 10 位（{digit}）不一致，请核对",
    "licence_sex_mismatch": "“{label}”第 11 位表示的性别与“性别”不一致，请核对",
    "licence_sex_digit": "“{label}”第 11 位表示性别，只能是 0（男）或 1（女），不能是“{digit}”",
    "licence_province_mismatch": "“{label}”第 2–3 位的省份代码 {licence} 与执业机构统一社会信用代码"
                                 "的省份（{firm}）不同；跨省变更执业机构应换发执业证，请核对",
    # phones
    "mobile": "“{label}”应为 11 位手机号码（1 开头，第二位 3–9）",
    "landline": "“{label}”应写作“区号-号码”，如 0311-85551234",
    "phone": "“{label}”应为 11 位手机号码或“区号-号码”形式的固定电话",
    "mobile_segment": "“{label}”的号段 {segment} 未分配，请核对（号段表截至 {taken}）",
    "landline_area": "“{label}”的区号 {area} 不是有效的长途区号，请核对",
    "landline_local_start": "“{label}”区号后的电话号码不能以 {digit} 开头（应以 2–8 开头），请核对",
    "landline_local_length": "“{label}”区号后的电话号码有 {n} 位，{area}的电话号码应为 {lengths} 位，"
                             "请核对",
    # record rules
    "sex_mismatch": "“性别”与公民身份号码第 17 位不一致（号码表示“{expected}”）",
    "birth_mismatch": "“出生日期”与公民身份号码中的出生日期 {expected} 不一致",
    "out_of_scope": "执业类别为“{value}”的律师不纳入本次登记核查范围（仅登记律师事务所专职律师）",
    "required_if": "“{other}”为“{value}”时，“{label}”必须填写",
    "empty_if": "“{other}”为“{value}”时，“{label}”应当为空",
    "date_order": "“{label}”应晚于“{other}”（{other_value}）",
    "join_age": "“{label}”时未满十八周岁（出生于 {birth}，入党日期 {joined}）",
    "probation_short": "“转正日期”早于入党满一年（入党日期 {joined}，最早 {earliest}）",
    "probation_long": "“转正日期”晚于预备期和一次延长的最长期限（入党后 {months} 个月，最晚 {latest}），"
                      "预备期延长不能超过 {extension} 个月，请核对",
    "probation_between": "“转正日期”在入党满一年（{due}）之后、延长预备期满 {months} 个月"
                         "（{shortest}）之前：预备期只能按期转正，或延长一次、至少 {months} 个月，"
                         "请核对",
    "intern_cert_province": "“{label}”前 2 位应为省级行政区划代码，“{code}”不是，请核对",
    "intern_cert_month": "“{label}”第 5–8 位应为取得年月（年份后两位和月份），“{digits}”不是有效"
                         "年月，请核对",
    "intern_cert_year": "“{label}”第 5–8 位的取得年月“{digits}”不在 {first} 年至今之间，请核对",
    "intern_cert_sex": "“{label}”第 9 位表示性别，应为 {allowed}，不能是“{digit}”，请核对",
    "intern_cert_sex_mismatch": "“{label}”第 9 位为“{digit}”，与“性别”（{sex}）不一致，请核对",
    "intern_cert_category": "“{label}”第 10 位表示实习类别，应为 {allowed}，不能是“{digit}”，请核对",
    "joint_branch_firm_large": "“{label}”：联合党支部覆盖的“{firm}”自身有正式党员 {n} 人，"
                               "正式党员 {min} 人以上的单位应当单独成立党支部，请核对",
    "probation_extended": "“转正日期”不是入党满一年（{expected}），如为延长预备期请说明",
    "probation_overdue": "“{label}”为预备党员，入党已满一年（{due}），请核对是否应讨论转正",
    "probation_expired": "“{label}”为预备党员，但入党已满 {months} 个月（{latest}），预备期连同延长"
                         "不能更长，请核对",
    "probationer_post": "预备党员不能担任党内职务“{post}”",
    "suspended_post": "停止党籍的党员不应担任党内职务“{post}”",
    "degree_education": "学位为博士，但学历低于研究生，请核对",
    "min_rows": "“{label}”至少需要 {min} 行",
    "min_rows_if": "“{other}”为“{value}”时，“{label}”至少需要 {min} 行",
    "max_rows_warn": "“{label}”通常不超过 {max} 行，现有 {n} 行",
    "term_length": "任期应为 {years} 年（{kind}），届满日期应为 {expected}",
    "term_overdue": "“{label}”{end} 已过，本届任期已届满，请及时换届",
    "term_long_overdue": "“{label}”{end} 已过一年以上，须尽快换届",
    "admission_rule": "入会条件：法学专业须大专及以上学历，其他专业须本科及以上学历",
    "approval_age": "“{label}”时未满十八周岁，请核对",
    "member_number": "“{label}”应写作 区号-六位序号（如 0311-000123）、00311-000123 或 0312-01-000123",
    # register and cross rules
    "duplicate_in_register": "“{label}”{value_text}已在登记库中登记（{where}），不能重复登记",
    "duplicate_in_file": "“{label}”{value_text}在本文件中重复出现（{where}）",
    "firm_not_registered": "“{label}”“{firm}”尚未在附件3 党组织基本信息登记表中登记",
    "secretary_not_found": "书记“{name}”不在本党组织的党员登记表中",
    "secretary_not_full": "书记“{name}”应为党籍正常的正式党员",
    "two_secretaries": "“{label}”：党组织“{org}”有两名以上书记：{names}",
    "count_mismatch": "“{label}”填写为 {typed}，按登记表统计为 {computed}",
    "count_exceeds_total": "“{label}”（{total}）少于党员人数 {members}",
    "branch_min_members": "“{label}”为党支部，但正式党员不足 3 人（现有 {n} 人），不能单独成立党支部",
    "branch_max_members": "“{label}”为党支部，党员一般不超过 50 人（现有 {n} 人）",
    "general_branch_size": "“{label}”为党总支部，一般在党员 50 人以上时设立（现有 {n} 人）",
    "committee_size": "“{label}”为党委，一般在党员 100 人以上时设立（现有 {n} 人）",
    "committee_needed": "“{label}”：正式党员 7 人以上的党支部应设支部委员会（现有正式党员 {n} 人）",
    "committee_not_needed": "“{label}”：正式党员不足 7 人的党支部一般不设支部委员会，由书记负责（现有 {n} 人）",
    "committee_members": "“{label}”一般为 3 至 5 人，最多不超过 7 人（现为 {n} 人）",
}


def spoken(value: object) -> str:
    """A message parameter as a person reads it: never a Python repr. A sequence (a query row,
    a list of names) is its items joined with 、; None is nothing; a truth value 是/否; a date
    its ISO date, a time to the minute; a mapping its 键：值 pairs."""
    cls = value.__class__
    if cls is str:  # nearly every parameter: said at once (this runs on every keystroke)
        return value
    if cls is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "、".join(f"{spoken(k)}：{spoken(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return "、".join(s for s in (spoken(v) for v in items) if s)
    return str(value)


def render_template(template: str, label: str, params: Mapping[str, object]) -> str:
    """`template` filled with `params` as spoken() says them, and `label`."""
    words = {k: v if v.__class__ is str else spoken(v) for k, v in params.items()}
    words["label"] = label  # a "label" param never clashes
    try:
        return template.format_map(words)
    except (KeyError, IndexError, ValueError):
        return template


def render(code: str, label: str, params: dict) -> str:
    template = MESSAGES.get(code)
    if template is None:  # a rule without wording is a bug, but the user still sees the code
        return f"“{label}”：{code}"
    return render_template(template, label, params)
