"""The shape of the code base: Qt only under desktop/ui/, small modules, every form loads, and
the layer contract (as qutebrowser's scripts/dev/misc_checks.py checks its own):

- a package imports only the layers below it (`ALLOWED`);
- no import cycle between modules (imports inside functions and under TYPE_CHECKING count);
- no private name (``_name``) imported from another module;
- no file-format library in desktop/services/ (formats live in desktop/reports/);
- no folder with more than `MAX_MODULES` modules.

Each check is a small function over source text or the import graph, so the tests below also
show it failing on a synthetic bad example.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from desktop.formspec import shipped_forms

PACKAGE = Path(__file__).resolve().parent.parent / "desktop"
UI = PACKAGE / "ui"
MAX_LINES = 500
MAX_MODULES = 15
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)

#: what each package of desktop/ may import besides itself and `BASE` (names below desktop.).
#: domain imports no other package (the form types are domain/forms.py; formspec is the loader
#: that builds them from TOML and checks rule names against domain.rules); reports take plain
#: domain and formspec data and never see the register.
_CORE = frozenset({"domain", "formspec"})
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "formspec": frozenset({"domain"}),
    "storage": _CORE,
    "exchange": _CORE | {"storage"},
    "reports": _CORE,
    "services": _CORE | {"storage", "exchange", "reports"},
    "commands": _CORE | {"storage", "exchange", "reports", "services"},
    "ui": _CORE | {"storage", "exchange", "reports", "services"},
}
#: modules every layer may use; they import only each other
BASE = frozenset({"errors", "paths", "progress", "processes", "inputs"})
#: the program's entry points, above every layer: they may import anything
TOP = frozenset({"", "__main__", "app", "cli", "smoke", "sampledata"})
#: libraries that read or write a file format: only desktop/reports/ (and exchange's zip and
#: ui's Qt PDF view) use them, never desktop/services/
FORMAT_LIBRARIES = frozenset({"openpyxl", "python_calamine", "xlsxwriter", "reportlab",
                              "pypdfium2", "segno", "zipfile", "lxml", "defusedxml", "xml"})


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def library_imports(source: str, libraries: Iterable[str], filename: str = "<test>"
                    ) -> list[str]:
    """Every import of one of `libraries` in a module's source (top level or nested)."""
    libraries = set(libraries)
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in libraries]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in libraries:
                found.append(node.module)
    return found


def qt_imports(source: str, filename: str = "<test>") -> list[str]:
    """Every PySide6 import of a module's source (top level or nested in functions)."""
    return library_imports(source, {"PySide6"}, filename)


def module_name(path: Path) -> str:
    """desktop/storage/engine.py → desktop.storage.engine; a package by its own name."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom, name: str, is_package: bool) -> list[str]:
    """The absolute names an import statement names: `import a.b` → a.b; `from a import b, c`
    → a.b, a.c (a module or a name in a: the graph keeps what is a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        here = name.split(".") if is_package else name.split(".")[:-1]
        here = here[:len(here) - node.level + 1]
        base = ".".join([*here, *([node.module] if node.module else [])])
    return [f"{base}.{a.name}" for a in node.names] + [base]


def module_graph(sources: Mapping[str, str], packages: Iterable[str] = ()) -> dict[str, set[str]]:
    """module → the modules of `sources` it imports: every import statement, also inside
    functions and under TYPE_CHECKING; `from a import b` counts as a.b when that is a module,
    else as a. `packages` are the names whose source is a package's __init__.py."""
    packages = set(packages)
    graph: dict[str, set[str]] = {}
    for name, source in sources.items():
        out: set[str] = set()
        for node in ast.walk(ast.parse(source, name)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found = _imported(node, name, name in packages)
                if isinstance(node, ast.ImportFrom):
                    base = found.pop()
                    found = [f if f in sources else base for f in found]
                for target in found:
                    while target and target not in sources:
                        target = target.rpartition(".")[0]
                    if target and target != name:
                        out.add(target)
        graph[name] = out
    return graph


def _layer(module: str) -> str:
    """desktop.services.intake.read → services; desktop.cli → cli; desktop → ""."""
    return module.split(".")[1] if "." in module else ""


def layer_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """"a → b" for every import of a layer that `ALLOWED` does not allow."""
    bad = []
    for source, targets in graph.items():
        layer = _layer(source)
        if layer in TOP:
            continue
        for target in sorted(targets):
            other, below = _layer(target), target.partition(".")[2]
            if other == layer or other in BASE:
                continue
            allowed = ALLOWED.get(layer, frozenset())
            if not any(below == a or below.startswith(a + ".") for a in allowed):
                bad.append(f"{source} → {target}")
    return bad


def import_cycles(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Each import cycle, as a path "a → b → … → a" through one strongly connected component of
    the graph (Tarjan), shortest path back to its first module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:  # recursion depth is bounded by the number of modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [" → ".join(_path_back(graph, c)) for c in components]


def _path_back(graph: Mapping[str, Iterable[str]], component: list[str]) -> list[str]:
    """The shortest path from the component's first module back to itself (breadth first)."""
    start, inside = component[0], set(component)
    came: dict[str, str] = {}
    queue = [start]
    for v in queue:
        for w in sorted(graph.get(v, ())):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(came[path[-1]])
                return [*reversed(path), start]
            if w in inside and w not in came:
                came[w] = v
                queue.append(w)
    return component  # not reached: a component of two or more has a cycle


def private_imports(source: str, filename: str = "<test>") -> list[str]:
    """`from x import _y` of a desktop module (absolute or relative): "x._y" for each."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0]
                                                 == "desktop"):
            found += [f"{'.' * node.level}{node.module or ''}.{a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def format_imports(source: str, filename: str = "<test>") -> list[str]:
    """Every import of a file-format library (`FORMAT_LIBRARIES`), also inside functions."""
    return library_imports(source, FORMAT_LIBRARIES, filename)


def crowded_folders(paths: Iterable[Path], limit: int = MAX_MODULES) -> dict[str, int]:
    """Folders holding more than `limit` modules (an __init__.py does not count)."""
    counts: dict[str, int] = {}
    for path in paths:
        if path.suffix == ".py" and path.name != "__init__.py":
            folder = path.parent.as_posix()
            counts[folder] = counts.get(folder, 0) + 1
    return {folder: n for folder, n in sorted(counts.items()) if n > limit}


def _real_graph() -> dict[str, set[str]]:
    sources = {module_name(p): p.read_text(encoding="utf-8") for p in MODULES}
    packages = {module_name(p) for p in MODULES if p.name == "__init__.py"}
    return module_graph(sources, packages)


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


# --- the layer contract ------------------------------------------------------------------------


def test_the_graph_sees_every_kind_of_import():
    graph = module_graph({
        "desktop.a": "import desktop.b\nfrom desktop import c\n",
        "desktop.b": "def f():\n    from desktop.d import thing\n",
        "desktop.c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .d import x\n",
        "desktop.d": "from . import pkg\nfrom .pkg.mod import y\n",
        "desktop.pkg": "from .mod import z\n",
        "desktop.pkg.mod": "from .. import a\n",
    }, packages={"desktop", "desktop.pkg"})
    assert graph == {"desktop.a": {"desktop.b", "desktop.c"}, "desktop.b": {"desktop.d"},
                     "desktop.c": {"desktop.d"}, "desktop.d": {"desktop.pkg", "desktop.pkg.mod"},
                     "desktop.pkg": {"desktop.pkg.mod"}, "desktop.pkg.mod": {"desktop.a"}}


def test_the_layer_check_refuses_an_import_upwards():
    graph = {"desktop.domain.values": {"desktop.services.listing", "desktop.errors"},
             "desktop.reports.xlsx.read": {"desktop.services.intake.jsonl", "desktop.storage"},
             "desktop.ui.records.editor": {"desktop.commands.common"},
             "desktop.commands.records": {"desktop.ui.mainwindow"},
             "desktop.domain.context": {"desktop.formspec.loader"}}
    assert layer_violations(graph) == [
        "desktop.domain.values → desktop.services.listing",
        "desktop.reports.xlsx.read → desktop.services.intake.jsonl",
        "desktop.reports.xlsx.read → desktop.storage",
        "desktop.ui.records.editor → desktop.commands.common",
        "desktop.commands.records → desktop.ui.mainwindow",
        "desktop.domain.context → desktop.formspec.loader",
    ]


def test_the_layer_check_allows_the_layers_below_and_the_base():
    graph = {"desktop.services.intake.read": {"desktop.reports.xlsx.read", "desktop.progress",
                                              "desktop.services.intake.workbook"},
             "desktop.domain.validation": {"desktop.domain.forms", "desktop.errors"},
             "desktop.ui.mainwindow": {"desktop.services.listing", "desktop.storage"},
             "desktop.cli": {"desktop.commands.records", "desktop.app"}}
    assert layer_violations(graph) == []


def test_the_cycle_check_names_the_path():
    graph = module_graph({
        "desktop.a": "import desktop.b\n",
        "desktop.b": "def later():\n    import desktop.c\n",
        "desktop.c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import desktop.a\n",
        "desktop.d": "import desktop.a\n",
    })
    assert import_cycles(graph) == ["desktop.a → desktop.b → desktop.c → desktop.a"]
    assert import_cycles({"x": {"y"}, "y": set()}) == []


@pytest.mark.parametrize("source", [
    "from desktop.domain.identifiers import _org_code_check",
    "from .engine import _fsync",
    "def f():\n    from desktop.storage.engine import SIDE_FILES, _migrate\n",
])
def test_private_import_detector_sees_every_spelling(source):
    assert private_imports(source)


@pytest.mark.parametrize("source", [
    "from __future__ import annotations", "from desktop import __version__",
    "from os import _exit", "from desktop.storage import Register",
])
def test_private_import_detector_ignores_public_and_foreign_names(source):
    assert private_imports(source) == []


@pytest.mark.parametrize("source", [
    "import openpyxl", "from openpyxl.styles import Font", "import python_calamine as pc",
    "def f():\n    from reportlab.pdfgen.canvas import Canvas\n", "import zipfile",
    "import xml.etree.ElementTree as ET",
])
def test_format_import_detector_sees_every_spelling(source):
    assert format_imports(source)


@pytest.mark.parametrize("source", ["import json", "from desktop.reports.xlsx import read",
                                    "import openpyxlish", "x = 'import openpyxl'"])
def test_format_import_detector_ignores_lookalikes(source):
    assert format_imports(source) == []


def test_the_folder_check_counts_modules_not_the_package_file():
    paths = [Path(f"desktop/big/m{i}.py") for i in range(16)] + [Path("desktop/big/__init__.py")]
    paths += [Path(f"desktop/ok/m{i}.py") for i in range(15)] + [Path("desktop/ok/__init__.py")]
    assert crowded_folders(paths) == {"desktop/big": 16}


def test_packages_import_only_the_layers_below():
    bad = layer_violations(_real_graph())
    assert bad == [], "imports against the layers (see ALLOWED):\n" + "\n".join(bad)


def test_no_import_cycle_between_modules():
    cycles = import_cycles(_real_graph())
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_no_private_name_is_imported_across_modules():
    offenders = {}
    for path in MODULES:
        found = private_imports(path.read_text(encoding="utf-8"), str(path))
        if found:
            offenders[_rel(path)] = found
    assert offenders == {}, f"private names imported from another module: {offenders}"


def test_services_hold_no_file_format():
    offenders = {}
    for path in sorted((PACKAGE / "services").rglob("*.py")):
        found = format_imports(path.read_text(encoding="utf-8"), str(path))
        if found:
            offenders[_rel(path)] = found
    assert offenders == {}, f"file formats belong in desktop/reports/: {offenders}"


def test_no_folder_holds_more_than_15_modules():
    crowded = crowded_folders(p.relative_to(PACKAGE.parent) for p in MODULES)
    assert crowded == {}, f"folders to split into feature packages: {crowded}"
