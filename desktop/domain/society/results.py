"""What the 个人会员清理 hands to its papers: the `Proposal` written as the cleanup workbook and
the `Notice` (通报) printed or saved for the members, and the Chinese date they are dated with.

Plain data: services/cleanup builds them, reports/xlsx and reports/pdf lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from desktop.domain.society.cleanup import Member, Overdue
from desktop.domain.society.dedupe import DuplicateGroup
from desktop.domain.society.member_numbers import NumberIssue
from desktop.domain.society.stats import (
    ACTUAL,
    COLUMNS,
    CONTACT,
    ENTRIES,
    FILED,
    FILLER,
    TITLE,
    TOTAL,
    UNIT,
    CleanupStats,
)


def zh_date(iso: str) -> str:
    """2020-11-30 → 2020年11月30日; an empty date leaves blanks to write in by hand."""
    try:
        d = date.fromisoformat(iso)
    except ValueError:
        return iso or "　　年　　月　　日"
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass(frozen=True)
class Proposal:
    """What the cleanup proposes; a clerk decides on each item."""

    today: date
    years: int
    entries: int  # entries of the register
    active: int  # of them 在册 or 重新入会
    groups: list[DuplicateGroup]
    no_id: list[Member]  # active entries without an ID number
    overdue: list[Overdue]
    undated: int  # active entries with neither date (cannot be judged)
    number_issues: list[NumberIssue]
    removed_ids: frozenset[str] = field(default=frozenset())  # entries proposed for removal

    @property
    def removals(self) -> int:
        return sum(len(g.removals) for g in self.groups)


@dataclass(frozen=True)
class Notice:
    unit: str
    stats: CleanupStats
    deadline: date | None
    rows: list[tuple[str, str, str]]  # (姓名, 会员证号, 清理类别) when names are listed
    names: bool
    issued: date
    withdrawn: int = 0  # of the no-ID members, those gone to 已退会

    @property
    def title(self) -> str:
        return f"{self.unit}关于个人会员清理工作结果的通报"

    def paragraphs(self) -> list[str]:
        s = self.stats
        withdrawn = self.withdrawn
        out = [
            "根据《中国法学会会员管理办法》（会字〔2020〕4号）和上级法学会关于集中开展个人会员清理工作的部署，"
            "本会对会员管理信息系统中的个人会员信息进行了清理。现将清理结果通报如下：",
            f"清理前登记条目 {s.entries} 条。清理重复录入 {s.duplicates} 人次（每人只保留一条有效信息）；"
            f"撤销严重违法违纪人员会员资格 {s.violations} 人；撤销不符合会员条件人员会员资格 "
            f"{s.ineligible} 人；无身份证号暂时移出会员队伍 {s.no_id} 人"
            + (f"（其中已按退会处理 {withdrawn} 人）" if withdrawn else "")
            + f"。合计清理 {s.total} 条，现有会员 {s.actual} 人。",
        ]
        if self.deadline:
            out.append(f"暂时移出不是一律清理。暂时移出的会员，符合会员条件的，经本人同意，可于 "
                       f"{zh_date(self.deadline.isoformat())}前补全身份证号等信息，重新办理入会手续；"
                       "逾期信息无法补全或本人不愿继续入会的，按退会处理。")
        if self.names:
            out.append(f"清理人员名单如下（共 {len(self.rows)} 人）：" if self.rows else
                       "所选类别没有清理人员。")
        return out


#: the 统计表's parts below the main table, and its stamp line (the PDF and the workbook)
PARTS_HEADING = "分单位情况"
STAMP = "填报单位（盖章）："


@dataclass(frozen=True)
class StatsPaper:
    """The 统计表 as both its PDF and its workbook lay it out, top to bottom: the title, the
    header lines, 项目 | six columns over 数量, the entries line, the tables it sums under
    PARTS_HEADING (when any: 填报单位 | 清理前登记条目数 | six columns, then 合计), the stamp
    line and the date. One description, so the two outputs cannot drift apart."""

    title: str
    lines: tuple[str, ...]
    header: tuple[str, ...]
    row: tuple[str | int, ...]
    entries_line: str
    parts_header: tuple[str, ...]
    parts: tuple[tuple[str | int, ...], ...]
    stamp: str
    date: str


def stats_paper(stats: CleanupStats) -> StatsPaper:
    parts: tuple[tuple[str | int, ...], ...] = ()
    if stats.parts:
        parts = (*((p.unit, p.entries, *p.columns().values()) for p in stats.parts),
                 ("合计", stats.entries, *stats.columns().values()))
    return StatsPaper(
        TITLE, (f"{UNIT}：{stats.unit}", f"{FILLER}：{stats.filler}",
                f"{CONTACT}：{stats.contact}", f"{FILED}：{zh_date(stats.filed)}"),
        ("项目", *COLUMNS), ("数量", *stats.columns().values()),
        f"{ENTRIES}：{stats.entries}（{ACTUAL} = {ENTRIES} − {TOTAL}）",
        (UNIT, ENTRIES, *COLUMNS) if parts else (), parts, STAMP, zh_date(stats.filed))
