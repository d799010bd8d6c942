"""The shape of the code base: Qt only under desktop/ui/, small modules, every form loads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from desktop.formspec import shipped_forms

PACKAGE = Path(__file__).resolve().parent.parent / "desktop"
UI = PACKAGE / "ui"
MAX_LINES = 500
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def qt_imports(source: str, filename: str = "<test>") -> list[str]:
    """Every PySide6 import of a module's source (top level or nested in functions)."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "PySide6"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "PySide6":
                found.append(node.module)
    return found


def test_the_walk_finds_the_package():
    names = {_rel(p) for p in MODULES}
    assert "desktop/cli.py" in names
    assert "desktop/domain/validation.py" in names
    assert len(MODULES) > 20


@pytest.mark.parametrize(
    "source",
    [
        "import PySide6",
        "import PySide6.QtCore as qc",
        "from PySide6 import QtWidgets",
        "from PySide6.QtCore import Qt",
        "def f():\n    from PySide6.QtGui import QIcon\n",
        "import os, PySide6.QtWidgets",
    ],
)
def test_qt_import_detector_sees_every_spelling(source):
    assert qt_imports(source)


@pytest.mark.parametrize(
    "source", ["import os", "from . import PySide6", "import PySide6x", "x = 'import PySide6'"]
)
def test_qt_import_detector_ignores_lookalikes(source):
    assert qt_imports(source) == []


def test_only_desktop_ui_imports_pyside6():
    offenders = {}
    for path in MODULES:
        if UI in path.parents:
            continue
        found = qt_imports(path.read_text(encoding="utf-8"), str(path))
        if found:
            offenders[_rel(path)] = found
    assert offenders == {}, f"modules outside desktop/ui/ import PySide6: {offenders}"


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_module_stays_under_500_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n < MAX_LINES, f"{_rel(path)} has {n} lines; split it by meaning"


def test_every_shipped_form_loads():
    forms = shipped_forms()
    assert set(forms.forms) >= {"lawyer_member", "staff_member", "party_org", "society_member"}
    for form_id, form in forms.forms.items():
        assert form.id == form_id
        assert form.fields, form_id
        assert form.has_field(form.name_field)
        assert form.path is not None and form.path.stem == form_id
    for table_id, table in forms.tables.items():
        assert table.id == table_id and table.codes


def test_shipped_forms_is_cached_per_folder():
    assert shipped_forms() is shipped_forms()
