"""Paper and files of the cleanup: the 统计表 (Excel, PDF, JSON for the package, text) and the
通报 of the results for the members (PDF or Excel, names and categories only when the clerk
chooses). Every export is written to the audit log."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from desktop.domain.cleanup import INELIGIBLE, NO_ID, VIOLATION, WITHDRAWN
from desktop.domain.stats import (
    ACTUAL,
    COLUMNS,
    CONTACT,
    ENTRIES,
    FILED,
    FILLER,
    TITLE,
    TOTAL,
    UNIT,
    CleanupStats,
    stats_to_json,
)
from desktop.errors import KnownError
from desktop.formspec.model import FormSet
from desktop.reports.pdf.cleanup import notice_pdf, stats_pdf, zh_date
from desktop.services.cleanup.members import register_stats
from desktop.services.cleanup.model import FORM_ID, society_form
from desktop.storage import Register, append_audit

#: categories listed in a 通报 with names, unless the clerk chooses others
NOTICE_DEFAULT = (VIOLATION, INELIGIBLE, NO_ID, WITHDRAWN)


def log_export(register: Register, action: str, path: Path, detail: dict[str, Any],
               actor: str = "命令行") -> None:
    """Every export of personal data is logged (FORMS.md Confidentiality)."""
    with register.session() as session:
        append_audit(session, actor, action, path.name, {"file": str(path), **detail})
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


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def stats_workbook(stats: CleanupStats) -> Workbook:
    """The 统计表 in the notice's layout (附件2): title, header lines, 项目 | six columns | 数量,
    A4 landscape; with a second sheet 分单位明细 when it sums other units' tables."""
    wb = Workbook()
    ws = wb.active
    ws.title = "统计表"
    ncols = 1 + len(COLUMNS)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    ws["A1"] = TITLE
    ws["A1"].font, ws["A1"].alignment = Font(size=16, bold=True), _CENTER
    ws.row_dimensions[1].height = 32
    for r, (key, value) in enumerate(((UNIT, stats.unit), (FILLER, stats.filler),
                                      (CONTACT, stats.contact),
                                      (FILED, zh_date(stats.filed))), start=2):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncols)
        ws.cell(r, 1, f"{key}：{value}")
    head = 7
    for c, title in enumerate(("项目", *COLUMNS), start=1):
        cell = ws.cell(head, c, title)
        cell.font, cell.alignment, cell.border = Font(bold=True), _CENTER, _BOX
    ws.row_dimensions[head].height = 36
    for c, value in enumerate(("数量", *stats.columns().values()), start=1):
        cell = ws.cell(head + 1, c, value)
        cell.alignment, cell.border = _CENTER, _BOX
    ws.row_dimensions[head + 1].height = 24
    ws.merge_cells(start_row=head + 2, start_column=1, end_row=head + 2, end_column=ncols)
    ws.cell(head + 2, 1, f"{ENTRIES}：{stats.entries}（{ACTUAL} = {ENTRIES} − {TOTAL}）")
    ws.cell(head + 4, ncols - 2, "填报单位（盖章）：")
    ws.cell(head + 5, ncols, zh_date(stats.filed)).alignment = Alignment(horizontal="right")
    ws.column_dimensions["A"].width = 10
    for c in range(2, ncols + 1):
        ws.column_dimensions[chr(ord("A") + c - 1)].width = 17
    _a4_landscape(ws)
    if stats.parts:
        ps = wb.create_sheet("分单位明细")
        titles = (UNIT, ENTRIES, *COLUMNS)
        ps.append(titles)
        for p in stats.parts:
            ps.append([p.unit, p.entries, *p.columns().values()])
        ps.append(["合计", stats.entries, *stats.columns().values()])
        for row in ps.iter_rows():
            for cell in row:
                cell.border, cell.alignment = _BOX, _CENTER
        for cell in ps[1]:
            cell.font = Font(bold=True)
        ps.column_dimensions["A"].width = 24
        for c in range(2, len(titles) + 1):
            ps.column_dimensions[chr(ord("A") + c - 1)].width = 15
        _a4_landscape(ps)
    return wb


def _a4_landscape(ws) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


# --- 通报 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    unit: str
    stats: CleanupStats
    deadline: date | None
    rows: list[tuple[str, str, str]]  # (姓名, 会员证号, 清理类别) when names are listed
    names: bool
    issued: date
    withdrawn: int = 0  # of the no-ID members, those gone to 已退会

    @property
    def title(self) -> str:
        return f"{self.unit}关于个人会员清理工作结果的通报"

    def paragraphs(self) -> list[str]:
        s = self.stats
        withdrawn = self.withdrawn
        out = [
            "根据《中国法学会会员管理办法》（会字〔2020〕4号）和上级法学会关于集中开展个人会员清理工作的部署，"
            "本会对会员管理信息系统中的个人会员信息进行了清理。现将清理结果通报如下：",
            f"清理前登记条目 {s.entries} 条。清理重复录入 {s.duplicates} 人次（每人只保留一条有效信息）；"
            f"撤销严重违法违纪人员会员资格 {s.violations} 人；撤销不符合会员条件人员会员资格 "
            f"{s.ineligible} 人；无身份证号暂时移出会员队伍 {s.no_id} 人"
            + (f"（其中已按退会处理 {withdrawn} 人）" if withdrawn else "")
            + f"。合计清理 {s.total} 条，现有会员 {s.actual} 人。",
        ]
        if self.deadline:
            out.append(f"暂时移出不是一律清理。暂时移出的会员，符合会员条件的，经本人同意，可于 "
                       f"{zh_date(self.deadline.isoformat())}前补全身份证号等信息，重新办理入会手续；"
                       "逾期信息无法补全或本人不愿继续入会的，按退会处理。")
        if self.names:
            out.append(f"清理人员名单如下（共 {len(self.rows)} 人）：" if self.rows else
                       "所选类别没有清理人员。")
        return out


def build_notice(register: Register, forms: FormSet, *, names: bool,
                 categories: list[str] | None = None, deadline: date | None = None,
                 today: date | None = None) -> Notice:
    """The 通报 of the register's cleanup: the numbers always; names and categories of the
    chosen categories only when `names` (no ID numbers, no phones)."""
    today = today or date.today()
    stats = register_stats(register, filed=today.isoformat())
    labels = society_form(forms).field("status").codes
    chosen = tuple(categories or NOTICE_DEFAULT)
    rows: list[tuple[str, str, str]] = []
    with register.engine.connect() as conn:
        withdrawn = conn.exec_driver_sql(
            "SELECT count(*) FROM record WHERE form_id = ? AND unit_id = ? AND "
            "json_extract(data, '$.status') = ?",
            (FORM_ID, register.own_unit_id, WITHDRAWN)).scalar_one()
        if names:
            marks = ", ".join("?" for _ in chosen)
            for name, no, status in conn.exec_driver_sql(
                    "SELECT name, json_extract(data, '$.member_no'), json_extract(data, '$.status') "
                    f"FROM record WHERE form_id = ? AND unit_id = ? AND "
                    f"json_extract(data, '$.status') IN ({marks}) ORDER BY 3, 2, 1",
                    (FORM_ID, register.own_unit_id, *chosen)):
                rows.append((name or "", no or "", labels.label_of(status) if labels else status))
    return Notice(stats.unit, stats, deadline, rows, names, today, withdrawn)


def write_notice(path: Path, notice: Notice) -> None:
    try:
        if path.suffix.lower() == ".pdf":
            path.write_bytes(notice_pdf(notice))
        else:
            notice_workbook(notice).save(path)
    except OSError as err:
        raise KnownError(f"无法写入 {path}（{err.strerror}）。如文件已打开，请先关闭。") from None


def notice_workbook(notice: Notice) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "通报"
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 16
    ws.column_dimensions["C"].width = 18
    ws.column_dimensions["D"].width = 26
    ws.merge_cells("A1:D1")
    ws["A1"] = notice.title
    ws["A1"].font, ws["A1"].alignment = Font(size=15, bold=True), _CENTER
    ws.row_dimensions[1].height = 40
    r = 2
    for text in notice.paragraphs():
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=4)
        ws.cell(r, 1, "　　" + text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[r].height = 18 * (1 + len(text) // 40)
        r += 1
    if notice.names and notice.rows:
        for c, title in enumerate(("序号", "姓名", "会员证号", "清理类别"), start=1):
            cell = ws.cell(r, c, title)
            cell.font, cell.border, cell.alignment = Font(bold=True), _BOX, _CENTER
        for i, (name, no, category) in enumerate(notice.rows, start=1):
            for c, value in enumerate((i, name, no, category), start=1):
                ws.cell(r + i, c, value).border = _BOX
        r += len(notice.rows) + 1
    ws.cell(r + 1, 4, notice.unit).alignment = Alignment(horizontal="right")
    ws.cell(r + 2, 4, zh_date(notice.issued.isoformat())).alignment = Alignment(
        horizontal="right")
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_options.horizontalCentered = True
    return wb
