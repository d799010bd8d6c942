"""The draw of a spot-check sample (domain/spotcheck/draw.py) against docs/spotcheck.md: an
independent implementation written from the document's words (hmac over hashlib's sha256,
Fractions for the shares) must pick the very same records, and the allotment keeps its promises
(one per unit, sizes, largest remainders)."""

from __future__ import annotations

import hashlib
import hmac
import math
import random
from fractions import Fraction

import pytest

from desktop.domain.spotcheck import allot, draw, parse_rate, rank, sample_size, seed_problem


def redraw(seed: str, pairs: list[tuple[str, str]], size: int) -> list[str]:
    """docs/spotcheck.md, steps 3–5, as another implementation would write them."""
    units: dict[str, list[str]] = {}
    for rid, unit in pairs:
        units.setdefault(unit, []).append(rid)
    size = min(max(size, len(units)), len(pairs))
    rest = size - len(units)
    spare = sum(len(v) - 1 for v in units.values())
    quota = {u: 1 for u in units}
    if rest and spare:
        shares = {u: Fraction(rest * (len(v) - 1), spare) for u, v in units.items()}
        for u, share in shares.items():
            quota[u] += math.floor(share)
        left = size - sum(quota.values())
        order = sorted(units, key=lambda u: (-(shares[u] - math.floor(shares[u])),
                                             -len(units[u]), [ord(c) for c in u]))
        for u in order[:left]:
            quota[u] += 1
    out = []
    for u in sorted(units, key=lambda x: [ord(c) for c in x]):
        keyed = sorted(units[u], key=lambda rid: (int.from_bytes(hmac.new(
            seed.encode(), rid.encode(), hashlib.sha256).digest(), "big"), rid))
        out += keyed[:quota[u]]
    return out


def population(rng: random.Random, units: int, most: int) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(units):
        code = f"91110000{rng.randrange(10**9):09d}X"
        for _ in range(rng.randint(1, most)):
            pairs.append((f"{rng.getrandbits(128):032x}", code))
    rng.shuffle(pairs)
    return pairs


@pytest.mark.parametrize("trial", range(12))
def test_another_implementation_from_the_document_draws_the_same(trial: int) -> None:
    rng = random.Random(trial)
    pairs = population(rng, rng.randint(1, 40), rng.choice((1, 3, 50, 400)))
    seed = f"SEED{trial:04d}"
    for size in (1, len(pairs) // 20 + 1, len(pairs) // 3, len(pairs), len(pairs) + 5):
        assert draw(seed, pairs, size) == redraw(seed, pairs, size)


def test_the_order_key_is_hmac_sha256_of_the_record_id() -> None:
    # printf %s 0190a1b2-0000-7000-8000-000000000001 | openssl dgst -sha256 -hmac 3F9A0C21D4E5B677
    assert rank("3F9A0C21D4E5B677", "0190a1b2-0000-7000-8000-000000000001").hex() == (
        "37db1e2af8d5b2796701a517f8f6394eb9895d8edf7d77bda00f4339e680330c")


def test_every_unit_gives_one_and_the_rest_follows_the_records() -> None:
    counts = {"A": 1, "B": 10, "C": 100, "D": 0}
    quota = allot(counts, 12)
    assert quota == {"A": 1, "B": 2, "C": 9}  # D sent nothing; 9 over 0/9/99 → B 0.82, C 8.18
    assert sum(allot(counts, 2).values()) == 3  # raised to one per unit
    assert allot(counts, 500) == {"A": 1, "B": 10, "C": 100}  # at most what there is
    # largest remainders: equal shares, the seat goes to the unit with more records, then code
    assert allot({"X": 3, "Y": 3}, 3) == {"X": 2, "Y": 1}
    assert allot({"X": 2, "Y": 3}, 3) == {"X": 1, "Y": 2}


def test_a_sample_is_the_same_from_the_same_seed_and_changes_with_it() -> None:
    pairs = population(random.Random(5), 30, 60)
    first = draw("AAAA", pairs, 90)
    assert draw("AAAA", list(reversed(pairs)), 90) == first  # input order does not matter
    assert draw("AAAB", pairs, 90) != first
    assert len(first) == len(set(first)) == 90
    assert {u for rid, u in pairs if rid in set(first)} == {u for _, u in pairs}


def test_sizes_and_rates() -> None:
    assert sample_size(200_000, 5_000, rate=parse_rate("5%")) == 10_000
    assert sample_size(21, 3, rate=parse_rate("10%")) == 3  # ceil(2.1)
    assert sample_size(21, 5, size=2) == 5 and sample_size(21, 5, size=99) == 21
    assert parse_rate("2.5%") == Fraction(1, 40) and parse_rate("0.05") == Fraction(1, 20)
    assert parse_rate("5％") == Fraction(1, 20)  # a full-width per cent sign
    for bad in ("0", "0%", "101%", "-5%", "abc", "", "1/0"):
        assert parse_rate(bad) is None, bad
    assert seed_problem("3F9A0C21D4E5B677") is None and seed_problem("a_b-C") is None
    for bad in ("abc", "x" * 65, "有中文的种子", "a b c d", "seed\n"):
        assert seed_problem(bad), bad
