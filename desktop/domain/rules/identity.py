"""Identifier rules: 公民身份号码, 统一社会信用代码, 律师执业证号, phones, and their agreement
with the other fields of the record."""

from __future__ import annotations

from collections.abc import Sequence

from desktop.domain import identifiers as ids
from desktop.domain.context import RuleContext
from desktop.domain.findings import Problem
from desktop.domain.rules.registry import rule
from desktop.domain.values import within

#: 证件类型 codes (forms/codes/id_type.toml): 2/3 are 港澳/台湾居民居住证, 4 护照, 9 其他
_PERMITS = {"2", "3"}
_NOT_RESIDENT_ID = {"4", "9"}


@rule("resident_id", "field")
def resident_id(value: str, ctx: RuleContext, *, type_field: str | None = None
                ) -> Sequence[Problem]:
    permit = False
    if type_field:
        id_type = ctx.values.get(type_field)
        if id_type in _NOT_RESIDENT_ID:
            return ()
        permit = id_type in _PERMITS
    return ids.check_resident_id(value, ctx.env.today, permit=permit) or ()


@rule("uscc", "field")
def uscc(value: str, ctx: RuleContext, *, law_firm: bool = False) -> Sequence[Problem]:
    return ids.check_uscc(value, law_firm=law_firm) or ()


@rule("lawyer_licence", "field")
def lawyer_licence(value: str, ctx: RuleContext) -> Sequence[Problem]:
    return ids.check_licence(value, ctx.env.today) or ()


@rule("mobile", "field")
def mobile(value: str, ctx: RuleContext) -> Sequence[Problem]:
    if not ids.is_mobile(value):
        return [Problem("E", "mobile")]
    return ()


@rule("landline", "field")
def landline(value: str, ctx: RuleContext) -> Sequence[Problem]:
    if not ids.is_landline(value):
        return [Problem("W", "landline")]
    return ()


@rule("phone", "field")
def phone(value: str, ctx: RuleContext) -> Sequence[Problem]:
    if not (ids.is_mobile(value) or ids.is_landline(value)):
        return [Problem("E", "phone")]
    return ()


@rule("sex_matches_id", "record")
def sex_matches_id(ctx: RuleContext, *, id_field: str, sex_field: str,
                   type_field: str | None = None) -> Sequence[Problem]:
    get = ctx.values.get
    number, sex = get(id_field), get(sex_field)
    if not number or not sex or (type_field and get(type_field) in _NOT_RESIDENT_ID):
        return ()
    expected = ids.id_sex(number)
    if expected and expected != sex:
        return [Problem("E", "sex_mismatch", {"expected": "男" if expected == "1" else "女"},
                        sex_field)]
    return ()


@rule("birth_matches_id", "record")
def birth_matches_id(ctx: RuleContext, *, id_field: str, birth_field: str,
                     type_field: str | None = None) -> Sequence[Problem]:
    get = ctx.values.get
    number, birth = get(id_field), get(birth_field)
    if not number or not birth or (type_field and get(type_field) in _NOT_RESIDENT_ID):
        return ()
    expected = ids.id_birth_date(number)
    if expected and not within(birth, expected):  # a year-month: at its own precision
        return [Problem("E", "birth_mismatch",
                        {"expected": expected.isoformat()[:len(str(birth))]}, birth_field)]
    return ()


@rule("licence_matches", "record")
def licence_matches(ctx: RuleContext, *, licence_field: str, category_field: str,
                    sex_field: str) -> Sequence[Problem]:
    get = ctx.values.get
    number = get(licence_field)
    if not number:
        return ()
    problems: list[Problem] = []
    digit, sex_code = ids.licence_codes(number)
    category = get(category_field)
    if digit and category and digit != category:
        problems.append(Problem("W", "licence_category_mismatch",
                                {"category": ctx.display(category_field), "digit": digit},
                                category_field))
    sex = get(sex_field)
    if sex_code and sex and sex_code != sex:
        problems.append(Problem("W", "licence_sex_mismatch", {}, licence_field))
    return problems or ()


@rule("in_scope", "record")
def in_scope(ctx: RuleContext, *, field: str, codes: list[str]) -> Sequence[Problem]:
    value = ctx.values.get(field)
    if value is not None and value not in codes:
        return [Problem("E", "out_of_scope", {"value": ctx.display(field)}, field)]
    return ()
