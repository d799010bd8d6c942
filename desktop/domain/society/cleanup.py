"""个人会员清理 (辽会〔2020〕28号, FORMS.md 法学会个人会员): member statuses, the four cleanup
categories and their precedence, and the long-lost / no-duty candidates.

No Qt and no SQL: services load the register into `Member` tuples and write the decisions.

A person falls in one category only. The precedence of FORMS.md — 重复 first (the removed
copies), then 违法违纪 > 不符合条件 > 无身份证号 for the kept entry — is kept by `RANK`: a decision
may move an entry to a category of higher rank, never to a lower one, so applying proposals and
revocations in any order gives the same statistics.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from desktop.domain.rules.generic import add_years

# Codes of forms/codes/member_status.toml.
IN_REGISTER = "1"  # 在册
DUPLICATE = "2"  # 已清理-重复录入
VIOLATION = "3"  # 已清理-严重违法违纪 (撤销资格)
INELIGIBLE = "4"  # 已清理-不符合条件 (撤销资格)
NO_ID = "5"  # 暂时移出-无身份证号
WITHDRAWN = "6"  # 已退会 (moved out for no ID and not completed by the deadline)
READMITTED = "7"  # 重新入会 (ID completed, member agreed)

#: statuses of a member who counts in 实有会员数量
ACTIVE = frozenset({IN_REGISTER, READMITTED})
#: how strongly a status places a person in a cleanup category (higher wins)
RANK = {IN_REGISTER: 0, READMITTED: 0, NO_ID: 1, WITHDRAWN: 1, INELIGIBLE: 2, VIOLATION: 3,
        DUPLICATE: 4}

# Codes of forms/codes/ineligible_reason.toml proposed from the two dates.
REASON_NO_CONTACT = "8"  # 长期（三年及以上）失去联系
REASON_NO_DUTY = "9"  # 长期（三年及以上）不履行会员义务

#: fields a status change writes (besides `status`); the form's required_if rules say which
#: of them each status needs
CLEANUP_FIELDS = ("ineligible_reason", "merged_into", "cleanup_batch", "cleanup_date", "basis",
                  "handler", "approver")

#: fields that do not make a record "more complete" (they are the cleanup's own)
_NOT_CONTENT = frozenset({"status", *CLEANUP_FIELDS})


@dataclass(frozen=True, slots=True)
class Member:
    """What the cleanup needs of one register entry (strings; "" when empty)."""

    id: str  # Record.id
    member_no: str
    name: str
    id_number: str  # normalised (15-digit numbers converted), "" when missing
    birth_date: str
    employer: str
    mobile: str
    approved: str
    last_contact: str
    last_duty: str
    status: str
    filled: int  # how many fields are filled in: the "most complete" entry is kept


def member_from_values(record_id: str, values: Mapping[str, Any]) -> Member:
    """A `Member` from stored values (field ids of the society_member form)."""
    from desktop.domain.identifiers import normalise_id

    def text(field_id: str) -> str:
        value = values.get(field_id)
        return "" if value is None else str(value).strip()

    number = text("id_number")
    return Member(
        id=record_id, member_no=text("member_no"), name=text("name"),
        id_number=normalise_id(number) if number else "", birth_date=text("birth_date"),
        employer=text("employer"), mobile=text("mobile"), approved=text("approved"),
        last_contact=text("last_contact"), last_duty=text("last_duty"),
        status=text("status") or IN_REGISTER, filled=filled_count(values))


def filled_count(values: Mapping[str, Any]) -> int:
    """Fields with a value, not counting the status and cleanup fields."""
    return sum(1 for k, v in values.items()
               if k not in _NOT_CONTENT and v not in (None, "", []))


def is_active(status: str) -> bool:
    return status in ACTIVE


def transition(current: str, target: str) -> str:
    """What happens when a decision would move an entry from `current` to `target`:

    "apply" — the change is made; "same" — already done (applying a workbook twice);
    "lower" — the entry already sits in a category that takes precedence, so it stays;
    "removed" — the entry was removed as a duplicate: decide on the kept entry instead.
    """
    if current == target:
        return "same"
    if current == DUPLICATE:
        return "removed"
    if target in (READMITTED, WITHDRAWN):
        return "apply" if current == NO_ID else "lower"
    return "apply" if RANK[target] > RANK.get(current, 0) else "lower"


_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[\W_]+")
_DOTS = str.maketrans(dict.fromkeys("•・‧∙⋅", "·"))


@lru_cache(maxsize=1 << 18)
def norm_text(text: str) -> str:
    """A comparison form of names and employers: NFKC, no spaces, one kind of middle dot.
    (Cached: a register repeats the same names and employers many times.)"""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).translate(_DOTS)


@lru_cache(maxsize=1 << 16)
def norm_employer(text: str) -> str:
    """Employer names compared without spaces, brackets and punctuation (（）()、，.-)."""
    return _NOT_WORD.sub("", norm_text(text))


# --- long-lost and no-duty candidates ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Overdue:
    """A member proposed as 不符合条件 because of the two dates (a clerk decides)."""

    member: Member
    reason: str  # REASON_NO_CONTACT or REASON_NO_DUTY (the one proposed)
    last_contact: str  # the latest of the person's entries ("" when none has it)
    last_duty: str
    basis: str  # 依据 proposed for the decision


def overdue_candidates(members: Iterable[Member], today: date, *, years: int = 3,
                       dates_of: Mapping[str, tuple[str, str]] | None = None,
                       ) -> tuple[list[Overdue], int]:
    """Active members whose last contact or last fulfilled duty is `years` or more ago.

    `dates_of` gives the person's latest dates per kept entry when a person has several
    entries (a duplicate group). Returns the candidates and how many active members have
    neither date (they cannot be judged from the register and are not proposed).
    """
    limit = add_years(today, -years).isoformat()
    out: list[Overdue] = []
    undated = 0
    for m in members:
        if not is_active(m.status):
            continue
        contact, duty = (dates_of or {}).get(m.id, (m.last_contact, m.last_duty))
        if not contact and not duty:
            undated += 1
            continue
        old_contact = bool(contact) and contact <= limit
        old_duty = bool(duty) and duty <= limit
        if not (old_contact or old_duty):
            continue
        parts = []
        if old_contact:
            parts.append(f"最近联系日期为 {contact}")
        if old_duty:
            parts.append(f"最近履行会员义务日期为 {duty}")
        basis = "，".join(parts) + f"，至 {today.isoformat()} 已满 {years} 年"
        reason = REASON_NO_CONTACT if old_contact else REASON_NO_DUTY
        out.append(Overdue(m, reason, contact, duty, basis))
    return out, undated


def latest_dates(groups: Sequence[Sequence[Member]]) -> dict[str, tuple[str, str]]:
    """For each group (kept entry first), the latest contact and duty dates of all its entries,
    keyed by the kept entry's id: a person contacted through any of their entries is in
    contact."""
    out: dict[str, tuple[str, str]] = {}
    for group in groups:
        keep = group[0]
        out[keep.id] = (max((m.last_contact for m in group), default=""),
                        max((m.last_duty for m in group), default=""))
    return out
