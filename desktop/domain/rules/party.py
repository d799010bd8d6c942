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
from desktop.domain.identifiers import id_birth_date
from desktop.domain.rules.generic import add_years, as_date
from desktop.domain.rules.registry import rule

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
    birth = as_date(get(birth_field)) or id_birth_date(get(id_field) or "")
    if joined and birth and joined < add_years(birth, min_age):
        return [Problem("E", "join_age",
                        {"birth": birth.isoformat(), "joined": joined.isoformat()}, join_field)]
    return ()


@rule("probation", "record")
def probation(ctx: RuleContext, *, category_field: str, join_field: str, confirm_field: str
              ) -> Sequence[Problem]:
    """党章 第七条: 预备期一年, extension at most one more year; 转正 counted from +1 year."""
    get = ctx.values.get
    category = get(category_field)
    joined, confirmed = as_date(get(join_field)), get(confirm_field)
    if category == PROBATIONARY:
        if confirmed:
            return [Problem("E", "empty_if", {"other": ctx.label(category_field),
                                              "value": "预备党员"}, confirm_field)]
        elif joined and ctx.env.today >= add_years(joined, 2):
            return [Problem("E", "probation_expired", {}, category_field)]
        elif joined and ctx.env.today > add_years(joined, 1):
            return [Problem("W", "probation_overdue", {"due": add_years(joined, 1).isoformat()},
                            category_field)]
    elif category == FULL:
        if not confirmed:
            return [Problem("E", "required_if", {"other": ctx.label(category_field),
                                                 "value": "正式党员"}, confirm_field)]
        confirmed_d = as_date(confirmed)
        if not joined or not confirmed_d:
            return ()
        one, two = add_years(joined, 1), add_years(joined, 2)
        if confirmed_d < one:
            return [Problem("E", "probation_short", {"joined": joined.isoformat(),
                                                     "earliest": one.isoformat()}, confirm_field)]
        elif confirmed_d > two:
            return [Problem("E", "probation_long", {"latest": two.isoformat()}, confirm_field)]
        elif confirmed_d != one:
            return [Problem("W", "probation_extended", {"expected": one.isoformat()},
                            confirm_field)]
    return ()


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
    others = [p.values.get("name") or "" for form_id in MEMBER_FORMS
              for p in ctx.env.peers.records(form_id)
              if p.id != ctx.record_id and p.values.get("party_post") == SECRETARY
              and p.values.get("org_name") == org]
    if others:
        names = "、".join([ctx.get("name") or "", *others])
        return [Problem("E", "two_secretaries", {"org": org, "names": names}, post_field)]
    return ()


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


