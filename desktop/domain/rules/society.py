"""Law-society member rules (中国法学会会员管理办法, FORMS.md 法学会个人会员)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from desktop.domain.context import RuleContext
from desktop.domain.findings import Problem
from desktop.domain.rules.generic import add_years, as_date
from desktop.domain.rules.registry import rule
from desktop.domain.values import birth_span

#: area code, optional capital-city 0 prefix, optional two-digit county sub-code, serial
MEMBER_NUMBER = re.compile(r"^(?P<city>0?)(?P<area>0\d{2,3})(?:-(?P<sub>\d{2}))?-(?P<seq>\d{6})$")
_AT_LEAST_DAZHUAN = {"研究生", "大学本科", "大学专科"}
_AT_LEAST_BENKE = {"研究生", "大学本科"}


@rule("member_number", "field")
def member_number(value: str, ctx: RuleContext) -> Sequence[Problem]:
    """区号-六位序号. An error for a number the clerk types; a warning on import
    (`Environment.convert_legacy`), so a legacy register with malformed old numbers can be
    imported — it is what the cleanup is for, and `dengji members check` lists them."""
    if not MEMBER_NUMBER.match(value):
        return [Problem("W" if ctx.env.convert_legacy else "E", "member_number")]
    return ()


@rule("admission_rule", "record")
def admission_rule(ctx: RuleContext, *, major_field: str, education_field: str
                   ) -> Sequence[Problem]:
    """法学专业大学专科以上学历，或非法学专业大学本科以上学历."""
    law, code = ctx.get(major_field), ctx.get(education_field)
    spec = ctx.form.field(education_field)
    if law is None or code is None or spec.codes is None:
        return ()
    entry = spec.codes.get(code)
    band = entry.group if entry else None
    if band not in (_AT_LEAST_DAZHUAN if law else _AT_LEAST_BENKE):
        return [Problem("W", "admission_rule", {}, education_field)]
    return ()


@rule("approval_age", "record")
def approval_age(ctx: RuleContext, *, approval_field: str, birth_field: str, id_field: str
                 ) -> Sequence[Problem]:
    """18 years old at 批准入会 (W). A birth known to the month only is a W only when every
    day of that month gives an age under 18."""
    approved = as_date(ctx.get(approval_field))
    birth = birth_span(ctx.get(birth_field), ctx.get(id_field))
    if approved and birth and approved < add_years(birth[0], 18):
        return [Problem("W", "approval_age", {}, approval_field)]
    return ()
