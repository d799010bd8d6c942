"""What the tools/make_*.py generators share: writing code-table TOML and the --taken option."""

from __future__ import annotations

import json
from datetime import date


def q(text: str) -> str:
    """A TOML basic string (JSON escaping is valid TOML for these characters)."""
    return json.dumps(text, ensure_ascii=False)


def entry(code: str, label: str, group: str) -> list[str]:
    """The lines of one [[codes]] entry, with its blank line."""
    return ["[[codes]]", f"code = {q(code)}", f"label = {q(label)}", f"group = {q(group)}", ""]


def split_taken(args: list[str]) -> tuple[str, list[str]]:
    """(--taken YYYY-MM-DD or today, the other arguments)."""
    if args[:1] == ["--taken"]:
        return date.fromisoformat(args[1]).isoformat(), args[2:]
    return date.today().isoformat(), args
