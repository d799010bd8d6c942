"""Composition root of the window: chooses the register and the forms, then hands them to the
Qt layer (desktop/ui/start.py; who works is the 经办人 of 本单位信息, never the computer's login
name). Batch commands never import this module's Qt side: `desktop.cli` imports it lazily
when `dengji` runs without a subcommand."""

from __future__ import annotations

from pathlib import Path

from desktop.formspec import shipped_forms
from desktop.paths import default_db_path
from desktop.storage.server import ServerLocation


def run_window(db_path: Path | ServerLocation | None) -> int:
    """Open the window on `db_path` (default: the register in the user data folder; a
    ServerLocation: a register on PostgreSQL); on first run a register file is made there.
    Returns the exit status."""
    from desktop.ui.start import start

    path = db_path if isinstance(db_path, ServerLocation) else (
        Path(db_path) if db_path is not None else default_db_path())
    return start(path, shipped_forms())
