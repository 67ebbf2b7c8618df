"""The core's floor plan holds: no import cycle, no import that points back up, no import into a plugin.

The packages of ``trialog`` are layered (``LAYERS``, bottom first; ARCHITECTURE.md draws the same map). A module
may import from its own package and from packages in lower layers only; imports inside functions count too
(only ``if TYPE_CHECKING:`` blocks are exempt). The core never imports a plugin distribution: plugins reach the
core through ``trialog.api`` and entry points, never the other way round.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "trialog"

#: bottom first; a package may import the packages of its own layer's predecessors (and itself)
LAYERS: list[set[str]] = [
    {"_version", "errors", "optional", "fileio"},
    {"hooks"},
    {"config", "figures"},
    {"results"},
    {"checkpoint"},
    {"run"},
    {"loggers"},
    {"experiment", "builtin"},
    {"api", "cli", "testing", "trialog"},
]
PLUGIN_PREFIXES = ("trialog_", "trixi")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            guarded = type_checking or (
                isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
            )
            if isinstance(child, ast.Import) and not type_checking:
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and not type_checking:
                base = child.module or ""
                if child.level:
                    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                    package = package[: len(package) - child.level + 1]
                    base = ".".join(package + ([base] if base else []))
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in MODULES else base)
            visit(child, guarded)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps = set()
        for imported in _imports(name, path):
            if imported == "trialog" or not imported.startswith("trialog."):
                continue
            parts = imported.split(".")
            while ".".join(parts) not in MODULES:
                parts.pop()
            target = ".".join(parts)
            if target not in (name, "trialog"):
                deps.add(target)
        graph[name] = deps
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "trialog"


def _layer(package: str) -> int:
    for number, packages in enumerate(LAYERS):
        if package in packages:
            return number
    raise AssertionError(f"trialog.{package} is not on the floor plan (LAYERS in {__file__})")


def test_every_package_is_on_the_floor_plan():
    for module in MODULES:
        _layer(_package(module))


def test_no_import_points_back_up():
    wrong = [
        f"{module} imports {target}"
        for module, deps in _graph().items()
        for target in deps
        if _layer(_package(target)) > _layer(_package(module))
    ]
    assert wrong == []


def test_no_import_cycle_inside_the_core():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in graph:
        if module not in index:
            strong(module)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_core_never_imports_a_plugin(module):
    into_plugins = sorted(i for i in _imports(module, MODULES[module]) if i.startswith(PLUGIN_PREFIXES))
    assert into_plugins == []


def test_the_checker_sees_a_cycle_and_a_back_arrow(tmp_path, monkeypatch):
    """The checks above can fail: a planted cycle and a planted upward import are both caught."""
    here = sys.modules[__name__]
    fake = {"trialog.errors": {"trialog.util.fileio"}, "trialog.util.fileio": {"trialog.errors"}}
    monkeypatch.setattr(here, "_graph", lambda: fake)
    with pytest.raises(AssertionError):
        test_no_import_cycle_inside_the_core()
    with pytest.raises(AssertionError):
        test_no_import_points_back_up()
