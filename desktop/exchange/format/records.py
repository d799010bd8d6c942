"""Records as a package carries them, and the strict reading of received record lines.

One line of data/records.jsonl::

    {"id": UUID, "unit": unit code, "form_id", "form_version", "state", "revision",
     "values": {field id: stored value}, "overrides": [{"field", "rule", "reason", "actor",
     "created_at"}], "origin": the inner package it came in, or null}

A record's digest (SHA-256 of id, form, version, revision and values) is listed in the signed
manifest, so a level above can check that a record forwarded by a city is exactly the one its
firm signed. Values must already be in stored form under the receiver's forms: anything that a
field's type does not store (an unknown code, a date that is no date) is refused rather than
guessed at, so every rule can run on what is stored.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from desktop.domain.digest import canonical, record_digest
from desktop.domain.forms import FieldSpec, FormSet, FormSpec
from desktop.domain.values import is_stored_date, upgrade_stored
from desktop.storage.tables import RECORD_STATES

MAX_REVISION = 1_000_000
_LINE_KEYS = {"id", "unit", "form_id", "form_version", "state", "revision", "values",
              "overrides", "origin"}
_OVERRIDE_KEYS = ("field", "rule", "reason", "actor", "created_at")


class RecordsError(Exception):
    """A record line is malformed; the message is Chinese and names the line."""


def canonical_values(values: Mapping[str, Any]) -> str:
    """The canonical JSON text of a record's values (sorted keys, no spaces, UTF-8 as is)."""
    return canonical(values)


#: the record digest lives in the domain: audit entries hold it too (storage/audit.py)
digest = record_digest


def record_line(record_id: str, unit_code: str, form_id: str, form_version: str, state: str,
                revision: int, values: dict[str, Any], overrides: list[dict[str, Any]],
                origin: str | None) -> dict[str, Any]:
    return {"id": record_id, "unit": unit_code, "form_id": form_id,
            "form_version": form_version, "state": state, "revision": revision,
            "values": values, "overrides": overrides, "origin": origin}


@dataclass(frozen=True)
class Incoming:
    """A received record, checked and in stored form."""

    id: str
    unit_code: str
    form: FormSpec
    form_version: str
    state: str
    revision: int
    values: dict[str, Any]  # exactly as signed (stored as is, so its digest never changes)
    current: dict[str, Any]  # the same under the receiver's current field ids (renamed_from)
    overrides: tuple[dict[str, Any], ...]
    origin: str | None
    digest: str
    values_json: str  # canonical JSON of `values`, stored as Record.data


@dataclass(frozen=True)
class Origins:
    """What a record that names an inner package as its origin may claim: unit code -> the
    digests of the records that unit itself signed, in that package or in one it carries
    (exchange/format/provenance.py)."""

    signed: Mapping[str, frozenset[str]]


def _need(cond: bool, line: int, what: str) -> None:
    if not cond:
        raise RecordsError(f"第 {line} 条记录{what}")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEARMONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def stored_ok(spec: FieldSpec, value: Any) -> bool:
    """Whether `value` is a stored value of the field's type (what import and the editor
    store), so every rule can be run on it: codes of the field's table, ISO dates, ints, …"""
    return value is None or checker(spec)(value)


def _is_date(value: Any) -> bool:
    if type(value) is not str or not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_text(value: Any) -> bool:
    return type(value) is str and len(value) <= 10_000


def checker(spec: FieldSpec):
    """A function telling whether a (non-None) value is stored form for `spec`."""
    kind, codes = spec.type, spec.codes
    if kind == "group":
        subs = {f.id: checker(f) for f in spec.fields}
        return lambda v: isinstance(v, list) and all(
            isinstance(row, dict) and all(k in subs and (x is None or subs[k](x))
                                          for k, x in row.items()) for row in v)
    if kind == "int":
        return lambda v: type(v) is int and abs(v) < 2**53
    if kind == "bool":
        return lambda v: type(v) is bool
    if kind == "region":
        return lambda v: (isinstance(v, list) and 1 <= len(v) <= 3 and codes is not None
                          and all(type(c) is str and codes.get(c) is not None for c in v))
    if kind == "code":
        return lambda v: type(v) is str and codes is not None and codes.get(v) is not None
    if kind == "date":  # a year-month too where the field's precision is "month"
        return _is_date if spec.precision == "day" else partial(is_stored_date, spec)
    if kind == "yearmonth":
        return lambda v: type(v) is str and bool(_YEARMONTH.match(v))
    return _is_text


def form_checkers(form: FormSpec) -> dict[str, Any]:
    """field id -> checker, for every field of `form`."""
    return {f.id: checker(f) for f in form.fields}


def stored_values(form: FormSpec, raw: dict[str, Any], line: int, renamed: bool = True,
                  checkers: dict[str, Any] | None = None) -> dict[str, Any]:
    """The values of a received record, checked to be in stored form under `form` (under its
    current field ids when some field of it was `renamed`)."""
    values = upgrade_stored(form.fields, dict(raw)) if renamed else raw
    checkers = checkers or form_checkers(form)
    for key, value in values.items():
        check = checkers.get(key)
        if check is None:
            raise RecordsError(f"第 {line} 条记录含有本软件不认识的栏目“{str(key)[:40]}”"
                               "（发送单位可能使用了更新版本的表单，请升级登记软件）")
        if value is not None and not check(value):
            raise RecordsError(f"第 {line} 条记录的“{form.field(key).label}”值无法识别"
                               f"（{str(value)[:40]}）")
    return values


def parse_record_lines(plaintext: bytes, forms: FormSet, sender_code: str,
                       origins: Mapping[str, Origins], digests: frozenset[str],
                       sender_name: str = "") -> list[Incoming]:
    """Read and check every record line; RecordsError names the first bad line.

    A record without an origin is the sender's own; one with an origin is of a unit that
    signed it itself in that inner package (or in one that package carries)."""
    who = sender_name or f"发送单位（代码 {sender_code}）"
    out: list[Incoming] = []
    seen: set[str] = set()
    renamed = {f.id: any(spec.renamed_from for spec in f.fields) for f in forms.forms.values()}
    checkers: dict[str, dict[str, Any]] = {}
    for n, line in _json_lines(plaintext, "记录数据", "记录"):
        _need(isinstance(line, dict) and _LINE_KEYS >= line.keys() >= _LINE_KEYS - {"origin",
                                                                                   "overrides"},
              n, "缺少必需的项目或含有多余的项目")
        rid = line["id"]
        try:
            _need(isinstance(rid, str) and str(uuid.UUID(rid)) == rid, n, "的编号无效")
        except ValueError as err:
            raise RecordsError(f"第 {n} 条记录的编号无效") from err
        _need(rid not in seen, n, "的编号与前面的记录重复")
        seen.add(rid)
        form_id, version, state, revision = (line["form_id"], line["form_version"],
                                             line["state"], line["revision"])
        if not (isinstance(form_id, str) and form_id in forms.forms):
            raise RecordsError(f"第 {n} 条记录的表单“{str(form_id)[:40]}”本软件不认识"
                               "（请升级登记软件）")
        _need(isinstance(version, str) and 0 < len(version) <= 40, n, "的表单版本无效")
        _need(state in RECORD_STATES, n, "的状态无效")
        _need(isinstance(revision, int) and not isinstance(revision, bool)
              and 1 <= revision <= MAX_REVISION, n, "的修订号无效")
        unit, origin = line["unit"], line.get("origin")
        _need(isinstance(unit, str), n, "的单位无效")
        if origin is None:
            if unit != sender_code:  # (messages are built only when needed: once per line)
                raise RecordsError(f"第 {n} 条记录属于单位 {str(unit)[:100]}，但没有注明来源数据包："
                                   f"{who}只能报送本单位的记录，不能代其他单位报送")
        else:
            _need(isinstance(origin, str) and origin in origins, n, "注明的来源数据包不在包内")
            signed = origins[origin].signed.get(unit)
            if signed is None:
                raise RecordsError(f"第 {n} 条记录属于单位 {unit[:100]}，但来源数据包中没有该单位"
                                   f"自己签名的数据包：{who}不能代该单位报送")
        _need(isinstance(line["values"], dict), n, "的栏目值格式不正确")
        form = forms.forms[form_id]
        if form_id not in checkers:
            checkers[form_id] = form_checkers(form)
        current = stored_values(form, line["values"], n, renamed[form_id], checkers[form_id])
        overrides = _overrides(line.get("overrides", []), n)
        values_json = canonical(line["values"])
        d = digest(rid, form_id, version, revision, line["values"], values_json)
        _need(d in digests, n, "的内容与清单中的摘要不符（可能被改动过）")
        if origin is not None:
            if d not in signed:
                raise RecordsError(f"第 {n} 条记录与来源数据包中签名的内容不符（转报单位改动过"
                                   f"这条记录，或这条记录不是单位 {unit[:100]} 自己签名的）")
        out.append(Incoming(rid, unit, form, version, state, revision, line["values"], current,
                            overrides, origin, d, values_json))
    return out


def _overrides(raw: Any, n: int) -> tuple[dict[str, Any], ...]:
    _need(isinstance(raw, list) and len(raw) <= 1000, n, "的已确认警告格式不正确")
    out = []
    for o in raw:
        _need(isinstance(o, dict) and set(o) == set(_OVERRIDE_KEYS)
              and all(isinstance(o[k], str) and len(o[k]) <= 2000 for k in _OVERRIDE_KEYS),
              n, "的已确认警告格式不正确")
        try:
            at = datetime.fromisoformat(o["created_at"])
        except ValueError as err:
            raise RecordsError(f"第 {n} 条记录的已确认警告时间无效") from err
        _need(at.tzinfo is not None, n, "的已确认警告时间缺少时区")
        out.append(dict(o))
    return tuple(out)


@dataclass(frozen=True)
class Comment:
    """One comment of a return file."""

    record_id: str | None
    form_id: str | None
    field: str | None
    label: str
    comment: str


def _json_lines(plaintext: bytes, what: str, item: str) -> Iterator[tuple[int, Any]]:
    """(line number, decoded JSON) of each line; RecordsError naming the bad line."""
    try:
        text = plaintext.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RecordsError(f"{what}不是 UTF-8 文本") from err
    for n, raw_line in enumerate(text.splitlines(), start=1):
        try:
            line = json.loads(raw_line)
        except (ValueError, RecursionError) as err:
            raise RecordsError(f"第 {n} 条{item}不是有效的 JSON") from err
        yield n, line


def parse_comment_lines(plaintext: bytes) -> list[Comment]:
    """Read the comments of a return file; RecordsError on a malformed line."""
    out = []
    for n, line in _json_lines(plaintext, "退回意见", "意见"):
        ok = (isinstance(line, dict)
              and set(line) == {"record_id", "form_id", "field", "label", "comment"}
              and all(line[k] is None or (isinstance(line[k], str) and len(line[k]) <= 100)
                      for k in ("record_id", "form_id", "field"))
              and isinstance(line["label"], str) and len(line["label"]) <= 200
              and isinstance(line["comment"], str) and 0 < len(line["comment"]) <= 5000)
        if not ok:
            raise RecordsError(f"第 {n} 条意见格式不正确")
        out.append(Comment(line["record_id"], line["form_id"], line["field"], line["label"],
                           line["comment"]))
    return out
