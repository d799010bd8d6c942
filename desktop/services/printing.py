"""Print and the paper archive: record pages, the package cover, table pages, archive-check.

Every function returns the PDF as bytes with its page count (`PrintResult`), so the command line
writes it to a file and the window shows it in its print preview or sends it to a printer.
Printing ID numbers and phones in full is a choice that is written to the audit log; so is every
print that leaves the program (a file or a printer), masked or not — only a masked preview is not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from desktop.domain.forms import FormSet, FormSpec
from desktop.domain.states import DRAFT, left_out_note
from desktop.errors import KnownError, UsageError
from desktop.progress import Progress, Task
from desktop.reports.pdf.content import BIRTH_SHOWN, PrintedRecord, printed_record
from desktop.reports.pdf.qr import KINDS, parse_code
from desktop.services.unit import unit_profile
from desktop.storage import KEY_SIGNING, Record, Register, Unit, UnitKey, append_audit
from desktop.storage.concurrency import require_audit

MASKED_NOTE = "身份证号码、电话号码已遮蔽"
FULL_NOTE = "全号打印（已记入操作日志）"


@dataclass(frozen=True)
class PrintResult:
    """A finished PDF: its bytes, how many pages and how many records (or rows) it holds."""

    pdf: bytes
    pages: int
    records: int
    drafts: int = 0  # drafts a whole form's or a table's print left out


def _with_drafts(note: str, drafts: int) -> str:
    """The page note, saying how many drafts were left out."""
    return f"{note}　{left_out_note(drafts)}" if drafts else note


def print_note(today: date, full: bool) -> str:
    """The line at the bottom left of every page."""
    return f"打印日期：{today.isoformat()}　{FULL_NOTE if full else MASKED_NOTE}"


def print_records(register: Register, forms: FormSet, form_id: str,
                  record_ids: Sequence[str] | None = None, *, full: bool = False,
                  preview: bool = False, actor: str = "命令行",
                  today: date | None = None) -> Task[PrintResult]:
    """Lay out records of one form as A4 pages, one record to a page (a long one continues).

    Without `record_ids`, every record of the form in the register that is no draft (the
    pages and the result say how many drafts were left out), ordered by unit and name; chosen
    `record_ids` print as they are, a draft too.
    `full` prints ID numbers and phones unmasked; `preview` (for the window's print preview)
    leaves no audit entry unless it is a full print.
    """
    from desktop.reports.pdf.record import records_pdf

    form = _record_form(forms, form_id)
    today = today or date.today()
    with register.session() as session:
        if full or not preview:  # audited: refused before the pages are made when it cannot be
            require_audit(session)
        rows, drafts = _load_records(session, form, record_ids)
        units = _unit_names(session, {r.unit_id for r in rows})
        items = [(_printed(form, r, masked=not full), units.get(r.unit_id, "")) for r in rows]
        if record_ids is None:  # a chosen list keeps the chosen order
            items.sort(key=lambda it: (it[1], _name_of(form, it[0]), it[0].record_id))
        total = len(items)
        yield Progress(0, total, "排版")
        pdf, pages = yield from _laid_out(
            records_pdf(items, _with_drafts(print_note(today, full), drafts),
                        form.display_title), 20,
            lambda done: (done, total))
        if full or not preview:
            append_audit(session, actor, "print_full" if full else "print",
                         items[0][0].record_id if len(items) == 1 else form.id, {
                             "form": form.id, "records": total, "pages": pages,
                             "masked": not full, "preview": preview, "drafts_left_out": drafts,
                             "record_ids": [it[0].record_id for it in items][:200],
                         })
            session.commit()
    return PrintResult(pdf, pages, total, drafts)


def preview_pdf(register: Register, forms: FormSet, target: str,
                record_ids: Sequence[str] | None = None, *, full: bool = False,
                actor: str = "窗口", filler: str = "", contact: str = "") -> PrintResult:
    """The window's print preview: the same pages as `dengji print`, synchronously.

    `target` is a form (with `record_ids` or all its records) or a table (table_ids(forms)). A masked preview leaves no audit entry; a full one is logged like a print.
    For a long document run print_records/print_tables with preview=True on a worker instead.
    """
    from desktop.progress import run

    if target in table_ids(forms):
        return run(print_tables(register, forms, target, full=full, preview=True, actor=actor,
                                filler=filler, contact=contact))
    return run(print_records(register, forms, target, record_ids, full=full, preview=True,
                             actor=actor))


def write_pdf(path: Path, result: PrintResult) -> None:
    """Write a PDF to `path` (whole or not at all)."""
    tmp = path.with_name(f".{path.name}.writing")
    try:
        tmp.write_bytes(result.pdf)
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise KnownError(f"无法写入 {path}（{err.strerror}）。请换一个有写入权限的位置，"
                         f"或先关闭正在打开这个文件的程序。") from err


# --- archive-check ------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveCheck:
    """The answer of archive_check; `status` is 一致, 不一致 or 找不到记录 (or 无法核对 for a
    code that the register cannot recompute), `message` says it in a sentence."""

    status: str
    message: str
    record_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "一致"


def archive_check(register: Register, forms: FormSet, qr_text: str) -> ArchiveCheck:
    """Does the record a scanned code names still print with the code's hash?"""
    code = parse_code(qr_text)
    if code.kind != "R":
        return ArchiveCheck("无法核对", f"这是{KINDS[code.kind]}的二维码（{code.ident}）。"
                            f"登记库只能逐条核对记录页；{KINDS[code.kind]}请与数据包一同核对"
                            f"（dengji verify）。")
    with register.session() as session:
        rec = _get_record(session, code.ident)
        if rec is None:
            return ArchiveCheck("找不到记录", f"找不到记录：登记库 {register.path.name} 中没有编号为 "
                                f"{code.ident.lower()} 的记录。请确认打开的是打印时所用单位的登记库"
                                f"（记录可能在上级汇总库或已被退回）。")
        unit = session.get(Unit, rec.unit_id)
    form = forms.forms.get(rec.form_id)
    if form is None:
        return ArchiveCheck("无法核对", f"记录 {rec.id} 属于本版本软件没有的表单 {rec.form_id}，"
                            f"无法重新计算。", rec.id)
    what = f"{form.display_title}“{rec.name}”（{unit.name if unit else rec.unit_id}）"
    for masked in (True, False, BIRTH_SHOWN):  # BIRTH_SHOWN: paper of earlier versions
        if _printed(form, rec, masked=masked).digest == code.digest:
            how = "遮蔽打印" if masked else "全号打印"
            return ArchiveCheck("一致", f"一致：纸质件与登记库中的记录相同——{what}，{how}，"
                                f"校验码 {code.digest}。", rec.id)
    changed = rec.updated_at.astimezone().strftime("%Y-%m-%d %H:%M") if rec.updated_at else "?"
    return ArchiveCheck("不一致", f"不一致：{what} 在打印后已被修改（当前第 {rec.revision} 版，"
                        f"最后修改于 {changed}），纸质件校验码 {code.digest} 与登记库不符。"
                        f"请重新打印、签字盖章后替换归档的纸质件。", rec.id)


# --- helpers ------------------------------------------------------------------------------


def _laid_out(task: Iterator[Any], every: int, step: Callable[[Any], tuple[int, int]]
              ) -> Task[Any]:
    """Run a PDF layout generator, reporting (done, total) from each of its steps — `step`
    turns what it yields into that — at every `every`th step and the last; return its
    result."""
    while True:
        try:
            item = next(task)
        except StopIteration as stop:
            return stop.value
        done, total = step(item)
        if done % every == 0 or done == total:
            yield Progress(done, total, "排版")


def _record_form(forms: FormSet, form_id: str) -> FormSpec:
    """Every form of forms/ prints as record pages."""
    if form_id not in forms.forms:
        names = "、".join(forms.forms)
        raise UsageError(f"表单“{form_id}”不能按登记表逐条打印；可选：{names}")
    return forms.form(form_id)


#: the Record columns printing reads (not the whole row: later schema versions add columns)
_COLUMNS = (Record.id, Record.form_id, Record.unit_id, Record.data, Record.name, Record.revision,
            Record.updated_at)


def _get_record(session: Session, record_id: str) -> Any:
    """The printing columns of one record (id in any case), or None."""
    rid = record_id.strip().lower()
    return session.execute(select(*_COLUMNS).where(Record.id == rid)).first()


def _load_records(session: Session, form: FormSpec, record_ids: Sequence[str] | None
                  ) -> tuple[list[Any], int]:
    """The rows to print and how many drafts a whole form's print left out."""
    if record_ids is None:
        rows = list(session.execute(select(*_COLUMNS).where(Record.form_id == form.id,
                                                            Record.state != DRAFT)))
        drafts = session.execute(select(func.count()).select_from(Record).where(
            Record.form_id == form.id, Record.state == DRAFT)).scalar_one()
        if not rows:
            more = (f"（{drafts} 条草稿不打印：请先在记录中点“标记完成”）" if drafts else "")
            raise KnownError(f"登记库中还没有{form.display_title}已完成的记录，没有可打印的内容"
                             f"{more}。")
        return rows, drafts
    rows = []
    for rid in record_ids:
        rec = _get_record(session, rid)
        if rec is None:
            raise KnownError(f"登记库中没有编号为 {rid} 的记录。请检查记录编号"
                             f"（窗口中记录详情可复制编号）。")
        if rec.form_id != form.id:
            raise KnownError(f"记录 {rid} 是表单 {rec.form_id} 的记录，不是{form.display_title}；"
                             f"请用 --form {rec.form_id} 打印。")
        rows.append(rec)
    return rows, 0


def _unit_names(session: Session, unit_ids: set[str]) -> dict[str, str]:
    if not unit_ids:
        return {}
    rows = session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()
    return {uid: name for uid, name in rows}


def _printed(form: FormSpec, rec: Any, *, masked: bool | str) -> PrintedRecord:
    return printed_record(form, rec.id, json.loads(rec.data), masked=masked)


def _name_of(form: FormSpec, rec: PrintedRecord) -> str:
    for section in rec.sections:
        for f in section.fields:
            if f.id == form.name_field:
                return f.text
    return ""


# --- the package cover --------------------------------------------------------------------


def print_cover(register: Register, forms: FormSet, *, package_id: str, sequence: int,
                created: str, counts: dict[str, int] | None = None, recipient: str = "",
                supersedes: str = "", today: date | None = None) -> PrintResult:
    """The cover page of a package sent by the register's own unit. `counts` (form id → records)
    defaults to the own unit's records per form."""
    from desktop.exchange.format.keys import fingerprint
    from desktop.reports.pdf.cover import CoverInfo, cover_pdf

    with register.session() as session:
        unit = session.get(Unit, register.own_unit_id)
        public = session.execute(
            select(UnitKey.public_key).where(UnitKey.unit_id == register.own_unit_id,
                                             UnitKey.kind == KEY_SIGNING,
                                             UnitKey.private_key.is_not(None))
            .order_by(UnitKey.id.desc()).limit(1)).scalar_one_or_none()
        if counts is None:
            counts = dict(session.execute(
                select(Record.form_id, func.count()).where(Record.unit_id == unit.id,
                                                           Record.state != DRAFT)
                .group_by(Record.form_id)).all())
    if public is None:
        raise KnownError("登记库中没有本单位的签名密钥，无法打印封面。请用 dengji keys 生成密钥。")
    titled = tuple((forms.form(f).display_title if f in forms.forms else f, n)
                   for f, n in sorted(counts.items(), key=lambda kv: _form_order(forms, kv[0])))
    info = CoverInfo(unit.name, unit.code, unit.level, package_id, sequence, created, titled,
                     fingerprint(public), recipient, supersedes)
    pdf, pages = cover_pdf(info, f"打印日期：{(today or date.today()).isoformat()}")
    return PrintResult(pdf, pages, sum(counts.values()))


def _form_order(forms: FormSet, form_id: str) -> tuple[bool, bool, int, str, str]:
    """The forms' own order (FormSpec.order); forms this version lacks last."""
    form = forms.forms.get(form_id)
    return (form is None, *form.order) if form else (True, True, 0, "", form_id)


# --- tables: 附件4–6 and the 统计表 ----------------------------------------------------------

STATS_ID = "society_stats"
#: the 统计表's name in its pages' QR codes (a summary's is its `short`: alphanumeric, so the
#: code stays small)
STATS_SHORT = "TJB"


def table_ids(forms: FormSet) -> tuple[str, ...]:
    """What print_tables prints: every summary of the forms (附件4–6), then the 统计表."""
    return (*forms.summaries, STATS_ID)


def table_title(forms: FormSet, table_id: str) -> str:
    """附件4 律师党员基本信息汇总表, …, or the 统计表's title."""
    if table_id == STATS_ID:
        from desktop.domain.society.stats import TITLE

        return TITLE
    return forms.summary(table_id).display_title


def print_tables(register: Register, forms: FormSet, table_id: str, *, full: bool = False,
                 preview: bool = False, actor: str = "命令行", today: date | None = None,
                 filler: str = "", contact: str = "", ident: str | None = None
                 ) -> Task[PrintResult]:
    """附件4–6 from the register's records (every unit in it), or the 统计表 of its own
    法学会 members, as landscape pages. `ident` names the pages in their QR codes (a package
    passes its id); by default the unit code and the table."""
    from desktop.reports.pdf.table import table_pdf

    if table_id not in table_ids(forms):
        raise UsageError(f"没有表格“{table_id}”；可选：{'、'.join(table_ids(forms))}")
    today = today or date.today()
    if not (filler and contact):  # the header's 填报人 and 联系电话: as 本单位信息 names them
        people = unit_profile(register)
        filler, contact = filler or people.filler, contact or people.phone
    if table_id == STATS_ID:
        from desktop.services.cleanup.members import register_stats

        stats = register_stats(register, filler=filler, contact=contact, filed=today.isoformat())
        docs, count = [stats_doc(stats, ident or f"{stats.unit_code}-{STATS_SHORT}")], 1
    drafts = 0
    with register.session() as session:
        if full or not preview:  # audited: refused before the pages are made when it cannot be
            require_audit(session)
        if table_id != STATS_ID:
            docs, count, drafts = _summary_docs(session, register, forms, table_id, today,
                                                full, filler, contact, ident)
        pdf, pages = yield from _laid_out(
            table_pdf(docs, _with_drafts(print_note(today, full), drafts)), 25,
            lambda step: step)
        if full or not preview:
            append_audit(session, actor, "print_full" if full else "print", table_id, {
                "form": table_id, "rows": count, "pages": pages, "masked": not full,
                "preview": preview, "drafts_left_out": drafts})
            session.commit()
    return PrintResult(pdf, pages, count, drafts)


def _summary_docs(session: Session, register: Register, forms: FormSet, table_id: str,
                  today: date, full: bool, filler: str, contact: str, ident: str | None):
    from desktop.domain.summaries import ORG_FORM, build_summary
    from desktop.reports.pdf.table import TableDoc, auto_columns

    sdef = forms.summary(table_id)
    rows = session.execute(select(Record.id, Record.form_id, Record.data)
                           .where(Record.form_id.in_((sdef.source_form, ORG_FORM)),
                                  Record.state != DRAFT))
    drafts = session.execute(select(func.count()).select_from(Record).where(
        Record.form_id == sdef.source_form, Record.state == DRAFT)).scalar_one()
    summary = build_summary(forms, table_id, ((r.id, r.form_id, json.loads(r.data))
                                              for r in rows), today=today, full=full)
    unit = session.get(Unit, register.own_unit_id)
    ident = ident or f"{unit.code}-{sdef.short}"
    title = summary.title.removeprefix(summary.attachment).strip()
    unit_line = (("填报单位", unit.name), ("填报人", filler), ("联系电话", contact),
                 ("填报日期", today.isoformat()))
    docs = [TableDoc(table_id, ident, summary.attachment, title, unit_line,
                     auto_columns(summary.columns, summary.rows), summary.rows,
                     summary.totals_row,
                     tuple((g.label, tuple((item, str(n)) for item, n in g.items))
                           for g in summary.totals))]
    if summary.excluded_rows:
        n = len(summary.excluded_rows)
        docs.append(TableDoc(
            f"{table_id}-excluded", ident, summary.attachment,
            f"{title}——{summary.excluded_by.heading}", unit_line,
            auto_columns(summary.excluded_columns, summary.excluded_rows),
            summary.excluded_rows, (f"合计：{n} {summary.counter}",
                                    *[""] * (len(summary.excluded_columns) - 1))))
    return docs, summary.count + len(summary.excluded_rows), drafts


def stats_doc(stats: Any, ident: str) -> Any:
    """The 个人会员清理工作情况统计表 (desktop.domain.society.stats.CleanupStats) as a printed table:
    one row per part (a city's counties and its own) and a 合计 row, or the unit's own row."""
    from desktop.domain.society import stats as st
    from desktop.reports.pdf.table import Column, TableDoc

    columns = (Column("单位", 3.0), Column(st.ENTRIES), *(Column(c) for c in st.COLUMNS))

    def row(t) -> tuple[str, ...]:
        return (t.unit, str(t.entries), *(str(v) for v in t.columns().values()))

    parts = stats.parts or (stats,)
    total = ("合计", *row(stats)[1:]) if stats.parts else None
    unit_line = ((st.UNIT, stats.unit), (st.FILLER, stats.filler), (st.CONTACT, stats.contact),
                 (st.FILED, stats.filed))
    return TableDoc(STATS_ID, ident, "", st.TITLE, unit_line, columns,
                    [row(p) for p in parts], total)
