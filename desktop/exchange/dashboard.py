"""The dashboard of received packages: expected units against received, late, returned and
accepted, with record and issue counts per unit; the list of expected units (imported from
a .jsonl, .csv or Excel file, or typed); and the changes of units' details (a renamed unit)
that their own signed packages brought, for the clerk to confirm."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from desktop.domain.levels import LEVEL_NAMES
from desktop.domain.values import parse_date
from desktop.errors import KnownError, UsageError
from desktop.exchange.changes import sentence, summed
from desktop.inputs import regular_file
from desktop.storage import Record, Unit
from desktop.storage.tables import (
    PACKAGE_RECEIVED,
    Conflict,
    ExpectedUnit,
    Package,
    ReturnNote,
)

STATUS_NAMES = {"received": "已收到（待审核）", "accepted": "已接收", "returned": "已退回",
                None: "未收到"}
_CODE = ("code", "单位代码", "统一社会信用代码", "代码")
_NAME = ("name", "单位名称", "名称", "律师事务所", "单位")
_DEADLINE = ("deadline", "截止日期", "报送期限")
#: the header cells of a workbook's list of expected units, by key (reports.xlsx.head)
HEADERS = {"code": _CODE[1:], "name": _NAME[1:], "deadline": _DEADLINE[1:]}
SHEET_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods")


@dataclass(frozen=True)
class ExpectedRow:
    code: str
    name: str
    deadline: str | None


def _pick(row: dict, keys: tuple[str, ...]) -> str:
    for k in keys:
        value = row.get(k)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a code typed as a number in a workbook
        elif isinstance(value, datetime):
            value = value.date()  # a deadline typed as an Excel date
        if value not in (None, ""):
            return str(value).strip()
    return ""


def read_plain(path: Path) -> list[tuple[int, dict]]:
    """[(line, row)] of a list of expected units in .jsonl or .csv (UTF-8 or GBK); a workbook
    is read by reports.xlsx.head.named_rows (services.packages.review.read_expected)."""
    suffix = path.suffix.lower()
    regular_file(path, "单位名单")  # a FIFO or a device is said so, never opened
    try:
        if suffix == ".jsonl":
            lines = [line for line in path.read_text("utf-8-sig").splitlines() if line.strip()]
            return [(n, json.loads(line)) for n, line in enumerate(lines, start=1)]
        if suffix == ".csv":
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")
            return list(enumerate(csv.DictReader(io.StringIO(text)), start=2))
    except Exception as err:  # unreadable file of either format
        raise UsageError(f"无法读取单位名单 {path}（{err}）。请检查文件格式。") from err
    raise UsageError(f"{path}：单位名单应为 .xlsx、.csv 或 .jsonl 文件。")


def expected_rows(rows: list[tuple[int, Any]], path: Path, default_deadline: str | None = None
                  ) -> list[ExpectedRow]:
    """The expected units of rows read from `path` ([(line or Excel row, row)]). Problems are
    reported together; nothing is half-read."""
    out, problems = [], []
    for n, row in rows:
        if not isinstance(row, dict):
            problems.append(f"第 {n} 行格式不正确")
            continue
        code, name = _pick(row, _CODE), _pick(row, _NAME)
        if not code and not name:
            continue
        raw_deadline = _pick(row, _DEADLINE) or default_deadline
        deadline = parse_date(raw_deadline) if raw_deadline else None
        if not code or not name:
            problems.append(f"第 {n} 行缺少单位代码或名称")
        elif raw_deadline and deadline is None:
            problems.append(f"第 {n} 行的截止日期“{raw_deadline}”无法识别")
        else:
            out.append(ExpectedRow(code, name, deadline.isoformat() if deadline else None))
    if problems:
        raise KnownError(f"单位名单 {path} 有 {len(problems)} 处问题，未导入：\n"
                         + "\n".join(problems[:20]))
    if not out:
        raise KnownError(f"单位名单 {path} 中没有任何单位。表头应含“单位代码”和“单位名称”。")
    return out


def read_all(path: Path, sheet_rows, default_deadline: str | None = None
             ) -> list[ExpectedRow]:
    """The expected units of `path`: a workbook through `sheet_rows(path)` ([(Excel row, row)],
    reports.xlsx.head.named_rows, which exchange may not import), else .jsonl or .csv."""
    if path.suffix.lower() in SHEET_SUFFIXES:
        regular_file(path, "单位名单")
        rows = sheet_rows(path)
    else:
        rows = read_plain(path)
    return expected_rows(rows, path, default_deadline)


def save_expected(session: Session, rows: list[ExpectedRow]) -> tuple[int, int]:
    """Add or update expected units by code; returns (added, updated). No commit."""
    existing = {u.code: u for u in session.execute(select(ExpectedUnit)).scalars()}
    added = updated = 0
    for row in rows:
        unit = existing.get(row.code)
        if unit is None:
            unit = ExpectedUnit(code=row.code, name=row.name, deadline=row.deadline)
            session.add(unit)
            existing[row.code] = unit
            added += 1
        elif (unit.name, unit.deadline) != (row.name, row.deadline or unit.deadline):
            unit.name, unit.deadline = row.name, row.deadline or unit.deadline
            updated += 1
    session.flush()
    return added, updated


@dataclass(frozen=True)
class UnitStatus:
    """One line of the dashboard."""

    code: str
    name: str
    expected: bool
    deadline: str | None
    status: str  # Chinese
    late: bool
    package_id: str | None
    sequence: int | None
    received_at: datetime | None
    records: int
    errors: int
    warnings: int
    conflicts: int
    open_comments: int
    #: pending changes of the details of this unit, or of units its package carries
    unit_changes: tuple[UnitChange, ...] = ()
    #: what changed since its previous package, as its package said (the change summary it
    #: carried: exchange/changes.py): "新增 1，减少 3（转出 1，…），修改 2"; "" when it carried none
    changes: str = ""


@dataclass(frozen=True)
class UnitChange:
    """What a unit's own signed package says of it that the register holds otherwise (kept in
    that package's summary by exchange/merge.py); applied only when the clerk confirms."""

    code: str
    name: str
    level: str
    parent_code: str | None
    was_name: str
    was_level: str
    was_parent_code: str | None
    package_id: str
    sender_code: str  # the sender of the package that brought it

    def describe(self) -> str:
        parts = []
        if self.name != self.was_name:
            parts.append(f"名称“{self.was_name}”改为“{self.name}”")
        if self.level != self.was_level:
            parts.append(f"层级{LEVEL_NAMES.get(self.was_level, self.was_level)}改为"
                         f"{LEVEL_NAMES.get(self.level, self.level)}")
        if self.parent_code != self.was_parent_code:
            parts.append(f"上级单位代码“{self.was_parent_code or '无'}”改为"
                         f"“{self.parent_code or '无'}”")
        return f"单位 {self.code}：" + "，".join(parts)


def unit_changes(session: Session) -> list[UnitChange]:
    """The pending changes: for each unit, the newest change that a current received package
    brought and that the register does not hold yet, by unit code. (The summaries are read
    whole: on a server register they are sealed, SQL cannot search them.)"""
    rows = session.execute(
        select(Package.id, Package.sender_code, Package.summary)
        .where(Package.direction == PACKAGE_RECEIVED, Package.kind == "registration",
               Package.superseded_by.is_(None))
        .order_by(Package.handled_at, Package.id)).all()
    units = {u.code: u for u in session.execute(select(Unit).where(Unit.is_own.is_(False)))
             .scalars()}
    latest: dict[str, UnitChange] = {}
    for pid, sender, text in rows:
        for c in json.loads(text).get("unit_changes", []):
            unit = units.get(c["code"])
            if unit is None or (unit.name, unit.level, unit.parent_code) == (
                    c["name"], c["level"], c["parent_code"]):
                latest.pop(c["code"], None)
                continue
            latest[c["code"]] = UnitChange(c["code"], c["name"], c["level"], c["parent_code"],
                                           unit.name, unit.level, unit.parent_code, pid, sender)
    return sorted(latest.values(), key=lambda c: c.code)


def confirm_unit_change(session: Session, code: str) -> UnitChange:
    """Apply the pending change of unit `code` to the register (no commit)."""
    change = next((c for c in unit_changes(session) if c.code == code), None)
    if change is None:
        raise UsageError(f"单位 {code} 没有待确认的信息变更。请用 dengji units --db 登记库 changes 查看。")
    unit = session.execute(select(Unit).where(Unit.code == code, Unit.is_own.is_(False))
                           ).scalars().one()
    unit.name, unit.level, unit.parent_code = change.name, change.level, change.parent_code
    session.flush()
    return change


def dashboard(session: Session, today: date) -> list[UnitStatus]:
    """Every expected unit and every unit that sent a package, expected ones first."""
    expected = {u.code: u for u in session.execute(select(ExpectedUnit)).scalars()}
    current = {p.sender_code: p for p in session.execute(
        select(Package.id, Package.sender_code, Package.sender_name, Package.sequence,
               Package.handled_at, Package.record_count, Package.errors, Package.warnings,
               Package.status, Package.sender_unit_id, Package.summary)
        .where(Package.direction == PACKAGE_RECEIVED, Package.kind == "registration",
               Package.superseded_by.is_(None)))}
    first = dict(session.execute(
        select(Package.sender_code, func.min(Package.handled_at))
        .where(Package.direction == PACKAGE_RECEIVED, Package.kind == "registration")
        .group_by(Package.sender_code)).all())
    pairs = list(session.execute(select(Conflict.record_a, Conflict.record_b)
                                 .where(Conflict.status == "open")))
    ids = sorted({rid for pair in pairs for rid in pair})
    package_of: dict[str, str | None] = {}
    for i in range(0, len(ids), 900):
        package_of.update(dict(session.execute(select(Record.id, Record.package_id)
                                               .where(Record.id.in_(ids[i:i + 900]))).all()))
    by_package: Counter[str] = Counter()
    for a, b in pairs:
        for pid in {package_of.get(a), package_of.get(b)} - {None}:
            by_package[pid] += 1
    comments = Counter(dict(session.execute(
        select(ReturnNote.package_id, func.count()).where(
            ReturnNote.direction == "sent", ReturnNote.status == "open")
        .group_by(ReturnNote.package_id)).all()))
    changes: dict[str, list[UnitChange]] = {}
    for c in unit_changes(session):
        changes.setdefault(c.sender_code, []).append(c)
    out = []
    for code in [*expected, *sorted(set(current) - set(expected))]:
        e, p = expected.get(code), current.get(code)
        deadline = e.deadline if e else None
        received = first.get(code)
        late = bool(deadline) and (
            (received is None and today.isoformat() > deadline)
            or (received is not None and received.date().isoformat() > deadline))
        out.append(UnitStatus(
            code=code, name=(p.sender_name if p else e.name), expected=e is not None,
            deadline=deadline, status=STATUS_NAMES.get(p.status if p else None, "已收到"),
            late=late, package_id=p.id if p else None, sequence=p.sequence if p else None,
            received_at=p.handled_at if p else None, records=p.record_count if p else 0,
            errors=p.errors if p else 0, warnings=p.warnings if p else 0,
            conflicts=by_package.get(p.id, 0) if p else 0,
            open_comments=comments.get(p.id, 0) if p else 0,
            unit_changes=tuple(changes.get(code, ())),
            changes=carried_text(p.summary) if p else ""))
    return out


def carried_text(summary: str) -> str:
    """The short form of the change summary a received package carried (its stored summary's
    `changes`): 新增 1，减少 3（转出 1，作废 2），修改 2 — over every unit it carries."""
    rows = json.loads(summary or "{}").get("changes")
    if rows is None:
        return ""
    added, removed, changed = 0, Counter(), 0
    for u in summed(rows).values():
        added, changed = added + u["added"], changed + u["changed"]
        removed.update(u["removed"])
    return sentence(added, removed, changed).replace(" 条", "").replace(" ", "")


#: the dashboard's filters: what a row must be to be shown
FILTERS: dict[str, Callable[[UnitStatus], bool]] = {
    "全部": lambda r: True,
    "未收到": lambda r: r.package_id is None,
    "逾期": lambda r: r.late,
    "待审核": lambda r: r.status == STATUS_NAMES["received"],
    "有冲突": lambda r: r.conflicts > 0,
}


def shown(rows: list[UnitStatus], which: str = "全部", search: str = "") -> list[UnitStatus]:
    """The rows the filter `which` keeps whose name or code holds `search` (case and width
    ignored; spaces around it too)."""
    keep = FILTERS[which]
    needle = unicodedata.normalize("NFKC", search).strip().casefold()
    return [r for r in rows if keep(r) and (
        not needle or needle in unicodedata.normalize("NFKC", f"{r.code}\n{r.name}").casefold())]


def outstanding(rows: list[UnitStatus]) -> list[UnitStatus]:
    """The expected units whose package has not been received, or received and not accepted:
    what a clerk should know before reporting upward."""
    return [r for r in rows if r.expected and r.status != STATUS_NAMES["accepted"]]
