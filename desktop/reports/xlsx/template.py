"""Fill-in templates: a workbook a clerk fills in Excel or WPS and imports back.

Sheet 1 (named after the attachment, e.g. 附件1) has one header row with the field labels of
the form (required columns shaded orange), a comment on every header cell with the input hint,
a drop-down list on every coded column (the labels live on the hidden sheet 代码表), 是/否 lists
on yes/no columns, a date check on date columns, and column formats: text ("@") for everything
typed as text, so Excel keeps leading zeros and never turns an ID number into 1.1E+17; a date
format on date columns. Sheet 填写说明 explains each column. The header row is frozen.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import xlsxwriter

from desktop.domain.forms import FieldSpec, FormSpec
from desktop.reports.output import atomic_file
from desktop.reports.xlsx.cells import put_text
from desktop.reports.xlsx.columns import FormColumn, column_letter, form_columns
from desktop.reports.xlsx.write import FONT, WIDTHS, text_width

CODE_SHEET = "代码表"
HELP_SHEET = "填写说明"
LAST_ROW = 1_048_575  # 0-based index of Excel's last row

TYPE_HINTS = {
    "text": "文字",
    "int": "整数",
    "bool": "填“是”或“否”",
    "date": "日期，如 2020-01-05（也可写 2020.1.5、2020年1月5日）",
    "yearmonth": "年月，如 2021-03",
    "code": "从下拉列表中选择",
    "id_number": "18 位，最后一位可为 X；本列已设为文本格式",
    "mobile": "11 位手机号码",
    "landline": "区号-号码，如 0311-85551234",
    "phone": "手机号码，或“区号-号码”",
    "uscc": "18 位统一社会信用代码",
    "licence": "17 位数字",
    "region": "省-市-县，如 河北省-石家庄市-长安区",
}


def column_hint(spec: FieldSpec) -> str:
    """What a header comment and the help sheet say about a column."""
    parts = ["必填" if spec.required else "选填", TYPE_HINTS.get(spec.type, "")]
    if spec.hint:
        parts.append(spec.hint)
    if spec.max_length and spec.type == "text":
        parts.append(f"不超过 {spec.max_length} 字")
    return "；".join(p for p in parts if p)


def write_template(form: FormSpec, path: Path) -> Path:
    """Write the fill-in template of `form` to `path` (replaced atomically)."""
    path = Path(path)
    with atomic_file(path) as part:
        wb = xlsxwriter.Workbook(str(part), {"strings_to_numbers": False,
                                             "strings_to_formulas": False,
                                             "strings_to_urls": False})
        columns = form_columns(form)
        ws = wb.add_worksheet(form.attachment or "数据")
        codes = wb.add_worksheet(CODE_SHEET)
        lists = _code_lists(codes, columns)
        codes.hide()
        _data_sheet(wb, ws, columns, lists)
        _help_sheet(wb, wb.add_worksheet(HELP_SHEET), form, columns)
        ws.activate()
        wb.set_properties({"title": f"{form.display_title} 填写模板",
                           "subject": form.display_title, "author": "登记 Dengji",
                           "category": "填写模板", "keywords": form.id,
                           "comments": "填好后用“导入Excel”或 dengji import 导入"})
        wb.set_custom_property("dengji_form", form.id)
        wb.set_custom_property("dengji_form_version", form.version)
        wb.close()
    return path


def _code_lists(ws, columns: list[FormColumn]) -> dict[str, str]:
    """Write each code table used by a column on the hidden sheet; table id → range formula."""
    out: dict[str, str] = {}
    j = 0
    for col in columns:
        table = col.spec.codes
        if col.spec.type != "code" or table is None or table.id in out:
            continue
        labels = [c.label for c in table.codes if not c.deprecated]
        put_text(ws, table.label, at=(0, j))
        for i, label in enumerate(labels, start=1):
            put_text(ws, label, at=(i, j))
        letter = column_letter(j)
        out[table.id] = f"={CODE_SHEET}!${letter}$2:${letter}${len(labels) + 1}"
        j += 1
    return out


def _data_sheet(wb, ws, columns: list[FormColumn], lists: dict[str, str]) -> None:
    base = {"font_name": FONT, "font_size": 10}
    text = wb.add_format(dict(base, num_format="@"))
    day = wb.add_format(dict(base, num_format="yyyy-mm-dd"))
    number = wb.add_format(dict(base, num_format="0"))
    head = {**base, "bold": True, "border": 1, "align": "center", "valign": "vcenter",
            "text_wrap": True}
    header = wb.add_format(dict(head, bg_color="#D9D9D9"))
    required = wb.add_format(dict(head, bg_color="#F8CBAD"))
    quoted = {id(f): wb.add_format(dict(props, quote_prefix=True))
              for f, props in ((header, dict(head, bg_color="#D9D9D9")),
                               (required, dict(head, bg_color="#F8CBAD")))}
    lines = 1
    for j, col in enumerate(columns):
        spec = col.spec
        width = max(WIDTHS.get(spec.type, 12), min(text_width(col.label) + 2, 24))
        lines = max(lines, -(-text_width(col.label) // int(width - 1)))
        # a date that may be a year-month alone is text: Excel would make 1963-09 a day
        exact = spec.type == "date" and spec.precision == "day"
        fmt = day if exact else number if spec.type == "int" else text
        ws.set_column(j, j, width, fmt)
        is_required = spec.required and (col.group is None or col.index == 1)
        head_fmt = required if is_required else header
        put_text(ws, col.label, at=(0, j), fmt=head_fmt, quoted=quoted[id(head_fmt)])
        ws.write_comment(0, j, _comment(col), {"x_scale": 2, "y_scale": 1.6,
                                                 "font_name": FONT})
        _validation(ws, j, spec, lists)
    ws.set_row(0, 15 * lines + 6)
    ws.freeze_panes(1, 0)
    ws.set_paper(9)
    ws.set_landscape()
    ws.repeat_rows(0)


def _comment(col: FormColumn) -> str:
    spec = col.spec
    head = col.label if col.group is None else f"{col.group.label}（第 {col.index} 所）{spec.label}"
    return f"{head}\n{column_hint(spec)}"


def _validation(ws, j: int, spec: FieldSpec, lists: dict[str, str]) -> None:
    where = (1, j, LAST_ROW, j)
    if spec.type == "code" and spec.codes is not None and spec.codes.id in lists:
        ws.data_validation(*where, {
            "validate": "list", "source": lists[spec.codes.id], "error_type": "warning",
            "error_title": spec.label[:32], "error_message": "不在下拉列表中，导入时会再核对。是否保留？",
        })
    elif spec.type == "bool":
        ws.data_validation(*where, {"validate": "list", "source": ["是", "否"],
                                    "error_type": "warning", "error_title": spec.label[:32],
                                    "error_message": "请填“是”或“否”"})
    elif spec.type == "date" and spec.precision == "day":
        ws.data_validation(*where, {
            "validate": "date", "criteria": "between", "minimum": date(1900, 1, 1),
            "maximum": date(2100, 12, 31), "error_type": "warning", "error_title": spec.label[:32],
            "error_message": "请按 2020-01-05 的格式填写日期。是否保留？",
        })
    elif spec.type == "int":
        ws.data_validation(*where, {"validate": "integer", "criteria": ">=", "value": 0,
                                    "error_type": "warning", "error_title": spec.label[:32],
                                    "error_message": "请填写整数"})


def _help_sheet(wb, ws, form: FormSpec, columns: list[FormColumn]) -> None:
    base = {"font_name": FONT, "font_size": 10, "valign": "top", "text_wrap": True}
    title = wb.add_format(dict(base, bold=True, font_size=14, text_wrap=False))
    header = wb.add_format(dict(base, bold=True, border=1, bg_color="#D9D9D9"))
    cell = wb.add_format(dict(base, border=1))
    quoted = wb.add_format(dict(base, border=1, quote_prefix=True))
    put_text(ws, f"{form.display_title} 填写说明", at=(0, 0), fmt=title)
    plain = wb.add_format(base)
    ws.merge_range(1, 0, 1, 3, "", plain)
    put_text(ws, "每行一条记录；不要改动第一行的栏目名称。橙色栏目为必填。"
             "公民身份号码等长号码请保持文本格式（本模板已设置）。", at=(1, 0), fmt=plain)
    widths = (28, 6, 60, 60)
    for j, (label, width) in enumerate(zip(("栏目", "必填", "填写要求", "可选值"), widths,
                                           strict=True)):
        ws.set_column(j, j, width)
        put_text(ws, label, at=(3, j), fmt=header)
    r = 4
    for col in columns:
        if col.group is not None and col.index > 1:
            continue
        spec = col.spec
        label = col.label if col.group is None else f"{col.group.label}N{spec.label}"
        values = ""
        if spec.type == "code" and spec.codes is not None:
            values = "、".join(c.label for c in spec.codes.codes if not c.deprecated)
        texts = (label, "是" if spec.required else "", column_hint(spec), values)
        for j, v in enumerate(texts):
            put_text(ws, v, at=(r, j), fmt=cell, quoted=quoted)
        # rows do not grow by themselves in every program: give wrapped text its lines
        lines = max(-(-text_width(v) // (w - 2)) for v, w in zip(texts, widths, strict=True))
        ws.set_row(r, 14 * max(lines, 1) + 2)
        r += 1
    ws.freeze_panes(4, 1)
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(3)
