"""`trialog sweep` with the local sweeper on a `trialog run` config: each trial a `trialog run` process."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from trialog_sweep.sweep import read_sweep
from trialog_sweep.testing import DIGITS_LR, write_digits_sweep

from trialog.cli import main
from trialog.run.folder import Run, find_runs

pytest.importorskip("sklearn")

DIGITS = Path(__file__).resolve().parents[3] / "examples" / "digits"
LR = DIGITS_LR


def test_digits_grid_on_two_local_workers(tmp_path, capsys):
    path = write_digits_sweep(tmp_path, DIGITS / "config.json", "tiny", [0.002, 0.01])
    assert main(["sweep", str(path), "--parallel", "2", "--base-dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    (folder,) = (tmp_path / "out").iterdir()
    data = read_sweep(folder)
    assert data["sweeper"] == "local" and [t["status"] for t in data["trials"]] == ["finished"] * 2
    for trial in data["trials"]:
        run = Run(folder / trial["run"])
        assert run.config["trainer"]["optimization"]["optimizer"]["params"]["lr"] == trial["params"][LR]
        assert run.config["model"]["params"]["channels"] == 4 and run.checkpoints
        assert trial["metric"] == run.summary["val/accuracy"]["last"]
        with zipfile.ZipFile(folder / trial["run"] / "save" / "sources.zip") as archive:
            assert {"data.py", "model.py"} <= set(archive.namelist())  # the config folder's, as trialog run
    assert f"best trial: {data['best']['id']}" in out
    assert len(find_runs(folder)) == 2


def test_bad_trainer_key_in_a_sweep_is_named_before_any_trial(tmp_path, capsys):
    spec = {"sweep": {"config": str(DIGITS / "config.json"), "grid": {"trainer.epochz": [1, 2]}}}
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(spec))
    assert main(["sweep", str(path), "--base-dir", str(tmp_path / "out")]) == 1
    assert "'grid.trainer.epochz'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def _numbers(folder: Path) -> dict[str, list[tuple]]:
    """Every trial's recorded numbers (not its timings), by trial id."""
    out = {}
    for trial in read_sweep(folder)["trials"]:
        records = Run(folder / trial["run"]).records
        out[trial["id"]] = [
            (r["name"], r.get("epoch"), r.get("counter"), r["value"])
            for r in records
            if not any(word in r["name"] for word in ("time", "per_s", "throughput", "seconds"))
            and r.get("tag")
            not in ("sys", "time")  # measurements: data_wait_s tagged sys, epoch_s tagged time
        ]
    return out


def test_digits_trials_do_not_depend_on_parallel_nor_on_a_resumed_driver(tmp_path):
    """Issue 19's repro: --parallel 1, --parallel 2 and a killed-and-resumed --parallel 2 sweep agree bitwise."""
    import signal
    import subprocess
    import sys
    import time

    path = write_digits_sweep(tmp_path / "cfg", DIGITS / "config.json", "nb", [0.002, 0.01, 0.02], epochs=2)
    results = {}
    for parallel in (1, 2):
        base = tmp_path / f"p{parallel}"
        assert main(["sweep", str(path), "--parallel", str(parallel), "--base-dir", str(base)]) == 0
        (folder,) = base.iterdir()
        results[parallel] = _numbers(folder)
    assert results[1] == results[2]
    assert all(records for records in results[1].values())

    base = tmp_path / "k"
    argv = [
        sys.executable,
        "-m",
        "trialog.cli",
        "sweep",
        str(path),
        "--parallel",
        "2",
        "--base-dir",
        str(base),
    ]
    driver = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600  # bounds a hang only: the event is a trial's first checkpoint
        while not list(base.glob("*/*/checkpoint/*")) and driver.poll() is None:
            assert time.monotonic() < deadline, "no trial checkpointed"
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    (folder,) = base.iterdir()
    assert {t["status"] for t in read_sweep(folder)["trials"]} != {"finished"}
    assert main(["sweep", "--resume", str(folder)]) == 0  # --parallel as sweep.json recorded it
    assert _numbers(folder) == results[2]


PRELOAD = """
import json, os, sys
from pathlib import Path

from trialog_sweep.sweep_local import preload

preload(Path(sys.argv[1]))
print(json.dumps({
    "dynamo": "torch._dynamo" in sys.modules,
    "threads": len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1,
}))
"""


def test_trial_server_imports_what_a_digits_trial_imports_lazily_and_starts_no_thread(tmp_path):
    """torch._dynamo (the first optimizer's import): once in the server, not in every first trial."""
    import subprocess
    import sys

    from trialog_sweep.sweep import open_sweep
    from trialog_sweep.sweep_local import sweep_env

    sweep = open_sweep(
        write_digits_sweep(tmp_path / "cfg", DIGITS / "config.json", "pre", [0.01]),
        "local",
        base_dir=tmp_path / "o",
    )
    out = subprocess.run(
        [sys.executable, "-c", PRELOAD, str(sweep.folder)],
        env=sweep_env(sweep),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # one thread: the server forks its trials, and a fork after a thread (an OpenMP pool) started is unsafe
    assert json.loads(out) == {"dynamo": True, "threads": 1}
