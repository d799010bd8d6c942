"""What validation reports: findings with a severity, a stable code and a Chinese message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR, WARNING, INFO = "E", "W", "I"

#: where a finding comes from. "register" findings (an ID number already registered) block an
#: import; "cross" findings (about records that may still be coming, e.g. a 党支部 whose members
#: are not yet entered) are reported on import and block export and submission, not import.
SCOPES = ("value", "field", "record", "register", "cross")


@dataclass(frozen=True, slots=True)
class Problem:
    """What a rule or identifier check says, before it is tied to a field and worded."""

    severity: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    field: str | None = None  # the field path, for record and cross rules


@dataclass(frozen=True, slots=True)
class Finding:
    field: str  # field path: "id_number", "firms[2].uscc"; "" for the record as a whole
    severity: str
    code: str
    message: str
    scope: str = "field"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def has_errors(findings: list[Finding], *, scopes: tuple[str, ...] = SCOPES) -> bool:
    return any(f.severity == ERROR and f.scope in scopes for f in findings)


def counts(findings: list[Finding]) -> dict[str, int]:
    out = {ERROR: 0, WARNING: 0, INFO: 0}
    for f in findings:
        out[f.severity] += 1
    return out
