"""Installs fake distributions (dist-info + modules) on sys.path, so discovery tests need no pip."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from trialog.hooks import plugins


class FakeDists:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.monkeypatch = monkeypatch

    def add(
        self,
        dist: str,
        version: str = "1.0",
        entry_points: dict[str, dict[str, str]] | None = None,
        modules: dict[str, str] | None = None,
        path: str = "site",
    ) -> Path:
        """Create distribution ``dist`` in folder ``path`` (a new sys.path entry) and forget cached discovery."""
        site = self.root / path
        site.mkdir(parents=True, exist_ok=True)
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = []
        for group, eps in (entry_points or {}).items():
            lines.append(f"[{group}]")
            lines += [f"{name} = {target}" for name, target in eps.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module, source in (modules or {}).items():
            (site / f"{module}.py").write_text(textwrap.dedent(source))
        if str(site) not in sys.path:
            self.monkeypatch.syspath_prepend(str(site))
        plugins.refresh()
        return site


@pytest.fixture
def fake_dists(tmp_path, monkeypatch):
    monkeypatch.delenv(plugins.DISABLE_ENV, raising=False)
    yield FakeDists(tmp_path, monkeypatch)
    plugins.refresh()


MEMORY_LOGGER = """
from trialog import hookimpl

class MemoryLogger:
    def __init__(self, run_dir=None, prefix=""):
        self.run_dir = run_dir
        self.prefix = prefix
        self.values = []

    @hookimpl
    def show_value(self, value, name, tag):
        self.values.append((self.prefix + name, tag, value))
"""
