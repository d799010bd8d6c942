"""The human-readable files a package carries (DESIGN.md §6): the official workbooks and the
print PDFs, generated from the register at export time, and the package's cover page.

Record pages are included for a unit's own records up to RECORD_PAGES_LIMIT (a firm's package);
above that (a city or a province sending thousands of records up) the package carries the
summaries only — every record is still in data/records.jsonl and in the inner packages.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from desktop.domain.forms import FormSet
from desktop.domain.states import DRAFT
from desktop.errors import KnownError
from desktop.paths import scratch
from desktop.progress import Progress, Task, run
from desktop.storage import Record, Register

RECORD_PAGES_LIMIT = 500


def package_attachments(register: Register, forms: FormSet, *, today: date | None = None
                        ) -> Task[dict[str, bytes]]:
    """xlsx/<附件N 名称>.xlsx and pdf/<附件N 名称>.pdf for every form the unit has records of,
    and for its summary (附件4–6, the form's [summary]); ID numbers and phones masked as on any print."""
    from desktop.services.exporting import export_excel
    from desktop.services.printing import print_records, print_tables

    today = today or date.today()
    with register.session() as session:
        counts = dict(session.execute(
            select(Record.form_id, func.count()).where(Record.unit_id == register.own_unit_id,
                                                       Record.state != DRAFT)
            .group_by(Record.form_id)).all())
        everything = dict(session.execute(  # drafts never go into a package or its files
            select(Record.form_id, func.count()).where(Record.state != DRAFT)
            .group_by(Record.form_id)).all())
    targets: list[tuple[str, bool]] = []  # (form or summary id, print record pages)
    for form in forms.forms.values():
        if everything.get(form.id):
            targets.append((form.id, 0 < counts.get(form.id, 0) <= RECORD_PAGES_LIMIT))
            if form.summary is not None:
                targets.append((form.summary.id, False))
    files: dict[str, bytes] = {}
    with scratch("package") as tmp:  # owner-only, removed at the end or at the next start
        for i, (target, pages) in enumerate(targets):
            yield Progress(i, len(targets), "生成 Excel 和 PDF 文件")
            title = _title(forms, target)
            book = Path(tmp) / f"{target}.xlsx"
            run(export_excel(register, forms, target, book, actor="导出数据包", today=today,
                             audit=False))
            files[f"xlsx/{title}.xlsx"] = book.read_bytes()
            if target in forms.summaries:
                printed = run(print_tables(register, forms, target, preview=True, today=today))
                files[f"pdf/{title}.pdf"] = printed.pdf
            elif pages:
                printed = run(print_records(register, forms, target, preview=True, today=today))
                files[f"pdf/{title}.pdf"] = printed.pdf
    yield Progress(len(targets), len(targets), "生成 Excel 和 PDF 文件")
    return files


def _title(forms: FormSet, target: str) -> str:
    spec = forms.forms.get(target) or forms.summaries.get(target)
    return (spec.display_title if spec else target).replace(" ", "")


def print_package_cover(register: Register, forms: FormSet, package_id: str | None = None):
    """The cover page of a package this unit sent (the newest when no id is given); an id may
    be given by its first characters."""
    from desktop.services.printing import print_cover
    from desktop.storage.tables import Package

    with register.session() as session:
        query = select(Package).where(Package.direction == "sent", Package.kind == "registration")
        if package_id:
            query = query.where(Package.id.startswith(package_id))
        found = session.execute(query.order_by(Package.sequence.desc())).scalars().all()
    if not found:
        which = f"编号以 {package_id} 开头的" if package_id else ""
        raise KnownError(f"没有找到本单位导出的{which}数据包。请先用 dengji export 导出。")
    if package_id and len({p.id for p in found}) > 1:
        raise KnownError(f"编号以 {package_id} 开头的数据包不止一个，请多写几位编号。")
    pkg = found[0]
    return print_cover(register, forms, package_id=pkg.id, sequence=pkg.sequence,
                       created=pkg.created.strftime("%Y-%m-%d %H:%M"),
                       recipient=pkg.recipient_code, supersedes=pkg.supersedes or "",
                       counts=package_counts(pkg.summary))


def package_counts(summary: str) -> dict[str, int] | None:
    """Records per form as the sent package's manifest listed them (what the cover states, not
    the register as it is now: drafts and later changes are no part of the package); None for
    a package sent before the summary held them."""
    try:
        listed = json.loads(summary or "{}").get("forms")
    except (ValueError, AttributeError):
        return None
    if not isinstance(listed, list) or not listed:
        return None
    counts: dict[str, int] = {}
    for form in listed:
        if isinstance(form, dict) and isinstance(form.get("records"), int):
            counts[str(form.get("id"))] = counts.get(str(form.get("id")), 0) + form["records"]
    return counts or None
