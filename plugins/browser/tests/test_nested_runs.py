"""The browser finds runs in nested folders (a sweep folder inside the browsed folder) and says which sweep
a trial belongs to (issue 20 item 4)."""

from __future__ import annotations

import json

import httpx
from browser_helpers import make_run
from trialog_browser.index import RunIndex
from trialog_browser.serve import BrowserServer


def _sweep(base, tmp_path):
    """A sweep folder as trialog-sweep lays it out (sweep.json, trials/), one trial run per grid point."""
    folder = base / "20261201-101500_lrs-sweep"
    (folder / "trials").mkdir(parents=True)
    (folder / "sweep.json").write_text(
        json.dumps({"format": 1, "name": "lrs", "sweeper": "local", "trials": []})
    )
    trials = [make_run(folder, f"lrs_t{i:04d}", lr) for i, lr in enumerate((0.01, 0.02))]
    return folder, trials


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
