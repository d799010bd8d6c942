"""The cleanup workbook: the proposals written for the clerk (read back as rows by
reports/xlsx/cleanup_read.py, into decisions by services/cleanup/workbook.py).

Sheets: 说明; 重复录入 (one row per entry proposed for removal, with the entry it would be merged
into); 无身份证号 (one row per member); 长期失联或不履行义务 (candidates); each with a column
处理决定 where 同意 applies the proposal and anything else leaves it; 撤销资格 (empty: the clerk
lists revocations with 会员证号, 清理类别, 依据, 经办人, 审批人); 会员证号核对 (information only).
The column 记录编号 names the entry for certain, because legacy member numbers repeat.

Written with openpyxl's write-only mode: plain values, styles on the header only (a styled cell
costs as much as ten plain ones), about 15 s for 90,000 rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from desktop.domain.forms import FormSpec
from desktop.domain.masking import masked_text
from desktop.domain.society.cleanup import INELIGIBLE, VIOLATION
from desktop.domain.society.results import Proposal
from desktop.reports.xlsx.cells import put_row, put_text

HELP, DUP, NOID, OVERDUE, REVOKE, NUMBERS, CODES = (
    "说明", "重复录入", "无身份证号", "长期失联或不履行义务", "撤销资格", "会员证号核对", "代码表")
DECISION, AGREE, DISAGREE = "处理决定", "同意", "不同意"
RECORD, KEPT_RECORD = "记录编号", "并入记录编号"
MEMBER_NO, NAME, CATEGORY, REASON = "会员证号", "姓名", "清理类别", "不符合条件情形"
BASIS, HANDLER, APPROVER = "依据", "经办人", "审批人"
REVOKE_NAME = "姓名（核对用，可不填）"
REVOKE_RECORD = "记录编号（会员证号重复时填写）"
CATEGORIES = {"严重违法违纪": VIOLATION, "不符合条件": INELIGIBLE}

_DUP_COLS = (("序号", 6), (MEMBER_NO, 16), (NAME, 10), ("公民身份号码", 21), ("出生日期", 12),
             ("工作单位", 24), ("并入条目会员证号", 16), ("并入条目姓名", 10),
             ("并入条目公民身份号码", 21), ("判定", 16), ("判定依据", 26), (DECISION, 10),
             ("备注", 16), (RECORD, 38), (KEPT_RECORD, 38))
_NOID_COLS = (("序号", 6), (MEMBER_NO, 16), (NAME, 10), ("出生日期", 12), ("工作单位", 24),
              ("手机", 14), ("批准入会日期", 13), ("备注", 22), (DECISION, 10), (RECORD, 38))
_OVERDUE_COLS = (("序号", 6), (MEMBER_NO, 16), (NAME, 10), ("工作单位", 24), ("最近联系日期", 13),
                 ("最近履行会员义务日期", 13), (REASON, 28), (BASIS, 40), (HANDLER, 10),
                 (APPROVER, 10), (DECISION, 10), (RECORD, 38))
_REVOKE_COLS = ((MEMBER_NO, 16), (REVOKE_NAME, 12), (CATEGORY, 14), (REASON, 28), (BASIS, 40),
                (HANDLER, 10), (APPROVER, 10), (REVOKE_RECORD, 38))
_NUMBER_COLS = (("序号", 6), (MEMBER_NO, 16), ("级别", 6), ("问题", 60), (RECORD, 38))

_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_DECIDE_FILL = PatternFill("solid", fgColor="FFF2CC")
_TECH_FONT = Font(color="808080")
_TECH_FILL = PatternFill("solid", fgColor="EDEDED")
_WRAP = Alignment(wrap_text=True, vertical="top")


# --- writing ---------------------------------------------------------------------------------


def write_proposal(path: Path, proposal: Proposal, form: FormSpec, *, unit_name: str,
                   full: bool = False) -> None:
    """Write the proposals as the cleanup workbook. ID numbers, phones and birth dates are
    masked (domain.masking) unless `full` (the caller logs a full export)."""
    def idn(number: str) -> str:
        return number if full else masked_text("id", number)

    def phone(number: str) -> str:
        return number if full else masked_text("phone", number)

    def born(text: str) -> str:
        return text if full else masked_text("birth", text)

    wb = Workbook(write_only=True)
    reasons = form.field("ineligible_reason").codes
    reason_labels = [c.label for c in reasons.codes] if reasons else []
    _help_sheet(wb, proposal, unit_name, full)

    rows = []
    for g in proposal.groups:
        k = g.keep
        for r in g.removals:
            m = r.member
            note = "" if m.status in ("1", "7") else f"现为{_status(form, m.status)}"
            rows.append([m.member_no, m.name, idn(m.id_number), born(m.birth_date), m.employer,
                         k.member_no, k.name, idn(k.id_number),
                         "确定重复" if r.certain else "疑似重复，请核实", r.reason, None, note,
                         m.id, k.id])
    _table(wb, DUP, _DUP_COLS, rows, decide=True)

    removed = proposal.removed_ids
    rows = [[m.member_no, m.name, born(m.birth_date), m.employer, phone(m.mobile), m.approved,
             "亦列入“重复录入”，如确认重复则按重复录入处理" if m.id in removed else "", None, m.id]
            for m in proposal.no_id]
    _table(wb, NOID, _NOID_COLS, rows, decide=True)

    rows = [[o.member.member_no, o.member.name, o.member.employer, o.last_contact, o.last_duty,
             reasons.label_of(o.reason) if reasons else o.reason, o.basis, None, None, None,
             o.member.id] for o in proposal.overdue]
    _table(wb, OVERDUE, _OVERDUE_COLS, rows, decide=True,
           lists={REASON: "reasons"})

    _table(wb, REVOKE, _REVOKE_COLS, [], decide=False, blank_rows=200,
           lists={CATEGORY: "categories", REASON: "reasons"})

    rows = [[i.member_no, i.severity, i.message, "、".join(i.record_ids)]
            for i in proposal.number_issues]
    _table(wb, NUMBERS, _NUMBER_COLS, rows, decide=False)
    _codes_sheet(wb, reason_labels)
    wb.save(path)


def _status(form: FormSpec, code: str) -> str:
    codes = form.field("status").codes
    return codes.label_of(code) if codes else code


def _help_sheet(wb: Workbook, p: Proposal, unit_name: str, full: bool) -> None:
    ws = wb.create_sheet(HELP)
    ws.column_dimensions["A"].width = 110
    lines = [
        f"{unit_name} 个人会员清理表（{p.today.isoformat()} 生成）",
        f"登记条目 {p.entries} 条，其中在册（含重新入会）{p.active} 条。",
        f"重复录入：{len(p.groups)} 组，建议清理 {p.removals} 条（“确定重复”为同一公民身份号码；"
        "“疑似重复”为无身份证号条目与他人姓名及出生日期、工作单位或手机相同，请核实）。",
        f"无身份证号：{len(p.no_id)} 人，建议暂时移出会员队伍。",
        f"长期失联或不履行义务：{len(p.overdue)} 人（最近联系或履行会员义务已满 {p.years} 年）；"
        f"另有 {p.undated} 人两个日期都没有登记，无法判断，未列入。",
        f"会员证号核对：{len(p.number_issues)} 项，仅供核对，不作处理。",
        "",
        "填写方法：在各页“处理决定”列填“同意”即按建议处理；填其他内容或不填，该条不处理。",
        "“撤销资格”页由经办人逐行填写需撤销资格的会员：会员证号、清理类别（严重违法违纪或不符合条件）、"
        "不符合条件情形（清理类别为不符合条件时必填）、依据、经办人、审批人。",
        "“长期失联或不履行义务”页同意的，按“不符合条件”撤销资格，须填经办人和审批人（也可在导入命令中统一指定）。",
        "“记录编号”“并入记录编号”两列用于准确找到条目，请勿修改。",
        "填好后运行：dengji cleanup apply --db 登记库 本文件 --handler 经办人 [--approver 审批人]。"
        "全部无误才会写入；有问题时逐格列出，登记库不作任何改动。",
        "不会删除任何记录：清理只改变会员状态，并在操作日志中记录经办人、时间和依据。",
        "本表含个人信息，请妥善保管，用后删除。" + ("（本表为全号导出，已记入操作日志）" if full else
                                          "身份证号码和手机号码已部分遮蔽。"),
    ]
    for line in lines:
        ws.append(put_row(ws, [line]))


def _header(ws, cols: Sequence[tuple[str, int]]) -> list[WriteOnlyCell]:
    cells = []
    for title, _ in cols:
        c = put_text(WriteOnlyCell(ws), title)
        c.font, c.alignment = _HEAD_FONT, _WRAP
        c.fill = _DECIDE_FILL if title == DECISION else _HEAD_FILL
        if title in (RECORD, KEPT_RECORD):
            c.font, c.fill = _TECH_FONT, _TECH_FILL
        cells.append(c)
    return cells


def _table(wb: Workbook, title: str, cols: Sequence[tuple[str, int]], rows: list[list[Any]], *,
           decide: bool, blank_rows: int = 0, lists: dict[str, str] | None = None) -> None:
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    numbered = cols[0][0] == "序号"
    for i, (_, width) in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    last = max(len(rows), blank_rows) + 1
    titles = [t for t, _ in cols]
    if decide:
        col = get_column_letter(titles.index(DECISION) + 1)
        dv = DataValidation(type="list", formula1=f'"{AGREE},{DISAGREE}"', allow_blank=True)
        dv.add(f"{col}2:{col}{max(last, 2)}")
        ws.data_validations.append(dv)
    for name, ref in (lists or {}).items():
        col = get_column_letter(titles.index(name) + 1)
        source = "$A$1:$A$2" if ref == "categories" else "$B$1:$B$40"
        dv = DataValidation(type="list", formula1=f"{CODES}!{source}", allow_blank=True)
        dv.add(f"{col}2:{col}{max(last, 2)}")
        ws.data_validations.append(dv)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(last, 2)}"
    ws.append(_header(ws, cols))
    # plain values only: a styled cell costs as much as ten plain ones in write-only mode (text
    # that would be a formula is the exception: put_text gives it the quote prefix)
    append = ws.append
    if numbered:
        for n, row in enumerate(rows, start=1):
            append(put_row(ws, [n, *row]))
    else:
        for row in rows:
            append(put_row(ws, row))


def _codes_sheet(wb: Workbook, reasons: list[str]) -> None:
    ws = wb.create_sheet(CODES)
    ws.sheet_state = "hidden"
    cats = list(CATEGORIES)
    for i in range(max(len(cats), len(reasons))):
        ws.append(put_row(ws, [cats[i] if i < len(cats) else None,
                               reasons[i] if i < len(reasons) else None]))
