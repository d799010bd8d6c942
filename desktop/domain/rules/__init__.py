"""The named rules forms may use. Importing this package registers all of them."""

from desktop.domain.rules import generic, identity, party, society  # noqa: F401
from desktop.domain.rules.registry import RULES, Rule, rule

__all__ = ["RULES", "Rule", "rule"]
