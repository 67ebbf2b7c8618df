from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def trixi_run() -> Path:
    """A run folder written by trixi 0.1.2.2, the copy kept with the core's tests (read-only: copy it first)."""
    return ROOT / "core" / "tests" / "data" / "trixi-run-example"
