"""The one masking scheme of every masked output: the window's lists, Excel, PDF, packages.

A masked output must leak no more than its columns would one by one. A resident ID number
holds the birth date (digits 7–14), so a masked ID that kept any birth digit, or a full birth
date printed in the same row, would give the number back. The rule (docs/privacy.md):

- ID number (`mask = "id"`): the address code (first 6) and the last 4 stay, the birth part is
  always hidden — 110105********002X; a legacy 15-digit number keeps 6 and the last 3
  (110105******123), so its birth digits are hidden too. Anything shorter than 11 characters
  keeps 2.
- Birth date (`mask = "birth"`): year and month only — 1980-05. With the day gone, an ID's
  masked form plus the birth column leaves the day open (≈3 candidates even with the check
  digit), and the 8 birth digits never appear together in a masked output.
- Phone (`mask = "phone"`): 138****8000; a landline keeps its 区号 and the last 4 digits.

`masked_text(kind, text)` is the one entry: every writer passes a field's `mask` and its
display text through it when the output is masked.
"""

from __future__ import annotations

import re

#: the values of a field's `mask` key (forms/*.toml): how a masked output shows it
MASK_KINDS = ("id", "phone", "birth")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_YEAR_MONTH = re.compile(r"^\s*(\d{4})\s*[-./年]?\s*(\d{1,2})(?!\d)")
_BIRTH = {15: (6, 12), 18: (6, 14)}  # where the birth date is in an ID number of this length


def masked_text(kind: str | None, text: str) -> str:
    """`text` (a value as displayed) as a masked output shows a field whose mask is `kind`."""
    if not text or kind is None:
        return text
    if kind == "id":
        return mask_id(text)
    if kind == "phone":
        return mask_phone(text)
    if kind == "birth":
        return mask_birth(text)
    raise ValueError(f"unknown mask kind {kind!r}")


def mask_id(number: str | None) -> str:
    """110105********002X: the first 6 and the last 4 characters stay, never a birth digit."""
    if not number:
        return ""
    n = len(number)
    if n <= 10:
        return number[:2] + "*" * max(n - 2, 0)
    _, birth_end = _BIRTH.get(n, (6, 14))
    keep = max(n - 4, birth_end)  # the tail kept never reaches into the birth part
    return number[:6] + "*" * (keep - 6) + number[keep:]


def mask_birth(text: str | None) -> str:
    """1980-05: a birth date's year and month (whatever the separators); the day is never
    shown. Text that is not a date is hidden whole."""
    if not text:
        return ""
    m = _YEAR_MONTH.match(text)
    if m is None:
        return "*" * min(len(text), 10)
    return f"{m.group(1)}-{int(m.group(2)):02d}"


def mask_phone(value: str | None) -> str:
    """138****8000; a landline keeps its 区号 and the last 4 digits."""
    if not value:
        return ""
    if _MOBILE.match(value):
        return value[:3] + "****" + value[-4:]
    head, _, tail = value.rpartition("-")
    if head and len(tail) > 4:
        return f"{head}-{'*' * (len(tail) - 4)}{tail[-4:]}"
    return "*" * max(len(value) - 4, 0) + value[-4:]
