from pathlib import Path

import pytest

# The run folder written by trixi 0.1.2.2: the shared/ folder beside the checkout holds the reference copy;
# a clone without it uses the copy kept with these tests.
SHARED_TRIXI_RUN = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "trixi-run-example"
BUNDLED_TRIXI_RUN = Path(__file__).resolve().parent / "data" / "trixi-run-example"


@pytest.fixture
def trixi_run() -> Path:
    """A run folder written by trixi (read-only: copy it into tmp_path before changing anything)."""
    return SHARED_TRIXI_RUN if SHARED_TRIXI_RUN.is_dir() else BUNDLED_TRIXI_RUN
