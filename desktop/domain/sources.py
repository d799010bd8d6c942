"""A row as read from a source file (a .jsonl line or a worksheet row), before it is checked.

Both readers make these: services/intake/jsonl.py for .jsonl and reports/xlsx/read.py for
workbooks; a row that could not be read carries the finding that says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.domain.findings import Finding


@dataclass(frozen=True, slots=True)
class SourceRow:
    no: int  # 1-based line or row number
    raw: dict[str, Any] | None  # None when the line could not be read
    problem: Finding | None = None
