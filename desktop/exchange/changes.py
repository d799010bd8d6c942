"""What changed between two packages of a unit (定期更新: 将发生变化的数据定期上报).

The comparison is pure over the two packages' record lines (``{"id", "unit", "form_id",
"values"}``, exchange/format/records.py), matched by their stable ids (a record keeps its UUID
from package to package):

- 新增: a record id the earlier package did not hold (转入 when the same person was registered
  in another unit before; 恢复 when a record that had left the count comes back);
- 减少: a record id the later package no longer holds, or a record whose status took a code
  that leaves the register's count (the code tables' ``leaves``: 停止党籍, 转出 for 未转入情形 4,
  分类处理 for 情形 5, 会员清理 …). Why it left is said: the code's word, 转出 when the same
  person is now registered in another unit, 作废 / 改回草稿 when the sender's audit log says
  so, 重新登记 when the same person came back under a new record, else 原因不明;
- 修改: field by field (label, old, new), every personal field masked as every output is
  (domain/masking.py) unless the caller asks for full values.

Also here: opening a package the register keeps (its own earlier package, or one received)
to read its record lines and audit log, and the change summary a package carries upward
(``changes/summary.json`` inside the encrypted payload: counts per unit and form only).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from desktop.domain.forms import FieldSpec, FormSet, FormSpec
from desktop.domain.identifiers import normalise_id
from desktop.domain.masking import masked_text
from desktop.domain.values import display_value, upgrade_stored
from desktop.errors import KnownError
from desktop.exchange.format import encryption
from desktop.exchange.format.errors import PackageRefused
from desktop.exchange.format.manifest import (
    AUDIT,
    CHANGES,
    MANIFEST,
    Manifest,
    ManifestError,
    member_allowed,
    parse_manifest,
)
from desktop.exchange.format.payload import data_plaintext, open_payload
from desktop.exchange.format.zipcheck import read_members

ADDED, REMOVED, CHANGED = "新增", "减少", "修改"
KINDS = (ADDED, REMOVED, CHANGED)
NO_REASON = "原因不明"
MOVED_OUT, MOVED_IN, RESTORED, RE_ENTERED = "转出", "转入", "恢复", "重新登记"
#: what the sender's audit log says of a record its package no longer holds
#: (a record saved in the editor is a draft until it is marked complete again)
_DRAFT = ("改回草稿", "报送单位已把这条记录改回草稿修改，未随本次上报")
GONE = {"record.void": ("作废", "报送单位已作废这条记录"), "record.reopen": _DRAFT,
        "record.save": _DRAFT}
SUMMARY_FORMAT = "dengji-changes-summary-1"
MAX_SUMMARY_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class RecordChange:
    change: str  # ADDED, REMOVED or CHANGED
    record_id: str
    unit_code: str
    form_id: str
    name: str
    reason: str = ""  # for ADDED and REMOVED: the word counted in the summary
    detail: str = ""  # the reason as a sentence
    fields: tuple[FieldChange, ...] = ()

    @property
    def why(self) -> str:
        """The reason and its sentence in one (转出：未转入情形为“离开执业律所六个月以上”)."""
        if not self.detail or self.detail.startswith(self.reason):
            return self.detail or self.reason
        return f"{self.reason}：{self.detail}"


@dataclass(frozen=True)
class Comparison:
    """The changes from `before` records to `after` records, in unit, form and name order."""

    changes: tuple[RecordChange, ...]
    before: int
    after: int
    masked: bool = True

    def counts(self) -> list[dict[str, Any]]:
        """Per unit and form: added, removed by reason, changed (the summary that travels)."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for c in self.changes:
            row = rows.setdefault((c.unit_code, c.form_id), {
                "unit": c.unit_code, "form": c.form_id, "added": 0, "removed": Counter(),
                "changed": 0})
            if c.change == REMOVED:
                row["removed"][c.reason] += 1
            else:
                row["added" if c.change == ADDED else "changed"] += 1
        return [{**r, "removed": dict(sorted(r["removed"].items()))}
                for _, r in sorted(rows.items())]

    def totals(self) -> tuple[int, Counter[str], int]:
        """(added, removed by reason, changed) over every unit and form."""
        kinds = Counter(c.change for c in self.changes)
        return (kinds[ADDED], Counter(c.reason for c in self.changes if c.change == REMOVED),
                kinds[CHANGED])

    def sentence(self) -> str:
        """新增 2 条，减少 1 条（转出 1），修改 3 条 — or 没有变化."""
        return sentence(*self.totals())


def sentence(added: int, removed: Mapping[str, int], changed: int) -> str:
    if not (added or sum(removed.values()) or changed):
        return "没有变化"
    why = "，".join(f"{k} {n}" for k, n in sorted(removed.items(), key=lambda kv: (-kv[1], kv[0])))
    gone = sum(removed.values())
    return (f"新增 {added} 条，减少 {gone} 条" + (f"（{why}）" if gone else "")
            + f"，修改 {changed} 条")


def shown(spec: FieldSpec, value: Any, masked: bool) -> str:
    """A stored value as a person reads it, masked where the field says so."""
    if spec.type == "group":
        rows = value if isinstance(value, list) else []
        return "；".join("，".join(f"{sub.label} {shown(sub, row.get(sub.id), masked)}"
                                  for sub in spec.fields if row.get(sub.id) not in (None, ""))
                         for row in rows if isinstance(row, dict))
    text = display_value(spec, value)
    return masked_text(spec.mask, text) if masked else text


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


class _Form:
    """What the comparison needs of a form, worked out once."""

    def __init__(self, form: FormSpec) -> None:
        self.form = form
        self.renamed = any(f.renamed_from for f in form.fields)
        self.person = next((k.field for k in form.keys if k.kind.endswith("person")), None)
        self.leaving = [(spec, {c.code: c for c in spec.codes.codes if c.leaves})
                        for spec in form.fields if spec.type == "code" and spec.codes]
        self.leaving = [(spec, codes) for spec, codes in self.leaving if codes]

    def values(self, raw: Any) -> dict[str, Any]:
        values = raw if isinstance(raw, dict) else {}
        return upgrade_stored(self.form.fields, dict(values)) if self.renamed else values

    def left(self, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """(word, detail) when the record's status says it left the count."""
        for spec, codes in self.leaving:
            value = values.get(spec.id)
            code = codes.get(value) if isinstance(value, str) else None
            if code is not None:
                return code.leaves or "", f"{spec.label}为“{code.label}”"
        return None

    def person_of(self, values: Mapping[str, Any]) -> str | None:
        value = values.get(self.person) if self.person else None
        if not value:
            return None
        text = str(value)  # stored compact: normalised only when it may differ (15 digits, …)
        return text if len(text) == 18 and text.isascii() and text.isalnum() \
            and not text.islower() else normalise_id(text)

    def name(self, values: Mapping[str, Any]) -> str:
        return str(values.get(self.form.name_field) or "")


@dataclass
class _Side:
    """One package's records in scope: id -> (unit, form, values)."""

    records: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)

    def persons(self, ids: Iterable[str], forms: Mapping[str, _Form]
                ) -> dict[str, tuple[str, str]]:
        """person -> (unit, record id) over the records `ids` (those only one side holds: a
        person who moved or was registered anew is among them on both sides)."""
        out: dict[str, tuple[str, str]] = {}
        for rid in ids:
            unit, form_id, values = self.records[rid]
            person = forms[form_id].person_of(values)
            if person:
                out.setdefault(person, (unit, rid))
        return out


def _side(lines: Iterable[Mapping[str, Any]], forms: Mapping[str, _Form],
          units: Callable[[str], bool]) -> _Side:
    side = _Side()
    for line in lines:
        unit, form = line.get("unit"), forms.get(line.get("form_id"))
        if form is None or not isinstance(unit, str) or not units(unit):
            continue
        side.records[line["id"]] = (unit, form.form.id, form.values(line.get("values")))
    return side


def compare(before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]],
            forms: FormSet, *, masked: bool = True, units: Callable[[str], bool] | None = None,
            gone: Mapping[str, str] | None = None,
            explain: Callable[[list[tuple[str, str]]], Mapping[str, str]] | None = None,
            locate: Callable[[list[str]], Mapping[str, str]] | None = None,
            sizes: tuple[int, int] | None = None) -> Comparison:
    """The changes from the record lines `before` to `after` (of the units `units` keeps).

    `gone`: record id -> the last audit action the sender took on it (GONE says what it
    means); `explain([(record id, unit code)])` -> the same, asked only for the records that
    are gone with no word from `gone` (the audit logs of the units below, whose packages the
    register keeps); `locate(person ids)` -> {person id: where that person is registered now}
    for the registrations outside both packages (the register's other units); `sizes`: the
    records in scope of each package when `before` and `after` hold only what differs."""
    specs = {fid: _Form(f) for fid, f in forms.forms.items()}
    keep = units or (lambda _unit: True)
    old, new = _side(before, specs, keep), _side(after, specs, keep)
    arrived = new.persons((rid for rid in new.records if rid not in old.records), specs)
    left = old.persons((rid for rid in old.records if rid not in new.records), specs)
    out: list[RecordChange] = []
    unexplained: list[tuple[str, str, str, str, str]] = []
    for rid, (unit, form_id, values) in old.records.items():
        spec = specs[form_id]
        now = new.records.get(rid)
        if now is not None:
            out.extend(_changed(spec, rid, values, now, masked))
            continue
        person = spec.person_of(values)
        there = arrived.get(person) if person else None
        if there is not None and there[0] != unit:
            out.append(RecordChange(REMOVED, rid, unit, form_id, spec.name(values), MOVED_OUT,
                                    f"转出：现登记在单位 {there[0]}"))
        elif there is not None:
            out.append(RecordChange(REMOVED, rid, unit, form_id, spec.name(values), RE_ENTERED,
                                    "同一人已以新的记录重新登记"))
        else:
            unexplained.append((rid, unit, form_id, spec.name(values), person or ""))
    said = dict(gone or {})
    if explain and any(said.get(rid) not in GONE for rid, *_ in unexplained):
        said |= {rid: a for rid, a in explain([(rid, unit) for rid, unit, *_ in unexplained
                                                if said.get(rid) not in GONE]).items()
                 if said.get(rid) not in GONE}
    unexplained, rest = [u for u in unexplained if said.get(u[0]) not in GONE], [
        u for u in unexplained if said.get(u[0]) in GONE]
    for rid, unit, form_id, name, _ in rest:
        word, detail = GONE[said[rid]]
        out.append(RecordChange(REMOVED, rid, unit, form_id, name, word, detail))
    found = dict(locate([p for *_, p in unexplained if p])) if locate and unexplained else {}
    for rid, unit, form_id, name, person in unexplained:
        where = found.get(person) if person else None
        if where:
            out.append(RecordChange(REMOVED, rid, unit, form_id, name, MOVED_OUT,
                                    f"转出：现登记在{where}"))
        else:
            out.append(RecordChange(REMOVED, rid, unit, form_id, name, NO_REASON,
                                    "数据包中已没有这条记录，报送单位未说明原因"))
    for rid, (unit, form_id, values) in new.records.items():
        if rid in old.records:
            continue
        spec = specs[form_id]
        person = spec.person_of(values)
        was = left.get(person) if person else None
        if was is not None and was[0] != unit:
            reason, detail = MOVED_IN, f"转入：原登记在单位 {was[0]}"
        elif was is not None:
            reason, detail = RE_ENTERED, "同一人原有的记录已不在数据包中"
        else:
            reason, detail = "新登记", ""
        out.append(RecordChange(ADDED, rid, unit, form_id, spec.name(values), reason, detail))
    order = {fid: i for i, fid in enumerate(forms.forms)}
    out.sort(key=lambda c: (c.unit_code, order.get(c.form_id, 0), KINDS.index(c.change),
                            c.name, c.record_id))
    before_n, after_n = sizes or (len(old.records), len(new.records))
    return Comparison(tuple(out), before_n, after_n, masked)


def _changed(spec: _Form, rid: str, values: dict[str, Any],
             now: tuple[str, str, dict[str, Any]], masked: bool) -> list[RecordChange]:
    unit, form_id, after = now
    if values == after:
        return []
    fields = tuple(
        FieldChange(f.id, f.label, shown(f, values.get(f.id), masked),
                    shown(f, after.get(f.id), masked))
        for f in spec.form.fields
        if values.get(f.id) != after.get(f.id)
        and not (_empty(values.get(f.id)) and _empty(after.get(f.id))))
    was, left = spec.left(values), spec.left(after)
    name = spec.name(after)
    if left is not None and was is None:
        return [RecordChange(REMOVED, rid, unit, form_id, name, left[0], left[1], fields)]
    if was is not None and left is None:
        return [RecordChange(ADDED, rid, unit, form_id, name, RESTORED,
                             f"恢复：原{was[1]}", fields)]
    return [RecordChange(CHANGED, rid, unit, form_id, name, fields=fields)] if fields else []


def gone_actions(audit: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """record id -> the last of the GONE actions an audit log took on it."""
    out: dict[str, str] = {}
    for entry in audit:
        action = entry.get("action")
        if action in GONE and isinstance(entry.get("target"), str):
            out[entry["target"]] = action
        elif isinstance(entry.get("target"), str) and entry["target"] in out:
            out.pop(entry["target"])  # touched again later (saved, completed): not gone
    return out


# --- the packages the register keeps ------------------------------------------------------


@dataclass
class Opened:
    """A kept package: its record lines as text (parse_lines), its sender's audit log."""

    manifest: Manifest
    raw: list[str]
    audit_text: bytes
    summary: list[dict[str, Any]] | None  # the change summary it carried (read_summary)

    @property
    def audit(self) -> list[dict[str, Any]]:
        return parse_lines([t for t in self.audit_text.decode("utf-8").splitlines()
                            if t.strip()])

    @property
    def lines(self) -> list[dict[str, Any]]:
        return parse_lines(self.raw)


def parse_lines(raw: list[str]) -> list[Any]:
    """JSON Lines read in one call (one parse of the whole list is several times faster than
    one per line)."""
    return json.loads("[" + ",".join(raw) + "]") if raw else []


def differing(before: list[str], after: list[str]) -> tuple[list[Any], list[Any]]:
    """The lines of each package that the other does not hold as the same text, parsed: a
    line the same in both is a record unchanged (same id, values, state, revision and
    origin), so only the few that differ need reading."""
    old, new = set(before), set(after)
    return (parse_lines([t for t in before if t not in new]),
            parse_lines([t for t in after if t not in old]))


def count_unit(lines: list[str], unit: str) -> int:
    """How many record lines name `unit` (as the writer spells it: exchange/format/writer.jsonl,
    compact separators)."""
    needle = '"unit":' + json.dumps(unit, ensure_ascii=False)
    return sum(needle in t for t in lines)


def open_kept(data: bytes, keys: Iterable[X25519PrivateKey], source: str) -> Opened:
    """Open a package this register keeps (checked when it was written or merged) with the
    first of the own `keys` it was encrypted for; KnownError when none can open it."""
    try:
        members = read_members(data, source, member_allowed)
        manifest = parse_manifest(members[MANIFEST])
        key = next((k for k in keys if encryption.can_decrypt(manifest.encryption, k)), None)
        if key is None:
            raise KnownError(f"本单位的密钥打不开数据包 {source}，不能比较变化。")
        if manifest.sealed:
            opened = open_payload(members, manifest, key, source)
            if opened.members is None:
                raise KnownError(f"无法打开数据包 {source}：{opened.message}。")
            members = opened.members
        plain = data_plaintext(members, manifest, key)
    except (PackageRefused, ManifestError, KeyError, encryption.DecryptionFailed) as err:
        raise KnownError(f"无法打开登记库保存的数据包 {source}（{err}），不能比较变化。") from err
    raw = [t for t in plain.decode("utf-8").splitlines() if t.strip()]
    return Opened(manifest, raw, members.get(AUDIT, b""), read_summary(members.get(CHANGES)))


def summary_member(comparison: Comparison, base: str | None) -> bytes:
    """The change summary an upward package carries (counts only; inside the payload)."""
    return json.dumps({"format": SUMMARY_FORMAT, "compared_with": base,
                       "counts": comparison.counts()}, ensure_ascii=False,
                      sort_keys=True).encode()


def read_summary(raw: bytes | None) -> list[dict[str, Any]] | None:
    """The counts of a carried change summary, strictly: None when absent or not well formed
    (a summary is information for the clerk; the records themselves are checked apart)."""
    if not raw:
        return None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != SUMMARY_FORMAT:
        return None
    counts = doc.get("counts")
    if not isinstance(counts, list) or len(counts) > MAX_SUMMARY_ROWS:
        return None
    out = []
    for row in counts:
        if not (isinstance(row, dict) and set(row) == {"unit", "form", "added", "removed",
                                                       "changed"}
                and all(isinstance(row[k], str) and 0 < len(row[k]) <= 100
                        for k in ("unit", "form"))
                and all(_count(row[k]) for k in ("added", "changed"))
                and isinstance(row["removed"], dict) and len(row["removed"]) <= 50
                and all(isinstance(k, str) and len(k) <= 40 and _count(v)
                        for k, v in row["removed"].items())):
            return None
        out.append(row)
    return out


def _count(value: Any) -> bool:
    return type(value) is int and 0 <= value < 10**9


def summed(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Carried counts by unit: {unit: {"added", "removed": {reason: n}, "changed"}}."""
    out: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"added": 0, "removed": Counter(), "changed": 0})
    for row in rows:
        u = out[row["unit"]]
        u["added"] += row["added"]
        u["changed"] += row["changed"]
        u["removed"].update(row["removed"])
    return dict(out)
