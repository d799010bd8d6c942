"""Helpers for the fault tests: subprocesses that run `dengji` or a small script, and a check
that a register opens with its audit chain whole.

DENGJI_SOAK=1 runs the long versions (a hundred kills each) instead of the CI budget.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from desktop.storage import Record, open_register, verify_audit_chain
from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
SOAK = os.environ.get("DENGJI_SOAK") == "1"


def child_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, DENGJI_PASSPHRASE=PASSPHRASE, DENGJI_HOME=str(tmp_path / "home"),
               PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    env.pop("DENGJI_FORMS_DIR", None)
    return env


def dengji_cmd(*argv: object) -> list[str]:
    return [sys.executable, "-m", "desktop", *map(str, argv)]


def run_dengji(tmp_path: Path, *argv: object, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(dengji_cmd(*argv), env=child_env(tmp_path), cwd=ROOT, timeout=timeout,
                          capture_output=True, text=True)


def check_register(path: Path, passphrase: str = PASSPHRASE, **kw) -> int:
    """Open the register (as a user would), verify its audit chain, return its record count."""
    with open_register(path, passphrase, **kw) as reg, reg.session() as session:
        audit = verify_audit_chain(session)
        assert audit.ok, audit.message
        return session.execute(select(func.count()).select_from(Record)).scalar_one()


def die_at_disk_event(point: int | None) -> None:
    """In a forked child: exit with status 9 at the `point`-th time the work reaches the disk
    (before and after each os.replace and each commit, after each fsync); None: never."""
    from sqlalchemy.orm import Session

    events = [0]

    def event() -> None:
        events[0] += 1
        if events[0] == point:
            os._exit(9)

    def around(fn):
        def wrapped(*a, **k):
            event()
            out = fn(*a, **k)
            event()
            return out
        return wrapped

    os.replace = around(os.replace)
    real_fsync = os.fsync
    os.fsync = lambda fd: (real_fsync(fd), event())[0]
    Session.commit = around(Session.commit)


def kill_repeatedly(one_kill: Callable[[bool, random.Random], str], budget_seconds: float,
                    min_kills: int = 4) -> list[str]:
    """Run `one_kill(early, rng)` again and again: as often as fits in `budget_seconds` (at
    least `min_kills` times), or a hundred times with DENGJI_SOAK=1. Kills alternate between
    early and late ones; the seed is printed so that a failure can be replayed."""
    rng = random.Random()
    seed = rng.randrange(10**6)
    rng.seed(seed)
    start, outcomes = time.monotonic(), []
    while True:
        n = len(outcomes)
        if SOAK and n >= 100:
            break
        if not SOAK and n >= min_kills and time.monotonic() - start > budget_seconds:
            break
        outcomes.append(one_kill(n % 2 == 0, rng))
    print(f"seed {seed}: {len(outcomes)} kills: {outcomes}")
    return outcomes
