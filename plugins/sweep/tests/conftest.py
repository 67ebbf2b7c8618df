"""Fixtures shared by trialog-sweep's tests."""

from __future__ import annotations

import pytest
from trialog_sweep.testing import wait_exit
from trialog_sweep.trialserver import RUNTIME_ENV, kept_servers


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """A runtime folder of the test's own for kept-warm trial servers; they are stopped, and waited for, after."""
    folder = tmp_path / "rt"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv(RUNTIME_ENV, str(folder))
    yield folder
    for server in kept_servers(stop=True):  # every server this test started ends with it
        if server.get("pid"):
            wait_exit(int(server["pid"]))
