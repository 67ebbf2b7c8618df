"""No ``_``-prefixed name crosses a module boundary inside the core: what one module needs from another is
public there (in its ``__all__`` or at least without the underscore), so each module's private names can
change without breaking another (issue 21, one implementation per rule)."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "src" / "trialog"


def private_imports(path: Path) -> list[str]:
    """``module:line name`` for each import of a ``_``-prefixed name from another trialog module in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        inside = node.level > 0 or (node.module or "").split(".")[0] == "trialog"
        if not inside:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append(f"{path.relative_to(CORE)}:{node.lineno} {alias.name}")
    return found


def test_no_private_name_is_imported_across_core_modules():
    found = [hit for path in sorted(CORE.rglob("*.py")) for hit in private_imports(path)]
    assert found == [], "make these public (or move them to the module that uses them): " + ", ".join(found)


def test_the_check_sees_a_private_import(tmp_path):
    (tmp_path / "m.py").write_text(
        "from .results import write_json\nfrom .fileio import (\n    read_json,\n    _with_fallback,\n)\n"
        "def f():\n    from trialog.hooks.options import _constructor_chain\n",
        encoding="utf-8",
    )
    global CORE
    saved, CORE = CORE, tmp_path
    try:
        assert private_imports(tmp_path / "m.py") == ["m.py:2 _with_fallback", "m.py:7 _constructor_chain"]
    finally:
        CORE = saved
