"""Every JSON file is written by the one writer, ``trialog.api.write_json`` (atomic, UTF-8, the encoder policy):
no module of the core or of a plugin hands ``json.dumps`` text to ``write_atomic`` or ``Path.write_text``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    p for p in [*ROOT.glob("core/src/**/*.py"), *ROOT.glob("plugins/*/src/**/*.py")] if ".venv" not in p.parts
)
WRITERS = {"write_atomic", "write_text", "write_bytes"}


def _dumps_inside(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in ("dumps", "dump")
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "json"
        for n in ast.walk(node)
    )


def json_written_by_hand(source: str) -> list[int]:
    """Lines where a file write is given ``json.dumps`` text directly."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name in WRITERS and any(_dumps_inside(arg) for arg in node.args):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_a_hand_written_json_file():
    code = "write_atomic(p, json.dumps(d).encode())\np.write_text(json.dumps(d))\nwrite_json(p, d)\n"
    assert json_written_by_hand(code) == [1, 2]


def test_every_json_file_goes_through_write_json():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in SOURCES
        for line in json_written_by_hand(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "write these with trialog.api.write_json: " + ", ".join(found)
