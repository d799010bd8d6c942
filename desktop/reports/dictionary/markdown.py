"""数据字典.md of an open data export: the same content as 数据字典.xlsx
(workbook.py) as Markdown, for a reader without a spreadsheet program."""

from __future__ import annotations

from desktop.formspec.dictionary import Dictionary
from desktop.reports.dictionary.workbook import FIELD_HEADERS, RULE_HEADERS, field_cells, rule_cells


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _row(cells: list[str] | tuple[str, ...]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def dictionary_markdown(dictionary: Dictionary, title: str, intro: list[str]) -> str:
    """The whole dictionary as one Markdown text."""
    out = [f"# {title}", "", *intro, ""]
    for form in dictionary.forms:
        stem = dictionary.stem(form)
        out += [f"## {form.display_title}（{form.id}，版本 {form.version}）", "",
                f"数据文件 `{stem}.jsonl`，JSON Schema `{stem}.schema.json`。", "",
                _row(FIELD_HEADERS), _row(["---"] * len(FIELD_HEADERS))]
        out += [_row(field_cells(line)) for line in dictionary.fields(form)]
        rules = dictionary.record_rules(form)
        if rules:
            out += ["", "整条记录的规则：", "", _row(RULE_HEADERS),
                    _row(["---"] * len(RULE_HEADERS))]
            out += [_row(rule_cells(r)) for r in rules]
        out.append("")
    out += ["## 代码表", ""]
    for table in dictionary.tables():
        out += [f"### {table.label}（{table.id}）", "", f"来源：{table.source or '—'}", "",
                _row(("代码", "名称")), _row(("---", "---"))]
        out += [_row((c.code, c.label + ("（已停用）" if c.deprecated else "")))
                for c in table.codes]
        out.append("")
    return "\n".join(out)
