"""Named rules that forms reference from TOML (`rules = [{ rule = "mobile" }]`).

A rule is a plain function registered with `@rule(name, scope)`; its keyword-only parameters
are the parameters a form may give, so the loader can refuse unknown or missing ones. No
expression strings are ever evaluated.

A rule returns its problems: the empty tuple `()` when there is none (nothing is allocated on
the common path), otherwise a list of `Problem`s in the order they are reported. Rules are
ordinary functions, not generators: the validator calls ~25 of them per record, and a
generator costs more to create and drain than a call that returns `()`.

A keyword parameter whose name ends in `_table` names a code table of forms/codes (its default
is the table used when the form does not name one): the loader checks that the table exists and
hands the rule the CodeTable itself, or None when a default table is missing from the folder.

Scopes:
- "field": fn(value, ctx, **params) — runs on every keystroke, only for a non-empty value;
- "record": fn(ctx, **params) — runs on every change of the record;
- "cross": fn(ctx, **params) — compares with other records of the unit (ctx.env.peers); skipped
  when there is no register (validate without --db). Its errors block export, not import.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.domain.findings import Problem

#: fn(value, ctx, **params) or fn(ctx, **params) → its problems: `()` or a non-empty list
RuleFn = Callable[..., Sequence[Problem]]


@dataclass(frozen=True)
class Rule:
    name: str
    scope: str
    fn: RuleFn
    required: frozenset[str]
    optional: frozenset[str]
    check: Callable[[dict[str, Any]], str | None] | None = None
    #: parameters naming a code table (`*_table`) and the table each uses by default
    tables: tuple[tuple[str, str | None], ...] = ()

    def check_params(self, params: dict[str, Any]) -> str | None:
        unknown = sorted(set(params) - self.required - self.optional)
        if unknown:
            allowed = ", ".join(sorted(self.required | self.optional)) or "无"
            return f"没有参数“{unknown[0]}”（可用参数：{allowed}）"
        missing = sorted(self.required - set(params))
        if missing:
            return f"缺少参数“{missing[0]}”"
        return self.check(params) if self.check else None


RULES: dict[str, Rule] = {}


def rule(name: str, scope: str, *, check: Callable[[dict[str, Any]], str | None] | None = None
         ) -> Callable[[RuleFn], RuleFn]:
    """Register a rule; `check` may refuse parameter values at load time (return a message)."""
    assert scope in ("field", "record", "cross")

    def register(fn: RuleFn) -> RuleFn:
        if name in RULES:
            raise ValueError(f"rule {name} registered twice")
        if inspect.isgeneratorfunction(fn):
            raise TypeError(f"rule {name} must return its problems, not yield them")
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind is inspect.Parameter.KEYWORD_ONLY]
        RULES[name] = Rule(
            name, scope, fn,
            required=frozenset(p.name for p in params if p.default is inspect.Parameter.empty),
            optional=frozenset(p.name for p in params if p.default is not inspect.Parameter.empty),
            check=check,
            tables=tuple((p.name, None if p.default is inspect.Parameter.empty else p.default)
                         for p in params if p.name.endswith("_table")),
        )
        return fn

    return register
