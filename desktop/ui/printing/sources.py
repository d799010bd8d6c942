"""What the 打印 menu can print, each as a `PrintSource`: the current record, a form's records,
附件4–6, and for a 法学会 the 统计表 and the 通报. A source makes its PDF through the print
service (the same bytes as `dengji print`) and says how a print that leaves the program is
written to the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from desktop.domain.forms import FormSet
from desktop.progress import Progress, Task
from desktop.services.printing import (
    STATS_ID,
    PrintResult,
    print_records,
    print_tables,
    table_title,
)
from desktop.storage import Register, append_audit

NOTICE_ID = "cleanup_notice"


@dataclass(frozen=True)
class PrintSource:
    """One printable document. `make(full)` is a task returning its PrintResult; a masked one
    leaves no audit entry, a full one is logged by the print service. `target` names it in
    the audit log; `can_full` is False where nothing is masked (the 通报)."""

    title: str  # the dialog's title and the suggested file name
    target: str
    make: Callable[[bool], Task[PrintResult]]
    can_full: bool = True
    detail: dict[str, Any] = field(default_factory=dict)


def record_source(register: Register, forms: FormSet, form_id: str,
                  record_ids: Sequence[str] | None, title: str, actor: str) -> PrintSource:
    """Record pages (附件1/2/3, 法学会会员): the chosen records, or every record of the form."""
    ids = list(record_ids) if record_ids is not None else None

    def make(full: bool) -> Task[PrintResult]:
        return print_records(register, forms, form_id, ids, full=full, preview=True,
                             actor=actor)

    target = ids[0] if ids and len(ids) == 1 else form_id
    return PrintSource(title, target, make, detail={"form": form_id,
                                                    "record_ids": (ids or [])[:200]})


def table_source(register: Register, forms: FormSet, table_id: str, actor: str) -> PrintSource:
    """附件4–6 or the 统计表, landscape tables."""
    def make(full: bool) -> Task[PrintResult]:
        return print_tables(register, forms, table_id, full=full, preview=True, actor=actor)

    return PrintSource(table_title(forms, table_id), table_id, make, can_full=table_id != STATS_ID,
                       detail={"form": table_id})


def notice_source(register: Register, forms: FormSet) -> PrintSource:
    """The 通报 of the cleanup's results (numbers only, as `dengji society cleanup notice`)."""
    def make(_full: bool) -> Iterator[Progress]:
        from desktop.reports.pdf.cleanup import notice_pdf
        from desktop.services.cleanup.paper import build_notice
        from desktop.ui.printing.render import PdfPages

        yield Progress(0, 1, "排版")
        notice = build_notice(register, forms, names=False)
        pdf = notice_pdf(notice)
        pages = PdfPages(pdf)
        count = len(pages)
        pages.close()
        yield Progress(1, 1, "排版")
        return PrintResult(pdf, count, len(notice.rows))

    return PrintSource("清理结果通报", NOTICE_ID, make, can_full=False,
                       detail={"names": False})


def summary_ids(forms: FormSet, level: str) -> list[str]:
    """The summaries a unit of `level` prints: those whose source form it keeps."""
    return [sid for sid, sdef in forms.summaries.items()
            if sdef.source_form in forms.forms and level in forms.form(sdef.source_form).levels]


def log_output(register: Register, actor: str, source: PrintSource, result: PrintResult, *,
               full: bool, output: str, where: str) -> None:
    """A print that leaves the program (a PDF file or a printer) goes to the audit log,
    masked or not: `output` is "file" or "printer", `where` the file or the printer's name."""
    if source.target == NOTICE_ID:
        action = "cleanup.notice"
    else:
        action = "print_full" if full else "print"
    with register.session() as session:
        append_audit(session, actor, action, source.target, {
            **source.detail, "records": result.records, "pages": result.pages,
            "masked": not full, "preview": False, "output": output, "to": where,
            "printed": date.today().isoformat()})
        session.commit()
