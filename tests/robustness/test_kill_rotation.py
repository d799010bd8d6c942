"""SIGKILL during `dengji keys rotate`: the register always opens with its audit chain whole,
and holds either the old key in force (one key pair, no rotation, no audit entry) or the new
one (two pairs, the statement, the audit entry) — never a half. A package exported afterwards
verifies at the city, whichever key is in force.

Kills land at random moments over the command's whole run (start-up, opening the register,
the one transaction). In CI as often as fits in about half a minute (at least four times);
`DENGJI_SOAK=1` kills a hundred times.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop.exchange.format.keys import fingerprint, raw_public
from desktop.progress import run
from desktop.services import packages as svc
from desktop.storage import DEFAULT_KDF, AuditEntry, UnitInfo, open_register, verify_audit_chain
from desktop.storage.keys import own_key_pairs
from desktop.storage.tables import KeyEvent
from tests.conftest import make_firm_records
from tests.exchange.conftest import CITY, PASSPHRASE, World
from tests.robustness.conftest import ROOT, child_env, dengji_cmd, kill_repeatedly

BUDGET_SECONDS = 30
MIN_KILLS = 4

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@pytest.fixture(scope="module")
def registers(tmp_path_factory: pytest.TempPathFactory, forms):
    """A firm with records and its city, each trusting the other (closed, on disk); how long
    an unkilled `keys rotate` takes."""
    folder = tmp_path_factory.mktemp("kill-rotation")
    world = World(folder, forms)
    city = world.register(CITY, "city.dengji", kdf=DEFAULT_KDF)
    records = make_firm_records(seed=91, members=3, today=date.today())
    firm = world.register(UnitInfo(records.firm.uscc, f"中共{records.firm.name}支部委员会",
                                   "firm", CITY.code), "firm.dengji", kdf=DEFAULT_KDF)
    world.import_records(firm, records.members, records.org)
    world.link(firm, city)
    for r in world.opened:
        r.close()
    probe = folder / "probe.dengji"
    shutil.copyfile(firm.path, probe)
    start = time.monotonic()
    done = subprocess.run(dengji_cmd("keys", "--db", probe, "rotate"), env=env(folder),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return firm.path, city.path, time.monotonic() - start


def env(folder: Path) -> dict[str, str]:
    return dict(child_env(folder), DENGJI_PASSPHRASE=PASSPHRASE)


def state(db: Path) -> tuple[str, int]:
    """Open the register as a user would; check it is one of the two whole states; the
    signing key in force and how many pairs it holds."""
    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        audit = verify_audit_chain(session)
        assert audit.ok, audit.message
        pairs = own_key_pairs(session, reg.own_unit_id)
        events = session.execute(select(func.count()).select_from(KeyEvent)).scalar_one()
        rotated = session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "keys.rotate")).scalar_one()
        assert (len(pairs), events, rotated) in ((1, 0, 0), (2, 1, 1)), (len(pairs), events,
                                                                         rotated)
        return fingerprint(raw_public(pairs[-1][0])), len(pairs)


def _one_kill(registers, work: Path, forms, early: bool, rng) -> str:
    firm, city, took = registers
    db = work / "r.dengji"
    for p in work.glob("r.dengji*"):
        p.unlink()
    shutil.copyfile(firm, db)
    proc = subprocess.Popen(dengji_cmd("keys", "--db", db, "rotate"), env=env(work), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    # early kills anywhere in the run; late ones in its last third (the transaction)
    time.sleep(rng.uniform(0, took) if early else rng.uniform(took * 0.66, took * 1.1))
    finished = proc.poll() is not None
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)
    in_force, pairs = state(db)
    if finished:
        assert pairs == 2, proc.stderr.read().decode(errors="replace")
    # whichever key is in force, its next package verifies at the city
    with open_register(db, PASSPHRASE) as reg:
        sent = run(svc.export_package(reg, forms, work / "out"))
    with open_register(city, PASSPHRASE) as reg:
        v = svc.verify_file(sent.path, forms, reg)
    assert v.ok, v.reason()
    assert v.manifest.signer_fingerprint == in_force
    return f"{'finished' if finished else 'killed'} with {pairs} key pair(s)"


def test_sigkill_during_keys_rotate(registers, tmp_path: Path, forms) -> None:
    outcomes = kill_repeatedly(lambda early, rng: _one_kill(registers, tmp_path, forms, early,
                                                            rng), BUDGET_SECONDS, MIN_KILLS)
    assert outcomes
