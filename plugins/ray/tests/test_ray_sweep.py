"""The ray sweeper on one local Ray instance (2 CPUs, started once for this module)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import trialog_ray
from trialog_sweep import open_sweep, read_sweep
from trialog_sweep.testing import DIGITS_LR, write_digits_sweep
from trialog_sweep.testing import read_gate as _read_gate
from trialog_sweep.testing import records as _records
from trialog_sweep.testing import wait_exit as _wait_exit
from trialog_sweep.testing import write_toy_sweep as _toy_sweep

from trialog.api import Run
from trialog.cli import main
from trialog.errors import ConfigError, TrialogWarning

ROOT = Path(__file__).resolve().parents[3]
DIGITS = ROOT / "examples" / "digits" / "config.json"


@pytest.fixture(scope="module")
def cluster():
    context = trialog_ray.init_local(num_cpus=2, object_store_memory=100 * 1024 * 1024)
    import ray

    try:
        yield context
    finally:
        ray.shutdown()


def test_local_instance_listens_on_loopback_only(cluster):
    import ray

    assert cluster.address_info["node_ip_address"] == "127.0.0.1"
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    assert all(node["NodeManagerAddress"] == "127.0.0.1" for node in ray.nodes())


def test_digits_grid_on_ray(cluster, tmp_path, capsys):
    pytest.importorskip("trialog_torch")
    pytest.importorskip("sklearn")
    lr = DIGITS_LR
    path = write_digits_sweep(tmp_path, DIGITS, "digits-ray", [0.001, 0.002, 0.004, 0.008])
    assert main(["sweep", str(path), "--sweeper", "ray", "--base-dir", str(tmp_path / "out")]) == 0
    assert "best trial: t000" in capsys.readouterr().out
    (folder,) = (tmp_path / "out").iterdir()
    data = read_sweep(folder)
    assert data["sweeper"] == "ray" and len(data["trials"]) == 4
    for trial in data["trials"]:
        assert trial["status"] == "finished" and trial["iterations"] == 1
        run = Run(folder / trial["run"])
        assert (
            run.status == "finished"
            and run.config["trainer"]["optimization"]["optimizer"]["params"]["lr"] == (trial["params"][lr])
        )
        assert 0.0 <= trial["metric"] <= 1.0 and trial["metric"] == run.summary["val/accuracy"]["last"]
    best = max(data["trials"], key=lambda t: t["metric"])
    assert data["best"]["metric"] == best["metric"]
    assert main(["runs", "ls", str(folder)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]  # one row per trial, its name and its folder
    assert len(rows) == 4 and all(row.startswith("digits-ray_t000") for row in rows)


def test_trial_killed_mid_epoch_is_retried_by_tune_and_ends_like_an_unkilled_one(cluster, tmp_path):
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    path = _toy_sweep(tmp_path / "cfg", {"grid": {"gate": [None, str(gate)]}})
    sweep = open_sweep(path, "ray", base_dir=tmp_path / "o")
    pids: list[int] = []

    def kill_once_then_release():
        pids.append(_read_gate(gate))  # the gated trial is in epoch 1, step 2
        os.kill(pids[0], signal.SIGKILL)
        pids.append(_read_gate(gate))  # Tune's retry reached the same point: let it go on

    gatekeeper = threading.Thread(target=kill_once_then_release, daemon=True)
    gatekeeper.start()
    trialog_ray.RaySweeper(parallel=2).run(sweep)
    gatekeeper.join()
    assert len(pids) == 2 and pids[0] != pids[1]
    reference, killed = read_sweep(sweep.folder)["trials"]
    assert reference["status"] == killed["status"] == "finished"
    assert killed["attempts"] == 2 and reference["attempts"] == 1
    killed_run = sweep.folder / killed["run"]
    assert json.loads((killed_run / "run.json").read_text())["resumes"]
    assert _records(killed_run) == _records(sweep.folder / reference["run"])
    assert killed["metric"] == reference["metric"]


@pytest.mark.parametrize("tune_state", ["as left", "torn"])
def test_killed_driver_resumes_with_tuner_restore(cluster, tmp_path, tune_state):
    """Tuner.restore when Tune's state is intact; from sweep.json when the kill tore it (Tune writes in place)."""
    import ray

    gate = tmp_path / "gate"
    os.mkfifo(gate)
    path = _toy_sweep(tmp_path / "cfg", {"grid": {"lr": [0.1, 0.2, 0.3]}}, gate=str(gate))
    base = tmp_path / "o"
    address = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen(
        [
            *(sys.executable, "-m", "trialog.cli", "sweep", str(path), "--sweeper", "ray"),
            *("--parallel", "1", "--address", address, "--base-dir", str(base)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _read_gate(gate)  # t0000 mid-epoch 1: let it finish
        trial_pid = _read_gate(gate)  # t0001 mid-epoch 1: kill the driver now
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        _wait_exit(trial_pid)  # Ray ends the job's workers with its driver
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    os.unlink(gate)
    (folder,) = base.iterdir()
    before = {t["id"]: t for t in read_sweep(folder)["trials"]}
    assert before["t0000"]["status"] == "finished" and before["t0002"]["status"] == "pending"
    first_meta = (folder / before["t0000"]["run"] / "run.json").read_text()
    if tune_state == "torn":
        state = sorted((folder / "ray" / "tune").glob("basic-variant-state-*"))[-1]
        state.write_bytes(b"")
        with pytest.warns(TrialogWarning, match="cannot be restored"):
            assert main(["sweep", "--resume", str(folder)]) == 0
    else:
        assert main(["sweep", "--resume", str(folder)]) == 0
    after = {t["id"]: t for t in read_sweep(folder)["trials"]}
    assert [t["status"] for t in after.values()] == ["finished"] * 3
    assert (folder / after["t0000"]["run"] / "run.json").read_text() == first_meta  # never run again
    resumed = json.loads((folder / after["t0001"]["run"] / "run.json").read_text())
    assert resumed["status"] == "finished" and resumed["resumes"]


def test_optuna_search_with_asha(cluster, tmp_path):
    pytest.importorskip("optuna")
    space = {"lr": {"loguniform": [0.01, 0.5]}, "w0": {"uniform": [-1.0, 1.0]}}
    sweep_spec = {"space": space, "num_samples": 3, "search": "optuna", "seed": 1}
    sweep_spec["early_stopping"] = {"type": "asha", "grace_period": 1, "reduction_factor": 2}
    path = _toy_sweep(tmp_path / "cfg", sweep_spec, n_epochs=4)
    assert (
        main(["sweep", str(path), "--sweeper", "ray", "--parallel", "2", "--base-dir", str(tmp_path / "o")])
        == 0
    )
    (folder,) = (tmp_path / "o").iterdir()
    data = read_sweep(folder)
    assert len(data["trials"]) == 3 and data["best"] is not None
    for trial in data["trials"]:
        assert trial["status"] == "finished" and 1 <= trial["iterations"] <= 4
        assert 0.01 <= trial["params"]["lr"] <= 0.5 and -1 <= trial["params"]["w0"] <= 1
        run = Run(folder / trial["run"])
        assert run.config["lr"] == trial["params"]["lr"]
        assert trial["metric"] == run.summary["error"]["last"]


def test_sweep_options_the_ray_sweeper_rejects(tmp_path):
    path = _toy_sweep(tmp_path / "cfg", {"search": "optuna", "metric": None})
    with pytest.raises(ConfigError, match="'search'"):
        open_sweep(path, "ray", base_dir=tmp_path / "o")
    with pytest.raises(ConfigError, match="--parallel"):
        trialog_ray.RaySweeper(parallel=0)
    assert not (tmp_path / "o").exists()


def test_a_tune_state_saved_before_a_started_trial_is_not_restored(tmp_path):
    """A driver killed before Tune saved its second trial: restoring would never run it (Tune then waits for
    its search algorithm forever), so the resume starts the unfinished trials from sweep.json instead."""
    path = _toy_sweep(tmp_path / "cfg", {"grid": {"lr": [0.1, 0.2, 0.3]}})
    sweep = open_sweep(path, "ray", base_dir=tmp_path / "o")
    sweep.update("t0000", status="finished")
    sweep.update("t0001", status="running")
    state = tmp_path / "tune"
    state.mkdir()
    known = [[json.dumps({"trial_id": "6e1f3_00000", "config": {"trial_id": "t0000"}}), "{}"]]
    (state / "experiment_state-2026-12-06_15-26-39.json").write_text(json.dumps({"trial_data": known}))
    assert trialog_ray._missing_trials(state, sweep) == ["t0001", "t0002"]
    known.append([json.dumps({"config": {"trial_id": "t0001"}}), "{}"])
    known.append([json.dumps({"config": {"trial_id": "t0002"}}), "{}"])
    (state / "experiment_state-2026-12-06_15-26-39.json").write_text(json.dumps({"trial_data": known}))
    assert trialog_ray._missing_trials(state, sweep) == []
