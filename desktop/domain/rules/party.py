"""Party-membership rules (党章, 支部工作条例) for 附件1–3, and the cross rules that compare
a record with the unit's other records.

Field ids of the member forms (附件1/2) that cross rules read are the `MEMBER_*` names below;
they are part of the forms' contract (forms/lawyer_member.toml and forms/staff_member.toml).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from desktop.domain.context import Peer, RuleContext
from desktop.domain.findings import Problem
from desktop.domain.identifiers import PROVINCES
from desktop.domain.rules.generic import add_months, add_years, as_date
from desktop.domain.rules.registry import rule
from desktop.domain.values import birth_span

FULL, PROBATIONARY = "1", "2"  # member_category
NORMAL = "1"  # party_status
SECRETARY, NO_POST = "1", "9"  # party_post
NOT_REGISTERED_CASES = {"4", "5"}  # transfer_case: kept, but not registered
BRANCH, JOINT_BRANCH, GENERAL_BRANCH, COMMITTEE = "631", "632", "621", "611"

MEMBER_FORMS = ("lawyer_member", "staff_member")
ORG_FORM = "party_org"


@rule("join_age", "record")
def join_age(ctx: RuleContext, *, join_field: str, birth_field: str, id_field: str,
             min_age: int = 18) -> Sequence[Problem]:
    get = ctx.values.get
    joined = as_date(get(join_field))
    birth = birth_span(get(birth_field), get(id_field))  # a year-month: its first day
    if joined and birth and joined < add_years(birth[0], min_age):
        return [Problem("E", "join_age", {"birth": str(get(birth_field) or birth[0]),
                                          "joined": joined.isoformat()}, join_field)]
    return ()


def _check_probation(params: dict) -> str | None:
    months = [params.get(k) for k in ("probation_months", "extension_min_months",
                                      "extension_max_months")]
    if not all(isinstance(m, int) and not isinstance(m, bool) and m > 0 for m in months):
        return "的预备期和延长期（月数）应为正整数"
    if months[1] > months[2]:
        return "的 extension_min_months 不能大于 extension_max_months"
    return None


@rule("probation", "record", check=_check_probation)
def probation(ctx: RuleContext, *, category_field: str, join_field: str, confirm_field: str,
              probation_months: int, extension_min_months: int, extension_max_months: int
              ) -> Sequence[Problem]:
    """党章 第七条: 预备期为一年; 预备期满, 不够条件的可以延长预备期, 但不能超过一年.
    《中国共产党发展党员工作细则》: an extension is decided once, for at least six months and
    at most one year. So 转正 is at the end of the probation (+1 year, "转正时间一律按一年预备期
    满计算"), or at the end of the one extension (+1½ to +2 years); anything between +1 and
    +1½ years or after +2 years cannot happen. The month counts are the form's parameters."""
    get = ctx.values.get
    category = get(category_field)
    joined, confirmed = as_date(get(join_field)), get(confirm_field)
    if category == PROBATIONARY:
        if confirmed:
            return [Problem("E", "empty_if", {"other": ctx.label(category_field),
                                              "value": "预备党员"}, confirm_field)]
        elif joined and ctx.env.today >= (latest := add_months(
                joined, probation_months + extension_max_months)):
            return [Problem("E", "probation_expired", {
                "months": probation_months + extension_max_months,
                "latest": latest.isoformat()}, category_field)]
        elif joined and ctx.env.today > add_months(joined, probation_months):
            return [Problem("W", "probation_overdue",
                            {"due": add_months(joined, probation_months).isoformat()},
                            category_field)]
    elif category == FULL:
        if not confirmed:
            return [Problem("E", "required_if", {"other": ctx.label(category_field),
                                                 "value": "正式党员"}, confirm_field)]
        confirmed_d = as_date(confirmed)
        if not joined or not confirmed_d:
            return ()
        due = add_months(joined, probation_months)
        shortest = add_months(joined, probation_months + extension_min_months)
        latest = add_months(joined, probation_months + extension_max_months)
        if confirmed_d < due:
            return [Problem("E", "probation_short", {"joined": joined.isoformat(),
                                                     "earliest": due.isoformat()}, confirm_field)]
        elif confirmed_d > latest:
            return [Problem("E", "probation_long", {
                "latest": latest.isoformat(), "months": probation_months + extension_max_months,
                "extension": extension_max_months}, confirm_field)]
        elif due < confirmed_d < shortest:
            return [Problem("E", "probation_between",
                            {"due": due.isoformat(), "shortest": shortest.isoformat(),
                             "months": extension_min_months}, confirm_field)]
        elif confirmed_d != due:
            return [Problem("W", "probation_extended", {"expected": due.isoformat()},
                            confirm_field)]
    return ()


def _check_intern_cert(params: dict) -> str | None:
    digits = params.get("sex_digits")
    if not isinstance(digits, dict) or not all(
            isinstance(k, str) and len(k) == 1 and k.isdigit() and isinstance(v, str)
            for k, v in digits.items()):
        return "的 sex_digits 应为 { 位上的数字 = \"性别代码\" } 的表"
    categories = params.get("categories")
    if not isinstance(categories, list) or not all(
            isinstance(c, str) and len(c) == 1 and c.isdigit() for c in categories):
        return "的 categories 应为一位数字的列表"
    return None


@rule("intern_cert", "field", check=_check_intern_cert)
def intern_cert(value: str, ctx: RuleContext, *, first_year: int, sex_digits: dict[str, str],
                categories: list[str], sex_field: str | None = None) -> Sequence[Problem]:
    """实习证编号 of the 14-digit provincial format (Guangdong, Zhejiang): 省代码2 + 市代码2 +
    取得年月4 (YYMM) + 性别1 (1 男 2 女) + 类别1 (1 专职 2 兼职) + 序号4 (domain-research §2.2).
    Other provinces number differently, so every finding is a W, and a number that is not 14
    digits is left to the form's `pattern` rule. The two-digit year is read in whichever century
    puts it between `first_year` and today."""
    if len(value) != 14 or not value.isdigit():
        return ()
    problems: list[Problem] = []
    if value[:2] not in PROVINCES:
        problems.append(Problem("W", "intern_cert_province", {"code": value[:2]}))
    yy, mm = int(value[4:6]), int(value[6:8])
    today = ctx.env.today
    if not 1 <= mm <= 12:
        problems.append(Problem("W", "intern_cert_month", {"digits": value[4:8]}))
    elif not any(first_year <= century + yy and (century + yy, mm) <= (today.year, today.month)
                 for century in (1900, 2000)):
        problems.append(Problem("W", "intern_cert_year", {"digits": value[4:8],
                                                          "first": first_year}))
    sex = sex_digits.get(value[8])
    if sex is None:
        problems.append(Problem("W", "intern_cert_sex", {
            "digit": value[8], "allowed": "、".join(sorted(sex_digits))}))
    elif sex_field and ctx.get(sex_field) and ctx.get(sex_field) != sex:
        problems.append(Problem("W", "intern_cert_sex_mismatch",
                                {"digit": value[8], "sex": ctx.display(sex_field)}))
    if value[9] not in categories:
        problems.append(Problem("W", "intern_cert_category", {
            "digit": value[9], "allowed": "、".join(categories)}))
    return problems or ()


@rule("post_holder", "record")
def post_holder(ctx: RuleContext, *, post_field: str, category_field: str, status_field: str
                ) -> Sequence[Problem]:
    get = ctx.values.get
    post = get(post_field)
    if not post or post == NO_POST:
        return ()
    if get(category_field) == PROBATIONARY:
        return [Problem("E", "probationer_post", {"post": ctx.display(post_field)}, post_field)]
    elif get(status_field) not in (None, NORMAL):
        return [Problem("W", "suspended_post", {"post": ctx.display(post_field)}, post_field)]
    return ()


@rule("degree_education", "record")
def degree_education(ctx: RuleContext, *, degree_field: str, education_field: str
                     ) -> Sequence[Problem]:
    spec, get = ctx.form.field, ctx.values.get
    degree, education = spec(degree_field), spec(education_field)
    degree_code, education_code = get(degree_field), get(education_field)
    d = degree.codes.get(degree_code) if degree.codes and degree_code else None
    e = education.codes.get(education_code) if education.codes and education_code else None
    if d and e and d.group == "博士" and e.group != "研究生":
        return [Problem("W", "degree_education", {}, degree_field)]
    return ()


@rule("term", "record")
def term(ctx: RuleContext, *, category_field: str, start_field: str, end_field: str
         ) -> Sequence[Problem]:
    """支部/总支 3 years, 党委 5 years; overdue 换届 is a warning, a stronger one after a year."""
    start, end = as_date(ctx.get(start_field)), as_date(ctx.get(end_field))
    category = ctx.get(category_field) or ""
    years = 5 if category.endswith("11") else 3
    problems: list[Problem] = []
    if start and end and end != add_years(start, years):
        kind = "党委" if years == 5 else "党支部、党总支部"
        problems.append(Problem("W", "term_length",
                                {"years": years, "kind": kind,
                                 "expected": add_years(start, years).isoformat()}, end_field))
    if end and ctx.today > add_years(end, 1):
        problems.append(Problem("W", "term_long_overdue", {"end": end.isoformat()}, end_field))
    elif end and ctx.today > end:
        problems.append(Problem("W", "term_overdue", {"end": end.isoformat()}, end_field))
    return problems or ()


@rule("committee_members", "record")
def committee_members(ctx: RuleContext, *, has_field: str, count_field: str
                      ) -> Sequence[Problem]:
    n = ctx.get(count_field)
    if ctx.get(has_field) and n is not None and not 3 <= n <= 5:
        return [Problem("W", "committee_members", {"n": n}, count_field)]
    return ()


# --- cross rules --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Member:
    id: str
    form_id: str
    name: str
    category: str | None
    status: str | None
    post: str | None
    org: str | None
    registered: bool


@dataclass(frozen=True, slots=True)
class _Firms:
    """The firms covered by the unit's 附件3 records: USCC and name → organisation record."""

    by_uscc: dict[str, str]
    by_name: dict[str, str]


def _memo(ctx: RuleContext) -> dict:
    """The environment's memo when the record being checked is exactly as the peers hold it
    (a batch), so results computed from the peers stay true; a fresh one when the record has
    changed since (the editor re-checking on every change) or is not among them."""
    index_key = ("party.peer_values", ctx.form.id)
    index = ctx.env.memo.get(index_key)
    if index is None:
        index = {p.id: p.values for p in ctx.env.peers.records(ctx.form.id)}
        ctx.env.memo[index_key] = index
    if ctx.record_id and index.get(ctx.record_id) is ctx.values:
        return ctx.env.memo
    return {}


def _firms(ctx: RuleContext) -> _Firms:
    # only a 附件3 record being checked can change the firms; a member record cannot
    key = ("party.firms",)
    memo = _memo(ctx) if ctx.form.id == ORG_FORM else ctx.env.memo
    if key not in memo:
        by_uscc, by_name = {}, {}
        for org in _orgs(ctx):
            for row in org.values.get("firms") or []:
                if row.get("uscc"):
                    by_uscc[row["uscc"]] = org.id
                if row.get("name"):
                    by_name[row["name"]] = org.id
        memo[key] = _Firms(by_uscc, by_name)
    return memo[key]


def _orgs(ctx: RuleContext) -> list[Peer]:
    """The unit's 附件3 records, with the record being validated in its current state."""
    peers = [p for p in ctx.env.peers.records(ORG_FORM) if p.id != ctx.record_id]
    if ctx.form.id == ORG_FORM:
        peers.append(Peer(ctx.record_id or "", ORG_FORM, ctx.values))
    return peers


def _member(peer: Peer) -> _Member:
    v = peer.values
    return _Member(peer.id, peer.form_id, v.get("name") or "", v.get("category"),
                   v.get("party_status"), v.get("party_post"), v.get("org_name"),
                   v.get("transfer_case") not in NOT_REGISTERED_CASES)


def _members_by_org(ctx: RuleContext) -> dict[str, list[_Member]]:
    """Registered members per organisation record id, matched through their firm."""
    key, memo = ("party.members",), _memo(ctx)
    if key not in memo:
        firms = _firms(ctx)
        out: dict[str, list[_Member]] = defaultdict(list)
        for form_id in MEMBER_FORMS:
            peers = [p for p in ctx.env.peers.records(form_id) if p.id != ctx.record_id]
            if ctx.form.id == form_id:
                peers.append(Peer(ctx.record_id or "", form_id, ctx.values))
            for p in peers:
                org = (firms.by_uscc.get(p.values.get("firm_uscc") or "")
                       or firms.by_name.get(p.values.get("firm") or ""))
                if org is not None:
                    out[org].append(_member(p))
        memo[key] = out
    return memo[key]


@rule("firm_registered", "cross")
def firm_registered(ctx: RuleContext, *, firm_field: str, uscc_field: str
                    ) -> Sequence[Problem]:
    name, code = ctx.get(firm_field), ctx.get(uscc_field)
    if not name and not code:
        return ()
    firms = _firms(ctx)
    if (code and code in firms.by_uscc) or (name and name in firms.by_name):
        return ()
    return [Problem("E", "firm_not_registered", {"firm": name or code}, firm_field)]


@rule("single_secretary", "cross")
def single_secretary(ctx: RuleContext, *, post_field: str, org_field: str
                     ) -> Sequence[Problem]:
    if ctx.get(post_field) != SECRETARY or not ctx.get(org_field):
        return ()
    org = ctx.get(org_field)
    others = [name for rid, name in _secretaries(ctx).get(org, ()) if rid != ctx.record_id]
    if others:
        names = "、".join([ctx.get("name") or "", *others])
        return [Problem("E", "two_secretaries", {"org": org, "names": names}, post_field)]
    return ()


def _secretaries(ctx: RuleContext) -> dict[str, list[tuple[str, str]]]:
    """The peers' secretaries per organisation name: (record id, name). Derived from the peers
    alone (the record being checked is left out by its id and read as it is now), so it is kept
    in the environment's memo while the peers stay as they are: a list of all the unit's
    records asks it once, not once per secretary."""
    key = ("party.secretaries",)
    if key not in ctx.env.memo:
        out: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for form_id in MEMBER_FORMS:
            for p in ctx.env.peers.records(form_id):
                if p.values.get("party_post") == SECRETARY and p.values.get("org_name"):
                    out[p.values["org_name"]].append((p.id, p.values.get("name") or ""))
        ctx.env.memo[key] = out
    return ctx.env.memo[key]


@rule("secretary", "cross")
def secretary(ctx: RuleContext, *, secretary_field: str) -> Sequence[Problem]:
    name = ctx.get(secretary_field)
    if not name:
        return ()  # 书记空缺的暂时不填
    members = [m for m in _members_by_org(ctx).get(ctx.record_id or "", []) if m.name == name]
    if not members:
        return [Problem("E", "secretary_not_found", {"name": name}, secretary_field)]
    elif not any(m.category == FULL and m.status in (None, NORMAL) for m in members):
        return [Problem("E", "secretary_not_full", {"name": name}, secretary_field)]
    return ()


@rule("org_counts", "cross")
def org_counts(ctx: RuleContext, *, category_field: str, full_field: str,
               probationary_field: str, lawyer_field: str, staff_field: str,
               lawyer_total_field: str, staff_total_field: str, has_committee_field: str
               ) -> Sequence[Problem]:
    """Typed counts agree with the member records; the size rules of 支部工作条例."""
    members = [m for m in _members_by_org(ctx).get(ctx.record_id or "", []) if m.registered]
    computed = {
        full_field: sum(m.category == FULL for m in members),
        probationary_field: sum(m.category == PROBATIONARY for m in members),
        lawyer_field: sum(m.form_id == "lawyer_member" for m in members),
        staff_field: sum(m.form_id == "staff_member" for m in members),
    }
    problems: list[Problem] = []
    for field_id, n in computed.items():
        typed = ctx.get(field_id)
        if typed is not None and typed != n:
            problems.append(Problem("E", "count_mismatch", {"typed": typed, "computed": n},
                                    field_id))
    for total_field, members_field in ((lawyer_total_field, lawyer_field),
                                       (staff_total_field, staff_field)):
        total = ctx.get(total_field)
        if total is not None and total < computed[members_field]:
            problems.append(Problem("E", "count_exceeds_total",
                                    {"total": total, "members": computed[members_field]},
                                    total_field))
    problems += _size_rules(ctx, category_field, has_committee_field, computed[full_field],
                            len(members))
    return problems or ()


def _size_rules(ctx: RuleContext, category_field: str, has_committee_field: str, full: int,
                total: int) -> list[Problem]:
    problems: list[Problem] = []
    category = (ctx.get(category_field) or "")[-2:]  # 9xx 临时 organisations follow 6xx
    if category in (BRANCH[-2:], JOINT_BRANCH[-2:]):
        if full < 3:
            problems.append(Problem("E", "branch_min_members", {"n": full}, category_field))
        if total > 50:
            problems.append(Problem("W", "branch_max_members", {"n": total}, category_field))
        has_committee = ctx.get(has_committee_field)
        if full >= 7 and has_committee is False:
            problems.append(Problem("W", "committee_needed", {"n": full}, has_committee_field))
        elif full < 7 and has_committee:
            problems.append(Problem("W", "committee_not_needed", {"n": full},
                                    has_committee_field))
    elif category == GENERAL_BRANCH[-2:] and total <= 50:
        problems.append(Problem("W", "general_branch_size", {"n": total}, category_field))
    elif category == COMMITTEE[-2:] and total <= 100:
        problems.append(Problem("W", "committee_size", {"n": total}, category_field))
    return problems




def _full_by_firm(ctx: RuleContext) -> tuple[dict, dict, dict]:
    """Registered 正式党员 of the unit's 附件1/2 records per firm: by USCC, by name, and by
    both (a member is matched to a covered firm by either, as `_members_by_org` does). Only
    the member records count, so a 附件3 record being edited does not change it."""
    key = ("party.full_by_firm",)
    memo = ctx.env.memo if ctx.form.id == ORG_FORM else _memo(ctx)
    if key not in memo:
        by_uscc: dict[str, int] = defaultdict(int)
        by_name: dict[str, int] = defaultdict(int)
        by_both: dict[tuple[str, str], int] = defaultdict(int)
        for form_id in MEMBER_FORMS:
            for p in ctx.env.peers.records(form_id):
                m = _member(p)
                if m.category != FULL or not m.registered:
                    continue
                uscc, name = p.values.get("firm_uscc") or "", p.values.get("firm") or ""
                by_uscc[uscc] += 1
                by_name[name] += 1
                by_both[uscc, name] += 1
        memo[key] = (by_uscc, by_name, by_both)
    return memo[key]


@rule("joint_branch_firms", "cross")
def joint_branch_firms(ctx: RuleContext, *, category_field: str, firms_field: str,
                       categories: list[str], min_full: int) -> Sequence[Problem]:
    """《中国共产党支部工作条例（试行）》第五条: 正式党员3人以上的单位应当成立党支部; 不足3人的
    可以成立联合党支部. A 联合党支部 (`categories`) that covers a firm which itself has
    `min_full` or more 正式党员 (its registered 附件1/2 records) is a W on that firm's row."""
    if ctx.get(category_field) not in categories:
        return ()
    by_uscc, by_name, by_both = _full_by_firm(ctx)
    problems: list[Problem] = []
    for i, row in enumerate(ctx.get(firms_field) or [], start=1):
        uscc, name = row.get("uscc") or "", row.get("name") or ""
        n = ((by_uscc.get(uscc, 0) if uscc else 0) + (by_name.get(name, 0) if name else 0)
             - (by_both.get((uscc, name), 0) if uscc and name else 0))
        if n >= min_full:
            problems.append(Problem("W", "joint_branch_firm_large",
                                    {"firm": name or uscc, "n": n, "min": min_full},
                                    f"{firms_field}[{i}].name"))
    return problems or ()
