"""Every view of a run after SIGKILLs and resumes is the uninterrupted run's (issue 18).

A run is killed (SIGKILL, by itself, just after logging a chosen batch: an event, not a sleep; once after
its loggers wrote everything logged so far, once without) at a few random points and resumed after each; then its TensorBoard scalars (steps and values, through
TensorBoard's ``EventAccumulator``), ``log/values.csv``, the points each curve PNG was drawn from and
``result/results.json`` are compared with those of a run that was never interrupted. Plain Experiment and
TorchExperiment, the file and TensorBoard loggers, with and without counters, with ``every``, resumed in
the same run folder and in a new one.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trialog_file")
pytest.importorskip("trialog_tensorboard")

SCRIPT = Path(__file__).with_name("kill_resume_script.py")
HANG = 600  # bounds a hang only
CASES = {
    "plain-default-counters": {"kind": "plain", "counters": False, "every": 1},
    # each resume in a new run folder: the last one holds the whole run
    "plain-counters-every-new-folder": {"kind": "plain", "counters": True, "every": 3, "new_folder": True},
    "torch-default-counters-every": {"kind": "torch", "counters": False, "every": 3},
}
EPOCHS, BATCHES, KILLS = 4, 5, 2


def _attempt(base: Path, settings: dict, kill: list[int] | None, resume: bool) -> subprocess.CompletedProcess:
    settings = {**settings, "epochs": EPOCHS, "batches": BATCHES, "kill": kill, "resume": resume}
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(base), json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=HANG,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def _run_dir(base: Path) -> Path:
    """The run folder that finished (with ``new_folder`` each resume made one)."""
    (run_dir,) = [
        p for p in base.iterdir() if json.loads((p / "run.json").read_text()).get("status") == "finished"
    ]
    return run_dir


def views(run_dir: Path) -> dict:
    """What a user looks at: TensorBoard's scalars, the CSV, each curve's plotted points, the summary."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from trialog_file import plotted_series

    with open(run_dir / "log" / "values.csv", newline="") as handle:
        rows = [(r["name"], r["tag"], r["counter"], r["value"]) for r in csv.DictReader(handle)]
    plots = run_dir / "plot"
    curves = {p.relative_to(plots).as_posix(): plotted_series(p) for p in sorted(plots.rglob("*.png"))}
    scalars = {}
    for folder in sorted({p.parent for p in run_dir.rglob("events.out.tfevents.*")}):
        acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            key = f"{folder.relative_to(run_dir).as_posix()}:{tag}"
            scalars[key] = [(e.step, e.value) for e in acc.Scalars(tag)]
    summary = json.loads((run_dir / "result" / "results.json").read_text())
    return {"tensorboard": scalars, "csv": rows, "curves": curves, "results.json": summary}


@pytest.mark.parametrize("case", list(CASES))
def test_every_view_after_sigkills_and_resumes_is_the_uninterrupted_runs(tmp_path, case):
    settings = CASES[case]
    whole = _attempt(tmp_path / "whole", settings, None, resume=False)
    assert whole.returncode == 0, whole.stderr
    expected = views(_run_dir(tmp_path / "whole"))
    assert expected["tensorboard"] and expected["csv"] and expected["curves"]

    points = [[e, b] for e in range(EPOCHS) for b in range(BATCHES)]
    # the first kill after the loggers wrote everything (past the checkpoint too), the next without
    kills = [[*p, i == 0] for i, p in enumerate(sorted(random.Random(case).sample(points, KILLS)))]
    print("kill points (epoch, batch):", kills)
    base = tmp_path / "killed"
    for attempt, kill in enumerate(kills):
        child = _attempt(base, settings, kill, resume=attempt > 0)
        assert child.returncode == -signal.SIGKILL, child.stderr
    last = _attempt(base, settings, None, resume=True)
    assert last.returncode == 0, last.stderr
    got = views(_run_dir(base))
    for view in expected:
        assert got[view] == expected[view], f"{view} differs after kills at {kills}"
