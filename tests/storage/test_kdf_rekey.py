"""The key derivation's parameters are stored in the register's salt (crypto.new_salt); a
register made with weaker ones than today's (OWASP scrypt n=2^17, r=8, p=1) is re-keyed on its
next successful open, after a backup, in steps a kill cannot leave half done (storage/rekey.py).

File only: the salt and the re-key are the file's. A PostgreSQL register keeps its parameters in
`meta` and re-wraps its data key instead
(test_stores.py::test_weaker_key_derivation_is_rewrapped_without_touching_the_data).
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

from desktop.errors import WrongPassphrase
from desktop.paths import tidy
from desktop.storage import AuditEntry, Record, crypto, open_register, verify_audit_chain
from desktop.storage.backup import check_backup, restore_register
from desktop.storage.crypto import DEFAULT_KDF, KDF_V1, KdfParams
from desktop.storage.files import list_backups
from tests.conftest import PASSPHRASE as V1_PASSPHRASE
from tests.storage.conftest import FAST_KDF, PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "register-v1.dengji"
STRONGER = KdfParams(n=2**12, r=8, p=1)  # "today's" parameters for the cheap tests


def stored_kdf(path: Path) -> KdfParams | None:
    return crypto.kdf_for_salt(crypto.read_header(path)[: crypto.SALT_BYTES])


def content(path: Path, passphrase: str, kdf: KdfParams) -> tuple[int, list[str]]:
    """Records and audit actions, with the chain verified."""
    with open_register(path, passphrase, kdf=kdf) as reg, reg.session() as s:
        assert verify_audit_chain(s).ok
        return (s.execute(select(func.count()).select_from(Record)).scalar_one(),
                [a.action for a in s.execute(select(AuditEntry).order_by(AuditEntry.seq))
                 .scalars()])


def test_new_registers_get_owasp_parameters_recorded_in_their_salt(tmp_path: Path) -> None:
    assert DEFAULT_KDF == KdfParams(n=2**17, r=8, p=1)
    from desktop.storage import UnitInfo, create_register

    path = tmp_path / "new.dengji"
    create_register(path, PASSPHRASE, UnitInfo("A1", "甲单位", "firm")).close()
    assert stored_kdf(path) == DEFAULT_KDF
    with open_register(path, PASSPHRASE):  # no re-key, no backup
        pass
    assert list_backups(path) == []


def test_a_version_1_register_is_rekeyed_once_with_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "old.dengji"
    shutil.copyfile(FIXTURE, path)
    original = path.read_bytes()
    assert stored_kdf(path) is None  # made before the parameters were stored: n=2^15
    with pytest.raises(WrongPassphrase):
        open_register(path, V1_PASSPHRASE + "x")
    assert path.read_bytes() == original
    with open_register(path, V1_PASSPHRASE) as reg:
        [backup] = list_backups(path)
        assert backup.read_bytes() == original  # the backup is the file as it was
        old_key = reg.key_for(backup)
        assert old_key and old_key != reg.key_literal
        assert check_backup(backup, old_key, reg).schema_version == 1
        with reg.session() as s:
            last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
            assert last.action == "rekey" and "n=2^15" in last.detail and "n=2^17" in last.detail
    assert stored_kdf(path) == DEFAULT_KDF
    salt = crypto.read_header(path)[:16]
    literal = crypto.raw_key(crypto.derive_key(V1_PASSPHRASE, salt, DEFAULT_KDF), salt)
    crypto.connect(path, literal, configure=False).close()  # it is 2^17 that opens it now
    with pytest.raises(crypto.DatabaseError):
        old = crypto.raw_key(crypto.derive_key(V1_PASSPHRASE, salt, KDF_V1), salt)
        crypto.connect(path, old, configure=False).close()
    records, actions = content(path, V1_PASSPHRASE, DEFAULT_KDF)
    assert records == 5 and actions.count("rekey") == 1
    assert len(list_backups(path)) == 1  # opened again: nothing more to do


def test_rekey_keeps_everything_and_old_backups_still_restore(make_register, tmp_path) -> None:
    reg = make_register()
    path = reg.path
    reg.close()
    before = content(path, PASSPHRASE, FAST_KDF)
    with open_register(path, PASSPHRASE, kdf=STRONGER, rekey=False):  # the idle lock's check
        assert stored_kdf(path) == FAST_KDF and list_backups(path) == []
    with open_register(path, PASSPHRASE, kdf=STRONGER) as reg:
        [backup] = list_backups(path)
        assert backup.name.endswith("-rekey.dengji")
        assert stored_kdf(backup) == FAST_KDF and stored_kdf(path) == STRONGER
    records, actions = content(path, PASSPHRASE, STRONGER)
    assert (records, actions) == (before[0], [*before[1], "rekey"])
    with open_register(path, PASSPHRASE, kdf=STRONGER) as reg:
        restore_register(reg, backup, actor="测试")  # a backup from before the re-key
        assert stored_kdf(path) == STRONGER  # restored under the current key
    records, actions = content(path, PASSPHRASE, STRONGER)
    assert actions == [*before[1], "restore"]


def test_a_forged_tag_cannot_ask_for_huge_parameters() -> None:
    salt = bytearray(crypto.new_salt(FAST_KDF))
    salt[-3] = 40  # n = 2^40
    assert crypto.kdf_for_salt(bytes(salt)) is None
    assert crypto.kdf_candidates(bytes(salt)) == [KDF_V1]
    salt[-3], salt[-2] = 20, 16  # 2^20 × 16 × 128 bytes = 2 GiB
    assert crypto.kdf_for_salt(bytes(salt)) is None


# --- killed while re-keying ------------------------------------------------------------------

CHILD = r"""
import os, sys
from desktop.storage import KdfParams, open_register
import desktop.storage.rekey as rekey

point = sys.argv[3]
def die(*a, **k):
    os._exit(9)
if point == "backup":
    real_backup = rekey.backup_file
    def backup(*a, **k):
        real_backup(*a, **k)
        os._exit(9)
    rekey.backup_file = backup
elif point == "exported":
    rekey._same_content = die
elif point in ("replace", "replaced"):
    real_replace = rekey.os.replace
    def replace(src, dst):
        if not str(src).endswith(".rekeying"):  # the backup's own rename
            return real_replace(src, dst)
        if point == "replaced":
            real_replace(src, dst)
        os._exit(9)
    rekey.os.replace = replace
elif point == "audit":
    import desktop.storage.engine as engine
    real = engine.append_audit
    def audit(session, actor, action, *a, **k):
        if action == "rekey":
            os._exit(9)
        return real(session, actor, action, *a, **k)
    engine.append_audit = audit
print("start", flush=True)
open_register(sys.argv[1], sys.argv[2], kdf=KdfParams(n=2**12, r=8, p=1)).close()
"""


def _child(path: Path, point: str, home: Path) -> subprocess.Popen:
    env = dict(os.environ, DENGJI_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), PASSPHRASE, point],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _check_after_kill(path: Path, home: Path, before: tuple[int, list[str]]) -> str:
    """After the start's tidy, the register opens with the passphrase, whole, and no part file
    is left; the next open finishes the re-key."""
    session_home = os.environ.get("DENGJI_HOME")
    os.environ["DENGJI_HOME"] = str(home)
    try:
        tidy()
    finally:  # back to what it was (the session's own data folder, tests/conftest.py)
        if session_home is None:
            del os.environ["DENGJI_HOME"]
        else:
            os.environ["DENGJI_HOME"] = session_home
    assert [p.name for p in path.parent.glob(".*")] == []
    kdf = stored_kdf(path)
    assert kdf in (FAST_KDF, STRONGER)
    records, actions = content(path, PASSPHRASE, FAST_KDF)  # opens, changes nothing
    assert records == before[0] and actions[: len(before[1])] == before[1]
    assert set(actions[len(before[1]):]) <= {"rekey"}
    content(path, PASSPHRASE, STRONGER)  # the re-key is done now, or was already
    assert stored_kdf(path) == STRONGER
    return "rekeyed" if kdf == STRONGER else "old"


@pytest.mark.skipif(sys.platform == "win32", reason="os._exit points and SIGKILL are POSIX")
@pytest.mark.parametrize("point", ["backup", "exported", "replace", "replaced", "audit"])
def test_killed_at_each_step_of_the_rekey(make_register, tmp_path: Path, point: str) -> None:
    reg = make_register()
    path = reg.path
    reg.close()
    before = content(path, PASSPHRASE, FAST_KDF)
    proc = _child(path, point, tmp_path / "home")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 9, err.decode(errors="replace")
    outcome = _check_after_kill(path, tmp_path / "home", before)
    assert outcome == ("rekeyed" if point in ("replaced", "audit") else "old")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_at_random_moments_of_the_rekey(make_register, tmp_path: Path) -> None:
    reg = make_register()
    path = reg.path
    reg.close()
    pristine = tmp_path / "pristine.dengji"
    shutil.copyfile(path, pristine)
    before = content(path, PASSPHRASE, FAST_KDF)
    rng, outcomes = random.Random(14), []
    for _ in range(8):
        for p in path.parent.glob(f"{path.name}*"):
            p.unlink()
        shutil.copyfile(pristine, path)
        proc = _child(path, "none", tmp_path / "home")
        assert proc.stdout.readline().strip() == b"start"
        time.sleep(rng.uniform(0.2, 3.0))  # the open and re-key take about 2.5 s here
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)
        outcomes.append(_check_after_kill(path, tmp_path / "home", before))
    print(outcomes)
