"""Registered experiments: register 4 trials, run 1 later, the rest stay registered (trialog sweep --register / run)."""

from __future__ import annotations

import json

from trialog_sweep.sweep import read_sweep

from trialog.cli import main
from trialog.run.folder import Run, find_runs

TOY = """
from trialog import Experiment


class Toy(Experiment):
    def train(self, epoch):
        self.add_result(self.config["lr"] * (epoch + 1), "error", tag="val")
"""


def _config(folder):
    folder.mkdir(parents=True)
    (folder / "regexp.py").write_text(TOY)
    config = {"name": "reg", "n_epochs": 2, "lr": 0.1, "seed": 1}
    config["sweep"] = {
        "experiment": "regexp:Toy",
        "metric": "error",
        "mode": "min",
        "grid": {"lr": [1, 2, 3, 4]},
    }
    path = folder / "sweep.json"
    path.write_text(json.dumps(config))
    return path


def test_register_four_run_one_later(tmp_path, capsys):
    path = _config(tmp_path / "cfg")
    assert main(["sweep", str(path), "--register", "--base-dir", str(tmp_path / "o")]) == 0
    (folder,) = (tmp_path / "o").iterdir()
    data = read_sweep(folder)
    assert [t["status"] for t in data["trials"]] == ["registered"] * 4
    runs = find_runs(folder)
    assert len(runs) == 4 and {Run(r).status for r in runs} == {"registered"}
    assert Run(folder / data["trials"][2]["run"]).config["lr"] == 3
    assert sorted(Run(r).name for r in runs) == [f"reg_t000{i}" for i in range(4)]

    assert main(["sweep", "run", str(folder), "--only", "t0002"]) == 0
    data = read_sweep(folder)
    assert [t["status"] for t in data["trials"]] == ["registered", "registered", "finished", "registered"]
    assert len(find_runs(folder)) == 4  # the trial ran in its registered folder
    ran = Run(folder / data["trials"][2]["run"])
    meta = ran.meta
    assert ran.status == "finished" and ran.summary["error"]["last"] == 6
    assert meta["registered"] and meta["start"] and meta["resumes"] == [] and meta["resumed_from"] is None
    capsys.readouterr()
    assert main(["sweep", "show", str(folder)]) == 0
    table = capsys.readouterr().out
    assert table.count("finished") == 1 and table.count("registered") == 3

    # a glob and a list: the next two; --only that names nothing registered is an error naming them
    assert main(["sweep", "run", str(folder), "--only", "*_t000[01]"]) == 0
    assert [t["status"] for t in read_sweep(folder)["trials"]] == [
        "finished",
        "finished",
        "finished",
        "registered",
    ]
    capsys.readouterr()
    assert main(["sweep", "run", str(folder), "--only", "t0000"]) != 0
    assert "--only 't0000' chooses no registered trial; registered: t0003" in capsys.readouterr().err
