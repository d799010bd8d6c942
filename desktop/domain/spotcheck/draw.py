"""The draw of a spot-check sample: stratified by unit, reproducible from a seed.

Method ``dengji-spotcheck-1`` (docs/spotcheck.md says it in words for another implementation):

1. The population is the accepted records, each with its record id and the code of its unit.
2. The size is the number asked for, or ceil(population × rate) for a rate; it is at least the
   number of units (every unit that sent any record gets one) and at most the population.
3. Allotment: each unit gets 1; the rest R = size − units is shared in proportion to each
   unit's records beyond the first (c − 1), by largest remainders (Hamilton): unit u first gets
   floor(R·(c_u − 1) / S) with S = Σ(c − 1), then the seats left go one each to the units with
   the largest remainders R·(c_u − 1) mod S, ties by more records, then by the smaller unit
   code (compared as Unicode code points).
4. Within a unit, the records are ordered by HMAC-SHA256(key = the seed's UTF-8 bytes,
   message = the record id's UTF-8 bytes) as an unsigned big-endian number (ties by record
   id), and the first k are taken.

Only the seed and the population decide the sample; Python's `random` (whose algorithm is an
implementation detail) is not used.
"""

from __future__ import annotations

import hmac
import math
import re
import secrets
from collections.abc import Iterable, Mapping
from fractions import Fraction

METHOD = "dengji-spotcheck-1"
#: the verification results a verifier may write (核验结果)
TRUE, FALSE, UNVERIFIABLE = "属实", "不实", "无法核实"
RESULTS = (TRUE, FALSE, UNVERIFIABLE)
_SEED = re.compile(r"[0-9A-Za-z_-]{4,64}")


def new_seed() -> str:
    """A fresh random seed: 16 hexadecimal digits (64 bits) from the system's CSPRNG."""
    return secrets.token_hex(8).upper()


def seed_problem(seed: str) -> str | None:
    """Why `seed` cannot be a seed (Chinese, for the user), or None."""
    if not _SEED.fullmatch(seed):
        return (f"随机种子“{seed[:80]}”不可用：应为 4–64 个英文字母、数字、下划线或连字符，"
                "如 3F9A0C21D4E5B677（不写则自动生成）")
    return None


def rank(seed: str, record_id: str) -> bytes:
    """The order key of a record in the draw: HMAC-SHA256(seed, record id)."""
    return hmac.digest(seed.encode("utf-8"), record_id.encode("utf-8"), "sha256")


def parse_rate(text: str) -> Fraction | None:
    """A rate as people write it (5%, 2.5%, 0.05) as an exact fraction in (0, 1]; None when it
    is none."""
    t = text.strip().replace("％", "%")
    try:
        value = Fraction(t[:-1].strip()) / 100 if t.endswith("%") else Fraction(t)
    except (ValueError, ZeroDivisionError):
        return None
    return value if 0 < value <= 1 else None


def sample_size(population: int, units: int, *, size: int | None = None,
                rate: Fraction | None = None) -> int:
    """How many records to draw: `size`, or ceil(population × rate); at least one per unit,
    at most the population."""
    if (size is None) == (rate is None):
        raise ValueError("give size or rate")
    wanted = size if size is not None else math.ceil(population * rate)
    return min(population, max(wanted, units))


def allot(counts: Mapping[str, int], size: int) -> dict[str, int]:
    """How many records each unit gives (units with no record give none): 1 each, the rest by
    largest remainders in proportion to the records beyond the first (see the module's text)."""
    units = {u: c for u, c in counts.items() if c > 0}
    total = sum(units.values())
    size = min(max(size, len(units)), total)
    out = {u: 1 for u in units}
    rest = size - len(units)
    spare = total - len(units)
    if rest <= 0 or spare <= 0:
        return out
    remainders = []
    for u, c in units.items():
        whole, remainder = divmod(rest * (c - 1), spare)
        out[u] += whole
        remainders.append((-remainder, -c, u))
    left = rest - sum(out.values()) + len(units)
    for _, _, u in sorted(remainders)[:left]:
        out[u] += 1
    return out


def draw(seed: str, population: Iterable[tuple[str, str]], size: int) -> list[str]:
    """The record ids of the sample: `population` holds (record id, unit code) pairs; the
    result is ordered by unit code, then by rank within the unit."""
    by_unit: dict[str, list[str]] = {}
    for record_id, unit in population:
        by_unit.setdefault(unit, []).append(record_id)
    quota = allot({u: len(ids) for u, ids in by_unit.items()}, size)
    key = seed.encode("utf-8")
    chosen: list[str] = []
    for unit in sorted(by_unit):  # rank() inlined: 200,000 calls
        ranked = sorted(by_unit[unit], key=lambda rid: (
            hmac.digest(key, rid.encode("utf-8"), "sha256"), rid))
        chosen += ranked[:quota[unit]]
    return chosen
