"""Paper and files of the cleanup: the 统计表 (Excel, PDF, JSON for the package, text) and the
通报 of the results for the members (PDF or Excel, names and categories only when the clerk
chooses). Every export is written to the audit log."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from desktop.domain.forms import FormSet
from desktop.domain.society.cleanup import INELIGIBLE, NO_ID, VIOLATION, WITHDRAWN
from desktop.domain.society.results import Notice, zh_date
from desktop.domain.society.stats import (
    CONTACT,
    ENTRIES,
    FILED,
    FILLER,
    TITLE,
    UNIT,
    CleanupStats,
    stats_to_json,
)
from desktop.errors import KnownError
from desktop.reports.pdf.cleanup import notice_pdf, stats_pdf
from desktop.reports.xlsx.stats import notice_workbook, stats_workbook
from desktop.services.cleanup.members import register_stats
from desktop.services.cleanup.model import society_form
from desktop.services.cleanup.stored import member_fields, status_counts
from desktop.storage import Register, append_audit

#: categories listed in a 通报 with names, unless the clerk chooses others
NOTICE_DEFAULT = (VIOLATION, INELIGIBLE, NO_ID, WITHDRAWN)


def log_export(register: Register, action: str, path: Path, detail: dict[str, Any],
               actor: str = "命令行") -> None:
    """Every export of personal data is logged (FORMS.md Confidentiality)."""
    with register.session() as session:
        append_audit(session, actor, action, path.name, {"file": path.name, **detail})
        session.commit()


# --- 统计表 ---------------------------------------------------------------------------------


def print_stats(stats: CleanupStats, fmt: str) -> None:
    """The table on standard output: JSON keyed by the column titles, or readable lines."""
    if fmt == "json":
        json.dump(stats_to_json(stats), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return
    out = [TITLE, f"{UNIT}：{stats.unit}", f"{FILLER}：{stats.filler}",
           f"{CONTACT}：{stats.contact}", f"{FILED}：{zh_date(stats.filed)}",
           f"{ENTRIES}：{stats.entries}"]
    out += [f"{title}：{value}" for title, value in stats.columns().items()]
    for p in stats.parts:
        out.append(f"  其中 {p.unit}：{ENTRIES} {p.entries}，" +
                   "，".join(f"{t} {v}" for t, v in p.columns().items()))
    print("\n".join(out))


def write_stats(path: Path, stats: CleanupStats) -> None:
    """Save the table as .json (what a package carries), .xlsx or .pdf, in the table's layout."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            path.write_text(json.dumps(stats_to_json(stats), ensure_ascii=False, indent=1),
                            encoding="utf-8")
        elif suffix == ".xlsx":
            stats_workbook(stats).save(path)
        elif suffix == ".pdf":
            path.write_bytes(stats_pdf(stats))
        else:
            raise KnownError(f"统计表可保存为 .xlsx、.pdf 或 .json，不能保存为“{path.suffix}”：{path}",
                             exit_code=2)
    except OSError as err:
        raise KnownError(f"无法写入 {path}（{err.strerror}）。如文件已打开，请先关闭。") from None


# --- 通报 -----------------------------------------------------------------------------------


def build_notice(register: Register, forms: FormSet, *, names: bool,
                 categories: list[str] | None = None, deadline: date | None = None,
                 today: date | None = None) -> Notice:
    """The 通报 of the register's cleanup: the numbers always; names and categories of the
    chosen categories only when `names` (no ID numbers, no phones)."""
    today = today or date.today()
    stats = register_stats(register, filed=today.isoformat())
    labels = society_form(forms).field("status").codes
    chosen = tuple(categories or NOTICE_DEFAULT)
    listed: list[tuple[str, str, str]] = []
    with register.engine.connect() as conn:
        withdrawn = status_counts(conn, register.own_unit_id).get(
            (register.own_unit_id, WITHDRAWN), 0)
        if names:
            listed = sorted((str(status or "1"), str(no or ""), name or "") for _, _, name,
                            (no, status) in member_fields(conn, ("member_no", "status"),
                                                          unit_id=register.own_unit_id,
                                                          status=chosen))
    rows = [(name, no, labels.label_of(status) if labels else status)
            for status, no, name in listed]
    return Notice(stats.unit, stats, deadline, rows, names, today, withdrawn)


def write_notice(path: Path, notice: Notice) -> None:
    try:
        if path.suffix.lower() == ".pdf":
            path.write_bytes(notice_pdf(notice))
        else:
            notice_workbook(notice).save(path)
    except OSError as err:
        raise KnownError(f"无法写入 {path}（{err.strerror}）。如文件已打开，请先关闭。") from None
