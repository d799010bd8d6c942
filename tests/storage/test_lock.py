"""Two processes on one register: the second is told it is in use, and nothing is damaged.

File only: the lock is a lock on the register file (storage/lock.py). On PostgreSQL several
clerks work at once by design; tests/pg holds their concurrency tests (two real processes)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from desktop.storage import Register, open_register, verify_audit_chain
from desktop.storage.lock import RegisterInUse, lock_path
from tests.storage.conftest import FAST_KDF, PASSPHRASE

HOLD = textwrap.dedent("""
    import sys, time
    from desktop.storage import KdfParams, open_register
    reg = open_register(sys.argv[1], sys.argv[2], kdf=KdfParams(n=2**10, r=8, p=1))
    print("open", flush=True)
    sys.stdin.readline()
    reg.close()
""")


def _holder(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), PASSPHRASE],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).parents[2])
    assert proc.stdout.readline().strip() == "open"
    return proc


def test_second_process_is_told_and_nothing_changes(register: Register) -> None:
    path = register.path
    register.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    proc = _holder(path)
    try:
        with pytest.raises(RegisterInUse, match="另一个窗口.*没有损坏"):
            open_register(path, PASSPHRASE, kdf=FAST_KDF)
    finally:
        proc.communicate("\n", timeout=30)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    with open_register(path, PASSPHRASE, kdf=FAST_KDF) as again, again.session() as s:
        assert verify_audit_chain(s).ok


def test_a_killed_holder_leaves_no_lock(register: Register) -> None:
    path = register.path
    register.close()
    proc = _holder(path)
    proc.kill()
    proc.wait(timeout=30)
    assert lock_path(path).exists()
    open_register(path, PASSPHRASE, kdf=FAST_KDF).close()


def test_same_process_shares_the_lock(register: Register) -> None:
    again = open_register(register.path, PASSPHRASE, kdf=FAST_KDF)
    again.close()
    again.close()  # closing twice lets go only once
    proc = subprocess.run(
        [sys.executable, "-c", HOLD, str(register.path), PASSPHRASE], input="\n",
        capture_output=True, text=True, cwd=Path(__file__).parents[2], timeout=60)
    assert "RegisterInUse" in proc.stderr  # still held by `register`


def test_wrong_passphrase_does_not_keep_the_lock(register: Register) -> None:
    path = register.path
    register.close()
    with pytest.raises(Exception, match="口令不正确"):
        open_register(path, "错误", kdf=FAST_KDF)
    proc = subprocess.run([sys.executable, "-c", HOLD, str(path), PASSPHRASE], input="\n",
                          capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          timeout=60, env={**os.environ})
    assert proc.returncode == 0, proc.stderr


def test_cli_says_in_use(dengji, db: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD.replace("kdf=KdfParams(n=2**10, r=8, p=1)", ""), str(db),
         "测试口令 Correct-Horse-7"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert proc.stdout.readline().strip() == "open"
        r = dengji("audit", "--db", db)
        assert r.code == 1
        assert "正在被登记软件的另一个窗口" in r.err
    finally:
        proc.communicate("\n", timeout=30)
    assert dengji("audit", "--db", db).code == 0
