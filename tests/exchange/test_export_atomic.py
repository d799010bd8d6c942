"""An export is atomic with the register (storage.files.publish): the package appears under its
name only after the register has recorded its sequence, a failed export leaves no trace (no
file, no audit entry, no sequence used), and a process killed at any moment leaves either no
package or one the register knows — never a sequence that the next export would use again.

The kills are of a child process: SIGKILL at random moments (a fixed seed, many runs), and
os._exit at each step of the publication (the part written, the register committed, the rename).
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.errors import KnownError
from desktop.exchange import outbound, trust
from desktop.paths import tidy
from desktop.services import packages as svc
from desktop.services.packages import export as export_module
from desktop.storage import AuditEntry, Record, open_register, verify_audit_chain
from desktop.storage import files as storage_files
from desktop.storage.files import DiskFull
from desktop.storage.tables import Package
from tests.exchange.conftest import CITY, FAST_KDF, PASSPHRASE, World

ROOT = Path(__file__).resolve().parents[2]
ATTACHMENTS = {"xlsx/附件1.xlsx": b"PK fake workbook", "pdf/附件1.pdf": b"%PDF-1.7"}


def sent(register) -> list[Package]:
    with register.session() as s:
        return list(s.execute(select(Package).where(Package.direction == "sent")
                              .order_by(Package.sequence)).scalars())


def audit_actions(register) -> list[str]:
    with register.session() as s:
        assert verify_audit_chain(s).ok
        return [a.action for a in s.execute(select(AuditEntry).order_by(AuditEntry.seq))
                .scalars()]


def states(register) -> set[str]:
    with register.session() as s:
        return set(s.execute(select(Record.state).where(
            Record.unit_id == register.own_unit_id)).scalars())


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def check_published(register, folder: Path) -> None:
    """Every package file in `folder` is one the register recorded (name and content)."""
    known = {p.file_name: p.file_sha256 for p in sent(register)}
    for path in folder.glob("*.djpkg"):
        assert path.name in known, f"{path.name} is in the folder but not in the register"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == known[path.name]


# --- failures at each step leave nothing ----------------------------------------------------


def _raise(exc: BaseException):
    def fail(*args, **kwargs):
        raise exc
    return fail


def _failing_open(real_open):
    def fake(file, mode="r", *args, **kwargs):
        if "x" in mode and str(file).endswith(".part"):
            fh = real_open(file, mode, *args, **kwargs)
            fh.write(b"half a package")
            fh.close()
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(file, mode, *args, **kwargs)
    return fake


STEPS = {
    "build": lambda mp: mp.setattr(outbound, "build_content", _raise(RuntimeError("bug"))),
    "sign": lambda mp: mp.setattr(export_module, "write_registration", _raise(ValueError("x"))),
    "disk full writing": lambda mp: mp.setattr(storage_files, "open",
                                               _failing_open(open), raising=False),
    "fsync": lambda mp: mp.setattr(storage_files.os, "fsync",
                                   _raise(OSError(errno.EIO, "I/O error"))),
    "record": lambda mp: mp.setattr(outbound, "record_sent", _raise(RuntimeError("bug"))),
    "answer": lambda mp: mp.setattr(export_module.returns, "answer_notes",
                                    _raise(RuntimeError("bug"))),
    "audit": lambda mp: mp.setattr(export_module, "append_audit", _raise(RuntimeError("bug"))),
    "disk full at commit": lambda mp: mp.setattr(
        "sqlmodel.Session.commit", _raise(DiskFull("磁盘空间已满"))),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_an_export_failing_at_any_step_leaves_no_trace(world: World, monkeypatch,
                                                       step: str) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=7, parent=city).register
    out = world.folder / "out"
    before = audit_actions(firm)
    with monkeypatch.context() as mp:
        STEPS[step](mp)
        with pytest.raises((KnownError, RuntimeError, ValueError, OSError)):
            world.export(firm, attachments=ATTACHMENTS)
    assert files_in(out) == [], f"{step}: {files_in(out)}"
    assert sent(firm) == []
    assert audit_actions(firm) == before
    assert "已提交" not in states(firm)
    result = world.export(firm, attachments=ATTACHMENTS)  # the sequence is still free
    assert result.sequence == 1 and files_in(out) == [result.path.name]
    check_published(firm, out)


def test_a_cancelled_export_leaves_no_trace_at_any_step(world: World) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=8, parent=city).register
    out = world.folder / "out"
    before = audit_actions(firm)
    steps = 5  # Progress 0/4 … 4/4; the package is published between 3/4 and 4/4
    for stop in range(1, steps):
        job = svc.export_package(firm, world.forms, out, attachments=ATTACHMENTS)
        for _ in range(stop):
            next(job)
        job.close()  # what cancelling in the window does
        assert files_in(out) == [] and sent(firm) == []
        assert audit_actions(firm) == before


def test_the_generated_workbooks_are_not_audited_when_the_export_fails(world: World,
                                                                         monkeypatch) -> None:
    """A package's own workbooks and PDFs (attachments=None) are made in the private scratch
    folder; an export that then fails leaves neither an export_excel entry nor the files."""
    city = world.register(CITY)
    firm = world.firm(seed=9, parent=city).register
    home = world.folder / "home"
    monkeypatch.setenv("DENGJI_HOME", str(home))
    before = audit_actions(firm)
    monkeypatch.setattr(outbound, "record_sent", _raise(RuntimeError("bug")))
    with pytest.raises(RuntimeError):
        world.export(firm)
    assert audit_actions(firm) == before
    assert list((home / "tmp").iterdir()) == []  # the scratch folder was emptied
    if os.name != "nt":
        assert (home / "tmp").stat().st_mode & 0o777 == 0o700


def test_a_rename_failing_after_the_commit_never_reuses_the_sequence(world: World,
                                                                      monkeypatch) -> None:
    city = world.register(CITY)
    firm = world.firm(seed=10, parent=city).register
    out = world.folder / "out"
    real = os.replace

    def no_rename(src, dst):
        if str(src).endswith(".part"):
            raise OSError(errno.EACCES, "Permission denied")
        return real(src, dst)

    with monkeypatch.context() as mp:
        mp.setattr(storage_files.os, "replace", no_rename)
        with pytest.raises(KnownError, match="新的编号"):
            world.export(firm, attachments=ATTACHMENTS)
    assert files_in(out) == []
    assert [p.sequence for p in sent(firm)] == [1]
    assert world.export(firm, attachments=ATTACHMENTS).sequence == 2


# --- killed: a child process exports ---------------------------------------------------------

CHILD = r"""
import os, sys
from pathlib import Path
from desktop.formspec import shipped_forms
from desktop.progress import run
from desktop.services import packages as svc
from desktop.storage import KdfParams, open_register

db, out, point = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if point == "part":  # the part file is written and flushed
    import desktop.storage.files as files
    real = files.os.fsync
    def fsync(fd):
        real(fd)
        os._exit(9)
    files.os.fsync = fsync
elif point == "record":  # the register's writes are made, not committed
    import desktop.services.packages.export as ex
    real_audit = ex.append_audit
    def audit(*a, **k):
        real_audit(*a, **k)
        os._exit(9)
    ex.append_audit = audit
elif point in ("commit", "rename"):  # committed, not renamed / renamed, folder not flushed
    import desktop.storage.files as files
    real_replace = files.os.replace
    def replace(src, dst):
        if str(src).endswith(".part"):
            if point == "rename":
                real_replace(src, dst)
            os._exit(9)
        return real_replace(src, dst)
    files.os.replace = replace
reg = open_register(db, sys.argv[4], kdf=KdfParams(n=2**10, r=8, p=1))
print("opened", flush=True)
run(svc.export_package(reg, shipped_forms(), out, attachments={"xlsx/a.xlsx": b"PK x"}))
print("done", flush=True)
"""


@pytest.fixture
def firm_db(world: World) -> Path:
    city = world.register(CITY)
    firm = world.firm(seed=11, members=30, parent=city).register
    path = firm.path
    for reg in world.opened:
        reg.close()
    return path


def _child(db: Path, out: Path, point: str, home: Path) -> subprocess.Popen:
    env = dict(os.environ, DENGJI_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(out), point, PASSPHRASE],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _after_kill(db: Path, out: Path, home: Path, seen: set[int]) -> int:
    """The invariant after a kill, then the start's tidy; returns the next export's sequence."""
    parts = [p for p in out.glob(".*.part")] if out.exists() else []
    seen.update(int(p.name.split("-")[-1].split(".")[0]) for p in out.glob("*.djpkg"))
    session_home = os.environ.get("DENGJI_HOME")
    os.environ["DENGJI_HOME"] = str(home)
    try:
        tidy()
    finally:  # back to what it was (the session's own data folder, tests/conftest.py)
        if session_home is None:
            del os.environ["DENGJI_HOME"]
        else:
            os.environ["DENGJI_HOME"] = session_home
    assert not [p for p in parts if p.exists()], "the start's tidy left part files"
    assert not list(out.glob(".*.part"))
    with open_register(db, PASSPHRASE, kdf=FAST_KDF) as reg:
        check_published(reg, out)
        with reg.session() as s:
            assert verify_audit_chain(s).ok
        recorded = {p.sequence for p in sent(reg)}
        exports = [a for a in audit_actions(reg) if a == "export"]
        assert len(exports) == len(recorded)
        assert seen <= recorded, f"files carry {seen - recorded} that the register forgot"
        with reg.session() as s:
            return outbound.next_sequence(s, trust.own_unit(s, reg).code)[0]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and os._exit points are POSIX")
@pytest.mark.parametrize("point", ["part", "record", "commit", "rename"])
def test_killed_at_each_step_of_the_publication(firm_db: Path, tmp_path: Path,
                                                point: str) -> None:
    out, home, seen = tmp_path / "out", tmp_path / "home", set()
    proc = _child(firm_db, out, point, home)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 9, err.decode(errors="replace")
    nxt = _after_kill(firm_db, out, home, seen)
    packages = sorted(out.glob("*.djpkg"))
    if point in ("part", "record"):
        assert packages == [] and nxt == 1  # never recorded: the sequence is free again
    elif point == "commit":
        assert packages == [] and nxt == 2  # recorded, never published: the sequence stays used
    else:
        assert len(packages) == 1 and nxt == 2


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_at_random_moments_never_reuses_a_sequence(firm_db: Path, tmp_path: Path
                                                           ) -> None:
    rng = random.Random(20261206)
    out, home, seen = tmp_path / "out", tmp_path / "home", set()
    outcomes = []
    for _ in range(10):
        proc = _child(firm_db, out, "none", home)
        assert proc.stdout.readline().strip() == b"opened"  # the export starts now
        time.sleep(rng.uniform(0, 0.6))
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)
        outcomes.append("finished" if proc.returncode == 0 else "killed")
        nxt = _after_kill(firm_db, out, home, seen)
        assert nxt > max(seen, default=0)
    print(outcomes)
