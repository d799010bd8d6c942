"""A law society's 个人会员清理工作情况统计表 in its package: ``stats/<unit code>.json``.

A society-level package (county, city, province) carries the sender's table — a city's and a
province's summed over the tables of the packages below it — as one member inside the encrypted
payload, hashed in the signed manifest like every other, so a changed table is refused with
the package. The receiver
reads it strictly (it must add up) and checks it against the table computed from the records
the package carries: a disagreement is a finding for the clerk, reported and kept with the
package, not a refusal (the records are the source of truth).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from desktop.domain.society.stats import (
    DUPLICATES,
    ENTRIES,
    INELIGIBLES,
    NO_IDS,
    VIOLATIONS,
    CleanupStats,
    stats_from_json,
    stats_from_statuses,
)
from desktop.exchange.format.records import Incoming

FOLDER = "stats/"
MEMBER_FORM = "society_member"  # the form whose statuses the table counts
STATUS_FIELD, IN_REGISTER = "status", "1"


def stats_member(unit_code: str) -> str:
    """The member name of a unit's table."""
    return f"{FOLDER}{unit_code}.json"


def table_bytes(obj: dict[str, Any]) -> bytes:
    """A table (stats_to_json's object) as the package carries it."""
    return (json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode()


@dataclass(frozen=True)
class StatsResult:
    """What a package's table says: `table` (its JSON object) or None, an `error` that
    refuses the package (a malformed table), a `finding` the clerk must see (the table and
    the records disagree, or a society package without a table)."""

    table: dict[str, Any] | None = None
    error: str = ""
    finding: str = ""


def computed(records: list[Incoming], unit_code: str | None = None) -> CleanupStats:
    """The table computed from received records (of one unit, or of all), as the sender's
    register computes it from its statuses (a missing status counts as 在册)."""
    counts: Counter[str] = Counter()
    for r in records:
        if r.form.id == MEMBER_FORM and (unit_code is None or r.unit_code == unit_code):
            status = r.values.get(STATUS_FIELD)
            counts[IN_REGISTER if status is None else str(status)] += 1
    return stats_from_statuses(counts, unit=unit_code or "")


_COMPARED = ((ENTRIES, "entries"), (DUPLICATES, "duplicates"), (VIOLATIONS, "violations"),
             (INELIGIBLES, "ineligible"), (NO_IDS, "no_id"))


def _differences(table: CleanupStats, found: CleanupStats) -> list[str]:
    return [f"{title} 表中为 {getattr(table, attr)}、按记录计算为 {getattr(found, attr)}"
            for title, attr in _COMPARED if getattr(table, attr) != getattr(found, attr)]


def check_stats(members: dict[str, bytes], sender_code: str, sender_level: str,
                records: list[Incoming]) -> StatsResult:
    """Read and check the table of a registration package whose records have been read."""
    names = [n for n in members if n.startswith(FOLDER)]
    if not names:
        if sender_level.startswith("society") and any(r.form.id == MEMBER_FORM
                                                       for r in records):
            return StatsResult(finding="数据包未附个人会员清理工作情况统计表，"
                                       "汇总时按其记录计算")
        return StatsResult()
    if names != [stats_member(sender_code)]:
        return StatsResult(error=f"统计表应只有一份 {stats_member(sender_code)}，"
                                 f"包内却是 {'、'.join(sorted(names))[:200]}")
    try:
        obj = json.loads(members[names[0]].decode("utf-8"))
        table = stats_from_json(obj, "包内的统计表")
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        message = str(err) if isinstance(err, ValueError) and not isinstance(
            err, (UnicodeDecodeError, json.JSONDecodeError)) else "不是有效的 JSON"
        return StatsResult(error=f"统计表无法读取：{message}")
    if table.unit_code and table.unit_code != sender_code:
        return StatsResult(error=f"统计表的单位代码 {table.unit_code} 不是发送单位的 {sender_code}")
    problems = _differences(table, computed(records))
    if problems:
        # name the parts that disagree when the parts are exactly the units of the records
        by_part = {p.unit_code: computed(records, p.unit_code) for p in table.parts}
        exact = sum(c.entries for c in by_part.values()) == computed(records).entries
        parts = [p.unit for p in table.parts if exact and _differences(p, by_part[p.unit_code])]
        which = f"（不符的组成单位：{'、'.join(parts)}）" if parts else ""
        return StatsResult(obj, finding="统计表与数据包中的会员记录不符："
                                        + "；".join(problems) + which)
    return StatsResult(obj)
