"""Plugins use only the core's documented surface: they import nothing from trialog but trialog.api, the
exceptions of trialog.errors, the test helpers of trialog.testing (and the ``trialog`` package's own public
names), and touch no ``_``-prefixed name of the core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core" / "src" / "trialog"
#: the core's modules a plugin may import: the api, the exceptions, the test helpers (fakes)
PUBLIC_MODULES = ("trialog.api", "trialog.errors", "trialog.testing")
PLUGIN_SOURCES = sorted(
    p
    for p in [*ROOT.glob("plugins/*/src/**/*.py"), *ROOT.glob("examples/**/src/**/*.py")]
    if ".venv" not in p.parts
)


def _core_private_names() -> set[str]:
    names: set[str] = set()
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


CORE_PRIVATE = _core_private_names()


def _experiment_private_names() -> set[str]:
    """Private methods and attributes of the core's Experiment class."""
    tree = ast.parse((CORE / "experiment" / "experiment.py").read_text(encoding="utf-8"))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Experiment"]
    names = {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for node in ast.walk(cls):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            names.add(node.attr)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


EXPERIMENT_PRIVATE = _experiment_private_names()


def _experiment_classes(tree: ast.Module) -> set[str]:
    """Classes in a plugin module that derive (directly or through another one there) from an Experiment."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name not in found:
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                if bases & ({"Experiment", "TorchExperiment"} | found):
                    found.add(node.name)
                    changed = True
    return found


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugin_imports_only_the_api_and_no_private_core_name(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # names the plugin defines itself (its own objects' private members) are its business
    own = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)}
    own |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("trialog.") and node.module not in PUBLIC_MODULES:
                problems.append(f"line {node.lineno}: from {node.module} import ...")
            if node.module in ("trialog", *PUBLIC_MODULES):
                problems += [
                    f"line {node.lineno}: imports {a.name}" for a in node.names if a.name.startswith("_")
                ]
        elif isinstance(node, ast.Import):
            problems += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if a.name.startswith("trialog.") and a.name not in PUBLIC_MODULES
            ]
        elif isinstance(node, ast.Attribute) and node.attr in CORE_PRIVATE and node.attr not in own:
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                problems.append(f"line {node.lineno}: uses the core's private name {node.attr}")
    # a subclass of the core's Experiment must neither override nor call the core's private members
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef) and cls.name in _experiment_classes(tree):
            for node in ast.walk(cls):
                if (
                    isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and node.name in EXPERIMENT_PRIVATE
                ):
                    problems.append(f"line {node.lineno}: {cls.name} overrides the core's {node.name}")
                if isinstance(node, ast.Attribute) and node.attr in EXPERIMENT_PRIVATE:
                    problems.append(f"line {node.lineno}: {cls.name} uses the core's {node.attr}")
    assert problems == []


def test_the_check_sees_plugins():
    assert len(PLUGIN_SOURCES) > 20 and "_fire" in EXPERIMENT_PRIVATE and "_restored" in EXPERIMENT_PRIVATE
