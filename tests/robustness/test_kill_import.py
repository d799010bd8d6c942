"""SIGKILL during `dengji import` of 50,000 records: the register always opens, its audit chain
verifies, and it holds either none or all of the records.

Kills land both early (reading and checking the file) and while the records are written (when
the register's -wal file grows). In CI the test kills as often as fits in about a minute (at
least four times); `DENGJI_SOAK=1 pytest tests/robustness` kills a hundred times.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.robustness.conftest import (
    ROOT,
    check_register,
    child_env,
    dengji_cmd,
    kill_repeatedly,
    run_dengji,
)

RECORDS = 50_000
BUDGET_SECONDS = 40
MIN_KILLS = 4

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An empty city register and a file of 50,000 lawyer members (made once)."""
    sys.path.insert(0, str(ROOT))
    from bench.datagen import lawyer_records, write_jsonl

    folder = tmp_path_factory.mktemp("kill-import")
    data = write_jsonl(folder / "附件1.jsonl", lawyer_records(RECORDS))
    empty = folder / "empty.dengji"
    r = run_dengji(folder, "init", "--db", empty, "--level", "city", "--unit-name",
                   "某市律师行业党委", "--unit-code", "320100")
    assert r.returncode == 0, r.stderr
    return empty, data


def _wal_size(db: Path) -> int:
    try:
        return os.path.getsize(f"{db}-wal")
    except FileNotFoundError:
        return 0


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (the check workers), from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _assert_gone(pids: set[int], timeout: float = 10.0) -> None:
    """The workers of a killed import end with it (they would otherwise wait for ever)."""
    end = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < end:
        alive = {p for p in alive if Path(f"/proc/{p}").exists()
                 and "Z" not in _state(p)}
        time.sleep(0.05)
    assert not alive, f"check workers outlived the killed import: {sorted(alive)}"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def _one_kill(empty: Path, data: Path, work: Path, early: bool, rng: random.Random) -> str:
    db = work / "r.dengji"
    for p in work.glob("r.dengji*"):
        p.unlink()
    shutil.copyfile(empty, db)
    proc = subprocess.Popen(dengji_cmd("import", "--db", db, "--form", "lawyer_member", data),
                            env=child_env(work), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    if early:
        time.sleep(rng.uniform(0.05, 3.0))
    else:  # wait until a random amount has been written into the WAL
        threshold = rng.uniform(0, 60) * 2**20
        while proc.poll() is None and _wal_size(db) <= threshold:
            time.sleep(0.01)
    finished = proc.poll() is not None
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    _assert_gone(workers)
    count = check_register(db)
    assert count in (0, RECORDS), f"half an import survived: {count} records"
    if finished:
        assert count == RECORDS, proc.stderr.read()
    return "finished" if finished else f"killed with {count}"


def test_sigkill_during_import(prepared: tuple[Path, Path], tmp_path: Path) -> None:
    empty, data = prepared
    kill_repeatedly(lambda early, rng: _one_kill(empty, data, tmp_path, early=early, rng=rng),
                    BUDGET_SECONDS, MIN_KILLS)
