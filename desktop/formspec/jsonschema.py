"""The open data of a form version: its JSON Schema (draft 2020-12) and the line a record
becomes, both generated from the form's definition (forms/*.toml), never written by hand.

A line of the open data (docs/opendata.md) is one JSON object:

    {"format": "dengji-open/1", "form": "lawyer_member", "form_version": "2026.1",
     "record_id": "…", "unit": {"code": "…", "name": "…", "level": "firm"},
     "state": {"code": "已接收", "label": "已接收"}, "data": {"name": "张三", "sex": {"code": "1", "label": "男"}, …}}

`data` holds every field of the form (null when empty) under its field id: a coded field as
its code and its label, a region as the list of its levels (each a code and a label), a group
as a list of objects of its sub-fields, dates ISO (a date field of month precision may hold a
year and month alone, "1963-09", as the register stores what a legacy register said).

The schema says what the register's own checks say at the level of errors (E) that a schema
can express: types, required fields, code tables (each code with its label), lengths, the
structure of identifiers (18-character 公民身份号码 and 统一社会信用代码, 17-digit 律师执业证号,
11-digit mobile numbers), numeric ranges and the conditional requirements of the form's record
rules (required_if, empty_if, min_rows_if). What depends on other records, on today's date or
on check characters stays with Dengji's own rules; warnings (W) never narrow the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from desktop.domain.forms import CodeTable, FieldSpec, FormSpec, RuleRef
from desktop.domain.states import RECORD_STATES, is_official, word

#: the format of a line and of the export as a whole (manifest.json); a receiving system reads
#: the number after the slash: a new number is a change it must look at
FORMAT = "dengji-open/1"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: the states of an exported record (a draft is never exported)
OFFICIAL_STATES = tuple(c for c in RECORD_STATES if is_official(c))

#: structures the register's error-level rules require (identifiers.py holds the same checks)
ID18 = r"^[0-9]{17}[0-9X]$"
USCC = r"^[0-9A-HJ-NP-RTUWXY]{18}$"
LICENCE = r"^1[0-9]{16}$"
MOBILE = r"^1[3-9][0-9]{9}$"
PHONE = r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-[0-9]{7,8}(-[0-9]{1,6})?)$"
PERSON_NAME = "^[\u3400-\u9fff\U00020000-\U0002ffff·A-Za-z ]*$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
YEAR_MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"

#: field rules whose errors the schema states as a pattern, and which pattern
_FIELD_PATTERNS = {"uscc": USCC, "lawyer_licence": LICENCE, "mobile": MOBILE, "phone": PHONE,
                   "person_name": PERSON_NAME}
#: the id_type group whose numbers no rule checks (forms/codes/id_type.toml)
_UNCHECKED_ID_GROUP = "other"

JSON_TYPES = {"text": "string", "int": "integer", "bool": "boolean", "date": "string",
              "yearmonth": "string", "code": "object", "id_number": "string",
              "mobile": "string", "landline": "string", "phone": "string", "uscc": "string",
              "licence": "string", "region": "array", "group": "array"}


def is_error(ref: RuleRef) -> bool:
    """Whether a use of a rule reports errors (its own severity, unless the form lowers it)."""
    return ref.severity in (None, "E")


def schema_id(form: FormSpec) -> str:
    return f"urn:dengji:open:1:{form.id}:{form.version}"


def file_stem(form: FormSpec) -> str:
    """The name of the form version's files in an export: lawyer_member-2026.1."""
    return f"{form.id}-{form.version}"


def table_ref(table: CodeTable) -> str:
    return f"#/$defs/code.{table.id}"


def code_table_schema(table: CodeTable) -> dict[str, Any]:
    """A code table as a schema: one of its codes, each with its own label."""
    return {
        "title": table.label,
        "description": f"代码表 {table.id}，来源：{table.source}" if table.source else table.id,
        "anyOf": [{"type": "object", "title": c.label,
                   "properties": {"code": {"const": c.code}, "label": {"const": c.label}},
                   "required": ["code", "label"], "additionalProperties": False,
                   **({"deprecated": True} if c.deprecated else {})}
                  for c in table.codes],
    }


def _date(spec: FieldSpec) -> dict[str, Any]:
    day = {"type": "string", "format": "date", "pattern": DATE}
    if spec.precision != "month":
        return day
    return {"anyOf": [day, {"type": "string", "pattern": YEAR_MONTH}],
            "description": "日期；只知年月的为 YYYY-MM"}


def value_schema(spec: FieldSpec, tables: dict[str, CodeTable]) -> dict[str, Any]:
    """The schema of a non-empty value of a field (or sub-field)."""
    kind = spec.type
    if kind == "group":
        rows = {"type": "object",
                "properties": {s.id: field_schema(s, tables) for s in spec.fields},
                "required": [s.id for s in spec.fields], "additionalProperties": False}
        out: dict[str, Any] = {"type": "array", "items": rows}
        if spec.min_rows:
            out["minItems"] = spec.min_rows
        return out
    if kind in ("code", "region") and spec.codes is not None:
        tables[spec.codes.id] = spec.codes
        if kind == "code":
            return {"$ref": table_ref(spec.codes)}
        out = {"type": "array", "items": {"$ref": table_ref(spec.codes)}, "minItems": 1,
               "maxItems": 3}
        for ref in spec.rules:
            if ref.rule == "region_nesting" and is_error(ref):
                out["minItems"] = out["maxItems"] = int(ref.params.get("levels", 3))
        return out
    if kind == "date":
        return _date(spec)
    out = {"type": JSON_TYPES.get(kind, "string")}
    if kind == "yearmonth":
        out["pattern"] = YEAR_MONTH
    if out["type"] == "string":
        out["minLength"] = 1
    if spec.max_length:
        out["maxLength"] = spec.max_length
    patterns = []
    for ref in spec.rules:
        if not is_error(ref):
            continue
        if ref.rule in _FIELD_PATTERNS:
            patterns.append(_FIELD_PATTERNS[ref.rule])
        elif ref.rule == "pattern":
            patterns.append(f"^(?:{ref.params['regex']})$")
        elif ref.rule == "int_range" and kind == "int":
            out["minimum"] = int(ref.params.get("min", 0))
            out["maximum"] = int(ref.params.get("max", 1_000_000))
        elif ref.rule == "resident_id" and not ref.params.get("type_field"):
            patterns.append(ID18)
    if len(patterns) == 1:
        out["pattern"] = patterns[0]
    elif patterns:
        out["allOf"] = [{"pattern": p} for p in patterns]
    return out


def field_schema(spec: FieldSpec, tables: dict[str, CodeTable]) -> dict[str, Any]:
    """A field's schema with its label and hint; null allowed unless the field is required."""
    inner = value_schema(spec, tables)
    must = spec.required or (spec.type == "group" and spec.min_rows > 0)
    head = {"title": spec.label, "x-dengji-type": spec.type}
    if spec.hint:
        head["description"] = spec.hint
    if must:
        return head | inner
    return head | {"anyOf": [{"type": "null"}, inner]}


def _is(value: Any, spec: FieldSpec) -> dict[str, Any]:
    """A schema matching a field whose stored value is `value` (a list: any of them)."""
    values = value if isinstance(value, list) else [value]
    if spec.type == "code":
        return {"type": "object", "properties": {"code": {"enum": values}}, "required": ["code"]}
    return {"enum": values}


_NOT_NULL = {"not": {"type": "null"}}


def _conditions(form: FormSpec) -> list[dict[str, Any]]:
    """The record rules of errors a schema can state: if a field has a value, another field
    must (required_if, min_rows_if) or must not (empty_if) have one; the pattern of an ID
    number whose 证件类型 is one the register checks (resident_id with type_field)."""
    out = []
    for ref in form.rules:
        if not is_error(ref) or ref.rule not in ("required_if", "empty_if", "min_rows_if"):
            continue
        p = ref.params
        when, field = p["when_field"], p["field"]
        if not (form.has_field(when) and form.has_field(field)):
            continue
        cond = {"properties": {when: _is(p["equals"], form.field(when))}, "required": [when]}
        if ref.rule == "required_if":
            then = {"properties": {field: _NOT_NULL}}
        elif ref.rule == "empty_if":
            then = {"properties": {field: {"type": "null"}}}
        else:
            then = {"properties": {field: {"type": "array", "minItems": int(p["min"])}}}
        out.append({"if": cond, "then": then, "description": f"{ref.rule}: {when} → {field}"})
    for spec in form.fields:
        for ref in spec.rules:
            type_field = ref.params.get("type_field") if ref.rule == "resident_id" else None
            if not (type_field and is_error(ref) and form.has_field(type_field)):
                continue
            codes = form.field(type_field).codes
            unchecked = [c.code for c in codes.codes if c.group == _UNCHECKED_ID_GROUP] \
                if codes else []
            out.append({"if": {"properties": {type_field: _is(unchecked, form.field(type_field))},
                               "required": [type_field]},
                        "else": {"properties": {spec.id: {"anyOf": [{"type": "null"},
                                                                    {"pattern": ID18}]}}},
                        "description": f"resident_id: {type_field} → {spec.id}"})
    return out


def form_schema(form: FormSpec) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one line of the form version's open data."""
    tables: dict[str, CodeTable] = {}
    fields = {f.id: field_schema(f, tables) for f in form.fields}
    data: dict[str, Any] = {"type": "object", "properties": fields,
                            "required": [f.id for f in form.fields],
                            "additionalProperties": False}
    conditions = _conditions(form)
    if conditions:
        data["allOf"] = conditions
    text = {"type": "string", "minLength": 1}
    return {
        "$schema": DIALECT,
        "$id": schema_id(form),
        "title": f"{form.display_title}（{form.id} {form.version}）",
        "description": "登记 Dengji 开放数据：一行一条记录（JSON Lines），格式见 docs/opendata.md",
        "type": "object",
        "properties": {
            "format": {"const": FORMAT},
            "form": {"const": form.id},
            "form_version": {"const": form.version},
            "record_id": text,
            "unit": {"type": "object", "properties": {"code": text, "name": text,
                                                      "level": text},
                     "required": ["code", "name", "level"], "additionalProperties": False},
            "state": {"type": "object", "title": "记录状态",
                      "properties": {"code": {"enum": list(OFFICIAL_STATES)},
                                     "label": {"enum": [word(c) for c in OFFICIAL_STATES]}},
                      "required": ["code", "label"], "additionalProperties": False},
            "data": data,
        },
        "required": ["format", "form", "form_version", "record_id", "unit", "state", "data"],
        "additionalProperties": False,
        "$defs": {f"code.{t.id}": code_table_schema(t) for t in tables.values()},
    }


# --- the line of a record ------------------------------------------------------------------

Encode = Callable[[Any], Any]


def _coded(table: CodeTable) -> Encode:
    by_code = {c.code: {"code": c.code, "label": c.label} for c in table.codes}

    def encode(value: Any) -> Any:
        hit = by_code.get(value)
        return hit if hit is not None else {"code": value, "label": table.label_of(value)}
    return encode


def _region(table: CodeTable) -> Encode:
    one = _coded(table)
    return lambda value: [one(v) for v in value] if isinstance(value, list) else one(value)


def _group(spec: FieldSpec) -> Encode:
    subs = [(s.id, encoder(s)) for s in spec.fields]

    def encode(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [{sid: (None if row.get(sid) is None else enc(row[sid]) if enc else row[sid])
                 for sid, enc in subs} if isinstance(row, Mapping) else row for row in value]
    return encode


def encoder(spec: FieldSpec) -> Encode | None:
    """How a stored value of the field becomes its open value; None: as it is stored."""
    if spec.type == "code" and spec.codes is not None:
        return _coded(spec.codes)
    if spec.type == "region" and spec.codes is not None:
        return _region(spec.codes)
    if spec.type == "group":
        return _group(spec)
    return None


class LineMaker:
    """The open line of a record of one form version (made once per form, used per record).

    The coded parts of a line are shared between lines (each code's {"code", "label"}): a
    line is for writing out, not for changing in place."""

    def __init__(self, form: FormSpec) -> None:
        self.form = form
        self._ids = tuple(f.id for f in form.fields)
        self._coded = tuple((f.id, enc) for f in form.fields
                            if (enc := encoder(f)) is not None)
        self._states: dict[str, dict[str, str]] = {}

    def data(self, values: Mapping[str, Any]) -> dict[str, Any]:
        get = values.get
        out = {fid: get(fid) for fid in self._ids}
        for fid, enc in self._coded:
            value = out[fid]
            if value is not None:
                out[fid] = enc(value)
        return out

    def line(self, record_id: str, unit: Mapping[str, str], state: str,
             values: Mapping[str, Any]) -> dict[str, Any]:
        shown = self._states.get(state)
        if shown is None:
            shown = self._states[state] = {"code": state, "label": word(state)}
        return {"format": FORMAT, "form": self.form.id, "form_version": self.form.version,
                "record_id": record_id, "unit": unit, "state": shown,
                "data": self.data(values)}


def stored_values(form: FormSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """The stored values an open line's `data` stands for (codes for coded fields, empty
    fields left out): what `dengji import` reads from an open line (services/intake/jsonl.py).
    A key that is no field of the form is kept, so the import names it (未知的栏目)."""
    out = {}
    for key, value in data.items():
        if value is None:
            continue
        spec = form.field(key) if form.has_field(key) else None
        out[key] = _stored(spec, value) if spec is not None else value
    return out


def _stored(spec: FieldSpec, value: Any) -> Any:
    if spec.type == "code" and isinstance(value, Mapping):
        return value.get("code")
    if spec.type == "region" and isinstance(value, list):
        return [v.get("code") if isinstance(v, Mapping) else v for v in value]
    if spec.type == "group" and isinstance(value, list):
        subs = {s.id: s for s in spec.fields}  # a key of no sub-field is kept (the import says so)
        return [{k: _stored(subs[k], v) if k in subs else v for k, v in row.items()
                 if v is not None} if isinstance(row, Mapping) else row for row in value]
    return value
