"""Fixtures: a folder of generated runs and a browser served for real on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import make_run
from trialog_browser.serve import BrowserServer


@pytest.fixture
def runs(tmp_path):
    base = tmp_path / "runs"
    made = {
        "a": make_run(base, "alpha", 0.001, seed=1, tags=["baseline"], purpose="the baseline"),
        "b": make_run(base, "beta", 0.1, seed=1),
        "c": make_run(base, "gamma", 0.001, seed=2, tags=["baseline"]),
    }
    return base, made


@pytest.fixture
def served(runs, tmp_path):
    base, made = runs
    with BrowserServer([base], cache_dir=tmp_path / "cache", refresh_every=0) as server:
        with httpx.Client(base_url=server.url.rstrip("/"), timeout=600) as client:
            yield server, client, made
