"""``trialog sweep`` talks: each trial as it starts and ends (id, params, metric, run folder), the running best."""

from __future__ import annotations

import re

from test_sweep import _write_sweep
from trialog_sweep.sweep import open_sweep, read_sweep
from trialog_sweep.sweep_console import talking

from trialog.cli import main


def _lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("trialog: trial ") or "best so far" in line]


def test_local_sweep_prints_each_trial_start_end_and_the_running_best(tmp_path, capsys):
    path = _write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.05, 0.5, "bad"]}, "max_failures": 1})
    rc = main(
        ["sweep", str(path), "--sweeper", "local", "--parallel", "1", "--base-dir", str(tmp_path / "o")]
    )
    assert rc == 1  # the "bad" trial failed twice
    err = capsys.readouterr().err
    (folder,) = (tmp_path / "o").iterdir()
    data = read_sweep(folder)
    good = [t for t in data["trials"] if t["status"] == "finished"]
    assert len(good) == 2
    lines = _lines(err)
    for trial in good:
        start = next(i for i, s in enumerate(lines) if s.startswith(f"trialog: trial {trial['id']} started"))
        end = next(i for i, s in enumerate(lines) if s.startswith(f"trialog: trial {trial['id']} finished"))
        assert start < end
        assert f"lr={trial['params']['lr']}" in lines[start]
        assert f"error={trial['metric']:.4g}" in lines[end]
        assert lines[end].endswith(f"-> {folder / trial['run']}")
        assert lines[end + 1].startswith("trialog: best so far: ")  # the running best after every end
    bad = next(t for t in data["trials"] if t["status"] == "error")
    assert any(s.startswith(f"trialog: trial {bad['id']}: attempt 1: exit status 1; retrying") for s in lines)
    assert any(s.startswith(f"trialog: trial {bad['id']} started (attempt 2)") for s in lines)
    assert any(
        s.startswith(f"trialog: trial {bad['id']} failed [3/3 done]: exit status 1; see ") for s in lines
    )
    assert re.search(r"finished \[1/3 done\]", err) and re.search(r"finished \[2/3 done\]", err)
    best = data["best"]
    last_best = [s for s in lines if "best so far" in s][-1]
    assert last_best == (
        f"trialog: best so far: {best['id']} error={best['metric']:.4g} (min) lr={best['params']['lr']} "
        f"-> {folder / best['run']}"
    )


def test_quiet_sweep_prints_no_trial_lines(tmp_path, capsys):
    path = _write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.05]}})
    argv = ["sweep", str(path), "--quiet", "--base-dir", str(tmp_path / "o")]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert _lines(captured.err) == []
    assert "best trial: t0000" in captured.out  # the final table and best still print


def test_every_sweeper_talks_through_sweep_update(tmp_path, capsys):
    """The updates a driver makes (the ray callback's order: start, results, a retry, the end) print once each."""
    path = _write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.05, 0.2]}})
    sweep = open_sweep(path, "ray", base_dir=tmp_path / "o")
    with talking():
        sweep.update("t0000", status="running", attempts=1)
        sweep.update("t0000", status="running", iterations=1)  # a result: nothing to say
        sweep.update("t0000", error="an attempt failed; retried by Tune")
        sweep.update("t0000", status="running", attempts=2)
        sweep.update("t0000", status="finished", error=None, run="toy_t0000", metric=0.5, best_metric=0.25)
    sweep.update("t0001", status="running", attempts=1)  # outside talking(): quiet
    assert _lines(capsys.readouterr().err) == [
        "trialog: trial t0000 started [0/2 done]: lr=0.05",
        "trialog: trial t0000: an attempt failed; retried by Tune",
        "trialog: trial t0000 started (attempt 2) [0/2 done]: lr=0.05",
        f"trialog: trial t0000 finished [1/2 done]: error=0.5 (its min 0.25) -> {sweep.folder / 'toy_t0000'}",
        f"trialog: best so far: t0000 error=0.5 (min) lr=0.05 -> {sweep.folder / 'toy_t0000'}",
    ]
