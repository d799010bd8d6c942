"""The cleanup workbook's use cases: `write_proposal` (the proposals for the clerk, laid out by
reports/xlsx/cleanup.py) and `read_decisions`, the filled workbook back into decisions (its rows
read by reports/xlsx/cleanup_read.py), with a finding on the cell of everything that cannot be
read: a missing column, an unknown 清理类别 or 不符合条件情形, an empty 会员证号. Columns are found by their titles (spaces and full-/half-width forms do
not matter), so a clerk may reorder them; 处理决定 同意 applies a proposal, anything else
leaves it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from desktop.domain.forms import FormSpec
from desktop.domain.society.cleanup import DUPLICATE, INELIGIBLE, NO_ID, VIOLATION
from desktop.errors import UsageError
from desktop.reports.xlsx.cleanup import (
    AGREE,
    APPROVER,
    BASIS,
    CATEGORIES,
    CATEGORY,
    DECISION,
    DISAGREE,
    DUP,
    HANDLER,
    KEPT_RECORD,
    MEMBER_NO,
    NOID,
    OVERDUE,
    REASON,
    RECORD,
    REVOKE,
    REVOKE_NAME,
    REVOKE_RECORD,
    write_proposal,
)
from desktop.reports.xlsx.cleanup_read import read_sheets
from desktop.reports.xlsx.columns import column_letter
from desktop.services.cleanup.model import CellFinding, Decision

__all__ = ["ReadResult", "read_decisions", "write_proposal"]


@dataclass(frozen=True)
class ReadResult:
    decisions: list[Decision]
    findings: list[CellFinding]
    agreed: dict[str, int]  # sheet -> rows decided (同意, or listed in 撤销资格)


def read_decisions(path: Path, form: FormSpec, *, handler: str = "", approver: str = ""
                   ) -> ReadResult:
    """The decisions of a filled cleanup workbook, with findings per cell for what cannot be
    read (a missing column, an unknown 清理类别, …). `handler`/`approver` fill empty cells."""
    sheets = read_sheets(path)
    findings: list[CellFinding] = []
    decisions: list[Decision] = []
    agreed: dict[str, int] = {}
    known = [s for s in (DUP, NOID, OVERDUE, REVOKE) if s in sheets]
    if not known:
        raise UsageError(f"{path} 不是个人会员清理表：没有“{DUP}”“{NOID}”“{OVERDUE}”“{REVOKE}”中的任何一页。"
                         "请用 dengji cleanup propose 生成清理表后填写。")
    reasons = form.field("ineligible_reason").codes
    for name in known:
        table = _Sheet(name, sheets[name], findings)
        before = len(decisions)
        if name == REVOKE:
            decisions += _revocations(table, reasons, handler, approver)
        else:
            decisions += _agreed(table, name, reasons, handler, approver)
        agreed[name] = len(decisions) - before
    return ReadResult(decisions, findings, agreed)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _key(title: str) -> str:
    """Column titles compared without spaces and full-/half-width differences."""
    return "".join(unicodedata.normalize("NFKC", title).split())


class _Sheet:
    def __init__(self, name: str, rows: list[list[Any]], findings: list[CellFinding]) -> None:
        self.name, self.findings = name, findings
        header = [_key(_text(v)) for v in rows[0]] if rows else []
        self.columns = {title: i for i, title in reversed(list(enumerate(header))) if title}
        self.rows = rows[1:]
        self.letters: dict[str, str] = {}
        self.index: dict[str, int | None] = {}

    def need(self, *titles: str) -> bool:
        missing = [t for t in titles if _key(t) not in self.columns]
        for t in missing:
            self.findings.append(CellFinding(f"{self.name}!A1", "E",
                                 f"“{self.name}”页缺少“{t}”列（第 1 行应为列标题），请用原清理表填写"))
        return not missing

    def get(self, row: list[Any], title: str) -> str:
        i = self.index.get(title, -1)
        if i == -1:
            i = self.index[title] = self.columns.get(_key(title))
        return _text(row[i]) if i is not None and i < len(row) else ""

    def cell(self, r: int, title: str) -> str:
        letter = self.letters.get(title)
        if letter is None:
            i = self.columns.get(_key(title))
            letter = self.letters[title] = column_letter(i) if i is not None else "A"
        return f"{self.name}!{letter}{r}"

    def numbered(self):
        for r, row in enumerate(self.rows, start=2):
            if any(_text(v) for v in row):
                yield r, row


def _decision_word(text: str) -> str:
    return "".join(ch for ch in _nfkc(text) if not ch.isspace() and ch not in "。.!")


def _agreed(t: _Sheet, name: str, reasons, handler: str, approver: str) -> list[Decision]:
    extra = (KEPT_RECORD,) if name == DUP else (REASON, BASIS, HANDLER, APPROVER) \
        if name == OVERDUE else ()
    if not t.need(MEMBER_NO, DECISION, RECORD, *extra):
        return []
    target = {DUP: DUPLICATE, NOID: NO_ID, OVERDUE: INELIGIBLE}[name]
    out = []
    for r, row in t.numbered():
        word = _decision_word(t.get(row, DECISION))
        if word != AGREE:
            if word and word != DISAGREE:
                t.findings.append(CellFinding(t.cell(r, DECISION), "I",
                                  f"“{name}”页第 {r} 行：处理决定“{word}”不是“{AGREE}”，本行不处理"))
            continue
        cells = {"row": t.cell(r, MEMBER_NO), "member_no": t.cell(r, MEMBER_NO),
                 "record": t.cell(r, RECORD), "decision": t.cell(r, DECISION),
                 "kept": t.cell(r, KEPT_RECORD), "basis": t.cell(r, BASIS),
                 "handler": t.cell(r, HANDLER), "approver": t.cell(r, APPROVER),
                 "reason": t.cell(r, REASON)}
        member_no, row_label = _nfkc(t.get(row, MEMBER_NO)), f"“{name}”页第 {r} 行"
        if name == DUP:
            kept = t.get(row, KEPT_RECORD)
            out.append(Decision(DUPLICATE, t.get(row, RECORD), member_no, merged_into=kept,
                                basis=f"与会员证号 {t.get(row, '并入条目会员证号')}（"
                                      f"{t.get(row, '并入条目姓名')}）的条目重复录入（"
                                      f"{t.get(row, '判定依据')}），保留该条目",
                                handler=handler, row=row_label, cells=cells, proposed=True))
        elif name == NOID:
            out.append(Decision(NO_ID, t.get(row, RECORD), member_no,
                                basis="会员管理信息系统中无身份证号，暂时移出会员队伍",
                                handler=handler, row=row_label, cells=cells, proposed=True))
        else:
            reason = _reason(t, r, row, reasons, required=True)
            if reason is None:
                continue
            out.append(Decision(target, t.get(row, RECORD), member_no, basis=t.get(row, BASIS),
                                handler=t.get(row, HANDLER) or handler,
                                approver=t.get(row, APPROVER) or approver, reason=reason,
                                row=row_label, cells=cells, proposed=True))
    return out


def _reason(t: _Sheet, r: int, row: list[Any], reasons, *, required: bool) -> str | None:
    text = t.get(row, REASON)
    if not text:
        if required:
            t.findings.append(CellFinding(t.cell(r, REASON), "E",
                              f"“{t.name}”页第 {r} 行：清理类别为不符合条件时须填写“{REASON}”"))
            return None
        return ""
    code = _reason_code(reasons, text) if reasons else None
    if code is None:
        t.findings.append(CellFinding(t.cell(r, REASON), "E",
                          f"“{t.name}”页第 {r} 行：“{text}”不在不符合会员条件情形代码表中，请从下拉列表选择"))
        return None
    return code.code


def _reason_code(reasons, text: str):
    """The sub-reason by code, label or alias, forgiving full-width/half-width brackets."""
    found = reasons.lookup(text)
    if found is None:
        plain = _fold(text)
        found = next((c for c in reasons.codes
                      if plain in (_fold(c.label), *(_fold(a) for a in c.aliases))), None)
    return found


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).replace("\"", "").replace(
        "“", "").replace("”", "")


def _revocations(t: _Sheet, reasons, handler: str, approver: str) -> list[Decision]:
    if not t.need(MEMBER_NO, CATEGORY, BASIS, HANDLER, APPROVER):
        return []
    out = []
    for r, row in t.numbered():
        row_label = f"“{REVOKE}”页第 {r} 行"
        category = "".join(_nfkc(t.get(row, CATEGORY)).split()).removeprefix("已清理-")
        target = CATEGORIES.get(category) or {"严重违纪违法": VIOLATION,
                                              "不符合会员条件": INELIGIBLE}.get(category)
        if target is None:
            t.findings.append(CellFinding(t.cell(r, CATEGORY), "E",
                              f"{row_label}：清理类别应为“严重违法违纪”或“不符合条件”，现为“{category}”"))
            continue
        reason = _reason(t, r, row, reasons, required=target == INELIGIBLE)
        if reason is None:
            continue
        cells = {"row": t.cell(r, MEMBER_NO), "member_no": t.cell(r, MEMBER_NO),
                 "record": t.cell(r, REVOKE_RECORD), "name": t.cell(r, REVOKE_NAME),
                 "decision": t.cell(r, CATEGORY), "basis": t.cell(r, BASIS),
                 "handler": t.cell(r, HANDLER), "approver": t.cell(r, APPROVER),
                 "reason": t.cell(r, REASON)}
        out.append(Decision(target, t.get(row, REVOKE_RECORD), _nfkc(t.get(row, MEMBER_NO)),
                            name=t.get(row, REVOKE_NAME), basis=t.get(row, BASIS),
                            handler=t.get(row, HANDLER) or handler,
                            approver=t.get(row, APPROVER) or approver,
                            reason=reason if target == INELIGIBLE else "", row=row_label,
                            cells=cells))
    return out
