"""The machine in run.json (``machine``): CPU, RAM, SLURM, conda, allow-listed environment; shown by ``runs show``."""

from __future__ import annotations

import json
import os

import pytest

import trialog
from trialog.cli import main
from trialog.run.machine import allowed_environ, describe_machine, machine_line

ENV = {
    "SLURM_JOB_ID": "4242",
    "SLURM_ARRAY_JOB_ID": "4200",
    "SLURM_ARRAY_TASK_ID": "3",
    "SLURM_JOB_NODELIST": "gpu[01-02]",
    "SLURM_API_TOKEN": "secret-value",  # a credential-like name: never read
    "CUDA_VISIBLE_DEVICES": "0,1",
    "OMP_NUM_THREADS": "xoxb-1234567890-abcdefghij",  # a token-shaped value: redacted
    "HOME": "/home/me",  # not on the allow-list
    "CONDA_DEFAULT_ENV": "research",
    "CONDA_PREFIX": "/opt/conda/envs/research",
}


def test_describe_machine_from_an_environment():
    machine = describe_machine(environ=ENV)
    assert machine["cpu_count"] == os.cpu_count() and machine["ram_gb"] > 0 and machine["cpu_model"]
    assert machine["slurm"] == {
        "job_id": "4242",
        "array_job_id": "4200",
        "array_task_id": "3",
        "nodelist": "gpu[01-02]",
    }
    assert machine["conda_env"] == "research" and machine["conda_prefix"] == "/opt/conda/envs/research"
    env = machine["environ"]
    assert env["CUDA_VISIBLE_DEVICES"] == "0,1" and env["OMP_NUM_THREADS"] == "***redacted***"
    assert "SLURM_API_TOKEN" not in env and "HOME" not in env and env["SLURM_JOB_ID"] == "4242"
    assert allowed_environ({"PATH": "/bin"}) == {}
    line = machine_line({**machine, "gpus": [{"name": "H100"}] * 2, "cuda": "12.4", "cudnn": 90100})
    assert "2 GPU (H100)" in line and "CUDA 12.4, cuDNN 90100" in line and "SLURM job 4242" in line


def _machine_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "777")
    exp = trialog.Experiment(name="m", base_dir=tmp_path, loggers={})
    exp.close()
    return exp


def test_run_json_holds_the_machine(tmp_path, monkeypatch):
    exp = _machine_run(tmp_path, monkeypatch)
    machine = json.loads((exp.run_dir / "run.json").read_text())["machine"]
    assert machine["cpu_count"] == os.cpu_count() and machine["slurm"] == {"job_id": "777"}


def test_runs_show_prints_the_machine(tmp_path, capsys, monkeypatch):
    pytest.importorskip(
        "trialog_runs"
    )  # `trialog runs show` comes with trialog-runs (the integration session)
    exp = _machine_run(tmp_path, monkeypatch)
    assert main(["runs", "show", str(exp.run_dir)]) == 0
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if x.startswith("machine")]
    assert f"{os.cpu_count()} × " in line and "SLURM job 777" in line
