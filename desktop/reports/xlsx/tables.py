"""What goes on the sheets of an exported workbook: a summary (附件4–6) or a form's records.

Pure layout decisions (no SQL): the sheets of a `Summary` — the table itself, the list of
records in 未转入情形 4/5 when there are any, and 分类统计 with the totals as numbers — and the
sheet of a form's records, one column per field like the fill-in template, so an export read
back with `dengji import` maps every column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from desktop.domain.forms import FormSpec
from desktop.domain.summaries import SEQ, Summary, cell_text
from desktop.reports.xlsx.columns import FormColumn, form_columns
from desktop.reports.xlsx.write import DocProps, TableSheet, UnitLine

MASK_NOTE = ("注：公民身份号码和电话号码已部分遮蔽，出生日期只显示年月（导出时选择“完整号码”可显示全部，"
             "此操作记入操作日志）。")


def summary_sheets(summary: Summary, unit: UnitLine) -> list[TableSheet]:
    """The summary table, its list of records left out, and the totals as a small table."""
    note = "" if summary.full else MASK_NOTE
    sheets = [TableSheet(
        summary.attachment, summary.title, summary.columns, summary.column_types, summary.rows,
        summary.count, summary.totals_row, [(g.label, g.items) for g in summary.totals], unit,
        note)]
    if summary.excluded_rows:
        n, ex = len(summary.excluded_rows), summary.excluded_by
        sheets.append(TableSheet(
            ex.sheet, f"{summary.attachment} {ex.title}",
            summary.excluded_columns, summary.excluded_types, summary.excluded_rows, n,
            (f"合计：{n} {summary.counter}", *([""] * (len(summary.excluded_columns) - 1))), (),
            unit, note))
    stats = [(g.label, item, str(count)) for g in summary.totals for item, count in g.items]
    sheets.append(TableSheet("分类统计", f"{summary.title} 分类统计", ("分类", "项目", "数量"),
                             ("text", "text", "int"), stats, len(stats), None, (), unit, "",
                             signatures=False))
    return sheets


def form_sheet(form: FormSpec, records: list[Mapping[str, Any]], unit: UnitLine, *,
               full: bool) -> TableSheet:
    """Every record of a form, one column per field (groups over numbered columns)."""
    rows_per_group = {g.id: max([1, *(len(r.get(g.id) or ()) for r in records)])
                      for g in form.fields if g.type == "group"}
    columns = form_columns(form, rows_per_group)
    return TableSheet(
        form.attachment or form.id, form.display_title, (SEQ, *(c.label for c in columns)),
        ("seq", *(c.spec.type for c in columns)), _form_rows(columns, records, full),
        len(records), (f"合计：{len(records)} 条", *([""] * len(columns))), (), unit,
        "" if full else MASK_NOTE)


def _form_rows(columns: list[FormColumn], records: Iterable[Mapping[str, Any]], full: bool
               ) -> Iterator[tuple[str, ...]]:
    for no, values in enumerate(records, start=1):
        cells = [str(no)]
        for c in columns:
            if c.group is None:
                cells.append(cell_text(c.spec, values.get(c.spec.id), full))
                continue
            rows = values.get(c.group.id) or []
            row = rows[c.index - 1] if c.index - 1 < len(rows) else None
            value = row.get(c.spec.id) if isinstance(row, Mapping) else None
            cells.append(cell_text(c.spec, value, full))
        yield tuple(cells)


def doc_props(title: str, *, unit_name: str, filler: str, form_id: str, form_version: str,
              records: int, full: bool) -> DocProps:
    """Document properties of an exported table (File → Properties in Excel and WPS)."""
    return DocProps(
        title=title, subject=title, author=filler or unit_name, company=unit_name,
        category=title.split(" ", 1)[0], keywords=f"{form_id} 登记 Dengji",
        comments=("由 登记 Dengji 生成。" + ("含完整公民身份号码和电话号码，请妥善保管。" if full
                                           else "公民身份号码和电话号码已部分遮蔽。")),
        custom={"dengji_form": form_id, "dengji_form_version": form_version,
                "dengji_records": records, "dengji_full_numbers": full})
