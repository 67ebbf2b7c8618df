"""Everything installed together: one Experiment logging to the file and TensorBoard plugins."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trialog import Experiment, Run, hookimpl


class Toy(Experiment):
    def setup(self):
        self.w = np.zeros(2)

    def train(self, epoch):
        for step in range(5):
            self.w += 0.1
            self.add_result(float(np.sum((self.w - 1) ** 2)), "loss", counter=epoch * 5 + step, tag="train")
        self.clog.show_image(np.full((3, 8, 8), epoch / 3), "weights", counter=epoch)

    def validate(self, epoch):
        self.add_result(0.5 + epoch / 10, "acc", counter=epoch, tag="val")

    def get_state(self):
        return {"w": self.w}

    def set_state(self, state):
        self.w = state["w"]


@pytest.fixture
def run_dir(tmp_path):
    exp = Toy(
        config={"lr": 0.1, "model": {"depth": 2}},
        name="toy",
        n_epochs=3,
        seed=7,
        base_dir=tmp_path,
        loggers={"file": "file", "tb": {"type": "tensorboard", "every": 1}},
    )
    exp.run()
    exp.close()
    return exp.run_dir


def test_results_reach_the_results_log_and_every_logger(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = Run(run_dir)
    assert run.status == "finished"
    losses = [
        r
        for r in map(json.loads, (run_dir / "result" / "results.jsonl").read_text().splitlines())
        if r["name"] == "loss"
    ]
    assert len(losses) == 15
    with open(run_dir / "log" / "values.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["name"] == "loss"]
    assert [float(r["value"]) for r in rows] == [r["value"] for r in losses]
    assert list((run_dir / "plot").glob("*.png")), "the file logger drew no value curve"
    assert len(list((run_dir / "img").glob("weights*.png"))) == 3

    event_files = list(run_dir.rglob("events.out.tfevents.*"))
    assert event_files, "no TensorBoard event file in the run folder"
    # Keras' layout: a run folder per tag (phase), the scalar named by the result: a card "loss" whose
    # line "train" holds every loss, a card "acc" with the line "val"
    logdir = run_dir / "save" / "tensorboard"
    assert {p.parent.relative_to(logdir).as_posix() for p in event_files} == {".", "train", "val"}
    train = EventAccumulator(str(logdir / "train"), size_guidance={"scalars": 0})
    train.Reload()
    assert train.Tags()["scalars"] == ["loss"]
    assert np.allclose([e.value for e in train.Scalars("loss")], [r["value"] for r in losses], atol=1e-6)


def test_runs_cli_lists_the_run(run_dir):
    out = subprocess.run(
        [sys.executable, "-m", "trialog.cli", "runs", "ls", str(run_dir.parent), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (row,) = json.loads(out)
    assert row["name"] == "toy" and row["status"] == "finished"


def test_run_json_records_the_run(run_dir):
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "finished" and meta["seed"] == 7
    assert set(meta["trialog"]) >= {"trialog", "trialog-file", "trialog-tensorboard"}
    assert meta["packages"]["numpy"] == np.__version__
