"""New record ids: UUIDs in the time-ordered layout of RFC 9562 (version 7).

An id is 48 bits of Unix time in milliseconds, then 74 bits that start at a random value for
each maker and count up, so the ids of one import are unique, sort in the order they were made
and land at the end of the register's indexes (a random UUID lands anywhere, and every insert
touches another page). They are ordinary UUID strings: `str(uuid.UUID(i)) == i`.
"""

from __future__ import annotations

import secrets
import time

_START_BITS = 70
_LOW = (1 << 62) - 1  # the counter starts below 2**70: 2**74 − 2**70 ids before it could overflow


class IdMaker:
    """Makes record ids; one maker per batch (an import, a check)."""

    __slots__ = ("_ms", "_counter", "_high", "_head")

    def __init__(self) -> None:
        self._ms = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
        self._counter = secrets.randbits(_START_BITS)
        self._high = -1
        self._head = ""

    def next(self) -> str:
        c = self._counter
        self._counter = c + 1
        high = c >> 62
        if high != self._high:  # the first 64 bits change once in 2**62 ids
            self._high = high
            h = f"{(self._ms << 16) | (0x7 << 12) | high:016x}"
            self._head = f"{h[:8]}-{h[8:12]}-{h[12:16]}-"
        low = f"{(0b10 << 62) | (c & _LOW):016x}"
        return f"{self._head}{low[:4]}-{low[4:]}"
