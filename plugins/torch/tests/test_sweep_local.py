"""`trialog sweep` with the local sweeper on a `trialog run` config: each trial a `trialog run` process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trialog.cli import main
from trialog.run import Run, find_runs
from trialog.sweep import read_sweep

pytest.importorskip("sklearn")

DIGITS = Path(__file__).resolve().parents[3] / "examples" / "digits"
LR = "trainer.optimization.optimizer.params.lr"


def test_digits_grid_on_two_local_workers(tmp_path, capsys):
    spec = {
        "sweep": {
            "config": str(DIGITS / "config.json"),
            "name": "tiny",
            "grid": {LR: [0.002, 0.01]},
            "set": {
                "trainer.epochs": 1,
                "trainer.save_freq": 1,
                "model.params.channels": 4,
                "model.params.hidden": 16,
                "loggers": {},
            },
            "metric": "val/accuracy",
            "mode": "max",
        }
    }
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(spec))
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
    assert f"best trial: {data['best']['id']}" in out
    assert len(find_runs(folder)) == 2


def test_bad_trainer_key_in_a_sweep_is_named_before_any_trial(tmp_path, capsys):
    spec = {"sweep": {"config": str(DIGITS / "config.json"), "grid": {"trainer.epochz": [1, 2]}}}
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(spec))
    assert main(["sweep", str(path), "--base-dir", str(tmp_path / "out")]) == 1
    assert "'grid.trainer.epochz'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
