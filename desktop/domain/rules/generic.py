"""Rules that any form may use: dates, lengths, patterns, conditional requirements."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from desktop.domain.context import RuleContext
from desktop.domain.findings import Problem
from desktop.domain.rules.registry import rule

_NAME_OK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff·A-Za-z ]")
_NAME_ALL_OK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff·A-Za-z ]*")


def _matches(value: Any, equals: Any) -> bool:
    if isinstance(equals, list):
        return value in equals
    return value == equals


def _shown(ctx: RuleContext, field_id: str) -> str:
    return ctx.display(field_id)


@lru_cache(maxsize=8)
def _iso(day: date) -> str:
    return day.isoformat()


@rule("not_future", "field")
def not_future(value: str, ctx: RuleContext) -> Sequence[Problem]:
    today = ctx.env.today
    today = _iso(today) if today.__class__ is date else ctx.env.today_iso  # env.today_iso
    if value > today[: len(value)]:
        return [Problem("E", "date_future", {"today": today})]
    return ()


@rule("min_length", "field")
def min_length(value: str, ctx: RuleContext, *, min: int) -> Sequence[Problem]:
    if len(str(value)) < min:
        return [Problem("W", "too_short", {"min": min})]
    return ()


def _check_regex(params: dict[str, Any]) -> str | None:
    try:
        re.compile(str(params.get("regex", "")))
    except re.error as exc:
        return f"的参数 regex 不是有效的正则表达式：{exc}"
    return None


@rule("pattern", "field", check=_check_regex)
def pattern(value: str, ctx: RuleContext, *, regex: str, hint: str) -> Sequence[Problem]:
    if not re.fullmatch(regex, str(value)):
        return [Problem("E", "pattern", {"hint": hint})]
    return ()


@rule("int_range", "field")
def int_range(value: int, ctx: RuleContext, *, min: int = 0, max: int = 1_000_000
              ) -> Sequence[Problem]:
    if not min <= value <= max:
        return [Problem("E", "int_range", {"min": min, "max": max, "value": value})]
    return ()


@rule("person_name", "field")
def person_name(value: str, ctx: RuleContext) -> Sequence[Problem]:
    if _NAME_ALL_OK.fullmatch(value):
        return ()
    bad = "".join(dict.fromkeys(ch for ch in value if not _NAME_OK.match(ch)))
    if bad:
        return [Problem("E", "person_name", {"chars": bad[:10]})]
    return ()


@rule("required_if", "record")
def required_if(ctx: RuleContext, *, field: str, when_field: str, equals: Any
                ) -> Sequence[Problem]:
    get = ctx.values.get
    when = get(when_field)
    if ((when in equals if isinstance(equals, list) else when == equals)
            and get(field) in (None, "", [])):
        return [Problem("E", "required_if", {"other": ctx.label(when_field),
                                             "value": _shown(ctx, when_field)}, field)]
    return ()


@rule("empty_if", "record")
def empty_if(ctx: RuleContext, *, field: str, when_field: str, equals: Any
             ) -> Sequence[Problem]:
    if _matches(ctx.get(when_field), equals) and ctx.get(field) not in (None, "", []):
        return [Problem("E", "empty_if", {"other": ctx.label(when_field),
                                          "value": _shown(ctx, when_field)}, field)]
    return ()


@rule("date_after", "record")
def date_after(ctx: RuleContext, *, field: str, other_field: str) -> Sequence[Problem]:
    get = ctx.values.get
    a, b = get(field), get(other_field)
    if not a or not b:
        return ()
    text_a = a if a.__class__ is str else str(a)
    if text_a < (b if b.__class__ is str else str(b))[: len(text_a)]:
        return [Problem("E", "date_order", {"other": ctx.label(other_field), "other_value": b},
                        field)]
    return ()


@rule("min_rows_if", "record")
def min_rows_if(ctx: RuleContext, *, field: str, when_field: str, equals: Any, min: int
                ) -> Sequence[Problem]:
    if _matches(ctx.get(when_field), equals) and len(ctx.get(field) or []) < min:
        return [Problem("E", "min_rows_if", {"other": ctx.label(when_field), "min": min,
                                             "value": _shown(ctx, when_field)}, field)]
    return ()


@rule("max_rows", "record")
def max_rows(ctx: RuleContext, *, field: str, max: int) -> Sequence[Problem]:
    n = len(ctx.get(field) or [])
    if n > max:
        return [Problem("W", "max_rows_warn", {"max": max, "n": n}, field)]
    return ()


def add_years(d: date, years: int) -> date:
    if d.__class__ is date:  # the constructor is quicker than replace, and says the same
        try:
            return date(d.year + years, d.month, d.day)
        except ValueError:  # 29 February
            return date(d.year + years, d.month, 28)
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def add_months(d: date, months: int) -> date:
    """The same day `months` later (earlier when negative); the month's last day when it has
    no such day (31 August + 6 months = 28/29 February)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution).day
    return date(year, month, min(d.day, last))


def as_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


@rule("region_nesting", "field")
def region_nesting(value: list[str], ctx: RuleContext, *, levels: int = 3
                   ) -> Sequence[Problem]:
    table = ctx.field.codes if ctx.field else None
    if table is None:
        return ()
    if len(value) != levels:
        return [Problem("E", "region_nesting",
                        {"detail": f"应选择 {levels} 级，现为 {len(value)} 级"})]
    for parent, child in zip(value, value[1:], strict=False):
        entry = table.get(child)
        if entry is None or entry.parent != parent:
            detail = f"“{table.label_of(child)}”不属于“{table.label_of(parent)}”"
            return [Problem("E", "region_nesting", {"detail": detail})]
    return ()
