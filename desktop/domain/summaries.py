"""The summaries 附件4, 附件5 and 附件6, built from stored records — never typed.

API (pure functions, no Qt, no SQL):

    build_summary(forms, summary_id, records, *, today, full=False) -> Summary

- `summary_id`: "lawyer_summary" (附件4, from 附件1 lawyer_member), "staff_summary" (附件5, from
  附件2 staff_member) or "org_summary" (附件6, from 附件3 party_org); SUMMARIES lists them.
- `records`: an iterable of (record_id, form_id, values) with values as stored (dicts keyed by
  field id). Pass every record in the unit's scope (at a city or province: every merged unit);
  records of other forms are used where needed — the 附件3 records tell a member's 组织类别
  (matched by the firm's 统一社会信用代码, else by the organisation's name).
- `today`: the fill date; ages are counted on it.
- `full`: False masks ID numbers and phones (110105********002X, 138****8000).

A `Summary` has: `title` (附件4 律师党员基本信息汇总表), `columns` (header labels, 序号 first),
`column_types` (the field types, "seq" for 序号: a writer picks widths and number cells from
them), `rows` (display strings, one tuple per record), `record_ids` (same order), `totals_row`
(the 合计 row, aligned with columns), `totals` (TotalGroup: label and (item, count) pairs — by
组织类别, 人员类别, 性别, 民族 汉族/少数民族, age band ≤35/36–45/46–54/55–59/≥60 and 学历 band for
附件4/5; by 组织类别 and 所在单位情况 for 附件6), and the separate list of records in 未转入情形
4 and 5 (`excluded_columns`, `excluded_rows`, `excluded_ids`), which are left out of 附件4/5.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from desktop.domain.identifiers import id_birth_date, mask_id, mask_phone
from desktop.domain.values import display_value
from desktop.formspec.model import FieldSpec, FormSet, FormSpec

#: 未转入情形 whose members are not registered (kept, listed apart, left out of 附件4/5)
NOT_REGISTERED_CASES = ("4", "5")
AGE_BANDS = ("35岁及以下", "36至45岁", "46至54岁", "55至59岁", "60岁及以上")
EDUCATION_BANDS = ("研究生", "大学本科", "大学专科", "中专", "高中/中技", "初中及以下")
#: 组织类别 codes always shown (others only when they occur)
MAIN_ORG_CATEGORIES = ("611", "621", "631", "632")
NO_ORG = "未登记党组织"
UNKNOWN = "未填"
SEQ = "序号"


@dataclass(frozen=True)
class SummaryDef:
    id: str
    attachment: str
    title: str
    source_form: str
    #: (field id, header text or "" for the field's label)
    columns: tuple[tuple[str, str], ...]
    kind: str  # "member" or "org"


_MEMBER_TAIL = (("category", ""), ("join_date", ""), ("confirm_date", ""),
                ("party_status", ""), ("party_post", ""), ("transferred", "组织关系已转入本所"),
                ("mobile", ""))
SUMMARIES: Mapping[str, SummaryDef] = {
    "lawyer_summary": SummaryDef(
        "lawyer_summary", "附件4", "律师党员基本信息汇总表", "lawyer_member",
        (("name", ""), ("sex", ""), ("ethnicity", ""), ("birth_date", ""), ("id_number", ""),
         ("education", ""), ("licence", ""), ("firm", ""), *_MEMBER_TAIL), "member"),
    "staff_summary": SummaryDef(
        "staff_summary", "附件5", "律师事务所工作人员党员基本信息汇总表", "staff_member",
        (("name", ""), ("sex", ""), ("ethnicity", ""), ("birth_date", ""), ("id_number", ""),
         ("education", ""), ("firm", ""), ("staff_identity", ""), ("job", ""), *_MEMBER_TAIL),
        "member"),
    "org_summary": SummaryDef(
        "org_summary", "附件6", "党组织基本信息汇总表", "party_org",
        (("org_name", ""), ("org_category", ""), ("parent_org", ""), ("founded", ""),
         ("unit_situation", "所在单位情况"), ("firms", "覆盖律师事务所"), ("secretary", ""),
         ("contact", ""), ("contact_phone", ""), ("lawyer_total", ""), ("staff_total", ""),
         ("full_members", ""), ("probationary_members", ""), ("lawyer_members", ""),
         ("staff_members", ""), ("has_committee", "设支部委员会"), ("term_end", "")), "org"),
}
_EXCLUDED_COLUMNS = (("name", ""), ("id_number", ""), ("firm", ""), ("transfer_case", ""),
                     ("handling", ""))


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
    full: bool = False  # ID numbers and phones shown in full

    @property
    def count(self) -> int:
        return len(self.rows)


def summary_ids() -> tuple[str, ...]:
    return tuple(SUMMARIES)


def build_summary(forms: FormSet, summary_id: str,
                  records: Iterable[tuple[str, str, Mapping[str, Any]]], *, today: date,
                  full: bool = False) -> Summary:
    """The summary `summary_id` of the given records (see the module docstring)."""
    sdef = SUMMARIES[summary_id]
    form = forms.form(sdef.source_form)
    own: list[tuple[str, Mapping[str, Any]]] = []
    orgs: list[Mapping[str, Any]] = []
    for rid, form_id, values in records:
        if form_id == sdef.source_form:
            own.append((rid, values))
        if form_id == "party_org" and sdef.kind == "member":
            orgs.append(values)
    cols = [(form.field(fid), head) for fid, head in sdef.columns if form.has_field(fid)]
    if sdef.kind == "org":
        return _org_summary(sdef, form, cols, own, full)
    return _member_summary(sdef, form, cols, own, orgs, today, full, forms)


# --- 附件4 / 附件5 ------------------------------------------------------------------------


def _member_summary(sdef: SummaryDef, form: FormSpec, cols: list[tuple[FieldSpec, str]],
                    records: list[tuple[str, Mapping[str, Any]]], orgs: list[Mapping[str, Any]],
                    today: date, full: bool, forms: FormSet) -> Summary:
    kept = [(rid, v) for rid, v in records if v.get("transfer_case") not in NOT_REGISTERED_CASES]
    gone = [(rid, v) for rid, v in records if v.get("transfer_case") in NOT_REGISTERED_CASES]
    kept.sort(key=lambda r: (str(r[1].get("firm") or ""), str(r[1].get("name") or "")))
    gone.sort(key=lambda r: (str(r[1].get("firm") or ""), str(r[1].get("name") or "")))
    rows = tuple(_row(i, cols, v, full) for i, (_, v) in enumerate(kept, start=1))
    ex_cols = [(form.field(fid), head) for fid, head in _EXCLUDED_COLUMNS if form.has_field(fid)]
    values = [v for _, v in kept]
    totals = _member_totals(form, values, orgs, today, forms)
    totals_row = (f"合计：{len(rows)} 人", *([""] * len(cols)))
    return Summary(
        sdef.id, sdef.attachment, f"{sdef.attachment} {sdef.title}", form.id, form.version,
        _headers(cols), _types(cols), rows, tuple(rid for rid, _ in kept), totals_row, totals,
        _headers(ex_cols), _types(ex_cols),
        tuple(_row(i, ex_cols, v, full) for i, (_, v) in enumerate(gone, start=1)),
        tuple(rid for rid, _ in gone), full)


def _member_totals(form: FormSpec, values: list[Mapping[str, Any]],
                   orgs: list[Mapping[str, Any]], today: date, forms: FormSet
                   ) -> tuple[TotalGroup, ...]:
    groups = []
    org_table = forms.tables.get("org_category")
    if org_table is not None:
        category_of = _org_category_index(orgs)
        counts = Counter(category_of(v) for v in values)
        groups.append(_coded("组织类别", org_table.codes, counts, MAIN_ORG_CATEGORIES, NO_ORG))
    for fid in ("category", "sex"):
        if form.has_field(fid) and form.field(fid).codes is not None:
            spec = form.field(fid)
            counts = Counter(v.get(fid) for v in values)
            groups.append(_coded(spec.label, spec.codes.codes, counts,
                                 tuple(c.code for c in spec.codes.codes), UNKNOWN))
    if form.has_field("ethnicity"):
        counts = Counter(_ethnic_band(v.get("ethnicity")) for v in values)
        groups.append(_banded("民族", ("汉族", "少数民族"), counts))
    counts = Counter(_age_band(_birth(v), today) for v in values)
    groups.append(_banded("年龄", AGE_BANDS, counts))
    if form.has_field("education") and form.field("education").codes is not None:
        table = form.field("education").codes
        counts = Counter(_group_of(table, v.get("education")) for v in values)
        groups.append(_banded("学历", EDUCATION_BANDS, counts))
    return tuple(groups)


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


def _birth(values: Mapping[str, Any]) -> date | None:
    text = values.get("birth_date")
    if isinstance(text, str):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    number = values.get("id_number")
    return id_birth_date(number) if isinstance(number, str) else None


def age_on(birth: date, today: date) -> int:
    """Whole years completed on `today`."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _age_band(birth: date | None, today: date) -> str:
    if birth is None:
        return UNKNOWN
    age = age_on(birth, today)
    if age <= 35:
        return AGE_BANDS[0]
    if age <= 45:
        return AGE_BANDS[1]
    if age <= 54:
        return AGE_BANDS[2]
    if age <= 59:
        return AGE_BANDS[3]
    return AGE_BANDS[4]


def _ethnic_band(code: Any) -> str:
    if not code:
        return UNKNOWN
    if code == "01":
        return "汉族"
    return "少数民族" if str(code).isdigit() and int(code) <= 56 else "其他"


def _group_of(table, code: Any) -> str:
    found = table.get(code) if code else None
    return (found.group or found.label) if found else UNKNOWN


# --- 附件6 ---------------------------------------------------------------------------------


def _org_summary(sdef: SummaryDef, form: FormSpec, cols: list[tuple[FieldSpec, str]],
                 records: list[tuple[str, Mapping[str, Any]]], full: bool) -> Summary:
    records = sorted(records, key=lambda r: str(r[1].get("org_name") or ""))
    rows = tuple(_row(i, cols, v, full) for i, (_, v) in enumerate(records, start=1))
    values = [v for _, v in records]
    totals_row = [f"合计：{len(rows)} 个"]
    for spec, _ in cols:
        if spec.type == "int":
            totals_row.append(str(sum(v.get(spec.id) or 0 for v in values
                                      if isinstance(v.get(spec.id), int))))
        else:
            totals_row.append("")
    groups = []
    for fid in ("org_category", "unit_situation"):
        if form.has_field(fid) and form.field(fid).codes is not None:
            spec = form.field(fid)
            always = MAIN_ORG_CATEGORIES if fid == "org_category" else tuple(
                c.code for c in spec.codes.codes)
            groups.append(_coded(spec.label, spec.codes.codes,
                                 Counter(v.get(fid) for v in values), always, UNKNOWN))
    return Summary(sdef.id, sdef.attachment, f"{sdef.attachment} {sdef.title}", form.id,
                   form.version, _headers(cols), _types(cols), rows,
                   tuple(rid for rid, _ in records), tuple(totals_row), tuple(groups), full=full)


# --- shared ---------------------------------------------------------------------------------


def _headers(cols: list[tuple[FieldSpec, str]]) -> tuple[str, ...]:
    return (SEQ, *(head or spec.label for spec, head in cols))


def _types(cols: list[tuple[FieldSpec, str]]) -> tuple[str, ...]:
    return ("seq", *(spec.type for spec, _ in cols))


def _row(no: int, cols: list[tuple[FieldSpec, str]], values: Mapping[str, Any], full: bool
         ) -> tuple[str, ...]:
    return (str(no), *(cell_text(spec, values.get(spec.id), full) for spec, _ in cols))


def cell_text(spec: FieldSpec, value: Any, full: bool) -> str:
    """A stored value as a table shows it: labels for codes, masked unless `full`."""
    if value is None:
        return ""
    if spec.type == "group" and isinstance(value, list):
        first = spec.fields[0].id if spec.fields else ""
        return "、".join(str(r.get(first) or "") for r in value if isinstance(r, Mapping))
    text = display_value(spec, value)
    if not full and spec.mask == "id":
        return mask_id(text)
    if not full and spec.mask == "phone":
        return mask_phone(text)
    return text


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
