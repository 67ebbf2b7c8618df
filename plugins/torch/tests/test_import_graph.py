"""trialog_torch's modules import each other without cycles: what a module imports at its top, type-only
imports (``if TYPE_CHECKING:``) counted too. Imports inside functions (lazy, such as a plugin hook's) are
not part of this graph."""

from __future__ import annotations

import ast
from pathlib import Path

import trialog_torch

PACKAGE = Path(trialog_torch.__file__).resolve().parent


def _graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name in modules:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        top = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        for node in (inner for stmt in top for inner in ast.walk(stmt)):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets = [node.module] if node.module else [a.name for a in node.names]
                graph[name] |= {t.split(".")[0] for t in targets if t and t.split(".")[0] in modules}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("trialog_torch."):
                graph[name].add(node.module.split(".")[1])
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b", "a"]]


def test_no_import_cycle_between_trialog_torch_modules():
    graph = _graph()
    graph.pop("__init__", None)
    for deps in graph.values():
        deps.discard("__init__")
    assert "callbacks" in graph["trainers"] and "experiment" in graph["trainers"]  # the graph is read
    assert _cycles(graph) == []
