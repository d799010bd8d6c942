"""SIGKILL while a record is being typed: a script drives EditSession as the window does (each
finished field is saved as a draft) and is killed at a random moment; afterwards the register
opens, the audit chain verifies, and the draft holds every field reported saved — at most the
field being typed is lost. `DENGJI_SOAK=1` kills a hundred times instead of five."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.storage import Record, UnitInfo, create_register, open_register
from tests.robustness.conftest import ROOT, SOAK, check_register
from tests.storage.conftest import FAST_KDF, PASSPHRASE

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

TYPIST = textwrap.dedent("""
    import random, sys, time
    from datetime import date
    from desktop import sampledata
    from desktop.formspec import shipped_forms
    from desktop.services.editing import EditSession
    from desktop.storage import KdfParams, open_register

    forms = shipped_forms()
    form = forms.form("lawyer_member")
    rng = random.Random(int(sys.argv[3]))
    firm = sampledata.firms(rng, 1)[0]
    labels = sampledata.lawyer_member(rng, firm, date.today())
    reg = open_register(sys.argv[1], sys.argv[2], kdf=KdfParams(n=2**10, r=8, p=1))
    edit = EditSession(reg, forms, form, reg.own_unit_id, actor="录入员")
    for spec in form.fields:
        if spec.label not in labels or spec.fields:
            continue
        raw = str(labels[spec.label])
        for i in range(1, len(raw) + 1):  # keystroke by keystroke
            edit.set_raw(spec.id, raw[:i], check=False)
        if spec.id not in edit.values:  # an empty value: nothing to keep
            continue
        print("typing", spec.id, flush=True)
        edit.save()  # the field is finished
        print("saved", spec.id, edit.record_id, flush=True)
    print("done", flush=True)
""")


@pytest.fixture
def register_path(tmp_path: Path) -> Path:
    path = tmp_path / "typing.dengji"
    create_register(path, PASSPHRASE, UnitInfo(code="31110000MD0123456X", name="测试律所党支部",
                                               level="firm"), kdf=FAST_KDF).close()
    return path


def _type_and_kill(path: Path, rng: random.Random, seed: int) -> tuple[int, int]:
    proc = subprocess.Popen([sys.executable, "-c", TYPIST, str(path), PASSPHRASE, str(seed)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    wait_fields = rng.randint(0, 25)  # kill after this many fields, at a random moment in it
    while sum(line.startswith("saved") for line in lines) < wait_fields:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
    time.sleep(rng.uniform(0, 0.05))
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=60)
    lines += rest.splitlines(keepends=True)  # what it printed before it died
    lines = [line for line in lines if line.endswith("\n")]  # a line cut by the kill is not
    saved = [line.split()[1] for line in lines if line.startswith("saved")]
    record_ids = {line.split()[2] for line in lines if line.startswith("saved")}
    check_register(path, PASSPHRASE, kdf=FAST_KDF)
    with open_register(path, PASSPHRASE, kdf=FAST_KDF) as reg, reg.session() as session:
        rows = session.execute(select(Record.id, Record.data)).all()
    drafts = {rid: json.loads(data) for rid, data in rows}
    if not saved:
        # killed before the first save finished: at most that one field was lost
        assert len(drafts) <= 1  # nothing, or the first save had just committed
        return 0, len(drafts)
    [rid] = record_ids
    stored = set(drafts[rid])
    assert set(saved) <= stored, f"saved fields lost: {set(saved) - stored}"
    # more may be stored than was reported (a save committed, its line not yet printed):
    # that is no loss
    return len(saved), len(stored)


def test_sigkill_while_typing(register_path: Path, tmp_path: Path) -> None:
    rng = random.Random()
    seed = rng.randrange(10**6)
    rng.seed(seed)
    outcomes = []
    for n in range(100 if SOAK else 5):
        path = tmp_path / f"r{n}.dengji"
        path.write_bytes(register_path.read_bytes())
        outcomes.append(_type_and_kill(path, rng, seed + n))
    print(f"seed {seed}: (fields reported saved, fields stored) per kill: {outcomes}")
