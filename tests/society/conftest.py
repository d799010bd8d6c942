"""Fixtures of the law society register tests: a 市法学会 register, legacy imports, a clerk who
fills the cleanup workbook."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from stdnum.cn import ric

from desktop.domain.society.cleanup import Member
from tests.conftest import PASSPHRASE
from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)

SOCIETY = "沈阳市法学会"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The tests of a module that sets BOTH_STORES = True run on a register file and on a
    PostgreSQL register (tests/pg/cluster.py); the others on a file only (the suite's time)."""
    if "society_store" in metafunc.fixturenames and getattr(metafunc.module, "BOTH_STORES",
                                                            False):
        metafunc.parametrize("society_store", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def society_store(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where the register goes: a file, or the URL of a new PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return tmp_path / "society.dengji"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def sdb(dengji, society_store: Path | str) -> Path | str:
    """A new register of the 沈阳市法学会 (prefix 0024 in forms/codes/societies.toml)."""
    result = dengji("init", "--db", society_store, "--level", "society-city", "--unit-name",
                    SOCIETY, "--unit-code", "0024")
    assert result.code == 0, result.err
    return society_store


def ident(birth: str, seq: int = 11, area: str = "210102") -> str:
    """A valid ID number (seq odd = male)."""
    body = f"{area}{birth.replace('-', '')}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def years_ago(n: float) -> str:
    return (date.today() - timedelta(days=int(n * 365.25) + 2)).isoformat()


def entry(no: str, name: str, **more: Any) -> dict[str, Any]:
    """One legacy entry keyed by labels; `idn` gives the ID number (birth and sex follow)."""
    row: dict[str, Any] = {"会员证号": no, "发证法学会": SOCIETY, "姓名": name,
                           "工作单位": "辽宁大学法学院", "批准入会日期": "2010-05-01",
                           "最近联系日期": years_ago(1)}
    idn = more.pop("idn", None)
    if idn:
        row["公民身份号码"] = idn
        full = idn if len(idn) == 18 else idn[:6] + "19" + idn[6:] + "0"
        row["出生日期"] = f"{full[6:10]}-{full[10:12]}-{full[12:14]}"
        row["性别"] = "男" if int(full[16]) % 2 else "女"
    row.update(more)
    return {k: v for k, v in row.items() if v is not None}


@pytest.fixture
def load(dengji, sdb: Path, tmp_path: Path) -> Callable[[Iterable[dict]], None]:
    """load(rows) imports legacy rows into the register through `dengji import`."""
    counter = iter(range(1000))

    def run(rows: Iterable[dict]) -> None:
        path = tmp_path / f"legacy-{next(counter)}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                        encoding="utf-8")
        result = dengji("import", "--db", sdb, "--form", "society_member", path)
        assert result.code == 0, result.out + result.err

    return run


def fill(path: Path, out: Path, *, agree: dict[str, Any] | None = None,
         revoke: Iterable[Iterable[Any]] = (), edit: Callable | None = None) -> Path:
    """Fill a proposal workbook as a clerk: agree[sheet] = "all", a set of member numbers, or
    {member number: word}; `revoke` rows go to 撤销资格 in its column order."""
    wb = load_workbook(path)
    for sheet, which in (agree or {}).items():
        ws = wb[sheet]
        head = [c.value for c in ws[1]]
        col, no_col = head.index("处理决定") + 1, head.index("会员证号") + 1
        for r in range(2, ws.max_row + 1):
            no = ws.cell(r, no_col).value
            if which == "all" or (isinstance(which, set) and no in which):
                ws.cell(r, col, "同意")
            elif isinstance(which, dict) and no in which:
                ws.cell(r, col, which[no])
    for row in revoke:
        wb["撤销资格"].append(list(row))
    if edit:
        edit(wb)
    wb.save(out)
    return out


def sheet_rows(path: Path, sheet: str) -> list[dict[str, Any]]:
    wb = load_workbook(path, read_only=True)
    rows = list(wb[sheet].iter_rows(values_only=True))
    head = rows[0]
    return [dict(zip(head, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]


def records(db: Path) -> list[dict[str, Any]]:
    """Every member record: its stored values plus _id, _revision."""
    from sqlalchemy import select

    from desktop.storage import Record, open_register

    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        rows = session.execute(select(Record.id, Record.data, Record.revision)
                               .where(Record.form_id == "society_member")).all()
    return [dict(json.loads(d), _id=i, _revision=r) for i, d, r in rows]


def by_no(db: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in records(db):
        out.setdefault(r.get("member_no", ""), []).append(r)
    return out


def audit_entries(db: Path | str) -> list[tuple[str, str, dict]]:
    """(actor, action, detail) of every audit entry. On PostgreSQL the log names the clerk and
    the database role (张三@role): each entry is checked to name the test's role, and the
    clerk's part is returned, as a file register writes it."""
    from sqlalchemy import select, text

    from desktop.storage import AuditEntry, open_register

    with open_register(db, PASSPHRASE) as reg, reg.session() as session:
        rows = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
                               .order_by(AuditEntry.seq)).all()
        role = (session.execute(text("SELECT current_user")).scalar_one()
                if reg.kind == "server" else None)

    def clerk(actor: str) -> str:
        if role is None or actor == role:
            return actor
        name, at, named = actor.rpartition("@")
        assert at and named == role, f"the audit entry's actor {actor!r} names no role {role!r}"
        return name

    return [(clerk(a), b, json.loads(c)) for a, b, c in rows]


def member(id: str, *, no: str = "", name: str = "张三", idn: str = "", birth: str = "",
           employer: str = "", mobile: str = "", status: str = "1", filled: int = 10,
           approved: str = "", contact: str = "", duty: str = "") -> Member:
    """A domain Member for the pure tests."""
    return Member(id, no, name, idn, birth, employer, mobile, approved, contact, duty, status,
                  filled)


@pytest.fixture
def moved_out(dengji, sdb: Path, load, tmp_path: Path) -> Path:
    """王伟 in the register; 赵敏 and 吴芳 moved out for having no ID number."""
    load([entry("0024-000001", "王伟", idn=ident("1970-03-15")),
          entry("0024-000003", "赵敏", 性别="女"), entry("0024-000007", "吴芳")])
    out = tmp_path / "清理表.xlsx"
    assert dengji("cleanup", "propose", "--db", sdb, "--out", out).code == 0
    filled = fill(out, tmp_path / "已填.xlsx", agree={"无身份证号": "all"})
    assert dengji("cleanup", "apply", "--db", sdb, filled, "--handler", "王敏").code == 0
    return sdb
