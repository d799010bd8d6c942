"""Form specifications: forms are data (forms/*.toml), loaded strictly into frozen specs.

FormSet is the only list of forms: the window's tabs, the commands' --form choices, what prints,
the summaries (a form's [summary]) and the signature lines (its [print]) all come from it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from desktop.domain.forms import (
    CodeTable,
    FieldSpec,
    FormSet,
    FormSpec,
    KeySpec,
    PrintSpec,
    RuleRef,
    SummarySpec,
    TotalSpec,
)
from desktop.formspec.loader import load_code_table, load_form, load_forms

__all__ = [
    "CodeTable", "FieldSpec", "FormSet", "FormSpec", "KeySpec", "PrintSpec", "RuleRef",
    "SummarySpec", "TotalSpec", "load_code_table", "load_form", "load_forms", "shipped_forms",
]


@lru_cache(maxsize=4)
def _cached(folder: str) -> FormSet:
    return load_forms(Path(folder))


def shipped_forms(folder: Path | None = None) -> FormSet:
    """The forms shipped with the application (or those of `folder`), loaded once."""
    from desktop.paths import forms_dir

    return _cached(str(folder or forms_dir()))
