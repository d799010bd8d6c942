"""Identifier rules: 公民身份号码, 统一社会信用代码, 律师执业证号, phones, and their agreement
with the other fields of the record.

The closed lists these rules check against are code tables of forms/codes, named by the rules'
`*_table` parameters (the loader hands over the tables; see rules/registry.py): regions (GB/T
2260), residence_permits (居住证 address codes), countries (GB/T 2659), mobile_segments and
phone_areas. How a 证件号码 is checked follows the `group` of its 证件类型 in the id_type table:
resident_id, permit (a 居住证: its number carries the permit's address code) or other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from desktop.domain import identifiers as ids
from desktop.domain.context import RuleContext
from desktop.domain.findings import Problem
from desktop.domain.forms import CodeTable
from desktop.domain.rules.registry import rule
from desktop.domain.values import within

#: id_type groups (forms/codes/id_type.toml)
_RESIDENT, _PERMIT, _OTHER = "resident_id", "permit", "other"
#: kind → (the tables, what was made of them), for the last tables of each kind
_DERIVED: dict[str, tuple[tuple[CodeTable | None, ...], Any]] = {}
#: (id of the form, type field, code) → (the form, the code's id_type group)
_GROUPS: dict[tuple[int, str, Any], tuple[Any, str]] = {}


def _derived(kind: str, tables: tuple[CodeTable | None, ...], build: Callable[..., Any]) -> Any:
    """What `build` makes of these tables, made again only when the tables change (the tuple
    comparison is by identity first: the same loaded tables cost no more than that)."""
    hit = _DERIVED.get(kind)
    if hit is None or hit[0] != tables:
        hit = _DERIVED[kind] = (tables, build(*tables))
    return hit[1]


def id_tables(regions: CodeTable | None, permits: CodeTable | None,
               countries: CodeTable | None) -> ids.IdTables:
    """The closed lists of a 公民身份号码 check: provinces (the regions of group province and
    the 居住证 areas' first two digits), 居住证 areas with their 证件类型, current codes and
    nationalities; a missing table leaves its part empty (not checked)."""
    held = {c.code: (c.group or "", c.label) for c in permits.codes} if permits else {}
    provinces = {c.code[:2] for c in regions.codes if c.group == "province"} if regions else set()
    return ids.IdTables(
        provinces=frozenset(provinces | {a[:2] for a in held}) if regions else frozenset(),
        permits=held,
        areas=frozenset(c.code for c in regions.codes) if regions else frozenset(),
        countries={c.code: c.label for c in countries.codes} if countries else {},
    )


def _type_group(ctx: RuleContext, type_field: str | None) -> str | None:
    """The id_type group (resident_id, permit, other) of the record's 证件类型, None without
    one; a code without a group counts as resident_id."""
    if not type_field:
        return None
    value = ctx.values.get(type_field)
    if value is None:
        return None
    key = (id(ctx.form), type_field, value)
    hit = _GROUPS.get(key)
    if hit is None:
        spec = _field_spec(ctx, type_field)
        code = spec.codes.get(value) if spec is not None and spec.codes is not None else None
        if len(_GROUPS) >= 256:
            _GROUPS.clear()
        hit = _GROUPS[key] = (ctx.form, (code.group or _RESIDENT) if code else _RESIDENT)
    return hit[1]


def _field_spec(ctx: RuleContext, field_id: str):
    if ctx.form.has_field(field_id):
        return ctx.form.field(field_id)
    return next((sub for f in ctx.form.fields for sub in f.fields if sub.id == field_id), None)


@rule("resident_id", "field")
def resident_id(value: str, ctx: RuleContext, *, type_field: str | None = None,
                citizens_only: bool = False, regions_table: Any = "regions",
                permits_table: Any = "residence_permits", countries_table: Any = "countries"
                ) -> Sequence[Problem]:
    """`citizens_only`: the form is for Chinese citizens (party members): a 外国人永久居留身份证
    number is an E whatever the 证件类型 says."""
    tables = _derived("id", (regions_table, permits_table, countries_table), id_tables)
    group = _type_group(ctx, type_field)
    if citizens_only and ids.is_foreigner_number(value) and tables.countries:
        return [ids.foreigner_problem(value, tables, "id_foreigner_citizens")]
    if group == _OTHER:
        return ()
    permit = ctx.values.get(type_field) if group == _PERMIT else None
    return ids.check_resident_id(value, ctx.env.today, permit=permit, tables=tables) or ()


def _regions_codes(regions: CodeTable | None) -> frozenset[str] | None:
    return frozenset(c.code for c in regions.codes) if regions else None


@rule("uscc", "field")
def uscc(value: str, ctx: RuleContext, *, law_firm: bool = False,
         regions_table: Any = "regions") -> Sequence[Problem]:
    areas = _derived("areas", (regions_table,), _regions_codes)
    return ids.check_uscc(value, law_firm=law_firm, areas=areas) or ()


@rule("lawyer_licence", "field")
def lawyer_licence(value: str, ctx: RuleContext) -> Sequence[Problem]:
    return ids.check_licence(value, ctx.env.today) or ()


def phone_tables(segments: CodeTable | None, areas: CodeTable | None) -> ids.PhoneTables:
    """Mobile segments (code → label) and area codes (code → label, local number lengths from
    the entry's group, "7", "8" or "7,8")."""
    return ids.PhoneTables(
        segments={c.code: c.label for c in segments.codes} if segments else None,
        segments_taken=segments.taken if segments else "",
        areas={c.code: (c.label, frozenset(int(n) for n in (c.group or "").split(",") if n))
               for c in areas.codes} if areas else None,
    )


@rule("mobile", "field")
def mobile(value: str, ctx: RuleContext, *, segments_table: Any = "mobile_segments"
           ) -> Sequence[Problem]:
    if not ids.is_mobile(value):
        return [Problem("E", "mobile")]
    return ids.check_mobile(value, _derived("mobile", (segments_table, None), phone_tables)) or ()


@rule("landline", "field")
def landline(value: str, ctx: RuleContext, *, areas_table: Any = "phone_areas"
             ) -> Sequence[Problem]:
    if not ids.is_landline(value):
        return [Problem("W", "landline")]
    return ids.check_landline(value, _derived("landline", (None, areas_table), phone_tables)
                              ) or ()


@rule("phone", "field")
def phone(value: str, ctx: RuleContext, *, segments_table: Any = "mobile_segments",
          areas_table: Any = "phone_areas") -> Sequence[Problem]:
    tables = _derived("phone", (segments_table, areas_table), phone_tables)
    if ids.is_mobile(value):
        return ids.check_mobile(value, tables) or ()
    if ids.is_landline(value):
        return ids.check_landline(value, tables) or ()
    return [Problem("E", "phone")]


@rule("sex_matches_id", "record")
def sex_matches_id(ctx: RuleContext, *, id_field: str, sex_field: str,
                   type_field: str | None = None) -> Sequence[Problem]:
    get = ctx.values.get
    number, sex = get(id_field), get(sex_field)
    if not number or not sex or _type_group(ctx, type_field) == _OTHER:
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
    if not number or not birth or _type_group(ctx, type_field) == _OTHER:
        return ()
    expected = ids.id_birth_date(number)
    if expected and not within(birth, expected):  # a year-month: at its own precision
        return [Problem("E", "birth_mismatch",
                        {"expected": expected.isoformat()[:len(str(birth))]}, birth_field)]
    return ()


@rule("licence_matches", "record")
def licence_matches(ctx: RuleContext, *, licence_field: str, category_field: str,
                    sex_field: str, uscc_field: str | None = None) -> Sequence[Problem]:
    """`uscc_field`: the firm's 统一社会信用代码; a law firm's (31…) registration area
    (positions 3–4) names the province whose 司法厅 licensed its lawyers (licence digits 2–3):
    a W when they differ (a lawyer who moves province is issued a new licence)."""
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
    firm = get(uscc_field) if uscc_field else None
    if firm and digit and firm[2:4] != number[1:3] and firm.startswith("31") \
            and len(firm) == 18 and number[1:3] in ids.PROVINCES and firm[2:4] in ids.PROVINCES:
        problems.append(Problem("W", "licence_province_mismatch",
                                {"licence": number[1:3], "firm": firm[2:4]}, licence_field))
    return problems or ()


@rule("in_scope", "record")
def in_scope(ctx: RuleContext, *, field: str, codes: list[str]) -> Sequence[Problem]:
    value = ctx.values.get(field)
    if value is not None and value not in codes:
        return [Problem("E", "out_of_scope", {"value": ctx.display(field)}, field)]
    return ()
