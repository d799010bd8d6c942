"""个人会员清理工作情况统计表 (辽会〔2020〕28号 附件2), computed exactly as FORMS.md defines it.

| column | from the register |
|---|---|
| 清理重复录入人次数 | entries removed as duplicates (a person entered k times gives k−1) |
| 清理严重违法违纪人员数 | entries in 已清理-严重违法违纪 |
| 清理不符合条件人员数 | entries in 已清理-不符合条件 |
| 清理无身份证号人员数 | entries in 暂时移出-无身份证号, and those of them gone to 已退会 |
| 合计清理数量 | the sum of the four |
| 实有会员数量 | 清理前登记条目数 − 合计清理数量 (= 在册 + 重新入会) |

Each entry has one status, and decisions only move an entry to a category of higher precedence
(domain/society/cleanup.py), so a person is counted in one category: the removed copies as duplicates,
the kept entry in the strongest category it reached. A re-admitted member (重新入会) counts as a
member, not as cleaned. 清理前登记条目数 is every entry of the register, since none is deleted.

A city's table is the sum of its counties' tables and its own; a province's the sum of its
cities'. `sum_tables` is that sum; `stats_to_json`/`stats_from_json` are how a table travels in a
package (the JSON keys are the column titles).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from desktop.domain.society.cleanup import (
    DUPLICATE,
    INELIGIBLE,
    NO_ID,
    VIOLATION,
    WITHDRAWN,
)

TITLE = "个人会员清理工作情况统计表"
FORMAT = "dengji.society-cleanup-stats/1"

ENTRIES = "清理前登记条目数"
DUPLICATES = "清理重复录入人次数"
VIOLATIONS = "清理严重违法违纪人员数"
INELIGIBLES = "清理不符合条件人员数"
NO_IDS = "清理无身份证号人员数"
TOTAL = "合计清理数量"
ACTUAL = "实有会员数量"
#: the columns of the table, in the notice's order
COLUMNS = (DUPLICATES, VIOLATIONS, INELIGIBLES, NO_IDS, TOTAL, ACTUAL)
#: the header lines of the table
UNIT, FILLER, CONTACT, FILED = "填报单位", "填报人", "联系方式", "填报时间"
HEADER = (UNIT, FILLER, CONTACT, FILED)
PARTS = "组成"
UNIT_CODE = "单位代码"


@dataclass(frozen=True)
class CleanupStats:
    """One filled table. `parts` are the tables it sums (a city's counties, and its own)."""

    unit: str
    entries: int
    duplicates: int
    violations: int
    ineligible: int
    no_id: int
    filler: str = ""
    contact: str = ""
    filed: str = ""  # YYYY-MM-DD
    unit_code: str = ""
    parts: tuple[CleanupStats, ...] = field(default=(), compare=False)

    @property
    def total(self) -> int:
        return self.duplicates + self.violations + self.ineligible + self.no_id

    @property
    def actual(self) -> int:
        return self.entries - self.total

    def columns(self) -> dict[str, int]:
        """The six columns of the table, titles as keys."""
        return {DUPLICATES: self.duplicates, VIOLATIONS: self.violations,
                INELIGIBLES: self.ineligible, NO_IDS: self.no_id, TOTAL: self.total,
                ACTUAL: self.actual}


def stats_from_statuses(counts: Mapping[str, int], *, unit: str, unit_code: str = "",
                        filler: str = "", contact: str = "", filed: str = "") -> CleanupStats:
    """The table of one register from the number of entries in each status code."""
    return CleanupStats(
        unit=unit, unit_code=unit_code, entries=sum(counts.values()),
        duplicates=counts.get(DUPLICATE, 0), violations=counts.get(VIOLATION, 0),
        ineligible=counts.get(INELIGIBLE, 0),
        no_id=counts.get(NO_ID, 0) + counts.get(WITHDRAWN, 0),
        filler=filler, contact=contact, filed=filed)


def sum_tables(tables: Sequence[CleanupStats], *, unit: str, unit_code: str = "",
               filler: str = "", contact: str = "", filed: str = "") -> CleanupStats:
    """The table of a city or province: the column-wise sum of its parts (合计 and 实有
    recomputed). A unit that appears twice is refused (a package imported twice would count
    its members twice)."""
    seen: dict[str, str] = {}
    for t in tables:
        key = t.unit_code or t.unit
        if key in seen:
            raise ValueError(f"“{t.unit}”的统计表出现了两次，请只保留最新的一份再汇总")
        seen[key] = t.unit
    return CleanupStats(
        unit=unit, unit_code=unit_code,
        entries=sum(t.entries for t in tables), duplicates=sum(t.duplicates for t in tables),
        violations=sum(t.violations for t in tables), ineligible=sum(t.ineligible for t in tables),
        no_id=sum(t.no_id for t in tables), filler=filler, contact=contact, filed=filed,
        parts=tuple(replace(t, parts=()) for t in tables))


def stats_to_json(stats: CleanupStats) -> dict[str, Any]:
    """The table as a JSON object: header lines, 清理前登记条目数 and the six columns by their
    titles, and the tables it sums under 组成."""
    out: dict[str, Any] = {"format": FORMAT, UNIT: stats.unit, UNIT_CODE: stats.unit_code,
                           FILLER: stats.filler, CONTACT: stats.contact, FILED: stats.filed,
                           ENTRIES: stats.entries, **stats.columns()}
    if stats.parts:
        out[PARTS] = [{k: v for k, v in stats_to_json(p).items() if k != "format"}
                      for p in stats.parts]
    return out


def stats_from_json(obj: Any, where: str = "统计表") -> CleanupStats:
    """Read a table written by `stats_to_json` (a county's, from its package).

    Refuses what does not add up — 合计 that is not the sum of the four columns, 实有 that is
    not 清理前登记条目数 minus 合计, negative or non-integer counts — with a ValueError whose
    message names the place and the column.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"{where}不是一个 JSON 对象")
    fmt = obj.get("format")
    if fmt is not None and fmt != FORMAT:
        raise ValueError(f"{where}的格式“{fmt}”无法识别（应为 {FORMAT}），请用新版本软件打开")

    def count(key: str) -> int:
        value = obj.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{where}的“{key}”应为非负整数，现为 {value!r}")
        return value

    def text(key: str) -> str:
        value = obj.get(key, "")
        return value if isinstance(value, str) else str(value)

    stats = CleanupStats(
        unit=text(UNIT), unit_code=text(UNIT_CODE), entries=count(ENTRIES),
        duplicates=count(DUPLICATES), violations=count(VIOLATIONS), ineligible=count(INELIGIBLES),
        no_id=count(NO_IDS), filler=text(FILLER), contact=text(CONTACT), filed=text(FILED))
    if not stats.unit:
        raise ValueError(f"{where}缺少“{UNIT}”")
    if count(TOTAL) != stats.total:
        raise ValueError(f"{where}（{stats.unit}）的“{TOTAL}”为 {obj[TOTAL]}，"
                         f"但四项清理数之和为 {stats.total}")
    if count(ACTUAL) != stats.actual:
        raise ValueError(f"{where}（{stats.unit}）的“{ACTUAL}”为 {obj[ACTUAL]}，但"
                         f"{ENTRIES} {stats.entries} 减去{TOTAL} {stats.total} 为 {stats.actual}")
    if stats.actual < 0:
        raise ValueError(f"{where}（{stats.unit}）的清理数量大于{ENTRIES}")
    parts = obj.get(PARTS) or []
    if not isinstance(parts, list):
        raise ValueError(f"{where}的“{PARTS}”应为列表")
    return replace(stats, parts=tuple(stats_from_json(p, f"{where}的组成部分")
                                      for p in parts))
