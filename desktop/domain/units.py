"""Whether a unit's code fits its level: the one decision behind the first-run dialog,
`dengji init` and 本单位信息 (desktop/services/unit.py).

- a law firm's party organisation is known by its firm's 统一社会信用代码 (GB 32100, check
  character included; a law firm's code starts with 31, registered by a 司法行政机关);
- a city or province committee by its administrative-division code (GB/T 2260, the regions
  code table: a city-level code for a city committee, a province-level code for a province
  committee; a 直辖市's committee is province-level);
- a law society by the prefix of the member numbers it issues (会员证号, the 区号 rule of
  domain/society/member_numbers.py): a county society by area code and two-digit sub-code
  (0312-01), a city society by its area code (0312) or, for the capital, 0 and the area code
  (00311), a province society by its capital's area code (0311). A prefix listed in the
  societies table must be listed with the same level.

The national committee has no such number; any code is taken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from desktop.domain.forms import CodeTable
from desktop.domain.identifiers import check_uscc
from desktop.domain.messages import render_template
from desktop.domain.society.member_numbers import (
    LEVEL_CAPITAL,
    LEVEL_CITY,
    LEVEL_COUNTY,
    LEVEL_PROVINCE,
    prefix_level,
)

REGIONS_TABLE, SOCIETIES_TABLE = "regions", "societies"

#: what the code of a unit of each level is, for the first-run dialog's placeholder
CODE_HINTS = {
    "firm": "本所执业许可证上的 18 位统一社会信用代码",
    "city": "本市的 6 位行政区划代码，如 320100",
    "province": "本省的 6 位行政区划代码，如 320000",
    "national": "上级给定的单位代码",
    "society-county": "会员证号的区号前缀，如 0312-01",
    "society-city": "会员证号的区号前缀，如 0312（省会城市如 00311）",
    "society-province": "会员证号的区号前缀（省会区号），如 0311",
}

# the prefix of a 会员证号 (member_numbers.MEMBER_NUMBER without the serial)
_PREFIX = re.compile(r"^(?P<capital>0?)(?P<area>0\d{2,3})(?:-(?P<sub>\d{2}))?$")

USCC_WHY = {
    "uscc_length": "统一社会信用代码应为 18 位，现为 {n} 位",
    "uscc_format": "统一社会信用代码只能包含数字和除 I、O、Z、S、V 以外的大写字母",
    "uscc_checksum": "统一社会信用代码的校验位（第 18 位）不正确，请对照律师事务所执业许可证逐位核对",
}

_SOCIETY_LEVELS = {
    "society-county": (LEVEL_COUNTY,),
    "society-city": (LEVEL_CITY, LEVEL_CAPITAL),
    "society-province": (LEVEL_PROVINCE,),
}
_SOCIETY_HINT = {
    "society-county": "县（区）法学会的代码是所在市的区号加两位县（区）编号，如 0312-01",
    "society-city": "市法学会的代码是本市的电话区号，如 0312；省会城市在区号前加 0，如 00311",
    "society-province": "省法学会的代码是省会城市的电话区号，如 0311",
}
_REGION_GROUP = {"city": "city", "province": "province"}


def unit_code_problem(level: str, code: str, tables: Mapping[str, CodeTable]) -> str | None:
    """Why `code` cannot be the code of a unit of `level`, in Chinese, saying what to enter;
    None when it fits. `tables`: the loaded code tables (regions, societies)."""
    code = (code or "").strip()
    if not code:
        return "单位代码不能为空"
    if level == "firm":
        return _firm_problem(code)
    if level in _REGION_GROUP:
        return _region_problem(level, code, tables.get(REGIONS_TABLE))
    if level in _SOCIETY_LEVELS:
        return _society_problem(level, code, tables.get(SOCIETIES_TABLE))
    return None


def _firm_problem(code: str) -> str | None:
    for problem in check_uscc(code.upper(), law_firm=True):
        if problem.severity == "E":
            return render_template(USCC_WHY[problem.code], "", problem.params)
        if problem.code == "uscc_not_law_firm":
            return ("律师事务所的统一社会信用代码以“31”开头（由司法行政机关登记），"
                    f"“{code}”不是律师事务所的代码，请填写本所执业许可证上的统一社会信用代码")
    return None


def _region_problem(level: str, code: str, regions: CodeTable | None) -> str | None:
    what = "市级" if level == "city" else "省级"
    example = "320100（南京市）" if level == "city" else "320000（江苏省）"
    if not re.fullmatch(r"\d{6}", code):
        return f"{what}律师行业党委的代码是 6 位行政区划代码，如 {example}"
    if regions is None:
        return None
    entry = regions.get(code)
    if entry is None:
        return f"“{code}”不是现行的行政区划代码，请填写本{what[0]}的 6 位行政区划代码，如 {example}"
    if entry.group != _REGION_GROUP[level]:
        return (f"“{code}”是{entry.label}的代码，不是{what}行政区划代码；"
                f"{what}律师行业党委请填写本{what[0]}的代码，如 {example}")
    return None


def _society_problem(level: str, code: str, societies: CodeTable | None) -> str | None:
    match = _PREFIX.match(code)
    hint = _SOCIETY_HINT[level]
    if match is None:
        return f"“{code}”不是会员证号的区号前缀。{hint}"
    listed = societies.get(code) if societies is not None else None
    kind = prefix_level(code, listed.parent if listed else
                        (None if level == "society-province" else "?"))
    if kind not in _SOCIETY_LEVELS[level]:
        return f"“{code}”是{kind}法学会的区号前缀，与本单位的层级不符。{hint}"
    return None
