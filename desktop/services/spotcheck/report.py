"""The spot-check report (抽查报告): per unit of a sample, sampled, verified, found false and the
rate, with the accountable parties for 追责 — the unit, the key that signed its package (through
the packages that carried it, services/spotcheck/signers.py) and the 书记 and 联系人 of its 附件3
record — as a PDF (A4, stamp box) or a workbook; both print the seed and the method."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

from sqlalchemy import select

from desktop.domain.forms import FormSet
from desktop.domain.spotcheck import FALSE, TRUE, UNVERIFIABLE, SpotReport, UnitLine
from desktop.errors import KnownError, UsageError
from desktop.exchange import sqlfast as sql
from desktop.exchange.trust import own_decrypt_keys, own_unit
from desktop.progress import Progress, Task, run
from desktop.reports.pdf.spotcheck import report_pdf
from desktop.reports.xlsx.spotcheck import write_report_book
from desktop.services.packages.io import write_atomic
from desktop.services.spotcheck.signers import Signers, package_signers
from desktop.storage import Register, append_audit
from desktop.storage.concurrency import require_audit_of
from desktop.storage.server import open_value
from desktop.storage.tables import Package, SpotItem, SpotSample

#: the fields of a unit's organisation record (附件3) that name its accountable people
ORG_PEOPLE = ("secretary", "contact")
UNFILLED = "（附件3未填）"


def samples(register: Register) -> list[SpotSample]:
    """Every sample of the register, the newest first."""
    with register.session() as session:
        return list(session.execute(select(SpotSample).order_by(
            SpotSample.created_at.desc(), SpotSample.id.desc())).scalars())


def find_sample(register: Register, sample_id: str | None) -> SpotSample:
    """The sample `sample_id` (the newest when None), or a KnownError that says what there is."""
    found = samples(register)
    if not found:
        raise KnownError("本登记库还没有抽取过样本：请先抽取样本（dengji spotcheck sample）。")
    if sample_id is None:
        return found[0]
    for s in found:
        if s.id == sample_id.strip():
            return s
    raise UsageError(f"本登记库中没有样本 {sample_id}。已有的样本："
                     + "、".join(s.id for s in found[:10]))


def spot_report(register: Register, forms: FormSet, sample_id: str | None = None
                ) -> SpotReport:
    """What the report says of a sample (the newest when `sample_id` is None)."""
    sample = find_sample(register, sample_id)
    with register.session() as session:
        own = own_unit(session, register)
        ring = own_decrypt_keys(session, register)  # also the keys of before a rotation
        items = list(session.execute(select(SpotItem).where(
            SpotItem.sample_id == sample.id).order_by(SpotItem.position)).scalars())
        by_unit: dict[str, list[SpotItem]] = defaultdict(list)
        for item in items:
            by_unit[item.unit_code].append(item)
        conn = session.connection()
        codes = sorted(by_unit)
        names = _unit_names(conn, codes)
        people = _org_people(conn, forms, codes)
        trees: dict[str, Signers] = {}
        lines = []
        for code in codes:
            mine = by_unit[code]
            keys: set[str] = set()
            routes: list[str] = []
            for pid in sorted({i.package_id for i in mine if i.package_id}):
                if pid not in trees:
                    content = session.execute(select(Package.content).where(
                        Package.id == pid)).scalar_one_or_none()
                    trees[pid] = (package_signers(content, pid, ring) if content
                                  else Signers())
                fingerprints, route = trees[pid].of(code)
                keys.update(fingerprints)
                if route not in routes:
                    routes.append(route)
            results = [i.result for i in mine]
            secretary, contact = people.get(code, ("", ""))
            lines.append(UnitLine(code, names.get(code, code), len(mine), results.count(TRUE),
                                  results.count(FALSE), results.count(UNVERIFIABLE),
                                  tuple(sorted(keys)), "；".join(routes), secretary, contact))
    return SpotReport(sample.id, sample.seed, sample.method, sample.rule, sample.population,
                      f"{sample.created_at:%Y-%m-%d %H:%M} UTC", sample.created_by, own.name,
                      own.code, tuple(lines))


def _unit_names(conn, codes: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(codes), 900):
        chunk = codes[i:i + 900]
        out.update(sql.query(conn, f"SELECT code, name FROM unit WHERE code IN "
                             f"({sql.marks(chunk)})", chunk))
    return out


def _org_people(conn, forms: FormSet, codes: list[str]) -> dict[str, tuple[str, str]]:
    """unit code → (书记, 联系人) of its organisation records (several joined by 、)."""
    org_forms = [f.id for f in forms.forms.values()
                 if all(f.has_field(x) for x in ORG_PEOPLE)]
    found: dict[str, tuple[list[str], list[str]]] = {}
    for i in range(0, len(codes), 900):
        chunk = codes[i:i + 900]
        if not org_forms:
            break
        for rid, code, stored in sql.query(
                conn, "SELECT r.id, u.code, r.data FROM record r JOIN unit u ON u.id = r.unit_id "
                f"WHERE u.code IN ({sql.marks(chunk)}) AND r.form_id IN "
                f"({sql.marks(org_forms)}) ORDER BY r.created_at", [*chunk, *org_forms]):
            values = json.loads(open_value(conn.engine, "record", "data", rid, stored))
            secretaries, contacts = found.setdefault(code, ([], []))
            for value, bucket in ((values.get("secretary"), secretaries),
                                  (values.get("contact"), contacts)):
                if value and str(value) not in bucket:
                    bucket.append(str(value))
    return {code: ("、".join(a) or UNFILLED, "、".join(b) or UNFILLED)
            for code, (a, b) in found.items()}


def write_report(register: Register, forms: FormSet, out: Path, *,
                 sample_id: str | None = None, actor: str = "cli",
                 today: date | None = None) -> Task[SpotReport]:
    """Write the report of a sample as .pdf or .xlsx (by `out`'s suffix); audited as
    ``spotcheck.report``."""
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".pdf", ".xlsx"):
        raise UsageError(f"抽查报告应保存为 .pdf 或 .xlsx 文件：{out}")
    today = today or date.today()
    require_audit_of(register)  # may this role append to the audit log: before the file
    yield Progress(0, 2, "汇总核验结果")
    report = spot_report(register, forms, sample_id)
    yield Progress(1, 2, "写出抽查报告")
    if kind == ".pdf":
        data, _ = yield from _pages(report)
        write_atomic(out, data)
    else:
        run(write_report_book(out, report, today=today))
    with register.session() as session:
        append_audit(session, actor, "spotcheck.report", report.sample_id,
                     {"file": out.name, "units": len(report.lines)})
        session.commit()
    yield Progress(2, 2, "完成")
    return report


def _pages(report: SpotReport):
    gen = report_pdf(report)
    while True:
        try:
            page, pages = next(gen)
        except StopIteration as stop:
            return stop.value
        yield Progress(1, 2, f"第 {page} 页，共 {pages} 页")

