"""What rules may look at beyond the value: the record, the date, and other records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from desktop.domain.forms import FieldSpec, FormSpec


@dataclass(frozen=True, slots=True)
class KeyHit:
    """Another record that has the same key (ID number, licence, …)."""

    record_id: str | None
    form_id: str
    where: str  # for the message: "登记库中“张三”的记录" or "第 12 行"
    in_register: bool


class KeyIndex(Protocol):
    def hits(self, kind: str, value: str, exclude_id: str | None) -> list[KeyHit]: ...


@dataclass(frozen=True, slots=True)
class Peer:
    """Another record of the same unit, with its stored values (for cross rules)."""

    id: str
    form_id: str
    values: Mapping[str, Any]


class PeerIndex(Protocol):
    def records(self, form_id: str) -> Sequence[Peer]: ...


@dataclass
class Environment:
    """Everything validation depends on besides the record itself."""

    today: date = field(default_factory=date.today)
    #: import path: 15-digit ID numbers are converted (on entry they are refused)
    convert_legacy: bool = False
    #: unique-key lookups; None skips them
    keys: KeyIndex | None = None
    #: the unit's other records; None (validate without a register) skips cross rules
    peers: PeerIndex | None = None
    #: results computed once per environment by cross rules (e.g. members per organisation)
    memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def today_iso(self) -> str:
        return self.today.isoformat()


@dataclass(slots=True)
class RuleContext:
    form: FormSpec
    values: Mapping[str, Any]
    env: Environment
    record_id: str | None = None
    field: FieldSpec | None = None  # the field a field rule is checking

    @property
    def today(self) -> date:
        return self.env.today

    def get(self, field_id: str) -> Any:
        return self.values.get(field_id)

    def label(self, field_id: str) -> str:
        return self.form.field(field_id).label if self.form.has_field(field_id) else field_id

    def display(self, field_id: str) -> str:
        from desktop.domain.values import display_value

        if not self.form.has_field(field_id):
            return str(self.values.get(field_id) or "")
        return display_value(self.form.field(field_id), self.values.get(field_id))
