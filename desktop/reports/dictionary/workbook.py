"""数据字典.xlsx of an open data export: a sheet per form version (every field: its id, label,
type, whether required, length, code table, the rules that check it and their source; then
the rules over the whole record), and one sheet of every code table with its codes.

The content comes from formspec.dictionary (made from forms/*.toml); every text cell goes
through cells.put_text.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from desktop.formspec.dictionary import Dictionary, FieldLine, RuleLine
from desktop.reports.xlsx.cells import put_text

FIELD_HEADERS = ("序号", "栏目编号", "栏目名称", "分节", "类型", "JSON 类型", "必填", "最大长度",
                 "日期精度", "代码表", "规则", "规则依据", "填写说明")
WIDTHS = (5, 22, 26, 14, 18, 10, 6, 8, 10, 26, 60, 44, 36)
RULE_HEADERS = ("规则", "范围", "涉及栏目", "说明", "依据")
TABLE_HEADERS = ("代码表", "代码表名称", "来源", "代码", "名称", "已停用")
SCOPES = {"field": "栏目", "record": "本条记录", "cross": "跨记录"}
PRECISION_WORDS = {"day": "日", "month": "日；只知年月的可为年月"}


def field_cells(line: FieldLine) -> list[str]:
    """The cells of a field's row (the .md writer shows the same)."""
    table = f"{line.table.label}（{line.table.id}）" if line.table else ""
    return [str(line.no), line.id, line.label, line.section, line.type_words, line.json_type,
            "是" if line.required else "", str(line.max_length or ""),
            PRECISION_WORDS.get(line.precision, ""), table,
            "；".join(r.words for r in line.rules),
            "；".join(dict.fromkeys(part for r in line.rules for part in r.source.split("；"))),
            line.hint]


def rule_cells(rule: RuleLine) -> list[str]:
    return [rule.rule, SCOPES.get(rule.scope, rule.scope), "、".join(rule.fields), rule.words,
            rule.source]


def write_dictionary(path: Path, dictionary: Dictionary, title: str) -> Path:
    """Write the workbook to `path` (a new file)."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_urls": False})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                            "valign": "top"})
    cell = book.add_format({"text_wrap": True, "valign": "top", "border": 1})
    quoted = book.add_format({"text_wrap": True, "valign": "top", "border": 1,
                              "quote_prefix": True})
    bold = book.add_format({"bold": True, "font_size": 13})
    book.set_properties({"title": title, "subject": "开放数据的数据字典"})
    used: set[str] = set()
    for form in dictionary.forms:
        name = _sheet_name(form.attachment or form.id, used)
        sheet = book.add_worksheet(name)
        put_text(sheet, f"{form.display_title}（{form.id}，版本 {form.version}）", at=(0, 0),
                 fmt=bold)
        put_text(sheet, f"数据文件：{dictionary.stem(form)}.jsonl；JSON Schema："
                        f"{dictionary.stem(form)}.schema.json", at=(1, 0))
        for c, (text, width) in enumerate(zip(FIELD_HEADERS, WIDTHS, strict=True)):
            put_text(sheet, text, at=(3, c), fmt=head)
            sheet.set_column(c, c, width)
        row = 4
        for line in dictionary.fields(form):
            for c, text in enumerate(field_cells(line)):
                put_text(sheet, text, at=(row, c), fmt=cell, quoted=quoted)
            row += 1
        sheet.freeze_panes(4, 3)
        rules = dictionary.record_rules(form)
        if rules:
            row += 1
            put_text(sheet, "整条记录的规则", at=(row, 0), fmt=bold)
            row += 1
            for c, text in enumerate(RULE_HEADERS):
                put_text(sheet, text, at=(row, c + 1), fmt=head)
            for rule in rules:
                row += 1
                for c, text in enumerate(rule_cells(rule)):
                    put_text(sheet, text, at=(row, c + 1), fmt=cell, quoted=quoted)
    sheet = book.add_worksheet(_sheet_name("代码表", used))
    for c, (text, width) in enumerate(zip(TABLE_HEADERS, (18, 20, 40, 10, 30, 8), strict=True)):
        put_text(sheet, text, at=(0, c), fmt=head)
        sheet.set_column(c, c, width)
    row = 1
    for table in dictionary.tables():
        for code in table.codes:
            cells = [table.id, table.label, table.source, code.code, code.label,
                     "是" if code.deprecated else ""]
            for c, text in enumerate(cells):
                put_text(sheet, text, at=(row, c), quoted=quoted)
            row += 1
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(row - 1, 1), len(TABLE_HEADERS) - 1)
    book.close()
    return path


def _sheet_name(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\) and not yet used."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:28] or "表"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}{n}"
    used.add(candidate)
    return candidate
