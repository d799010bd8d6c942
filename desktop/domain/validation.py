"""The rule engine: parse a record, run field, record, register and cross rules, word findings.

One `Validator` per form and environment. The window calls `check_field` on every keystroke
and `check` on every change; batch commands call `validate` per record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from functools import partial
from types import FunctionType
from typing import Any
from unicodedata import normalize

from desktop.domain.context import Environment, RuleContext
from desktop.domain.findings import Finding, Problem
from desktop.domain.forms import FieldSpec, FormSpec
from desktop.domain.keys import record_keys
from desktop.domain.messages import render
from desktop.domain.rules import RULES
from desktop.domain.values import parse_value


class Validator:
    def __init__(self, form: FormSpec, env: Environment | None = None) -> None:
        self.form = form
        self.env = env or Environment()
        self._record_rules = [r for r in form.rules if RULES[r.rule].scope == "record"]
        self._record_fns = [(RULES[r.rule].fn, dict(r.params), r.severity)
                            for r in self._record_rules]
        self._cross_rules = [r for r in form.rules if RULES[r.rule].scope == "cross"]
        self._order = {f.id: i for i, f in enumerate(form.fields)}
        self._by_key: dict[str, FieldSpec] = {f.id: f for f in form.fields}
        for f in form.fields:
            for name in (*f.aliases, f.label):
                self._by_key[name] = f
        # (spec, [(rule fn, params, severity)]) per field, resolved once
        self._field_rules = [(f, [(RULES[r.rule].fn, dict(r.params), r.severity) for r in f.rules])
                             for f in form.fields]
        # the hot loops below read these plans instead of the specs (same rules, same order)
        plans = {f.id: ParsePlan(f) for f in form.fields}
        self._plans: dict[str, ParsePlan] = {k: plans[f.id] for k, f in self._by_key.items()}
        self._rows = 0  # records parsed, for ParsePlan.miss
        self._convert = self.env.convert_legacy
        # a field that is not required and has no rule, length or rows to check never has a
        # finding of check_local: it is left out of its loop
        self._local = [(f, f.id, f.required, f.min_rows, f.type == "group", f.max_length,
                        [(_bind(fn, params), severity) for fn, params, severity in rules])
                       for f, rules in self._field_rules
                       if f.required or f.min_rows or f.type == "group" or f.max_length or rules]
        self._record_calls = [(_bind(fn, params), severity)
                              for fn, params, severity in self._record_fns]
        self._cross_calls = [(_bind(RULES[r.rule].fn, dict(r.params)), r.severity)
                             for r in self._cross_rules]

    # --- parsing ----------------------------------------------------------------------------

    def parse(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[Finding]]:
        """Map labels (or header variants, or field ids) to stored values."""
        values: dict[str, Any] = {}
        findings: list[Finding] = []
        plans = self._plans
        convert, rows = self.start_record()
        for key, value in raw.items():
            plan = plans.get(key)
            if plan is None:
                findings.append(Finding(str(key), "E", "unknown_field",
                                        render("unknown_field", str(key), {}), "value"))
                continue
            if plan.id in values:  # one field under two names (its label and its id, an alias)
                first = next(k for k in raw if plans.get(k) is plan)
                findings.append(Finding(plan.id, "E", "field_twice", render(
                    "field_twice", self.form.label_of(plan.id),
                    {"first": first, "second": key}), "value"))
                continue
            hit = plan.parse(value, convert, rows)
            values[plan.id] = hit[0]
            if hit[1]:
                findings += self.word_value(hit[1], plan.id)
        return values, findings

    def plan(self, key: str) -> ParsePlan | None:
        """How the values of a field (by id, label or header variant) are parsed: the hot loops
        of parse and of the workbook reader (reports.xlsx_read.Layout.parse_row)."""
        return self._plans.get(key)

    def start_record(self) -> tuple[bool, int]:
        """Before parsing a record's values: (convert_legacy, records parsed so far)."""
        convert = self.env.convert_legacy
        if convert is not self._convert:  # the caches hold results for one setting
            self._convert = convert
            for plan in set(self._plans.values()):
                plan.reset()
        self._rows += 1
        return convert, self._rows

    def word_value(self, problems: Iterable[Problem], field_id: str) -> list[Finding]:
        """Findings of parsing a field's value."""
        return self._word(problems, field_id, "value")

    # --- checking ---------------------------------------------------------------------------

    def check_field(self, field_id: str, values: Mapping[str, Any],
                    record_id: str | None = None) -> list[Finding]:
        """Field rules of one field (every keystroke)."""
        ctx = RuleContext(self.form, values, self.env, record_id)
        return list(self._field_findings(self.form.field(field_id), values.get(field_id), ctx,
                                         field_id))

    def check(self, values: Mapping[str, Any], record_id: str | None = None, *,
              cross: bool = True) -> list[Finding]:
        """All rules that apply in this environment, sorted in form order."""
        findings = self.check_local(values, record_id)
        findings += self.check_context(values, record_id, cross=cross)
        if len(findings) > 1:
            findings.sort(key=self._sort_key)
        return findings

    def check_local(self, values: Mapping[str, Any], record_id: str | None = None, *,
                    unparsed: frozenset[str] = frozenset()) -> list[Finding]:
        """Field and record rules: what the record says by itself (parallelisable).

        `unparsed`: fields whose typed value could not be read (already reported), which are
        not reported again as missing."""
        ctx = RuleContext(self.form, values, self.env, record_id)
        findings: list[Finding] = []
        get = values.get
        for spec, fid, required, min_rows, is_group, max_length, rules in self._local:
            value = get(fid)
            if not value and (value is None or value == "" or value == []):
                if fid in unparsed:
                    continue
                if required:
                    findings += self._word([Problem("E", "required")], fid, "field")
                elif min_rows:
                    findings += self._word([Problem("E", "min_rows", {"min": min_rows})],
                                           fid, "field")
            elif is_group:
                findings += self._field_findings(spec, value, ctx, fid)
            else:
                if max_length and isinstance(value, str) and len(value) > max_length:
                    findings += self._word([Problem("E", "too_long", {
                        "max": max_length, "n": len(value)})], fid, "field")
                if rules:
                    ctx.field = spec
                    for call, severity in rules:
                        problems = call(value, ctx)
                        if problems:
                            findings += self._word(problems, fid, "field", severity)
        for call, severity in self._record_calls:
            problems = call(ctx)
            if problems:
                findings += self._word(problems, "", "record", severity)
        return findings

    def check_context(self, values: Mapping[str, Any], record_id: str | None = None, *,
                      cross: bool = True) -> list[Finding]:
        """Register rules (unique keys) and cross rules (the unit's other records)."""
        findings = self.check_keys(values, record_id)
        if cross:
            findings += self.check_cross(values, record_id)
        return findings

    @property
    def has_cross_rules(self) -> bool:
        return bool(self._cross_rules)

    def check_keys(self, values: Mapping[str, Any], record_id: str | None = None
                   ) -> list[Finding]:
        """Register rules: unique keys already held by another record (env.keys)."""
        if self.env.keys is None:
            return []
        return self._register_findings(values, record_id)

    def check_cross(self, values: Mapping[str, Any], record_id: str | None = None
                    ) -> list[Finding]:
        """Cross rules: the unit's other records (env.peers)."""
        if self.env.peers is None or not self._cross_rules:
            return []
        ctx = RuleContext(self.form, values, self.env, record_id)
        out: list[Finding] = []
        for call, severity in self._cross_calls:
            problems = call(ctx)
            if problems:
                out += self._word(problems, "", "cross", severity)
        return out

    def sort(self, findings: list[Finding]) -> list[Finding]:
        return sorted(findings, key=self._sort_key)

    def validate(self, raw: Mapping[str, Any], record_id: str | None = None
                 ) -> tuple[dict[str, Any], list[Finding]]:
        values, findings = self.parse(raw)
        local = self.check_local(values, record_id, unparsed=unparsed_fields(findings))
        found = findings + local + self.check_context(values, record_id)
        return values, sorted(found, key=self._sort_key)

    # --- internals --------------------------------------------------------------------------

    def _sort_key(self, f: Finding) -> tuple[int, str]:
        head = f.field.split("[", 1)[0].split(".", 1)[0]
        return self._order.get(head, len(self._order)), f.field

    def _word(self, problems: Iterable[Problem], default_field: str, scope: str,
              severity: str | None = None) -> list[Finding]:
        out = []
        for p in problems:
            path = p.field or default_field
            label = self.form.label_of(path) if path else ""
            if p.code == "unknown_field":
                label = p.params.get("label", label)
            out.append(Finding(path, severity or p.severity, p.code,
                               render(p.code, label, p.params), scope))
        return out

    def _field_findings(self, spec: FieldSpec, value: Any, ctx: RuleContext, path: str
                        ) -> Iterator[Finding]:
        if value is None or value == "" or value == []:
            if spec.required:
                yield from self._word([Problem("E", "required")], path, "field")
            return
        if spec.type == "group":
            yield from self._group_findings(spec, value, ctx, path)
            return
        if spec.max_length and isinstance(value, str) and len(value) > spec.max_length:
            yield from self._word([Problem("E", "too_long", {"max": spec.max_length,
                                                              "n": len(value)})], path, "field")
        ctx.field = spec
        for ref in spec.rules:
            problems = list(RULES[ref.rule].fn(value, ctx, **ref.params))
            if problems:
                yield from self._word(problems, path, "field", ref.severity)
        ctx.field = None

    def _group_findings(self, spec: FieldSpec, rows: list[dict], ctx: RuleContext, path: str
                        ) -> Iterator[Finding]:
        if len(rows) < spec.min_rows:
            yield from self._word([Problem("E", "min_rows", {"min": spec.min_rows})], path,
                                  "field")
        for i, row in enumerate(rows, start=1):
            row_ctx = RuleContext(self.form, row, self.env, ctx.record_id)
            for sub in spec.fields:
                yield from self._field_findings(sub, row.get(sub.id), row_ctx,
                                                f"{path}[{i}].{sub.id}")

    def _register_findings(self, values: Mapping[str, Any], record_id: str | None
                           ) -> list[Finding]:
        out: list[Finding] = []
        for key, value in record_keys(self.form, values):
            if not key.unique:
                continue
            hits = self.env.keys.hits(key.kind, value, record_id)
            for in_register in (True, False):
                where = "；".join(h.where for h in hits if h.in_register is in_register)
                if where:
                    code = "duplicate_in_register" if in_register else "duplicate_in_file"
                    shown = "" if key.hashed else f"（{value}）"
                    out += self._word([Problem("E", code, {"where": where, "value_text": shown})],
                                      key.field, "register")
        return out


class ParsePlan:
    """How one field's raw values are parsed, with a cache of the results for the values that
    repeat across records ("男", "汉族", a firm's name, a date). parse_value is a pure function
    of (field, raw text); only results that cannot be changed in place (str, int, bool, None)
    are cached, and a field whose values hardly repeat (names, ID numbers) stops caching.

    `parse` also takes two short cuts that give what parse_value gives: text is trimmed (and
    NFKC-normalised where the field says so), and a date cell of a date field is its ISO date."""

    __slots__ = ("spec", "id", "cache", "_misses", "_text", "_nfkc", "_date")

    #: entries kept per field; after PROBATION different values, a field whose values were
    #: new in more than four records of five stops caching
    LIMIT, PROBATION = 20_000, 2_000

    def __init__(self, spec: FieldSpec) -> None:
        self.spec, self.id = spec, spec.id
        self._text, self._nfkc, self._date = spec.type == "text", spec.nfkc, spec.type == "date"
        self.reset()

    def reset(self) -> None:
        self.cache: dict[Any, tuple[Any, list[Problem]]] | None = (
            None if self.spec.type in ("group", "region") else {})
        self._misses = 0

    def parse(self, value: Any, convert: bool, rows: int) -> tuple[Any, Sequence[Problem]]:
        """(stored value, problems) of a raw value, as parse_value gives them; `rows`: records
        parsed so far (for the cache)."""
        cls = value.__class__
        if cls is str:
            if self._text:
                text = value.strip()
                return (normalize("NFKC", text) if self._nfkc else text) if text else None, ()
            if self.cache is not None and len(value) < 40:
                return self.cache.get(value) or self.miss(value, convert, rows)
        elif cls is date:  # a date cell
            if self._date:
                return value.isoformat(), ()
            if self.cache is not None:
                return self.cache.get(value) or self.miss(value, convert, rows)
        return parse_value(self.spec, value, convert_legacy=convert)

    def miss(self, value: Any, convert: bool, rows: int) -> tuple[Any, list[Problem]]:
        """Parse a value that is not in the cache, and remember it (see the class docstring)."""
        hit = parse_value(self.spec, value, convert_legacy=convert)
        cache = self.cache
        if cache is None:
            return hit
        self._misses += 1
        if self._misses == self.PROBATION and self._misses * 5 > rows * 4:
            self.cache = None
            return hit
        parsed = hit[0]
        if len(cache) < self.LIMIT and (parsed is None or parsed.__class__ in (str, int, bool)):
            cache[value] = hit
        return hit


def _bind(fn: Callable[..., Any], params: dict[str, Any]) -> Callable[..., Any]:
    """A rule function with its parameters applied (the plain function when there are none).

    The parameters are keyword-only; the bound rule is a copy of the function that has them as
    its keyword defaults, so a call passes no keywords at all (a functools.partial merges its
    keywords on every call, which costs more than most rules do)."""
    if not params:
        return fn
    if not isinstance(fn, FunctionType):
        return partial(fn, **params)
    bound = FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                         fn.__closure__)
    bound.__kwdefaults__ = {**(fn.__kwdefaults__ or {}), **params}
    bound.__qualname__, bound.__doc__ = fn.__qualname__, fn.__doc__
    return bound


def unparsed_fields(findings: list[Finding]) -> frozenset[str]:
    """Top-level fields with a value that could not be read (scope "value" errors)."""
    return frozenset(f.field.split("[", 1)[0].split(".", 1)[0] for f in findings
                     if f.scope == "value" and f.severity == "E")
