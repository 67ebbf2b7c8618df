"""trialog-submitit: trials as submitit jobs (local executor always; a real SLURM where it can start)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import HANG, make_gate, read_gate, release_gate, write_sweep
from trialog_submitit import SubmititSweeper, job_state
from trialog_sweep import open_sweep, read_sweep

from trialog.api import Run
from trialog.cli import main
from trialog.errors import ConfigError

LOCAL = {"cluster": "local", "poll": "0.2"}


def _records(run_dir: Path) -> list[tuple]:
    return [(r["name"], r.get("epoch"), r.get("counter"), r["value"]) for r in Run(run_dir).records]


def _drive(sweeper, sweep) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run():
        try:
            sweeper.run(sweep)
        except BaseException as exc:  # pragma: no cover - reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _gated_pair(tmp_path, sweeper):
    """A reference trial and a gated one; the gated one's pid once it is mid-epoch 1, and the driver."""
    gate = make_gate(tmp_path, hold=True)
    path = write_sweep(tmp_path / "cfg", {"grid": {"gate": [None, str(gate)]}})
    sweep = open_sweep(path, "submitit", base_dir=tmp_path / "o")
    driver, errors = _drive(sweeper, sweep)
    return gate, sweep, driver, errors


def _assert_equal_trials(sweep) -> tuple[dict, dict]:
    reference, gated = read_sweep(sweep.folder)["trials"]
    assert reference["status"] == gated["status"] == "finished", (reference, gated)
    assert _records(sweep.folder / gated["run"]) == _records(sweep.folder / reference["run"])
    assert gated["metric"] == reference["metric"]
    return reference, gated


def test_local_jobs_run_a_grid_and_sweep_json_records_the_jobs(tmp_path, capsys):
    path = write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.1, 0.5]}, "resources": {"cpu": 1, "mem_gb": 1}})
    argv = ["sweep", str(path), "--sweeper", "submitit", "--base-dir", str(tmp_path / "o")]
    assert main([*argv, "--option", "cluster=local", "--option", "poll=0.2"]) == 0
    (folder,) = (tmp_path / "o").iterdir()
    data = read_sweep(folder)
    assert data["sweeper"] == "submitit" and data["options"]["options"] == LOCAL
    assert [t["status"] for t in data["trials"]] == ["finished"] * 2
    for trial in data["trials"]:
        assert trial["job"]["cluster"] == "local" and trial["job"]["id"].isdigit()
        assert job_state(trial["job"]) == "finished"
        run = Run(folder / trial["run"])
        assert run.status == "finished" and run.meta["threads"] == 1
        assert trial["metric"] == run.summary["gap"]["last"]
    assert main(["sweep", "show", str(folder)]) == 0
    assert "best trial: t000" in capsys.readouterr().out


def test_trial_killed_by_sigkill_is_resubmitted_and_ends_like_an_unkilled_one(tmp_path):
    gate, sweep, driver, errors = _gated_pair(tmp_path, SubmititSweeper(options=LOCAL))
    pid = read_gate(gate)
    first_job = read_sweep(sweep.folder)["trials"][1]["job"]["id"]
    os.kill(pid, signal.SIGKILL)  # while it waits mid-epoch 1
    assert read_gate(gate) != pid  # the resubmitted job reached the same point: let it go on
    release_gate(gate)
    driver.join(HANG)
    assert not errors and not driver.is_alive()
    _, killed = _assert_equal_trials(sweep)
    assert killed["attempts"] == 2 and killed["job"]["id"] != first_job
    assert Run(sweep.folder / killed["run"]).meta["resumes"]


def test_timeout_signal_requeues_the_job_which_resumes_exactly(tmp_path):
    gate, sweep, driver, errors = _gated_pair(tmp_path, SubmititSweeper(options=LOCAL))
    pid = read_gate(gate)
    job = read_sweep(sweep.folder)["trials"][1]["job"]["id"]
    os.kill(pid, signal.SIGUSR2)  # submitit's timeout/preemption signal (while it waits): checkpoint, requeue
    assert read_gate(gate) != pid
    release_gate(gate)
    driver.join(HANG)
    assert not errors and not driver.is_alive()
    _, requeued = _assert_equal_trials(sweep)
    assert requeued["attempts"] == 1 and requeued["job"]["id"] == job  # requeued, not resubmitted
    assert Run(sweep.folder / requeued["run"]).meta["resumes"]


def test_resume_follows_a_running_job_instead_of_submitting_it_twice(tmp_path, capsys):
    gate = make_gate(tmp_path, hold=True)
    path = write_sweep(tmp_path / "cfg", {"grid": {"lr": [0.3]}}, gate=str(gate))
    base = tmp_path / "o"
    argv = [sys.executable, "-m", "trialog.cli", "sweep", str(path), "--sweeper", "submitit"]
    argv += ["--option", "cluster=local", "--option", "poll=0.2", "--base-dir", str(base)]
    driver = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        trial_pid = read_gate(gate)  # the job is mid-epoch 1, held there
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    (folder,) = base.iterdir()
    (trial,) = read_sweep(folder)["trials"]
    assert trial["status"] == "running" and job_state(trial["job"]) == "running"
    assert main(["sweep", "show", str(folder), "--json"]) == 0
    assert '"job_state": "running"' in capsys.readouterr().out
    resumed = threading.Thread(target=main, args=(["sweep", "--resume", str(folder)],))
    resumed.start()
    release_gate(gate)  # the job the first driver started goes on; the resumed driver follows it
    resumed.join(HANG)
    assert not resumed.is_alive()
    (after,) = read_sweep(folder)["trials"]
    assert after["status"] == "finished" and after["attempts"] == 1 and after["job"] == trial["job"]
    assert not Run(folder / after["run"]).meta.get("resumes")  # ... the very job the first driver started
    assert trial_pid > 0


def test_bad_options_are_named():
    with pytest.raises(ConfigError, match="cluster=pbs"):
        SubmititSweeper(options={"cluster": "pbs"})
    with pytest.raises(ConfigError, match=r"\['queue'\]"):
        SubmititSweeper(options={"queue": "x"})
    with pytest.raises(ConfigError, match="--address"):
        SubmititSweeper(address="10.0.0.1:6379")
    with pytest.raises(ConfigError, match="poll"):
        SubmititSweeper(options={"poll": "soon"})


def test_the_entry_point_names_the_sweeper():
    from trialog.hooks import plugins

    assert plugins.load("trialog.sweepers", "submitit") is SubmititSweeper


# ---------------------------------------------------------------------------------------- a real SLURM


def _squeue_ids() -> str:
    return subprocess.run(["squeue", "-h", "-o", "%i %T"], capture_output=True, text=True).stdout


def test_slurm_job_array_scancel_is_retried_and_requeue_resumes_exactly(slurm, tmp_path):
    cancel, requeue = make_gate(tmp_path, True, "cancel"), make_gate(tmp_path, True, "requeue")
    path = write_sweep(tmp_path / "cfg", {"grid": {"gate": [None, str(cancel), str(requeue)]}})
    sweep = open_sweep(path, "submitit", base_dir=tmp_path / "o")
    driver, errors = _drive(SubmititSweeper(parallel=3, options={"cluster": "slurm", "poll": "0.5"}), sweep)
    pids = {read_gate(cancel), read_gate(requeue)}  # both gated trials wait mid-epoch 1 now
    trials = read_sweep(sweep.folder)["trials"]
    jobs = [t["job"]["id"] for t in trials]
    assert len({j.split("_")[0] for j in jobs}) == 1 and all("_" in j for j in jobs)  # one job array
    subprocess.run(["scancel", jobs[1]], check=True)
    subprocess.run(["scontrol", "requeue", jobs[2]], check=True)
    assert read_gate(cancel) not in pids  # the resubmitted job at the gate again
    release_gate(cancel)
    assert read_gate(requeue) not in pids  # the requeued job (SLURM starts it again after its requeue delay)
    release_gate(requeue)
    driver.join(HANG)
    assert not errors and not driver.is_alive(), _squeue_ids()
    data = read_sweep(sweep.folder)["trials"]
    assert [t["status"] for t in data] == ["finished"] * 3
    reference = _records(sweep.folder / data[0]["run"])
    for trial in data[1:]:
        assert _records(sweep.folder / trial["run"]) == reference
        assert Run(sweep.folder / trial["run"]).meta["resumes"]
    assert (
        data[1]["attempts"] == 2 and data[1]["job"]["id"] != jobs[1]
    )  # scancel: a failed attempt, resubmitted
    assert data[2]["attempts"] == 1 and data[2]["job"]["id"] == jobs[2]  # requeued: the same job went on
