"""The browser finds runs in nested folders (a sweep folder inside the browsed folder) and says which sweep
a trial belongs to (issue 20 item 4)."""

from __future__ import annotations

import json

import httpx
from browser_helpers import make_run
from trialog_browser.index import RunIndex
from trialog_browser.serve import BrowserServer

from trialog.api import open_sweep


def _sweep(base, tmp_path):
    """A sweep folder made by the core's sweep machinery, holding one trial run per grid point."""
    spec = tmp_path / "spec" / "sweep.json"
    spec.parent.mkdir()
    spec.write_text(json.dumps({"lr": 0.1, "sweep": {"name": "lrs", "grid": {"lr": [0.01, 0.02]}}}))
    sweep = open_sweep(spec, "local", base_dir=base)
    trials = [make_run(sweep.folder, sweep.trial_name(t["id"]), t["params"]["lr"]) for t in sweep.trials]
    return sweep.folder, trials


def test_trials_in_a_sweep_folder_are_listed_with_their_sweep(tmp_path):
    base = tmp_path / "runs"
    flat = make_run(base, "alpha", 0.001)
    folder, trials = _sweep(base, tmp_path)
    make_run(base / ".trash", "hidden", 0.5)  # hidden folders are not looked into
    make_run(flat / "save", "inner", 0.5)  # nor are run folders
    index = RunIndex([base], tmp_path / "cache")
    index.refresh()
    sweeps = {entry["path"]: entry["sweep"] for entry in index.entries()}
    assert sweeps == {str(flat.resolve()): None, **{str(t.resolve()): folder.name for t in trials}}
    again = RunIndex([base], tmp_path / "cache")  # from the cache file: the sweep is known without rereading
    assert again.refresh() == 0 and {e["path"]: e["sweep"] for e in again.entries()} == sweeps
    with BrowserServer([base], cache_dir=tmp_path / "cache2", refresh_every=0) as server:
        with httpx.Client(base_url=server.url.rstrip("/"), timeout=600) as client:
            rows = client.get("/api/runs").json()["rows"]
            assert sorted((r["folder"], r["sweep"]) for r in rows) == sorted(
                [(flat.name, None), *((t.name, folder.name) for t in trials)]
            )
            picked = client.get("/api/runs", params={"q": f"sweep={folder.name}"}).json()["rows"]
            assert sorted(r["folder"] for r in picked) == sorted(t.name for t in trials)


def test_a_sweep_folder_browsed_itself_names_its_trials_sweep(tmp_path):
    folder, trials = _sweep(tmp_path / "runs", tmp_path)
    index = RunIndex([folder], tmp_path / "cache")
    index.refresh()
    assert sorted(e["sweep"] for e in index.entries()) == [folder.name] * len(trials)
