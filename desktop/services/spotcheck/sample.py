"""Drawing a spot-check sample (抽取样本): the accepted records of the units below, a number or
a rate, stratified by unit and reproducible from the seed (domain/spotcheck/draw.py); the
sample is stored with its items and audited (``spotcheck.sample``), and its verification
workbook (reports/xlsx/spotcheck/) appears only once the register has recorded it."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.spotcheck import (
    METHOD,
    draw,
    method_text,
    new_seed,
    parse_rate,
    sample_size,
    seed_problem,
)
from desktop.domain.states import ACCEPTED
from desktop.errors import KnownError, UsageError
from desktop.exchange import sqlfast as sql
from desktop.exchange.format.manifest import KIND_REGISTRATION
from desktop.exchange.format.provenance import carries_nothing
from desktop.exchange.trust import own_unit
from desktop.progress import Progress, Task
from desktop.reports.pdf.qr import page_code
from desktop.reports.xlsx.spotcheck import (
    Identity,
    SampleBook,
    SampleRow,
    SampleSheet,
    sample_book,
)
from desktop.services.spotcheck.printed import FormPrinter, print_rows
from desktop.storage import Register, append_audit
from desktop.storage.files import publish
from desktop.storage.server import open_value
from desktop.storage.tables import PACKAGE_RECEIVED, SpotItem, SpotSample

CHUNK = 900
HELP = (
    "填写方法：对照纸质档案和党员材料逐条核验各页所列内容，在“核验结果”列选择 属实、不实 或 无法核实；"
    "选择 不实 或 无法核实 时须在“说明”列写明哪一项不符或为何无法核实。",
    "每一条已核验的记录都须填写“核验人”和“核验日期”（如 2026-12-07）；未核验的行留空，可以以后再导入。",
    "只修改黄色的四列。不要增删行、改动记录编号或本页所列的样本编号和随机种子：导入时逐格核对，"
    "有任何问题整份不导入。",
    "二维码与各记录打印页上的二维码相同（DJ1:R:记录编号:校验码），可用扫码枪对照纸质记录页。",
    "上级单位可用同一随机种子和同一批已接收记录重新抽取，核对样本未经人为挑选（方法见 docs/spotcheck.md）。",
)


@dataclass(frozen=True)
class Drawn:
    sample_id: str
    seed: str
    rule: str
    population: int
    size: int
    units: int
    path: Path
    forms: dict[str, int]  # form title → records drawn


def rule_text(size: int | None, rate: Fraction | None, raw_rate: str | None) -> str:
    if size is not None:
        return f"{size} 条"
    return (raw_rate or f"{float(rate) * 100:g}%").strip()


def check_request(size: int | None, rate: str | None, seed: str | None
                  ) -> tuple[Fraction | None, str]:
    """The rate as a fraction and the seed (a new one when none is given); a UsageError says
    what is wrong with the request."""
    if (size is None) == (rate is None):
        raise UsageError("请给出样本量（条数）或抽样比例（如 5%）之一")
    if size is not None and size < 1:
        raise UsageError(f"样本量应为正整数，现为 {size}")
    fraction = None
    if rate is not None:
        fraction = parse_rate(rate)
        if fraction is None:
            raise UsageError(f"抽样比例“{rate}”不可用：应在 0 和 100% 之间，如 5% 或 0.05")
    seed = new_seed() if seed is None or not seed.strip() else seed.strip()
    if (why := seed_problem(seed)) is not None:
        raise UsageError(why)
    return fraction, seed


def population(conn: Any) -> list[tuple[str, str]]:
    """(record id, unit code) of every accepted record of a current accepted package."""
    return sql.query(conn, "SELECT r.id, u.code FROM record r JOIN unit u ON u.id = r.unit_id "
                     "JOIN package p ON p.id = r.package_id WHERE r.state = ? AND "
                     "p.direction = ? AND p.kind = ? AND p.status = 'accepted' AND "
                     "p.superseded_by IS NULL",
                     (ACCEPTED, PACKAGE_RECEIVED, KIND_REGISTRATION))


def population_summary(register: Register) -> tuple[int, int]:
    """(accepted records, units) a sample would be drawn from now."""
    with register.session() as session:
        people = population(session.connection())
    return len(people), len({code for _, code in people})


def _details(conn: Any, ids: list[str]) -> Iterator[tuple]:
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        for rid, form_id, data, package_id, code, name in sql.query(
                conn, "SELECT r.id, r.form_id, r.data, r.package_id, u.code, u.name FROM record "
                f"r JOIN unit u ON u.id = r.unit_id WHERE r.id IN ({sql.marks(chunk)})", chunk):
            # data is sealed on a server register (its anchor the record's id)
            yield (rid, form_id, open_value(conn.engine, "record", "data", rid, data),
                   package_id, code, name)


def draw_sample(register: Register, forms: FormSet, out: Path, *, size: int | None = None,
                rate: str | None = None, seed: str | None = None, actor: str = "cli",
                today: date | None = None) -> Task[Drawn]:
    """Draw a sample and write its verification workbook to `out`; yields progress."""
    fraction, seed = check_request(size, rate, seed)
    today = today or date.today()
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"抽查核验表应保存为 .xlsx 文件：{out}")
    yield Progress(0, 4, "读取已接收的记录")
    with register.session() as session:
        own = own_unit(session, register)
        if carries_nothing(own.level):
            raise KnownError(f"{own.name} 没有下级单位上报的记录：抽查核验由上级单位对已接收的记录开展。")
        conn = session.connection()
        people = population(conn)
        units = len({code for _, code in people})
        if not people:
            raise KnownError("本登记库还没有已接收的记录：请先导入并接收下级单位的数据包，再抽取样本。")
        n = sample_size(len(people), units, size=size, rate=fraction)
        yield Progress(1, 4, f"从 {len(people)} 条记录中抽取 {n} 条")
        chosen = draw(seed, people, n)
        position = {rid: i for i, rid in enumerate(chosen, start=1)}
        details = sorted(_details(conn, chosen), key=lambda row: position[row[0]])
        sample_id = f"{today:%Y%m%d}-{secrets.token_hex(4).upper()}"
        rule = rule_text(size, fraction, rate)
        identity = Identity(sample_id, own.code, register.own_unit_id, seed, METHOD, n)
        yield Progress(2, 4, "生成抽查核验表")
        sheets, counts = _sheets(forms, details, position)
        data = sample_book(SampleBook(identity, method_text(sample_id, seed), HELP, sheets),
                           today=today)
        yield Progress(3, 4, "保存样本")
        session.add(SpotSample(id=sample_id, seed=seed, method=METHOD, rule=rule,
                               population=len(people), size=n, units=units, created_by=actor))
        session.flush()
        sql.insert_many(conn, SpotItem.__table__, [
            {"sample_id": sample_id, "position": position[rid], "record_id": rid,
             "unit_code": code, "form_id": form_id, "package_id": package_id, "note": "",
             "verifier": "", "result": None, "verified_on": None, "recorded_by": None,
             "recorded_at": None}
            for rid, form_id, _, package_id, code, _ in details])
        append_audit(session, actor, "spotcheck.sample", sample_id, {
            "seed": seed, "method": METHOD, "rule": rule, "population": len(people),
            "size": n, "units": units, "file": out.name,
            "records_sha256": hashlib.sha256("\n".join(chosen).encode()).hexdigest()})
        publish(out, data, session.commit)
    yield Progress(4, 4, "完成")
    return Drawn(sample_id, seed, rule, len(people), n, units, out, counts)


def _sheets(forms: FormSet, details: Sequence[tuple], position: dict[str, int]
            ) -> tuple[list[SampleSheet], dict[str, int]]:
    printers: dict[str, FormPrinter] = {}
    for rid, form_id, *_ in details:
        if form_id not in printers:
            form = forms.forms.get(form_id)
            if form is None:
                raise KnownError(f"记录 {rid} 的表单 {form_id} 不在本软件的表单定义中，无法生成抽查核验表。")
            printers[form_id] = FormPrinter(form)
    printed = print_rows(printers, [(rid, form_id, data)
                                    for rid, form_id, data, *_ in details])
    by_form: dict[str, list[SampleRow]] = {}
    for (rid, form_id, _, _, code, name), (texts, digest) in zip(details, printed, strict=True):
        by_form.setdefault(form_id, []).append(SampleRow(
            position[rid], name, code, texts, page_code("R", rid, digest).text, rid))
    sheets, counts = [], {}
    for form in sorted((forms.forms[f] for f in by_form), key=lambda f: f.order):
        sheets.append(SampleSheet(sheet_name(form), form.display_title,
                                  printers[form.id].labels, by_form[form.id]))
        counts[form.display_title] = len(by_form[form.id])
    return sheets, counts


def sheet_name(form: FormSpec) -> str:
    """A record sheet's tab: the attachment (附件1), else the form's title, within 31
    characters."""
    return (form.attachment or form.title or form.id)[:31]
