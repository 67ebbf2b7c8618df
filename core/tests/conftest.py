from pathlib import Path

import pytest

# The run folder written by trixi 0.1.2.2 lives in the shared/ folder beside the repository checkout.
TRIXI_RUN = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "trixi-run-example"


@pytest.fixture
def trixi_run() -> Path:
    """The trixi run folder (read-only: copy it into tmp_path before changing anything)."""
    if not TRIXI_RUN.is_dir():
        pytest.skip(f"the shared trixi fixture is not beside this checkout ({TRIXI_RUN})")
    return TRIXI_RUN
