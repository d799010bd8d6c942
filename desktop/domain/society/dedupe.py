"""Duplicate entries of the member register (FORMS.md: 重复录入).

The same normalised ID number (15-digit numbers converted to 18) is a duplicate for certain.
An entry without an ID number that shares (姓名, 出生日期), (姓名, 工作单位) or (姓名, 手机) with
another entry is a candidate a clerk confirms. Entries are blocked on these normalised keys
(one dictionary per key, each entry joined to the first of its block), never compared in
pairs, so a million entries take seconds.

Two entries with different ID numbers are never joined: a block that holds more than one ID
number joins its entries without an ID among themselves only, because they could belong to
either person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from desktop.domain.rules.society import MEMBER_NUMBER
from desktop.domain.society.cleanup import DUPLICATE, RANK, Member, norm_employer, norm_text

SAME_ID = "同一公民身份号码"
#: what besides the name makes a candidate, in the order of `_keys`
CANDIDATE_KEYS = ("出生日期", "工作单位", "手机")


@dataclass(frozen=True, slots=True)
class Removal:
    """An entry proposed for removal as a duplicate of the group's kept entry."""

    member: Member
    certain: bool  # same ID number as the kept entry
    reason: str  # why it matches: SAME_ID or the candidate keys it shares


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """One person entered several times: the entry to keep and the ones to remove."""

    keep: Member
    removals: tuple[Removal, ...]

    @property
    def members(self) -> tuple[Member, ...]:
        return (self.keep, *(r.member for r in self.removals))

    @property
    def certain(self) -> bool:
        return all(r.certain for r in self.removals)


def keep_order(m: Member) -> tuple:
    """Sort key of the entry to keep (smallest first): an entry whose category is already
    decided carries the person (so no decision is lost); then an entry with an ID number; then
    the most complete; then the oldest member number (smallest serial, then earliest
    admission); the record id last, so the choice never depends on the input order."""
    serial = _serial(m.member_no)
    return (-RANK.get(m.status, 0), not m.id_number, -m.filled, serial is None,
            serial or 0, m.approved or "9999", m.member_no, m.id)


def _serial(member_no: str) -> int | None:
    match = MEMBER_NUMBER.match(member_no)
    return int(match["seq"]) if match else None


class _Joins:
    """Union-find over entry positions that never joins two different ID numbers."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.parent = list(range(len(ids)))
        self.id_of = list(ids)  # the ID number of a component (at its root), "" if none
        self.touched: set[int] = set()  # entries in a component of two or more

    def root(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, a: int, b: int) -> bool:
        ra, rb = self.root(a), self.root(b)
        if ra == rb:
            return True
        ia, ib = self.id_of[ra], self.id_of[rb]
        if ia and ib and ia != ib:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.touched.add(a)
        self.touched.add(b)
        self.id_of[ra] = ia or ib
        return True


def _keys(m: Member, name: str) -> tuple[tuple | None, tuple | None, tuple | None]:
    if not name:
        return None, None, None
    employer = norm_employer(m.employer) if m.employer else ""
    mobile = m.mobile if len(m.mobile) == 11 and m.mobile.isdigit() else ""
    return ((name, m.birth_date) if m.birth_date else None,
            (name, employer) if employer else None,
            (name, mobile) if mobile else None)


def find_duplicates(members: Iterable[Member]) -> list[DuplicateGroup]:
    """Duplicate groups among the entries not already removed as duplicates."""
    return groups_from_components(duplicate_components(members))


def duplicate_components(members: Iterable[Member]) -> list[list[Member]]:
    """The sets of entries that are one person (certain or candidate), two or more entries
    each; entries already removed as duplicates take no part."""
    entries = [m for m in members if m.status != DUPLICATE]
    ids = [m.id_number for m in entries]
    joins = _Joins(ids)
    first_with_id: dict[str, int] = {}
    for i, number in enumerate(ids):
        if number:
            j = first_with_id.setdefault(number, i)
            if j != i:
                joins.join(j, i)
    _join_candidates(entries, joins)
    components: dict[int, list[int]] = {}
    for i in sorted(joins.touched):
        components.setdefault(joins.root(i), []).append(i)
    return [[entries[i] for i in idxs] for idxs in components.values() if len(idxs) > 1]


def groups_from_components(components: Iterable[Sequence[Member]]) -> list[DuplicateGroup]:
    """The kept entry of each set (`keep_order`) and the removals, sorted by the kept entry's
    member number. The service fills in `Member.filled` of these few entries before this."""
    groups = []
    for component in components:
        group = sorted(component, key=keep_order)
        keep = group[0]
        groups.append(DuplicateGroup(keep, tuple(_removal(keep, m) for m in group[1:])))
    groups.sort(key=lambda g: (g.keep.member_no, g.keep.id))
    return groups


def _join_candidates(entries: list[Member], joins: _Joins) -> None:
    """Join entries without an ID number to the entries they share a candidate key with.

    Only entries whose name is also the name of an entry without an ID number can be part of
    a candidate match, so only they are put into the three blocks."""
    names = [norm_text(m.name) for m in entries]
    blank_names = {name for name, m in zip(names, entries, strict=True) if not m.id_number}
    blank_names.discard("")
    if not blank_names:
        return
    blocks: list[dict[tuple, list[int]]] = [{}, {}, {}]
    for i, name in enumerate(names):
        if name not in blank_names:
            continue
        for block, key in zip(blocks, _keys(entries[i], name), strict=True):
            if key is not None:
                block.setdefault(key, []).append(i)
    blocks.append(_month_block(entries, names, blank_names))
    for block in blocks:
        for idxs in block.values():
            if len(idxs) < 2:
                continue
            blank = [i for i in idxs if not entries[i].id_number]
            if not blank:
                continue  # entries that all have an ID number are joined by the number only
            numbered = {entries[i].id_number: i for i in idxs if entries[i].id_number}
            anchor = next(iter(numbered.values())) if len(numbered) == 1 else blank[0]
            for i in blank:
                if i != anchor:
                    joins.join(anchor, i)


def _month_block(entries: list[Member], names: list[str], blank_names: set[str]
                 ) -> dict[tuple, list[int]]:
    """(姓名, year-month) blocks that hold a 出生日期 known to the month only (a legacy
    register's "1963年9月", stored 1963-09): such an entry is a candidate of every entry of
    the same name born in that month. Blocks without a month-only entry are left out, so two
    full dates of one month are never joined by this block alone."""
    months: dict[tuple, list[int]] = {}
    for i, name in enumerate(names):
        birth = entries[i].birth_date
        if birth and name in blank_names:
            months.setdefault((name, birth[:7]), []).append(i)
    return {key: idxs for key, idxs in months.items()
            if len(idxs) > 1 and any(len(entries[i].birth_date) == 7 for i in idxs)}


def _same(label: str, a: tuple | None, b: tuple | None) -> bool:
    """Whether two entries share a candidate key; a birth date known to the month only is
    the same as a full date of that month."""
    if a is None or b is None:
        return False
    if label == "出生日期" and a[0] == b[0] and min(len(a[1]), len(b[1])) == 7:
        return a[1][:7] == b[1][:7]
    return a == b


def _removal(keep: Member, m: Member) -> Removal:
    if m.id_number and m.id_number == keep.id_number:
        return Removal(m, True, SAME_ID)
    mine, kept = _keys(m, norm_text(m.name)), _keys(keep, norm_text(keep.name))
    shared = [label for label, a, b in zip(CANDIDATE_KEYS, mine, kept, strict=True)
              if _same(label, a, b)]
    if shared:
        return Removal(m, False, f"姓名、{'、'.join(shared)}相同")
    return Removal(m, False, "经本组其他条目关联（姓名及出生日期、工作单位或手机相同）")
