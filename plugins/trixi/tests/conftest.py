"""Shared fixtures of trialog-trixi's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def exp_kwargs(tmp_path: Path) -> dict[str, Any]:
    """Keyword arguments for a quiet, fast experiment in ``tmp_path`` (no loggers, no sources zip)."""
    return {"base_dir": tmp_path / "runs", "loggers": {}, "save_sources": False}
