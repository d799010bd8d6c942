"""The rule engine: parse a record, run field, record, register and cross rules, word findings.

One `Validator` per form and environment. The window calls `check_field` on every keystroke
and `check` on every change; batch commands call `validate` per record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from desktop.domain.context import Environment, RuleContext
from desktop.domain.findings import Finding, Problem
from desktop.domain.keys import record_keys
from desktop.domain.messages import render
from desktop.domain.rules import RULES
from desktop.domain.values import parse_value
from desktop.formspec.model import FieldSpec, FormSpec, RuleRef


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
        # typed values of these types repeat across records ("男", "汉族", "是"): parse once
        self._cacheable = frozenset(f.id for f in form.fields if f.type in ("code", "bool"))
        self._parsed: dict[tuple[str, str], tuple[Any, list[Problem]]] = {}

    # --- parsing ----------------------------------------------------------------------------

    def parse(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[Finding]]:
        """Map labels (or header variants, or field ids) to stored values."""
        values: dict[str, Any] = {}
        findings: list[Finding] = []
        by_key = self._by_key
        convert = self.env.convert_legacy
        for key, value in raw.items():
            spec = by_key.get(key)
            if spec is None:
                findings.append(Finding(str(key), "E", "unknown_field",
                                        render("unknown_field", str(key), {}), "value"))
                continue
            if spec.id in self._cacheable and value.__class__ is str and len(value) < 40:
                hit = self._parsed.get((spec.id, value))
                if hit is None:
                    hit = parse_value(spec, value, convert_legacy=convert)
                    if len(self._parsed) < 50_000:
                        self._parsed[spec.id, value] = hit
                parsed, problems = hit
            else:
                parsed, problems = parse_value(spec, value, convert_legacy=convert)
            values[spec.id] = parsed
            if problems:
                findings += self._word(problems, spec.id, "value")
        return values, findings

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
        for spec, rules in self._field_rules:
            value = values.get(spec.id)
            if value is None or value == "" or value == []:
                if spec.id in unparsed:
                    continue
                if spec.required:
                    findings += self._word([Problem("E", "required")], spec.id, "field")
                elif spec.min_rows:
                    findings += self._word([Problem("E", "min_rows", {"min": spec.min_rows})],
                                           spec.id, "field")
            elif spec.type == "group":
                findings += self._field_findings(spec, value, ctx, spec.id)
            else:
                if spec.max_length and isinstance(value, str) and len(value) > spec.max_length:
                    findings += self._word([Problem("E", "too_long", {
                        "max": spec.max_length, "n": len(value)})], spec.id, "field")
                if rules:
                    ctx.field = spec
                    for fn, params, severity in rules:
                        problems = list(fn(value, ctx, **params))
                        if problems:
                            findings += self._word(problems, spec.id, "field", severity)
        for fn, params, severity in self._record_fns:
            problems = list(fn(ctx, **params))
            if problems:
                findings += self._word(problems, "", "record", severity)
        return findings

    def check_context(self, values: Mapping[str, Any], record_id: str | None = None, *,
                      cross: bool = True) -> list[Finding]:
        """Register rules (unique keys) and cross rules (the unit's other records)."""
        findings: list[Finding] = []
        if self.env.keys is not None:
            findings += self._register_findings(values, record_id)
        if cross and self.env.peers is not None:
            ctx = RuleContext(self.form, values, self.env, record_id)
            findings += self._run(self._cross_rules, ctx, "cross")
        return findings

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

    def _run(self, refs: list[RuleRef], ctx: RuleContext, scope: str) -> list[Finding]:
        out: list[Finding] = []
        for ref in refs:
            problems = list(RULES[ref.rule].fn(ctx, **ref.params))
            if problems:
                out += self._word(problems, "", scope, ref.severity)
        return out

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


def unparsed_fields(findings: list[Finding]) -> frozenset[str]:
    """Top-level fields with a value that could not be read (scope "value" errors)."""
    return frozenset(f.field.split("[", 1)[0].split(".", 1)[0] for f in findings
                     if f.scope == "value" and f.severity == "E")
