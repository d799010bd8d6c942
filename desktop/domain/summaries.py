"""The summaries (附件4, 附件5 and 附件6), built from stored records — never typed.

What a summary shows is data: the `[summary]` section of its source form (forms/*.toml, loaded
into domain.forms.SummarySpec; `forms.summaries` lists them) names its columns, order, 合计
row, the records listed apart and its total groups with their bands. This module only counts.

API (pure functions, no Qt, no SQL, no files):

    build_summary(forms, summary_id, records, *, today, full=False) -> Summary

- `summary_id`: a key of `forms.summaries` — "lawyer_summary" (附件4, from 附件1), "staff_summary"
  (附件5, from 附件2) or "org_summary" (附件6, from 附件3) among the shipped forms.
- `records`: an iterable of (record_id, form_id, values) with values as stored (dicts keyed by
  field id). Pass every record in the unit's scope (at a city or province: every merged unit);
  records of other forms are used where needed — the 附件3 records tell a member's 组织类别
  (matched by the firm's 统一社会信用代码, else by the organisation's name).
- `today`: the fill date; ages are counted on it.
- `full`: False masks ID numbers, phones and birth dates (110105********002X, 138****8000,
  1980-05: domain.masking).

A `Summary` has: `title` (附件4 律师党员基本信息汇总表), `columns` (header labels, 序号 first),
`column_types` (the field types, "seq" for 序号: a writer picks widths and number cells from
them), `rows` (display strings, one tuple per record), `record_ids` (same order), `totals_row`
(the 合计 row, aligned with columns), `totals` (TotalGroup: label and (item, count) pairs, one per `[[summary.totals]]` — for the
shipped forms by 组织类别, 人员类别, 性别, 民族, age band and 学历 band for 附件4/5; by 组织类别 and
所在单位情况 for 附件6), and the separate list of records `[summary.excluded]` leaves out (未转入
情形 4 and 5: `excluded_columns`, `excluded_rows`, `excluded_ids`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from desktop.domain.forms import ExcludedSpec, FieldSpec, FormSet, FormSpec, TotalSpec
from desktop.domain.masking import masked_text
from desktop.domain.values import birth_span, display_value

#: 组织类别 of a member whose firm no 附件3 record covers
NO_ORG = "未登记党组织"
UNKNOWN = "未填"
SEQ = "序号"
#: the form whose records tell a member's 组织类别 (a total of kind "org_category")
ORG_FORM = "party_org"


@dataclass(frozen=True)
class TotalGroup:
    label: str  # 人员类别, 性别, …
    items: tuple[tuple[str, int], ...]  # (item, count) in a fixed order


@dataclass(frozen=True)
class Summary:
    id: str
    attachment: str
    title: str  # e.g. "附件4 律师党员基本信息汇总表"
    source_form: str
    form_version: str
    columns: tuple[str, ...]
    column_types: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    record_ids: tuple[str, ...]
    totals_row: tuple[str, ...]
    totals: tuple[TotalGroup, ...]
    excluded_columns: tuple[str, ...] = ()
    excluded_types: tuple[str, ...] = ()
    excluded_rows: tuple[tuple[str, ...], ...] = ()
    excluded_ids: tuple[str, ...] = ()
    excluded_by: ExcludedSpec | None = None  # what the list apart is called ([summary.excluded])
    counter: str = "条"  # 合计：N 人
    full: bool = False  # ID numbers and phones shown in full

    @property
    def count(self) -> int:
        return len(self.rows)


def build_summary(forms: FormSet, summary_id: str,
                  records: Iterable[tuple[str, str, Mapping[str, Any]]], *, today: date,
                  full: bool = False) -> Summary:
    """The summary `summary_id` of the given records (see the module docstring)."""
    sdef = forms.summary(summary_id)
    form = forms.form(sdef.source_form)
    ex = sdef.excluded
    kept: list[tuple[str, Mapping[str, Any]]] = []  # the summary's rows
    gone: list[tuple[str, Mapping[str, Any]]] = []  # the list apart ([summary.excluded])
    orgs: list[Mapping[str, Any]] = []
    for rid, form_id, values in records:
        if form_id == sdef.source_form:
            apart = ex is not None and values.get(ex.field) in ex.codes
            (gone if apart else kept).append((rid, values))
        if form_id == ORG_FORM:
            orgs.append(values)
    cols = [(form.field(fid), head) for fid, head in sdef.columns]

    def order(r: tuple[str, Mapping[str, Any]]) -> tuple[str, ...]:
        return tuple(str(r[1].get(fid) or "") for fid in sdef.sort)

    kept.sort(key=order)
    gone.sort(key=order)
    rows = tuple(_row(i, cols, v, full) for i, (_, v) in enumerate(kept, start=1))
    values = [v for _, v in kept]
    totals_row = [f"合计：{len(rows)} {sdef.counter}"]
    for spec, _ in cols:
        totals_row.append(str(sum(v[spec.id] for v in values if _is_int(v.get(spec.id))))
                          if sdef.sum_numbers and spec.type == "int" else "")
    ex_cols = [(form.field(fid), head) for fid, head in ex.columns] if ex else []
    return Summary(
        sdef.id, sdef.attachment, sdef.display_title, form.id, form.version,
        _headers(cols), _types(cols), rows, tuple(rid for rid, _ in kept), tuple(totals_row),
        tuple(_total(t, form, values, orgs, today, forms) for t in sdef.totals),
        excluded_columns=_headers(ex_cols) if ex else (),
        excluded_types=_types(ex_cols) if ex else (),
        excluded_rows=tuple(_row(i, ex_cols, v, full) for i, (_, v) in enumerate(gone, start=1)),
        excluded_ids=tuple(rid for rid, _ in gone), excluded_by=ex, counter=sdef.counter,
        full=full)


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _total(total: TotalSpec, form: FormSpec, values: list[Mapping[str, Any]],
           orgs: list[Mapping[str, Any]], today: date, forms: FormSet) -> TotalGroup:
    """One group of the 分类统计, counted as its kind says (domain.forms.TOTAL_KINDS)."""
    spec = form.field(total.field) if total.field else None
    if total.kind == "org_category":
        table = forms.tables["org_category"]
        counts = Counter(_org_category_index(orgs)(v) for v in values)
        return _coded(total.label, table.codes, counts, _always(total, table), NO_ORG)
    if total.kind == "codes":
        counts = Counter(v.get(spec.id) for v in values)
        return _coded(total.label, spec.codes.codes, counts, _always(total, spec.codes), UNKNOWN)
    if total.kind == "ethnicity":
        counts = Counter(_ethnic_band(v.get(spec.id), total.bands) for v in values)
    elif total.kind == "age":
        counts = Counter(_age_band(_birth(v, total), today, total) for v in values)
    else:  # code_groups
        counts = Counter(_group_of(spec.codes, v.get(spec.id)) for v in values)
    return _banded(total.label, total.bands, counts)


def _always(total: TotalSpec, table) -> tuple[str, ...]:
    return total.always if total.always is not None else tuple(c.code for c in table.codes)


def _org_category_index(orgs: list[Mapping[str, Any]]):
    by_uscc: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for org in orgs:
        category = org.get("org_category")
        if not category:
            continue
        for firm in org.get("firms") or ():
            if isinstance(firm, Mapping) and firm.get("uscc"):
                by_uscc.setdefault(str(firm["uscc"]), category)
        if org.get("org_name"):
            by_name.setdefault(str(org["org_name"]), category)

    def category_of(values: Mapping[str, Any]) -> str | None:
        return (by_uscc.get(str(values.get("firm_uscc") or ""))
                or by_name.get(str(values.get("org_name") or "")))

    return category_of


def _birth(values: Mapping[str, Any], total: TotalSpec) -> date | None:
    """The birth date ages are counted from: the field's, else the ID number's. A birth known
    to the month only counts from the month's first day: the age at month precision (whole
    years once the birth month has come)."""
    span = birth_span(values.get(total.field) if total.field else None,
                      values.get(total.id_field) if total.id_field else None)
    return span[0] if span else None


def age_on(birth: date, today: date) -> int:
    """Whole years completed on `today`."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _age_band(birth: date | None, today: date, total: TotalSpec) -> str:
    """The band of the age on `today`: the first whose last age (`limits`) it does not pass."""
    if birth is None:
        return UNKNOWN
    age = age_on(birth, today)
    return total.bands[bisect_left(total.limits, age)]


def _ethnic_band(code: Any, bands: tuple[str, ...]) -> str:
    """The first band for 汉族 (code 01), the second for the other 55 nationalities."""
    if not code:
        return UNKNOWN
    if code == "01":
        return bands[0]
    return bands[1] if str(code).isdigit() and int(code) <= 56 else "其他"


def _group_of(table, code: Any) -> str:
    found = table.get(code) if code else None
    return (found.group or found.label) if found else UNKNOWN


# --- shared ---------------------------------------------------------------------------------


def _headers(cols: list[tuple[FieldSpec, str]]) -> tuple[str, ...]:
    return (SEQ, *(head or spec.label for spec, head in cols))


def _types(cols: list[tuple[FieldSpec, str]]) -> tuple[str, ...]:
    return ("seq", *(spec.type for spec, _ in cols))


def _row(no: int, cols: list[tuple[FieldSpec, str]], values: Mapping[str, Any], full: bool
         ) -> tuple[str, ...]:
    return (str(no), *(cell_text(spec, values.get(spec.id), full) for spec, _ in cols))


def cell_text(spec: FieldSpec, value: Any, full: bool) -> str:
    """A stored value as a table shows it: labels for codes, masked (domain.masking) unless
    `full`."""
    if value is None:
        return ""
    if spec.type == "group" and isinstance(value, list):
        if not spec.fields:
            return ""
        first = spec.fields[0]
        return "、".join(cell_text(first, r.get(first.id), full) for r in value
                        if isinstance(r, Mapping))
    text = display_value(spec, value)
    return text if full else masked_text(spec.mask, text)


def _coded(label: str, codes, counts: Counter, always: tuple[str, ...], missing: str
           ) -> TotalGroup:
    items = [(c.label, counts.get(c.code, 0)) for c in codes
             if c.code in always or counts.get(c.code, 0)]
    known = {c.code for c in codes}
    other = sum(n for code, n in counts.items() if code not in known)
    if other:
        items.append((missing, other))
    return TotalGroup(label, tuple(items))


def _banded(label: str, bands: tuple[str, ...], counts: Counter) -> TotalGroup:
    items = [(b, counts.get(b, 0)) for b in bands]
    items += [(k, n) for k, n in counts.items() if k not in bands and n]
    return TotalGroup(label, tuple(items))
