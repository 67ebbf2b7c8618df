"""Shared fixtures of trialog-torch's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def exp_kwargs(tmp_path: Path) -> dict[str, Any]:
    """Keyword arguments for a quiet, fast experiment in ``tmp_path`` (no loggers, no sources zip)."""
    return {"base_dir": tmp_path / "runs", "loggers": {}, "save_sources": False}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: end-to-end tests that train for tens of seconds")
