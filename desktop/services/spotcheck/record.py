"""Recording the verification results (导入核验结果): a filled verification workbook read back
strictly, all or nothing. Every problem is a finding on its cell (sheet!cell): a workbook of
another register or another sample, a changed seed, a row of a record not in the sample or
twice, a result that is not 属实/不实/无法核实, a 不实 or 无法核实 without 说明, a missing 核验人,
a date that is no date, in the future or before the sample was drawn. With any error nothing is
stored; otherwise the results are stored on the sample's items and audited
(``spotcheck.record``). A row left blank is not verified yet and may come in a later workbook;
a result recorded before is replaced by a new one (the audit entry counts both).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from desktop.domain.spotcheck import FALSE, METHOD, RESULTS, UNVERIFIABLE
from desktop.errors import UsageError
from desktop.exchange.trust import own_unit
from desktop.reports.xlsx.cells import chinese_date, serial_date
from desktop.reports.xlsx.columns import column_letter
from desktop.reports.xlsx.spotcheck import (
    IDENTITY,
    NOTE,
    RECORD,
    RESULT,
    VERIFIED_ON,
    VERIFIER,
    ReadSheet,
    read_sample_book,
)
from desktop.services.cleanup.model import CellFinding
from desktop.storage import Register, append_audit
from desktop.storage.tables import SpotItem, SpotSample, utcnow

NEEDED = (RESULT, NOTE, VERIFIER, VERIFIED_ON, RECORD)


@dataclass(frozen=True)
class Verdict:
    record_id: str
    result: str
    note: str
    verifier: str
    verified_on: str


@dataclass(frozen=True)
class Recorded:
    sample_id: str
    findings: list[CellFinding]
    verdicts: int  # rows with a result
    changed: int  # results that replaced an earlier different one
    stored: bool
    counts: dict[str, int]  # result → rows

    @property
    def refused(self) -> bool:
        return any(f.severity == "E" for f in self.findings)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_date(value: Any) -> date | None:
    """A 核验日期 cell: a date cell, an Excel serial number, 20261207, or text such as
    2026-12-07, 2026.12.7 or 二〇二六年十二月七日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float | int) and not isinstance(value, bool):
        text = _text(value)
        return _parse(text) if len(text) == 8 else serial_date(value)
    text = _text(value)
    return _parse(chinese_date(text) or text)


def _parse(text: str) -> date | None:
    parts = text.replace("年", "-").replace("月", "-").replace("日", "").replace(".", "-") \
        .replace("/", "-").split("-")
    if len(parts) == 1 and len(text) == 8 and text.isdigit():
        parts = [text[:4], text[4:6], text[6:]]
    try:
        y, m, d = (int(p) for p in parts)
        return date(y, m, d)
    except ValueError:
        return None


def record_results(register: Register, path: Path, *, actor: str = "cli",
                   today: date | None = None) -> Recorded:
    """Read a filled verification workbook and store its results, all or nothing."""
    today = today or date.today()
    path = Path(path)
    book = read_sample_book(path)
    ident = book.identity
    if not ident:
        raise UsageError(f"{path.name} 不是抽查核验表（没有“{IDENTITY}”页）：请用“抽取样本”生成的"
                         "核验表填写，不要另存为新文件或复制到其他工作簿。")
    findings: list[CellFinding] = []
    with register.session() as session:
        own = own_unit(session, register)
        sample_id = ident.get("样本编号", "")
        if (ident.get("登记库单位代码") != own.code
                or ident.get("登记库编号") != register.own_unit_id):
            raise UsageError(
                f"{path.name} 是另一个登记库（单位代码 {ident.get('登记库单位代码', '')}）抽取的样本"
                f"的核验表，不属于本登记库（{own.name}，{own.code}），未导入任何内容。")
        sample = session.get(SpotSample, sample_id)
        if sample is None:
            raise UsageError(f"{path.name} 的样本 {sample_id} 不在本登记库中（可能来自另一次抽取"
                             "或另一个登记库的备份），未导入任何内容。")
        if ident.get("随机种子") != sample.seed or ident.get("抽样方法", METHOD) != sample.method:
            findings.append(CellFinding(f"{IDENTITY}!B4", "E", (
                f"核验表记载的随机种子“{ident.get('随机种子', '')}”与样本 {sample_id} 抽取时的"
                f"“{sample.seed}”不同：核验表被改动过，请用原核验表填写")))
        items = {i.record_id: i for i in session.execute(
            select(SpotItem).where(SpotItem.sample_id == sample_id)).scalars()}
        drawn_on = sample.created_at.date()
        verdicts: dict[str, Verdict] = {}
        seen: dict[str, str] = {}
        for sheet in book.sheets:
            if not sheet.rows and not any(sheet.header):
                continue  # an empty sheet someone added
            if sample.seed not in sheet.seed_line:
                findings.append(CellFinding(f"{sheet.name}!A2", "E", (
                    f"“{sheet.name}”页第 2 行的随机种子与样本 {sample_id} 的“{sample.seed}”不同："
                    "核验表被改动过，请用原核验表填写")))
            _sheet(sheet, items, seen, verdicts, findings, drawn_on, today)
        counts = {word: 0 for word in RESULTS}
        for v in verdicts.values():
            counts[v.result] += 1
        refused = any(f.severity == "E" for f in findings)
        changed = sum(1 for v in verdicts.values() if items[v.record_id].result not in (
            None, v.result))
        if refused:
            return Recorded(sample_id, findings, len(verdicts), changed, False, counts)
        now = utcnow()
        for v in verdicts.values():
            item = items[v.record_id]
            item.result, item.note, item.verifier = v.result, v.note, v.verifier
            item.verified_on, item.recorded_by, item.recorded_at = v.verified_on, actor, now
        append_audit(session, actor, "spotcheck.record", sample_id, {
            "file": path.name, "rows": len(verdicts), "changed": changed, "results": counts,
            "records": sorted(verdicts)})
        session.commit()
    return Recorded(sample_id, findings, len(verdicts), changed, True, counts)


def _sheet(sheet: ReadSheet, items: dict[str, SpotItem], seen: dict[str, str],
           verdicts: dict[str, Verdict], findings: list[CellFinding], drawn_on: date,
           today: date) -> None:
    where = f"“{sheet.name}”页"
    columns = {title: j for j, title in reversed(list(enumerate(sheet.header))) if title}
    missing = [t for t in NEEDED if t not in columns]
    if missing:
        findings.append(CellFinding(f"{sheet.name}!A3", "E", (
            f"{where}缺少“{'”“'.join(missing)}”列（第 3 行应为列标题）：请用原核验表填写")))
        return

    def cell(title: str, r: int) -> str:
        return f"{sheet.name}!{column_letter(columns[title])}{r}"

    def get(row: list[Any], title: str) -> Any:
        j = columns[title]
        return row[j] if j < len(row) else None

    for r, row in sheet.rows:
        rid = _text(get(row, RECORD))
        result = "".join(_text(get(row, RESULT)).split())
        note = _text(get(row, NOTE))
        verifier = _text(get(row, VERIFIER))
        raw_date = get(row, VERIFIED_ON)
        line = f"{where}第 {r} 行"
        if rid not in items:
            findings.append(CellFinding(cell(RECORD, r), "E", (
                f"{line}：记录编号“{rid[:40]}”不在本样本中" if rid else
                f"{line}：没有记录编号") + "，请勿在核验表中增加行或改动记录编号"))
            continue
        if rid in seen:
            findings.append(CellFinding(cell(RECORD, r), "E", (
                f"{line}：记录 {rid} 在{seen[rid]}已经出现，同一条记录只能有一行")))
            continue
        seen[rid] = line
        if not result:
            if note or verifier or _text(raw_date):
                findings.append(CellFinding(cell(RESULT, r), "E", (
                    f"{line}：填了说明、核验人或核验日期，但没有选择核验结果（属实、不实或无法核实）")))
            continue
        ok = True
        if result not in RESULTS:
            findings.append(CellFinding(cell(RESULT, r), "E", (
                f"{line}：核验结果“{result[:20]}”应为 属实、不实 或 无法核实，请从下拉列表选择")))
            ok = False
        if result in (FALSE, UNVERIFIABLE) and not note:
            findings.append(CellFinding(cell(NOTE, r), "E", (
                f"{line}：核验结果为{result}，须在“说明”列写明哪一项不符或为何无法核实")))
            ok = False
        if not verifier:
            findings.append(CellFinding(cell(VERIFIER, r), "E", f"{line}：请填写核验人"))
            ok = False
        when = read_date(raw_date) if _text(raw_date) else None
        if when is None:
            findings.append(CellFinding(cell(VERIFIED_ON, r), "E", (
                f"{line}：核验日期“{_text(raw_date)[:20]}”不是日期，请填写如 {today.isoformat()}"
                if _text(raw_date) else f"{line}：请填写核验日期，如 {today.isoformat()}")))
            ok = False
        elif when > today or when < drawn_on:
            findings.append(CellFinding(cell(VERIFIED_ON, r), "E", (
                f"{line}：核验日期 {when.isoformat()} 不在样本抽取之日（{drawn_on.isoformat()}）"
                f"到今天（{today.isoformat()}）之间")))
            ok = False
        if ok:
            verdicts[rid] = Verdict(rid, result, note, verifier, when.isoformat())
