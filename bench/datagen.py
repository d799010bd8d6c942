"""Realistic generated input files for the benchmarks (names, valid ID numbers, firms)."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop import sampledata as sd  # noqa: E402


def lawyer_records(n: int, seed: int = 1, firms_count: int | None = None) -> list[dict]:
    rng = random.Random(seed)
    firms = sd.firms(rng, firms_count or max(1, n // 20))
    return [sd.lawyer_member(rng, firms[i % len(firms)]) for i in range(n)]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path
