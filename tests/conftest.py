"""Shared helpers for the foundation tests: .jsonl writing, consistent sample record sets, and an
in-process `dengji` runner with a fresh register per test.

Storage tests (tests/storage/) have their own conftest; nothing here is autouse, so they are
unaffected. The one session-wide setting is the user data folder (DENGJI_HOME, see
pytest_configure): no test writes into the real home's Dengji folder.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

# Domain, storage and CLI tests never need a window; if anything did start Qt it stays headless.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    # the commonest office laptop screen, 1366×768 (offscreen's own is 800×800)
    _SCREEN = Path(__file__).resolve().parent / "fixtures" / "screen_1366x768.json"
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREEN}"

from desktop import sampledata  # noqa: E402
from desktop.formspec import FormSet, shipped_forms  # noqa: E402
from tests.stores import is_server  # noqa: E402

#: the fixed "today" of domain tests (Environment(today=TODAY))
TODAY = date(2026, 11, 22)
#: passphrase of every register made through `dengji init` in tests
PASSPHRASE = "测试口令 Correct-Horse-7"
UNIT_CODE = "31110000MD01234564"  # a valid 统一社会信用代码 (dengji init checks it)
UNIT_NAME = "北京市测试律师事务所党支部"

_CJK = re.compile(r"[\u4e00-\u9fff]")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


# --- .jsonl files -------------------------------------------------------------


def write_jsonl(path: Path, rows: Iterable[dict | str | bytes]) -> Path:
    """Write a .jsonl file: a dict becomes one JSON line (ensure_ascii=False), a str is written
    as a raw text line (UTF-8) and bytes as a raw line, so tests can plant broken lines."""
    with path.open("wb") as fh:
        for row in rows:
            if isinstance(row, dict):
                data = json.dumps(row, ensure_ascii=False).encode("utf-8")
            elif isinstance(row, str):
                data = row.encode("utf-8")
            else:
                data = row
            fh.write(data + b"\n")
    return path


@pytest.fixture
def jsonl(tmp_path: Path) -> Callable[..., Path]:
    """jsonl(rows, name="rows.jsonl") writes rows into tmp_path and returns the path."""

    def write(rows: Iterable[dict | str | bytes], name: str = "rows.jsonl") -> Path:
        return write_jsonl(tmp_path / name, rows)

    return write


# --- the session's user data folder ---------------------------------------------

_SESSION_HOME: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Registers, scratch folders and part-file notes that a test makes without a DENGJI_HOME of
    its own go into a folder of this session, never the user's real ~/.local/share/Dengji."""
    if "DENGJI_HOME" not in os.environ:
        home = tempfile.mkdtemp(prefix="dengji-tests-home-")
        os.environ["DENGJI_HOME"] = home
        _SESSION_HOME.append(home)


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _SESSION_HOME:
        if os.environ.get("DENGJI_HOME") == home:
            del os.environ["DENGJI_HOME"]
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def nothing_left_in_the_working_folder() -> Iterator[None]:
    """The suite leaves the folder it runs in as it found it: a command that writes into the
    current folder by default (the 移交清单 without --checklist) is run from a test's own."""
    here = Path.cwd()
    before = set(here.iterdir())
    yield
    left = sorted(p.name for p in set(here.iterdir()) - before
                  if not p.name.startswith(".") and p.name != "__pycache__")
    assert not left, f"tests left files in {here}: {left}"


# --- sample records -----------------------------------------------------------


@dataclass
class FirmRecords:
    """One firm, its lawyer members (附件1, keyed by labels) and its 附件3 record."""

    firm: sampledata.Firm
    members: list[dict[str, Any]]
    org: dict[str, Any] = field(default_factory=dict)

    def refresh_org(self) -> dict[str, Any]:
        """Recompute the 附件3 record (counts) from the current member list."""
        self.org = sampledata.party_org(self.firm, self.members)
        return self.org


def make_firm_records(
    seed: int = 2026,
    members: int = 4,
    *,
    firm_index: int = 0,
    today: date = date(2026, 11, 1),
    full_only: bool = True,
) -> FirmRecords:
    """A consistent firm + members + 附件3 set from desktop.sampledata (deterministic)."""
    rng = random.Random(seed)
    firm = sampledata.firms(rng, firm_index + 1)[firm_index]
    out: list[dict[str, Any]] = []
    while len(out) < members:
        m = sampledata.lawyer_member(rng, firm, today)
        if full_only and m["人员类别"] != "正式党员":
            continue
        out.append(m)
    records = FirmRecords(firm, out)
    records.refresh_org()
    return records


LAWYER_ONLY = ("律师执业证号", "执业类别", "所内职务")


def as_staff(lawyer: dict) -> dict:
    """The 附件2 (staff) record of the same person as a 附件1 record."""
    staff = {k: v for k, v in lawyer.items() if k not in LAWYER_ONLY}
    staff["所在律师事务所"] = staff.pop("执业机构")
    staff["所在律师事务所统一社会信用代码"] = staff.pop("执业机构统一社会信用代码")
    staff.update(人员身份="律师助理", 在本所工作起始日期="2015-03-01", 岗位="律师助理")
    return staff


@pytest.fixture
def firm_records() -> FirmRecords:
    """Firm, four 正式党员 lawyers and a consistent 附件3 record, dated for TODAY."""
    return make_firm_records()


@pytest.fixture
def live_firm_records() -> FirmRecords:
    """The same kind of set dated for the real today (the CLI validates against date.today())."""
    return make_firm_records(today=date.today())


@pytest.fixture(scope="session")
def forms() -> FormSet:
    return shipped_forms()


# --- the dengji command, in process -------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.out.splitlines() if line]

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def dengji(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> Callable[..., Run]:
    """dengji(*argv) runs desktop.cli.main in process and returns exit code, stdout, stderr.

    Every run is checked not to be an internal error (exit 3, a crash report) or a traceback.
    """
    from desktop.cli import main

    monkeypatch.setenv("DENGJI_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DENGJI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DENGJI_FORMS_DIR", raising=False)
    # registers made and opened here use the cost of the version-1 parameters (n=2^15, as these
    # tests always did) rather than today's n=2^17; tests/storage/test_kdf_rekey.py tests those
    from desktop.storage import crypto

    monkeypatch.setattr(crypto, "DEFAULT_KDF", crypto.KdfParams(n=2**15, r=8, p=1))

    def run(*argv: Any) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, err
        return Run(code, out, err)

    return run


def assert_no_crash(result: Run) -> None:
    assert result.code != 3, f"internal error instead of a message: {result.err}"
    assert "程序内部错误" not in result.err


def init_register(dengji: Callable[..., Run], where: Path | str) -> Path | str:
    """Make the test unit's firm register through `dengji init` at `where`, a file path or a
    ``postgresql://`` URL of an empty database; a file's Path, or the URL."""
    result = dengji(
        "init", "--db", where, "--level", "firm", "--unit-name", UNIT_NAME, "--unit-code", UNIT_CODE
    )
    assert result.code == 0, result.err
    if is_server(where):
        return str(where)
    assert Path(where).is_file()
    return Path(where)


@pytest.fixture
def db(dengji: Callable[..., Run], tmp_path: Path) -> Path:
    """A fresh register file made through `dengji init` (one per test). tests/cli overrides it
    with a register on each store (tests/cli/conftest.py)."""
    return init_register(dengji, tmp_path / "register.dengji")


def stored_state(db: Path | str) -> bytes:
    """Everything a register holds, to compare before and after what must change nothing: a
    file's bytes, or every row of every table of the PostgreSQL database (as the server
    holds them: sealed columns stay sealed), each table's rows sorted."""
    if not is_server(db):
        return Path(db).read_bytes()
    import psycopg

    state = []
    with psycopg.connect(str(db)) as conn:
        tables = conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                              "table_schema = current_schema() ORDER BY table_name").fetchall()
        for (table,) in tables:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            state.append((table, sorted(repr(row) for row in rows)))
    return repr(state).encode("utf-8")


def count_records(path: Path | str, form_id: str | None = None) -> int:
    """How many Record rows the register (a file or a URL) holds (of one form, if given)."""
    from sqlalchemy import func, select

    from desktop.storage import Record, open_register

    with open_register(path, PASSPHRASE) as reg, reg.session() as session:
        stmt = select(func.count()).select_from(Record)
        if form_id:
            stmt = stmt.where(Record.form_id == form_id)
        return session.execute(stmt).scalar_one()


def stored_data(path: Path | str, form_id: str) -> list[dict[str, Any]]:
    """The stored values (Record.data JSON) of every record of a form (opened, on a server)."""
    from sqlalchemy import select

    from desktop.storage import Record, open_register

    with open_register(path, PASSPHRASE) as reg, reg.session() as session:
        rows = session.execute(select(Record.data).where(Record.form_id == form_id)).all()
    return [json.loads(data) for (data,) in rows]
