"""A kill during a passphrase change, a recovery or a new recovery key never locks the clerk
out: afterwards the register opens with the old or the new passphrase (exactly one of them),
and with the recovery key its meta names (the old one, or the new one the run was making);
after that open (which heals the side file) the same holds and the audit chain verifies.

Two kinds of kill, each in a forked child process:
- at every point where the work reaches the disk — before and after each rename, after each
  fsync, before and after each commit — one run per point, until a run gets to the end;
- SIGKILL at a random moment of the work, as often as fits in the budget (at least four times
  per operation; DENGJI_SOAK=1 a hundred times).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from desktop.services import secrets
from desktop.storage import UnitInfo, create_register, crypto, open_register, verify_audit_chain
from desktop.storage import recovery as slots
from tests.robustness.conftest import die_at_disk_event, kill_repeatedly
from tests.storage.conftest import FAST_KDF

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL are POSIX")

OLD_PASS = "原来的口令 Correct-Horse-1"
NEW_PASS = "海棠花开的小院子 Garden-2031"
NEXT_SECRET = bytes(range(100, 132))  # what the killed run's new recovery key will be
OPS = ("passphrase", "passphrase+key", "recover", "newkey")
BUDGET_SECONDS = 6
MAX_POINTS = 80


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    """Opening the register to check it must not re-key it to today's parameters."""
    monkeypatch.setattr(crypto, "DEFAULT_KDF", FAST_KDF)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A register with a recovery key and a few audit entries, and the key's text."""
    from desktop.services.registers import passphrase_problem

    passphrase_problem(NEW_PASS)  # zxcvbn's dictionaries loaded once, before the forks
    folder = tmp_path_factory.mktemp("kill-secrets")
    path = folder / "r.dengji"
    with create_register(path, OLD_PASS, UnitInfo("31110000MD01234564", "某所党支部", "firm"),
                         kdf=FAST_KDF) as reg:
        key = secrets.make_recovery_key(reg, "测试员")
        secrets.confirm_recovery_saved(reg, key.key_id, "测试员")
    return folder, key.text


def fresh(template: tuple[Path, str], work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(template[0], work)
    return work / "r.dengji"


def run(op: str, path: Path, old_key: str) -> None:
    """The operation, as the window or a command runs it (in the child)."""
    if op == "recover":
        secrets.recover(path, old_key, NEW_PASS, "测试员").register.close()
        return
    with open_register(path, OLD_PASS) as reg:
        if op == "newkey":
            secrets.make_recovery_key(reg, "测试员")
        else:
            secrets.change_passphrase(reg, OLD_PASS, NEW_PASS, "测试员",
                                      new_recovery=op == "passphrase+key")


def _child(op: str, path: Path, old_key: str, point: int | None, ready: int | None) -> None:
    """In the forked child: die at the `point`-th disk event (None: never), tell `ready` just
    before the work starts; exit 0 when the work got to its end."""
    crypto.DEFAULT_KDF = FAST_KDF
    slots.new_secret = lambda: NEXT_SECRET
    die_at_disk_event(point)
    if ready is not None:
        os.write(ready, b"go")
        os.close(ready)
    run(op, path, old_key)
    os._exit(0)


def fork(op: str, path: Path, old_key: str, point: int | None = None, ready: int | None = None
         ) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            _child(op, path, old_key, point, ready)
        except BaseException:
            os._exit(70)
    return pid


def opening_passphrase(path: Path) -> tuple[str, str]:
    """The one passphrase that opens the file now, with its key literal."""
    salt = crypto.read_header(path)[: crypto.SALT_BYTES]
    found = []
    for passphrase in (OLD_PASS, NEW_PASS):
        for kdf in crypto.kdf_candidates(salt):
            literal = crypto.raw_key(crypto.derive_key(passphrase, salt, kdf), salt)
            try:
                crypto.connect(path, literal, configure=False).close()
            except crypto.DatabaseError:
                continue
            found.append((passphrase, literal))
    assert len(found) == 1, f"opened by {len(found)} passphrases"
    return found[0]


def check(path: Path, old_key: str, how: str) -> str:
    """The promise, before and after the first open; what the kill left, in words."""
    new_key = slots.key_text(NEXT_SECRET)
    for stage in ("as left", "after opening"):
        passphrase, literal = opening_passphrase(path)
        conn = crypto.connect(path, literal, configure=False)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'recovery.key_id'").fetchone()
        finally:
            conn.close()
        current = {slots.key_id(slots.parse_key(k)): k for k in (old_key, new_key)}[row[0]]
        opened, _ = slots.unlock(path, current)  # raises if the recovery key does not open it
        assert opened == literal, f"{how}, {stage}: the recovery key opens another key"
        if stage == "as left":
            with open_register(path, passphrase) as reg, reg.session() as session:
                assert verify_audit_chain(session).ok
        elif current != old_key:
            assert secrets.recovery_problem(path, old_key) is not None  # voided once healed
    return f"{'new' if passphrase == NEW_PASS else 'old'} passphrase, " \
           f"{'new' if current == new_key else 'old'} key"


# "passphrase" is the first part of "passphrase+key", point for point
@pytest.mark.parametrize("op", ("passphrase+key", "recover", "newkey"))
def test_killed_at_every_point_where_it_reaches_the_disk(template, tmp_path, op) -> None:
    outcomes = []
    for point in range(1, MAX_POINTS):
        path = fresh(template, tmp_path / "w")
        _, status = os.waitpid(fork(op, path, template[1], point), 0)
        code = os.waitstatus_to_exitcode(status)
        assert code in (0, 9), f"the child failed at point {point} (exit {code})"
        outcomes.append(check(path, template[1], f"{op} killed at point {point}"))
        if code == 0:
            break
    else:
        pytest.fail(f"{op} did not finish in {MAX_POINTS} points")
    assert len(outcomes) > 5
    end = outcomes[-1]
    assert end == {"passphrase+key": "new passphrase, new key",
                   "recover": "new passphrase, old key", "newkey": "old passphrase, new key"}[op]
    assert outcomes[0] == "old passphrase, old key"
    print(op, outcomes)


@pytest.mark.parametrize("op", OPS)
def test_sigkill_at_random_moments(template, tmp_path, op) -> None:
    path = fresh(template, tmp_path / "w")
    read, write = os.pipe()
    pid = fork(op, path, template[1], ready=write)
    os.close(write)
    os.read(read, 2)
    start = time.monotonic()
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    took = time.monotonic() - start  # from the start of the work to its end
    os.close(read)

    def one_kill(early: bool, rng: random.Random) -> str:
        path = fresh(template, tmp_path / "w")
        read, write = os.pipe()
        pid = fork(op, path, template[1], ready=write)
        os.close(write)
        os.read(read, 2)
        os.close(read)
        time.sleep(rng.uniform(0, took / 4) if early else rng.uniform(took / 4, took))
        with_kill = True
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            with_kill = False
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        assert code in (0, -signal.SIGKILL), f"the child failed (exit {code})"
        return check(path, template[1], f"{op} killed") + ("" if with_kill and code else " (done)")

    kill_repeatedly(one_kill, BUDGET_SECONDS)
