"""Turning what people type or import into the stored form of each field type.

`parse_value` accepts the spellings people really use (2020.1.5, 20200105, 2020年1月5日,
全角数字, 是/否, a code, its label or an alias) and returns the stored value plus problems.
Stored values: str for text and codes, "YYYY-MM-DD" dates, "YYYY-MM" year-months, int, bool,
a list of three codes for a region, a list of dicts for a group.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from desktop.domain import identifiers as ids
from desktop.domain.findings import Problem
from desktop.domain.forms import FieldSpec

_DATE = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")
_DATE8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YM = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?$")
_YM6 = re.compile(r"^(\d{4})(\d{2})$")
_TRUE = {"是", "y", "yes", "true", "1", "有", "√"}
_FALSE = {"否", "n", "no", "false", "0", "无", "×"}


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value or value.isspace()
    return value == []


def parse_date(raw: Any) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    m = _DATE.match(text) or _DATE8.match(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_yearmonth(raw: Any) -> str | None:
    if isinstance(raw, date | datetime):
        return f"{raw.year:04d}-{raw.month:02d}"
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    m = _YM.match(text) or _YM6.match(text)
    if m is None:
        d = parse_date(text)
        return f"{d.year:04d}-{d.month:02d}" if d else None
    if not 1 <= int(m[2]) <= 12:
        return None
    return f"{int(m[1]):04d}-{int(m[2]):02d}"


def _text(raw: Any) -> str:
    if raw.__class__ is str:
        return raw.strip()
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def parse_value(spec: FieldSpec, raw: Any, *, convert_legacy: bool = False
                ) -> tuple[Any, list[Problem]]:
    """Return (stored value or None, problems). Empty input is None with no problem."""
    if raw is None or (raw.__class__ is str and (not raw or raw.isspace())) or raw == []:
        return None, []
    kind = spec.type
    if kind == "group":
        return _parse_group(spec, raw, convert_legacy)
    if isinstance(raw, dict | list) and kind != "region":
        code = {"text": "type_text", "int": "type_int", "code": "code_unknown"}.get(
            kind, "type_structure")
        return None, [Problem("E", code, {"value": str(raw)[:40], "table": _table(spec)})]
    return _PARSERS[kind](spec, raw, convert_legacy)


def _p_text(spec: FieldSpec, raw: Any, _convert: bool):
    text = _text(raw)
    return (unicodedata.normalize("NFKC", text) if spec.nfkc else text), []


def _p_int(spec: FieldSpec, raw: Any, _convert: bool):
    if isinstance(raw, bool):
        return None, [Problem("E", "type_int", {"value": raw})]
    if isinstance(raw, int):
        return raw, []
    text = unicodedata.normalize("NFKC", _text(raw))
    if re.fullmatch(r"-?\d+(\.0+)?", text):
        return int(float(text)), []
    return None, [Problem("E", "type_int", {"value": text[:40]})]


def _p_bool(spec: FieldSpec, raw: Any, _convert: bool):
    if isinstance(raw, bool):
        return raw, []
    text = unicodedata.normalize("NFKC", _text(raw)).lower()
    if text in _TRUE:
        return True, []
    if text in _FALSE:
        return False, []
    return None, [Problem("E", "type_bool", {"value": text[:40]})]


def _p_date(spec: FieldSpec, raw: Any, _convert: bool):
    if raw.__class__ is str and len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:  # the stored form, the common case
            return date.fromisoformat(raw).isoformat(), []
        except ValueError:
            pass
    d = parse_date(raw)
    if d is None:
        return None, [Problem("E", "date_invalid", {"value": _text(raw)[:40]})]
    return d.isoformat(), []


def _p_yearmonth(spec: FieldSpec, raw: Any, _convert: bool):
    ym = parse_yearmonth(raw)
    if ym is None:
        return None, [Problem("E", "yearmonth_invalid", {"value": _text(raw)[:40]})]
    return ym, []


def _p_id(spec: FieldSpec, raw: Any, convert: bool):
    value = ids.compact(_text(raw))
    if convert and len(value) == 15 and value.isdigit():
        new = ids.id15_to_18(value)
        return new, [Problem("I", "id_legacy15_converted", {"value": new})]
    return value, []


def _p_phone(spec: FieldSpec, raw: Any, _convert: bool):
    return ids.normalise_phone(_text(raw)), []


def _p_compact(spec: FieldSpec, raw: Any, _convert: bool):
    return ids.compact(_text(raw)), []


def _p_code(spec: FieldSpec, raw: Any, _convert: bool):
    return _parse_code(spec, raw)


def _p_region(spec: FieldSpec, raw: Any, _convert: bool):
    return _parse_region(spec, raw)


def _table(spec: FieldSpec) -> str:
    return spec.codes.label if spec.codes else ""


def _parse_code(spec: FieldSpec, raw: Any) -> tuple[Any, list[Problem]]:
    assert spec.codes is not None
    code = spec.codes.lookup(_text(raw))
    if code is not None:
        return code.code, []
    text = unicodedata.normalize("NFKC", _text(raw))
    code = spec.codes.lookup(text)
    if code is None and text.isdigit():  # "1" for "01", or a number Excel stripped
        code = next((c for c in spec.codes.codes if c.code.isdigit() and int(c.code) == int(text)),
                    None)
    if code is None:
        return None, [Problem("E", "code_unknown", {"value": text[:40], "table": _table(spec)})]
    return code.code, []


def _parse_region(spec: FieldSpec, raw: Any) -> tuple[Any, list[Problem]]:
    """Codes or names, province first; a name is looked up among the children of the part
    before it, so "河北省-石家庄市-长安区" finds the 长安区 of 石家庄 (the table labels such
    names 长安区（石家庄市） to keep them unique)."""
    assert spec.codes is not None
    table = spec.codes
    if isinstance(raw, str):
        parts = [p for p in re.split(r"[-/,，、\s]+", raw.strip()) if p]
    elif isinstance(raw, list):
        parts = [_text(p) for p in raw]
    else:
        parts = [_text(raw)]
    if not 1 <= len(parts) <= 3:
        return None, [Problem("E", "region_invalid", {"value": str(raw)[:40]})]
    codes: list[str] = []
    for p in parts:
        c = table.child(codes[-1] if codes else None, p) or table.lookup(p) or table.lookup(
            unicodedata.normalize("NFKC", p).replace("(", "（").replace(")", "）"))
        if c is None:
            return None, [Problem("E", "region_invalid", {"value": p[:40]})]
        codes.append(c.code)
    return codes, []


def _parse_group(spec: FieldSpec, raw: Any, convert_legacy: bool) -> tuple[Any, list[Problem]]:
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        return None, [Problem("E", "type_group")]
    rows, problems = [], []
    by_label = {f.label: f for f in spec.fields} | {a: f for f in spec.fields for a in f.aliases}
    by_id = {f.id: f for f in spec.fields}
    for i, row in enumerate(raw, start=1):
        out: dict[str, Any] = {}
        for key, value in row.items():
            sub = by_label.get(key) or by_id.get(key)
            if sub is None:
                problems.append(Problem("E", "unknown_field", {"label": key},
                                        field=f"{spec.id}[{i}].{key}"))
                continue
            parsed, sub_problems = parse_value(sub, value, convert_legacy=convert_legacy)
            out[sub.id] = parsed
            problems += [Problem(p.severity, p.code, p.params, f"{spec.id}[{i}].{sub.id}")
                         for p in sub_problems]
        rows.append(out)
    return rows, problems


def display_value(spec: FieldSpec, value: Any) -> str:
    """How a stored value is shown to a person (labels for codes, 是/否, ISO dates)."""
    if value is None:
        return ""
    if spec.type == "code" and spec.codes:
        return spec.codes.label_of(value)
    if spec.type == "region" and spec.codes and isinstance(value, list):
        return "-".join(spec.codes.label_of(v) for v in value)
    if spec.type == "bool":
        return "是" if value else "否"
    if spec.type == "group" and isinstance(value, list):
        return "；".join("，".join(display_value(f, row.get(f.id)) for f in spec.fields
                                  if row.get(f.id) is not None) for row in value)
    return str(value)


def upgrade_stored(form_fields: tuple[FieldSpec, ...], data: dict[str, Any]) -> dict[str, Any]:
    """Stored values under a field's earlier ids (renamed_from) move to its current id."""
    for spec in form_fields:
        for old in spec.renamed_from:
            if old in data and spec.id not in data:
                data[spec.id] = data.pop(old)
    return data


_PARSERS = {
    "text": _p_text, "int": _p_int, "bool": _p_bool, "date": _p_date,
    "yearmonth": _p_yearmonth, "code": _p_code, "id_number": _p_id, "mobile": _p_phone,
    "landline": _p_phone, "phone": _p_phone, "uscc": _p_compact, "licence": _p_compact,
    "region": _p_region,
}
