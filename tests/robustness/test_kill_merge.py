"""SIGKILL during `dengji merge` of 100 firm packages: the register always opens, its audit
chain verifies, and the merge is fully in or fully out — no package and no record of it, or
all 100 packages with all their records.

Kills land both early (reading and verifying the packages, the backup before the first write)
and while the records are written (when the register's -wal file grows). The whole process
group is killed, as when the machine loses power: the merge's worker processes die with it. In
CI the test kills as often as fits in about half a minute (at least four times);
`DENGJI_SOAK=1 pytest tests/robustness` kills a hundred times. The packages are made once per
test session.
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
from sqlalchemy import func, select

from desktop.storage import Record, open_register, verify_audit_chain
from desktop.storage.tables import Package
from tests.conftest import PASSPHRASE
from tests.robustness.conftest import ROOT, child_env, dengji_cmd, kill_repeatedly, run_dengji

PACKAGES, PER_FIRM = 100, 30
RECORDS = PACKAGES * PER_FIRM
BUDGET_SECONDS = 30
MIN_KILLS = 4

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A city register that trusts 100 firms, and the 100 firms' packages addressed to it."""
    sys.path.insert(0, str(ROOT))
    from bench.bench_packages import Firms, Stored, firm_package
    from desktop.exchange.trust import own_sender, trust

    folder = tmp_path_factory.mktemp("kill-merge")
    empty = folder / "empty.dengji"
    r = run_dengji(folder, "init", "--db", empty, "--level", "city", "--unit-name",
                   "某市律师行业党委", "--unit-code", "320100")
    assert r.returncode == 0, r.stderr
    rng, stored = random.Random(8), Stored()
    firms, paths = Firms(rng), []
    (folder / "in").mkdir()
    with open_register(empty, PASSPHRASE) as reg:
        with reg.session() as session:
            city, _ = own_sender(session, reg)
            for i in range(PACKAGES):
                data, sender, *_ = firm_package(rng, stored, PER_FIRM, city.info, firms.next())
                trust(session, sender.info, sender.info.fingerprint, "测试")
                path = folder / "in" / f"{sender.info.code}-party-{i:03d}-1.djpkg"
                path.write_bytes(data)
                paths.append(path)
            session.commit()
    return empty, paths


def _wal_size(db: Path) -> int:
    try:
        return os.path.getsize(f"{db}-wal")
    except FileNotFoundError:
        return 0


def state(db: Path) -> tuple[int, int]:
    """Open the register as a user would, verify its audit chain; (packages, records)."""
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        audit = verify_audit_chain(session)
        assert audit.ok, audit.message
        count = session.execute(select(func.count()).select_from(Record)).scalar_one()
        merged = session.execute(select(func.count()).select_from(Package)
                                 .where(Package.direction == "received")).scalar_one()
        return merged, count


def _one_kill(empty: Path, paths: list[Path], work: Path, early: bool, rng: random.Random
              ) -> str:
    db = work / "r.dengji"
    for p in work.glob("r.dengji*"):
        p.unlink()
    shutil.copyfile(empty, db)
    proc = subprocess.Popen(dengji_cmd("merge", "--db", db, *paths), env=child_env(work),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    if early:
        time.sleep(rng.uniform(0.05, 6.0))  # the merge takes about 3–5 s here
    else:  # wait until a random amount has been written into the WAL
        threshold = rng.uniform(0, 10) * 2**20  # about 8 MiB at the commit
        while proc.poll() is None and _wal_size(db) <= threshold:
            time.sleep(0.005)
    finished = proc.poll() is not None
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)
    err = proc.stderr.read().decode(errors="replace")
    merged, count = state(db)
    assert (merged, count) in ((0, 0), (PACKAGES, RECORDS)), \
        f"half a merge survived: {merged} packages, {count} records"
    if finished:
        assert (merged, count) == (PACKAGES, RECORDS), err
    return "finished" if finished else f"killed with {merged} packages in"


def test_sigkill_during_merge(packages: tuple[Path, list[Path]], tmp_path: Path) -> None:
    empty, paths = packages
    kill_repeatedly(lambda early, rng: _one_kill(empty, paths, tmp_path, early=early, rng=rng),
                    BUDGET_SECONDS, MIN_KILLS)


def test_an_unkilled_merge_is_fully_in(packages: tuple[Path, list[Path]], tmp_path: Path
                                       ) -> None:
    """The reference state: the same merge left to finish holds everything, once."""
    empty, paths = packages
    db = tmp_path / "whole.dengji"
    shutil.copyfile(empty, db)
    r = run_dengji(tmp_path, "merge", "--db", db, *paths)
    assert r.returncode == 0, r.stderr
    assert state(db) == (PACKAGES, RECORDS)
