"""会员证号: the numbering rule of the 中国法学会会员管理办法 and the issuing societies.

A number is a prefix and a six-digit serial: the provincial society uses its capital's area code
(0311-000123), the capital city's society puts a 0 before it (00311-000123), another city uses
its own area code (0312-000123), a county or district adds a two-digit sub-code
(0312-01-000123). The societies and their prefixes are the code table forms/codes/societies.toml
(code = prefix, label = name, parent = the society above).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from desktop.domain.forms import CodeTable
from desktop.domain.rules.society import MEMBER_NUMBER
from desktop.domain.society.cleanup import norm_text

SERIAL_DIGITS = 6
MAX_SERIAL = 10**SERIAL_DIGITS - 1
SOCIETIES_TABLE = "societies"

LEVEL_PROVINCE, LEVEL_CAPITAL, LEVEL_CITY, LEVEL_COUNTY = "省", "省会城市", "市", "县（区）"


@dataclass(frozen=True, slots=True)
class MemberNumber:
    prefix: str  # e.g. "0311", "00311", "0312-01"
    serial: int

    @property
    def text(self) -> str:
        return format_member_number(self.prefix, self.serial)


@dataclass(frozen=True, slots=True)
class Society:
    code: str  # the number prefix
    name: str
    parent: str | None
    level: str


def parse_member_number(text: str) -> MemberNumber | None:
    """The prefix and serial of a well-formed number, else None."""
    match = MEMBER_NUMBER.match(text.strip())
    if match is None:
        return None
    prefix = match["city"] + match["area"] + (f"-{match['sub']}" if match["sub"] else "")
    return MemberNumber(prefix, int(match["seq"]))


def format_member_number(prefix: str, serial: int) -> str:
    return f"{prefix}-{serial:0{SERIAL_DIGITS}d}"


def prefix_level(prefix: str, parent: str | None) -> str:
    """The kind of society a prefix belongs to: a sub-code means a county or district; a
    leading 00 the capital city (area codes themselves never start with 00); no parent the
    province."""
    if "-" in prefix:
        return LEVEL_COUNTY
    if prefix.startswith("00"):
        return LEVEL_CAPITAL
    return LEVEL_CITY if parent else LEVEL_PROVINCE


def societies_from_table(table: CodeTable) -> dict[str, Society]:
    """The issuing societies by prefix, from the code table."""
    return {c.code: Society(c.code, c.label, c.parent, prefix_level(c.code, c.parent))
            for c in table.codes}


def own_society(table: CodeTable, unit_name: str, code: str | None = None) -> Society | None:
    """The society a register issues numbers for: the code given, or the entry whose name (or
    an alias) is the register's unit name."""
    societies = societies_from_table(table)
    if code:
        return societies.get(code.strip())
    found = table.lookup(unit_name.strip()) or table.lookup(norm_text(unit_name))
    return societies.get(found.code) if found else None


def next_member_number(prefix: str, existing: Iterable[str]) -> str:
    """The next free number of `prefix`: one more than the highest serial ever issued under it.

    Numbers are never reissued: records are kept when members are cleaned out, so their
    numbers stay taken. Raises ValueError when the six-digit serials are used up.
    """
    highest = 0
    for text in existing:
        number = parse_member_number(text) if text else None
        if number is not None and number.prefix == prefix and number.serial > highest:
            highest = number.serial
    if highest >= MAX_SERIAL:
        raise ValueError(f"会员证号前缀 {prefix} 的六位顺序号已用完（最大 {MAX_SERIAL}）")
    return format_member_number(prefix, highest + 1)


@dataclass(frozen=True, slots=True)
class NumberIssue:
    """A problem with an imported member number (E: malformed; W: unknown prefix, issuer that
    disagrees, or the same number on several entries)."""

    record_ids: tuple[str, ...]
    member_no: str
    severity: str
    code: str  # member_no_invalid, member_no_prefix_unknown, member_no_issuer, member_no_duplicate
    message: str


def check_member_numbers(entries: Iterable[tuple[str, str, str, str]], table: CodeTable
                         ) -> list[NumberIssue]:
    """Check (record id, member number, issuer, name) tuples against the rule and the table.

    A number held by several entries is reported once with all of them: the same person entered
    twice is a duplicate for the cleanup; two people under one number is a numbering error.
    """
    societies = societies_from_table(table)
    holders: dict[str, list[tuple[str, str]]] = defaultdict(list)
    issues: list[NumberIssue] = []
    for record_id, member_no, issuer, name in entries:
        if not member_no:
            continue
        holders[member_no].append((record_id, name))
        number = parse_member_number(member_no)
        if number is None:
            issues.append(NumberIssue((record_id,), member_no, "E", "member_no_invalid",
                                      f"会员证号“{member_no}”（{name}）不符合“区号-六位顺序号”的编号规则"))
            continue
        society = societies.get(number.prefix)
        if society is None:
            issues.append(NumberIssue(
                (record_id,), member_no, "W", "member_no_prefix_unknown",
                f"会员证号“{member_no}”（{name}）的前缀 {number.prefix} 不在发证法学会代码表中"))
        elif issuer and norm_text(issuer) != norm_text(society.name):
            issues.append(NumberIssue(
                (record_id,), member_no, "W", "member_no_issuer",
                f"会员证号“{member_no}”（{name}）应由{society.name}发证，登记的发证法学会为“{issuer}”"))
    for member_no, held in holders.items():
        if len(held) > 1:
            names = "、".join(sorted({n for _, n in held}))
            issues.append(NumberIssue(
                tuple(r for r, _ in held), member_no, "W", "member_no_duplicate",
                f"会员证号“{member_no}”登记了 {len(held)} 次（{names}）"))
    return issues
