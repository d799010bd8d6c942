"""Helpers for validating one record at a time against a shipped form."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from desktop.domain.context import Environment, Peer
from desktop.domain.findings import Finding
from desktop.domain.validation import Validator
from tests.conftest import TODAY, has_cjk

#: codes whose wording does not (yet) repeat the field's label; see test_messages.py
LABEL_NOT_IN_MESSAGE = {
    "licence_sex_mismatch",
    "branch_min_members",
    "term_overdue",
    "term_long_overdue",
    "approval_age",
    "committee_not_needed",
    "committee_needed",
    "two_secretaries",
    "general_branch_size",
    "committee_size",
    "branch_max_members",
    "probation_overdue",
    "probation_expired",
    "committee_members",
    "firm_not_registered",
}


def triples(findings: Sequence[Finding]) -> set[tuple[str, str, str]]:
    return {(f.field, f.severity, f.code) for f in findings}


def check_wording(validator: Validator, findings: Sequence[Finding]) -> None:
    """Every message is Chinese and names the label of the field it is about."""
    for f in findings:
        assert has_cjk(f.message), f
        assert f.code not in f.message, f  # a worded message, not the fallback
        if f.field and f.code not in LABEL_NOT_IN_MESSAGE and f.code != "unknown_field":
            label = validator.form.label_of(f.field)
            assert label in f.message, (label, f)


@dataclass
class SimplePeers:
    """A PeerIndex over plain stored values, as the register would give them."""

    by_form: dict[str, list[Peer]]

    def records(self, form_id: str) -> Sequence[Peer]:
        return self.by_form.get(form_id, [])


def peers_from(forms, **records: list[Mapping[str, Any]]) -> SimplePeers:
    """Parse label-keyed records of each form (form_id=[raw, …]) into a SimplePeers index.
    Record ids are "<form_id>-<n>"."""
    by_form: dict[str, list[Peer]] = {}
    for form_id, raws in records.items():
        parser = Validator(forms.form(form_id), Environment(today=TODAY))
        by_form[form_id] = []
        for i, raw in enumerate(raws):
            values, problems = parser.parse(raw)
            assert not [p for p in problems if p.severity == "E"], problems
            by_form[form_id].append(Peer(f"{form_id}-{i}", form_id, values))
    return SimplePeers(by_form)


@pytest.fixture
def validate(forms) -> Callable[..., tuple[dict, list[Finding]]]:
    """validate(form_id, raw, peers=None, record_id=None) with today = TODAY; checks wording."""

    def run(
        form_id: str,
        raw: Mapping[str, Any],
        *,
        peers: SimplePeers | None = None,
        record_id: str | None = None,
        today=TODAY,
    ) -> tuple[dict, list[Finding]]:
        validator = Validator(forms.form(form_id), Environment(today=today, peers=peers))
        values, findings = validator.validate(raw, record_id)
        check_wording(validator, findings)
        return values, findings

    return run
