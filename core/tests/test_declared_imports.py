"""The core declares what it imports: every third-party module its code imports is a dependency, or an
extra's when it is imported lazily (inside a function), and ``import trialog`` loads no extra."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1]
SOURCE = CORE / "src" / "trialog"
#: Import name -> distribution name, where they differ (checked against installed metadata when present).
DISTRIBUTION = {
    "yaml": "pyyaml",
    "importlib_metadata": "importlib-metadata",
    "PIL": "pillow",
    "sklearn": "scikit-learn",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((CORE / "pyproject.toml").read_text())["project"]
    extras = {
        extra: {_name(r) for r in requirements}
        for extra, requirements in project.get("optional-dependencies", {}).items()
        if extra != "test"  # what the tests need is not what the code imports
    }
    return {_name(r) for r in project["dependencies"]}, extras


def _distribution(module: str) -> str:
    return DISTRIBUTION.get(module, module).lower().replace("_", "-")


class _Imports(ast.NodeVisitor):
    """Third-party top-level imports of one file: (module, line, lazy = inside a function)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, int, bool]] = []
        self.depth = 0
        self.type_checking = 0

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):  # seen by type checkers only
            self.type_checking += 1
            for child in node.body:
                self.visit(child)
            self.type_checking -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _add(self, module: str, node: ast.AST) -> None:
        top = module.split(".")[0]
        if top == "trialog" or top in sys.stdlib_module_names or self.type_checking:
            return
        self.found.append((top, node.lineno, self.depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._add(node.module, node)


def third_party_imports() -> list[tuple[str, str, int, bool]]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        found += [(str(path.relative_to(CORE)), module, line, lazy) for module, line, lazy in visitor.found]
    return found


def test_the_walk_finds_the_imports_it_should():
    modules = {(file.split("/")[-1], module, lazy) for file, module, _, lazy in third_party_imports()}
    assert ("series.py", "numpy", False) in modules and ("npz.py", "numpy", True) in modules
    assert ("plugins.py", "importlib_metadata", True) in modules


def test_every_third_party_import_is_declared():
    dependencies, extras = declared()
    in_extras = {dist: extra for extra, dists in extras.items() for dist in dists}
    problems = []
    for file, module, line, lazy in third_party_imports():
        dist = _distribution(module)
        if dist in dependencies:
            continue
        if dist in in_extras:
            if not lazy:
                problems.append(
                    f"{file}:{line}: {module} is only in the extra {in_extras[dist]!r} but imported at "
                    "module level (import it inside the function that needs it)"
                )
            continue
        problems.append(
            f"{file}:{line}: {module} ({dist}) is imported but not declared in core/pyproject.toml"
        )
    assert problems == []


def test_the_core_draws_nothing():
    """matplotlib and pillow are trialog-figures' extras: the core imports neither (and declares neither)."""
    dependencies, extras = declared()
    assert not {"matplotlib", "pillow"} & (dependencies | {d for ds in extras.values() for d in ds})
    assert not {"matplotlib", "pillow"} & {_distribution(module) for _, module, _, _ in third_party_imports()}


@pytest.mark.parametrize("module", ["trialog", "trialog.api"])
def test_importing_the_core_loads_no_extra(module):
    _, extras = declared()
    heavy = sorted({"matplotlib", "PIL", "yaml"})
    code = f"import sys, {module}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
    assert _distribution("yaml") in {d for ds in extras.values() for d in ds}
