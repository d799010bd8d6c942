"""Strict loader of forms/*.toml and forms/codes/*.toml into frozen specs.

Unknown keys, unknown rule names, wrong parameter names and missing code tables are refused
with the file and the key named (qutebrowser's configdata loader habit). Adding a field to a
form is an edit of its TOML file only.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from desktop.domain.forms import (
    FIELD_TYPES,
    LEVELS,
    PRECISIONS,
    SEVERITIES,
    TOTAL_KINDS,
    Code,
    CodeTable,
    ExcludedSpec,
    FieldSpec,
    FormSet,
    FormSpec,
    KeySpec,
    PrintSpec,
    RuleRef,
    Section,
    SummarySpec,
    TotalSpec,
)
from desktop.domain.masking import MASK_KINDS
from desktop.errors import FormSpecError

_ID = re.compile(r"^[a-z][a-z0-9_]*$")

_TABLE_KEYS = {"id", "label", "source", "taken"}
_CODE_KEYS = {"code", "label", "aliases", "parent", "group", "deprecated", "leaves"}
_FORM_KEYS = {"id", "version", "title", "attachment", "levels", "name_field", "list_columns"}
_TOP_KEYS = {"form", "sections", "fields", "rules", "keys", "print", "summary"}
_PRINT_KEYS = {"signatures", "stamp"}
_SUMMARY_KEYS = {"id", "attachment", "title", "short", "columns", "headers", "sort", "counter",
                 "sum_numbers", "totals", "excluded"}
_TOTAL_KEYS = {"kind", "label", "field", "always", "bands", "limits", "id_field"}
_EXCLUDED_KEYS = {"field", "codes", "columns", "reason", "sheet", "title", "heading"}
_SHORT = re.compile(r"^[A-Z0-9]{1,8}$")
_SECTION_KEYS = {"id", "label"}
_FIELD_KEYS = {
    "id", "label", "type", "section", "required", "max_length", "nfkc", "codes", "aliases",
    "renamed_from", "hint", "default", "mask", "rules", "fields", "min_rows", "precision",
}
_KEY_KEYS = {"kind", "field", "unique", "hashed"}
_MASKS = set(MASK_KINDS)


class _Where:
    """Names the place of a problem: file and dotted key."""

    def __init__(self, path: Path, key: str = "") -> None:
        self.path, self.key = path, key

    def __truediv__(self, part: str | int) -> _Where:
        sub = f"[{part}]" if isinstance(part, int) else (f".{part}" if self.key else part)
        return _Where(self.path, self.key + sub)

    def fail(self, what: str) -> FormSpecError:
        where = f"{self.path.name} 的 {self.key}" if self.key else self.path.name
        return FormSpecError(f"表单定义错误：{where}：{what}（文件 {self.path}）")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise _Where(path).fail(f"不是有效的 TOML：{exc}") from None
    except OSError as exc:
        raise _Where(path).fail(f"无法读取：{exc.strerror}") from None


def _check_keys(obj: Any, allowed: set[str], where: _Where, required: set[str] = frozenset()):
    if not isinstance(obj, dict):
        raise where.fail("应为一个表（键值对）")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise (where / unknown[0]).fail(f"未知的键“{unknown[0]}”；允许的键：{', '.join(sorted(allowed))}")
    missing = sorted(required - set(obj))
    if missing:
        raise where.fail(f"缺少必填的键“{missing[0]}”")


def _typed(obj: dict, key: str, kind: type | tuple, where: _Where, default: Any = None) -> Any:
    if key not in obj:
        return default
    value = obj[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        names = {str: "字符串", int: "整数", bool: "true/false", list: "列表", dict: "表"}
        want = names.get(kind, str(kind)) if isinstance(kind, type) else "/".join(
            names.get(k, str(k)) for k in kind)
        raise (where / key).fail(f"应为{want}")
    return value


def _str_list(obj: dict, key: str, where: _Where) -> tuple[str, ...]:
    items = _typed(obj, key, list, where, [])
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise (where / key / i).fail("应为字符串")
    return tuple(items)


def load_code_table(path: Path) -> CodeTable:
    data = _read_toml(path)
    where = _Where(path)
    _check_keys(data, {"table", "codes"}, where, {"table", "codes"})
    head = data["table"]
    _check_keys(head, _TABLE_KEYS, where / "table", {"id", "label"})
    table_id = _typed(head, "id", str, where / "table")
    if table_id != path.stem:
        raise (where / "table" / "id").fail(f"“{table_id}”应与文件名“{path.stem}”相同")
    codes: list[Code] = []
    seen: dict[str, str] = {}
    entries = _typed(data, "codes", list, where)
    for i, entry in enumerate(entries):
        w = where / "codes" / i
        _check_keys(entry, _CODE_KEYS, w, {"code", "label"})
        code = Code(
            code=_typed(entry, "code", str, w),
            label=_typed(entry, "label", str, w),
            aliases=_str_list(entry, "aliases", w),
            parent=_typed(entry, "parent", str, w),
            group=_typed(entry, "group", str, w),
            deprecated=_typed(entry, "deprecated", bool, w, False),
            leaves=_typed(entry, "leaves", str, w),
        )
        for text in (code.code, code.label, *code.aliases):
            other = seen.get(text)
            if other is not None and other != code.code:
                raise w.fail(f"“{text}”在本表中已用于代码 {other}")
            seen[text] = code.code
        codes.append(code)
    known = {c.code for c in codes}
    for i, c in enumerate(codes):
        if c.parent is not None and c.parent not in known:
            raise (where / "codes" / i / "parent").fail(f"上级代码“{c.parent}”不在本表中")
    if not codes:
        raise (where / "codes").fail("代码表为空")
    taken = _typed(head, "taken", str, where / "table", "")
    if taken:
        try:
            date.fromisoformat(taken)
        except ValueError:
            raise (where / "table" / "taken").fail("应为取得数据的日期，写作 2026-12-06") from None
    return CodeTable.build(table_id, _typed(head, "label", str, where / "table"),
                           _typed(head, "source", str, where / "table", ""), tuple(codes), path,
                           taken=taken)


def _rule_refs(items: Any, where: _Where, scope: str, tables: dict[str, CodeTable]
               ) -> tuple[RuleRef, ...]:
    from desktop.domain.rules import registry

    if not isinstance(items, list):
        raise where.fail("应为规则列表")
    refs = []
    for i, item in enumerate(items):
        w = where / i
        if not isinstance(item, dict) or "rule" not in item:
            raise w.fail("每条规则应写成 { rule = \"规则名\", 参数… }")
        name = item["rule"]
        rule = registry.RULES.get(name) if isinstance(name, str) else None
        if rule is None:
            raise (w / "rule").fail(f"未知的规则“{name}”；已知规则：{', '.join(sorted(registry.RULES))}")
        if (scope == "field") != (rule.scope == "field"):
            place = "字段的 rules" if rule.scope == "field" else "表单的 [[rules]]"
            raise (w / "rule").fail(f"规则“{name}”只能写在{place}中")
        severity = item.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise (w / "severity").fail("应为 E、W 或 I")
        params = {k: v for k, v in item.items() if k not in ("rule", "severity")}
        problem = rule.check_params(params)
        if problem:
            raise w.fail(f"规则“{name}”{problem}")
        _resolve_tables(rule.tables, params, tables, w)
        refs.append(RuleRef(name, params, severity))
    return tuple(refs)


def _resolve_tables(names: tuple[tuple[str, str | None], ...], params: dict[str, Any],
                    tables: dict[str, CodeTable], where: _Where) -> None:
    """Replace each `*_table` parameter by its code table; a default table the folder lacks
    becomes None (the rule skips what it would check), a named one must exist."""
    for param, default in names:
        table_id = params.get(param, default)
        if param not in params and (default is None or default not in tables):
            params[param] = None
            continue
        if not isinstance(table_id, str) or table_id not in tables:
            raise (where / param).fail(f"找不到代码表“{table_id}”（forms/codes/{table_id}.toml）")
        params[param] = tables[table_id]


def _field(obj: Any, where: _Where, tables: dict[str, CodeTable], sections: set[str],
           in_group: bool = False) -> FieldSpec:
    _check_keys(obj, _FIELD_KEYS, where, {"id", "label", "type"})
    fid = _typed(obj, "id", str, where)
    if not _ID.match(fid):
        raise (where / "id").fail("字段 id 只能用小写英文字母、数字和下划线，并以字母开头")
    ftype = _typed(obj, "type", str, where)
    if ftype not in FIELD_TYPES:
        raise (where / "type").fail(f"未知的字段类型“{ftype}”；可用：{', '.join(FIELD_TYPES)}")
    table = None
    table_id = _typed(obj, "codes", str, where)
    if ftype in ("code", "region"):
        table_id = table_id or ("regions" if ftype == "region" else None)
        if table_id is None:
            raise where.fail(f"{ftype} 类型的字段需要 codes = \"代码表名\"")
    if table_id is not None:
        table = tables.get(table_id)
        if table is None:
            raise (where / "codes").fail(f"找不到代码表“{table_id}”（forms/codes/{table_id}.toml）")
    section = _typed(obj, "section", str, where)
    if section is not None and section not in sections:
        raise (where / "section").fail(f"未定义的分区“{section}”")
    if in_group and section is not None:
        raise (where / "section").fail("重复行中的子字段不能指定分区")
    mask = _typed(obj, "mask", str, where)
    if mask is not None and mask not in _MASKS:
        raise (where / "mask").fail("应为 " + "、".join(f'"{k}"' for k in MASK_KINDS))
    subfields: tuple[FieldSpec, ...] = ()
    if ftype == "group":
        if in_group:
            raise where.fail("重复行不能嵌套")
        items = _typed(obj, "fields", list, where, [])
        if not items:
            raise (where / "fields").fail("group 类型的字段需要子字段 [[fields.fields]]")
        subfields = tuple(_field(s, where / "fields" / i, tables, sections, True)
                          for i, s in enumerate(items))
        _unique([f.id for f in subfields], where / "fields", "子字段 id")
        _unique([f.label for f in subfields], where / "fields", "子字段名称")
    elif "fields" in obj:
        raise (where / "fields").fail("只有 group 类型的字段可以有子字段")
    max_length = _typed(obj, "max_length", int, where)
    if max_length is not None and max_length <= 0:
        raise (where / "max_length").fail("应为正整数")
    precision = _typed(obj, "precision", str, where, "day")
    if "precision" in obj and ftype != "date":
        raise (where / "precision").fail("只有 date 类型的字段可以指定精度")
    if precision not in PRECISIONS:
        raise (where / "precision").fail("应为 " + "、".join(f'"{p}"' for p in PRECISIONS))
    return FieldSpec(
        id=fid,
        label=_typed(obj, "label", str, where),
        type=ftype,
        section=section,
        required=_typed(obj, "required", bool, where, False),
        max_length=max_length,
        nfkc=_typed(obj, "nfkc", bool, where, False),
        codes=table,
        aliases=_str_list(obj, "aliases", where),
        renamed_from=_str_list(obj, "renamed_from", where),
        hint=_typed(obj, "hint", str, where, ""),
        default=obj.get("default"),
        mask=mask,
        rules=_rule_refs(obj.get("rules", []), where / "rules", "field", tables),
        fields=subfields,
        min_rows=_typed(obj, "min_rows", int, where, 0),
        precision=precision,
    )


def _unique(values: list[str], where: _Where, what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise where.fail(f"{what}“{v}”重复")
        seen.add(v)


def load_form(path: Path, tables: dict[str, CodeTable]) -> FormSpec:
    data = _read_toml(path)
    where = _Where(path)
    _check_keys(data, _TOP_KEYS, where, {"form", "fields"})
    head = data["form"]
    _check_keys(head, _FORM_KEYS, where / "form", {"id", "version", "title", "name_field"})
    form_id = _typed(head, "id", str, where / "form")
    if form_id != path.stem:
        raise (where / "form" / "id").fail(f"“{form_id}”应与文件名“{path.stem}”相同")
    levels = _str_list(head, "levels", where / "form") or LEVELS
    for lv in levels:
        if lv not in LEVELS:
            raise (where / "form" / "levels").fail(f"未知的层级“{lv}”；可用：{', '.join(LEVELS)}")
    sections = []
    for i, s in enumerate(_typed(data, "sections", list, where, [])):
        _check_keys(s, _SECTION_KEYS, where / "sections" / i, _SECTION_KEYS)
        sections.append(Section(_typed(s, "id", str, where / "sections" / i),
                                _typed(s, "label", str, where / "sections" / i)))
    _unique([s.id for s in sections], where / "sections", "分区 id")
    section_ids = {s.id for s in sections}
    fields = tuple(_field(f, where / "fields" / i, tables, section_ids)
                   for i, f in enumerate(_typed(data, "fields", list, where)))
    _unique([f.id for f in fields], where / "fields", "字段 id")
    _unique([f.label for f in fields], where / "fields", "字段名称")
    ids = {f.id for f in fields}
    labels = {f.label: f.id for f in fields}
    for i, f in enumerate(fields):
        for a in f.aliases:
            if labels.get(a, f.id) != f.id:
                raise (where / "fields" / i / "aliases").fail(f"别名“{a}”是另一个字段的名称")
        for old in f.renamed_from:
            if old in ids:
                raise (where / "fields" / i / "renamed_from").fail(f"旧 id“{old}”仍被使用")
    name_field = _typed(head, "name_field", str, where / "form")
    if name_field not in ids:
        raise (where / "form" / "name_field").fail(f"字段“{name_field}”不存在")
    keys = []
    for i, k in enumerate(_typed(data, "keys", list, where, [])):
        w = where / "keys" / i
        _check_keys(k, _KEY_KEYS, w, {"kind", "field"})
        key = KeySpec(_typed(k, "kind", str, w), _typed(k, "field", str, w),
                      _typed(k, "unique", bool, w, False), _typed(k, "hashed", bool, w, False))
        if key.field not in ids:
            raise (w / "field").fail(f"字段“{key.field}”不存在")
        keys.append(key)
    form = FormSpec(
        id=form_id,
        version=str(_typed(head, "version", str, where / "form")),
        title=_typed(head, "title", str, where / "form"),
        attachment=_typed(head, "attachment", str, where / "form", ""),
        levels=levels,
        name_field=name_field,
        sections=tuple(sections),
        fields=fields,
        rules=_rule_refs(data.get("rules", []), where / "rules", "form", tables),
        keys=tuple(keys),
        path=path,
        printing=_print(data.get("print"), where / "print"),
    )
    _check_field_refs(form, where)
    if "list_columns" in head:
        form = replace(form, list_columns=_field_list(head, "list_columns", where / "form", form))
    if "summary" in data:
        form = replace(form, summary=_summary(data["summary"], where / "summary", form, tables))
    return form


def _print(obj: Any, where: _Where) -> PrintSpec:
    if obj is None:
        return PrintSpec()
    _check_keys(obj, _PRINT_KEYS, where)
    default = PrintSpec()
    signatures = _str_list(obj, "signatures", where) if "signatures" in obj else default.signatures
    if not 1 <= len(signatures) <= 3:
        raise (where / "signatures").fail("应写 1 至 3 个签字栏")
    return PrintSpec(signatures, _typed(obj, "stamp", str, where, default.stamp))


def _summary(obj: Any, where: _Where, form: FormSpec, tables: dict[str, CodeTable]
             ) -> SummarySpec:
    _check_keys(obj, _SUMMARY_KEYS, where, {"id", "title", "short", "columns"})
    summary_id = _typed(obj, "id", str, where)
    if not _ID.match(summary_id):
        raise (where / "id").fail("汇总表 id 只能用小写英文字母、数字和下划线，并以字母开头")
    short = _typed(obj, "short", str, where)
    if not _SHORT.match(short):
        raise (where / "short").fail("应为 1 至 8 个大写英文字母或数字（写入二维码）")
    columns = _field_list(obj, "columns", where, form)
    headers = _typed(obj, "headers", dict, where, {})
    for fid, head in headers.items():
        if fid not in columns:
            raise (where / "headers" / fid).fail(f"“{fid}”不在 columns 中")
        if not isinstance(head, str):
            raise (where / "headers" / fid).fail("应为字符串")
    excluded = None
    if "excluded" in obj:
        w = where / "excluded"
        ex = obj["excluded"]
        _check_keys(ex, _EXCLUDED_KEYS, w, _EXCLUDED_KEYS)
        excluded = ExcludedSpec(
            _field_list(ex, "field", w, form, single=True)[0], _str_list(ex, "codes", w),
            tuple((f, "") for f in _field_list(ex, "columns", w, form)),
            *(_typed(ex, key, str, w) for key in ("reason", "sheet", "title", "heading")))
    totals = tuple(_total(t, where / "totals" / i, form, tables)
                   for i, t in enumerate(_typed(obj, "totals", list, where, [])))
    return SummarySpec(
        id=summary_id,
        attachment=_typed(obj, "attachment", str, where, ""),
        title=_typed(obj, "title", str, where),
        short=short,
        source_form=form.id,
        columns=tuple((f, headers.get(f, "")) for f in columns),
        sort=_field_list(obj, "sort", where, form) if "sort" in obj else (form.name_field,),
        counter=_typed(obj, "counter", str, where, "条"),
        sum_numbers=_typed(obj, "sum_numbers", bool, where, False),
        totals=totals,
        excluded=excluded,
    )


def _field_list(obj: dict, key: str, where: _Where, form: FormSpec, single: bool = False
                ) -> tuple[str, ...]:
    """Field ids of the form (a list, or one id when `single`), each checked to exist."""
    ids = (_typed(obj, key, str, where),) if single else _str_list(obj, key, where)
    for i, fid in enumerate(ids):
        if not form.has_field(fid):
            raise (where / key if single else where / key / i).fail(f"字段“{fid}”不存在")
    if not ids:
        raise (where / key).fail("至少写一个字段")
    return ids


def _total(obj: Any, where: _Where, form: FormSpec, tables: dict[str, CodeTable]) -> TotalSpec:
    _check_keys(obj, _TOTAL_KEYS, where, {"kind"})
    kind = _typed(obj, "kind", str, where)
    if kind not in TOTAL_KINDS:
        raise (where / "kind").fail(f"未知的统计方式“{kind}”；可用：{', '.join(TOTAL_KINDS)}")
    field = _field_list(obj, "field", where, form, single=True)[0] if "field" in obj else None
    id_field = (_field_list(obj, "id_field", where, form, single=True)[0]
                if "id_field" in obj else None)
    spec = form.field(field) if field else None
    table = tables.get("org_category") if kind == "org_category" else (spec and spec.codes)
    if kind in ("codes", "code_groups", "org_category") and table is None:
        what = "代码表 org_category" if kind == "org_category" else "一个代码类型的字段（field）"
        raise where.fail(f"统计方式“{kind}”需要{what}")
    always = _str_list(obj, "always", where) if "always" in obj else None
    for i, code in enumerate(always or ()):
        if table.get(code) is None:
            raise (where / "always" / i).fail(f"代码“{code}”不在代码表 {table.id} 中")
    label = _typed(obj, "label", str, where, spec.label if spec else "")
    if not label:
        raise where.fail("缺少必填的键“label”")
    bands = _str_list(obj, "bands", where)
    limits = tuple(_typed(obj, "limits", list, where, []))
    if kind == "age" and (len(limits) != len(bands) - 1
                          or not all(isinstance(n, int) for n in limits)):
        raise (where / "limits").fail("年龄分段应比 bands 少一个整数（每段的最大年龄）")
    if kind in ("ethnicity", "code_groups") and not bands:
        raise (where / "bands").fail(f"统计方式“{kind}”需要 bands")
    return TotalSpec(kind, label, field, always, bands, limits, id_field)


def _check_field_refs(form: FormSpec, where: _Where) -> None:
    """Rule parameters that name fields (by convention, names ending in `field`) must exist."""
    def check(ref: RuleRef, w: _Where) -> None:
        for key, value in ref.params.items():
            if key.endswith("field") and isinstance(value, str) and not form.has_field(value):
                raise (w / key).fail(f"字段“{value}”不存在")

    for i, ref in enumerate(form.rules):
        check(ref, where / "rules" / i)
    for i, f in enumerate(form.fields):
        for j, ref in enumerate(f.rules):
            check(ref, where / "fields" / i / "rules" / j)
        siblings = {sub.id for sub in f.fields}
        for k, sub in enumerate(f.fields):
            for j, ref in enumerate(sub.rules):
                for key, value in ref.params.items():
                    if key.endswith("field") and isinstance(value, str) and value not in siblings:
                        w = where / "fields" / i / "fields" / k / "rules" / j / key
                        raise w.fail(f"同一行中没有子字段“{value}”")


def load_forms(folder: Path) -> FormSet:
    """Load every code table of folder/codes and every form of folder."""
    if not folder.is_dir():
        raise FormSpecError(f"找不到表单定义文件夹：{folder}")
    tables = {p.stem: load_code_table(p) for p in sorted((folder / "codes").glob("*.toml"))}
    loaded = [load_form(p, tables) for p in sorted(folder.glob("*.toml"))]
    loaded.sort(key=lambda f: f.order)
    _unique([f.id for f in loaded] + [f.summary.id for f in loaded if f.summary],
            _Where(folder), "表单或汇总表 id")
    return FormSet(forms={f.id: f for f in loaded}, tables=tables)
