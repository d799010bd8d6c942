"""Turning what people type or import into the stored form of each field type.

`parse_value` accepts the spellings people really use (2020.1.5, 20200105, 2020年1月5日,
全角数字, 是/否, a code, its label or an alias) and returns the stored value plus problems.
Stored values: str for text and codes, "YYYY-MM-DD" dates, "YYYY-MM" year-months, int, bool,
a list of three codes for a region, a list of dicts for a group.

A date field whose `precision` is "month" also takes a year and month alone (1963年9月,
1963.09, 1963-9, 196309, 1963/09: a legacy register's 出生年月) and stores it as "1963-09";
`date_span` tells the days such a value can be, so rules compare it at its own precision.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from desktop.domain import identifiers as ids
from desktop.domain.findings import Problem
from desktop.domain.forms import FieldSpec, FormSpec

_DATE = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")
_DATE8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YM = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?$")
_YM6 = re.compile(r"^(\d{4})(\d{2})$")
_STORED_YM = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
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
    if d is not None:
        return d.isoformat(), []
    if spec.precision == "month":
        ym = None if isinstance(raw, date | datetime) else parse_yearmonth(raw)
        if ym is not None:
            return ym, []
        return None, [Problem("E", "date_or_month_invalid", {"value": _text(raw)[:40]})]
    return None, [Problem("E", "date_invalid", {"value": _text(raw)[:40]})]


def date_span(value: Any) -> tuple[date, date] | None:
    """The first and the last day a stored date ("YYYY-MM-DD": that day) or year-month
    ("YYYY-MM": its first and last day) can be; None for anything else."""
    if value.__class__ is not str:
        return None
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        return day, day
    if len(value) == 7 and _STORED_YM.match(value):
        year, month = int(value[:4]), int(value[5:])
        return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1) - date.resolution
    return None


def is_stored_date(spec: FieldSpec, value: Any) -> bool:
    """Whether `value` is the stored form of the date field `spec`: an ISO date, or a
    year-month where the field's precision allows it."""
    span = date_span(value)
    return span is not None and (span[0] == span[1] or spec.precision == "month")


def birth_span(birth: Any, id_number: Any) -> tuple[date, date] | None:
    """The days a person can have been born on: the 出生日期 field's (a full date, or a
    year-month made exact by an ID number born in that month), else the ID number's."""
    span = date_span(birth)
    if span is not None and span[0] == span[1]:
        return span
    from_id = ids.id_birth_date(id_number) if isinstance(id_number, str) and id_number else None
    if span is not None and not (from_id and span[0] <= from_id <= span[1]):
        return span
    return (from_id, from_id) if from_id else None


def within(value: Any, day: date) -> bool:
    """Whether a stored date or year-month can be `day` (at the value's own precision)."""
    span = date_span(value)
    return span is not None and span[0] <= day <= span[1]


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


#: the record rules that tie a field to the ID number, and what each reads from the number
def _id_birth_text(number: str) -> str | None:
    birth = ids.id_birth_date(number)
    return birth.isoformat() if birth else None


_FROM_ID = {"birth_matches_id": ("birth_field", _id_birth_text),
            "sex_matches_id": ("sex_field", ids.id_sex)}


def filled_from_id(form: FormSpec, values: Mapping[str, Any],
                   id_ok: Callable[[str], bool]) -> dict[str, Any]:
    """出生日期 and 性别 read from the ID number for those of them that are still empty: the
    fields the form's birth_matches_id / sex_matches_id rules tie to an ID number field,
    when `id_ok(id field)` says the number is valid (no E of its own rules). A value already
    given is never replaced (a disagreement stays the rule's finding). The window proposes
    these, an import fills them in."""
    out: dict[str, Any] = {}
    for ref in form.rules:
        wanted = _FROM_ID.get(ref.rule)
        if wanted is None:
            continue
        target, read = ref.params[wanted[0]], wanted[1]
        number = values.get(ref.params["id_field"])
        if not number or not is_empty(values.get(target)) or not isinstance(number, str):
            continue
        value = read(number)
        if value and id_ok(ref.params["id_field"]):
            out[target] = value
    return out


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
