"""``trialog runs ls|show|diff`` on trialog runs and on a trixi run folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from trialog_runs.cli import config_difference, format_duration, parse_metric

import trialog
from trialog.cli import main
from trialog.run.folder import parse_time


class Scripted(trialog.Experiment):
    """Adds the accuracies given in the config, one per epoch."""

    def train(self, epoch):
        self.add_result(1.0 / (epoch + 1), "loss", tag="train")

    def validate(self, epoch):
        self.add_result(self.config.accs[epoch], "acc", tag="val")


@pytest.fixture
def runs(tmp_path, trixi_run):
    base = tmp_path / "runs"
    made = []
    for name, lr, accs in (("low", 0.01, [0.5, 0.6]), ("high", 0.1, [0.7, 0.9])):
        config = {"lr": lr, "accs": accs, "model": {"depth": 3, "act": "relu"}}
        if name == "high":
            config["model"]["dropout"] = 0.5
        exp = Scripted(
            config=config, name=name, n_epochs=2, seed=1, base_dir=base, loggers={}, save_sources=False
        )
        exp.run()
        exp.close()
        made.append(exp.run_dir)
    shutil.copytree(trixi_run, base / "old_trixi_run")
    return base, made


def cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ls_table_with_metrics_sorted_best_first(runs, capsys):
    base, _ = runs
    code, out, err = cli(capsys, "runs", "ls", str(base), "--metric", "acc:max", "--sort", "acc")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == [
        "name",
        "status",
        "start",
        "duration",
        "epoch",
        "acc",
        "last",
        "acc",
        "max",
        "folder",
    ]
    rows = [line.split() for line in lines[1:]]
    assert [r[0] for r in rows] == ["high", "trixi_example", "low"]
    assert rows[0][1] == "finished" and rows[0][-3:-1] == ["0.9", "0.9"]
    assert rows[1][-3:-1] == ["0.7", "0.7"] and rows[2][-3:-1] == ["0.6", "0.6"]
    assert rows[1][-1] == "old_trixi_run"  # where each run is, relative to the folder listed


def test_ls_json(runs, capsys):
    base, made = runs
    code, out, _ = cli(capsys, "runs", "ls", str(base), "--json", "-m", "loss", "--sort", "name")
    data = json.loads(out)
    assert code == 0
    assert [r["name"] for r in data] == ["high", "low", "trixi_example"]
    high = data[0]
    assert high["path"] == str(made[1]) and high["status"] == "finished" and high["epoch"] == 1
    assert high["metrics"]["loss"] == {"last": 0.5, "best": 0.5, "mode": "min"}
    # the duration is run.json's end minus its start (recorded times, not a clock read by the test)
    meta = json.loads((made[1] / "run.json").read_text())
    recorded = (parse_time(meta["end"]) - parse_time(meta["start"])).total_seconds()
    assert high["duration"] == pytest.approx(recorded) and data[2]["kind"] == "trixi"


def test_ls_reads_a_killed_run_from_its_records(runs, capsys):
    base, made = runs
    meta = json.loads((made[0] / "run.json").read_text())
    meta.update(status="running", end=None, pid=2**22 + 7, heartbeat_interval=30)  # a pid that is not running
    (made[0] / "run.json").write_text(json.dumps(meta))
    with open(made[0] / "result" / "results.jsonl", "a") as fh:
        fh.write(
            '{"name": "acc", "tag": "val", "value": 0.95, "counter": null, "epoch": 2, "time": 1.0}\n{"na'
        )
    code, out, _ = cli(capsys, "runs", "ls", str(base), "--json", "-m", "acc:max")
    assert code == 0
    low = next(r for r in json.loads(out) if r["name"] == "low")
    assert low["status"] == "killed" and low["metrics"]["acc"]["best"] == 0.95


def test_show(runs, capsys):
    _, made = runs
    code, out, _ = cli(capsys, "runs", "show", str(made[1]))
    assert code == 0
    assert "status    finished" in out and "seed      1" in out
    assert "model.dropout = 0.5" in out and "lr = 0.1" in out
    acc_row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["val/acc"])
    assert acc_row == ["val/acc", "0.9", "0.7", "0.9", "0.8", "2"]  # one row per series (tag/name)
    assert "step-00000001.npz" in out
    code, out, _ = cli(capsys, "runs", "show", str(made[1]), "--json")
    data = json.loads(out)
    assert data["meta"]["name"] == "high" and "packages" not in data["meta"]
    assert data["config"]["model"]["dropout"] == 0.5
    assert data["summary"]["val/acc"]["max"] == 0.9
    assert [c["epoch"] for c in data["checkpoints"]] == [0, 1]


def test_show_trixi_run(runs, capsys):
    base, _ = runs
    code, out, _ = cli(capsys, "runs", "show", str(base / "old_trixi_run"), "--json")
    data = json.loads(out)
    assert code == 0 and data["kind"] == "trixi" and data["config"]["lr"] == 0.01
    assert data["summary"]["train/loss"]["count"] == 9  # trixi's label is the tag


def test_diff(runs, capsys):
    base, made = runs
    code, out, _ = cli(capsys, "runs", "diff", str(made[0]), str(made[1]))
    assert code == 0
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert rows["lr"] == ["0.01", "0.1"]
    assert rows["model.dropout"] == ["(absent)", "0.5"]
    assert "model.depth" not in rows and "model.act" not in rows
    code, out, _ = cli(
        capsys, "runs", "diff", str(made[0]), str(made[1]), str(base / "old_trixi_run"), "--json"
    )
    diff = json.loads(out)["difference"]
    assert diff["lr"] == [0.01, 0.1, 0.01] and diff["batch_size"] == [None, None, 8]
    code, out, _ = cli(capsys, "runs", "diff", str(made[0]), str(made[0]))
    assert code == 0 and "equal" in out


def test_errors_name_the_path(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code, _, err = cli(capsys, "runs", "ls", str(missing))
    assert code == 1 and str(missing) in err
    code, _, err = cli(capsys, "runs", "show", str(tmp_path))
    assert code == 1 and str(tmp_path) in err and "not a run folder" in err
    code, _, err = cli(capsys, "runs", "diff", str(tmp_path), str(missing))
    assert code == 1 and str(tmp_path) in err
    code, _, err = cli(capsys, "runs", "ls", str(tmp_path), "--sort", "bogus")
    assert code == 1 and "bogus" in err
    code, _, err = cli(capsys, "runs", "ls", str(tmp_path), "-m", "acc:best")
    assert code == 1 and "acc:best" in err


def test_helpers():
    assert parse_metric("acc:max") == ("acc", "max") and parse_metric("loss") == ("loss", "min")
    assert (
        format_duration(3725) == "1h02m" and format_duration(65) == "1m05s" and format_duration(None) == "-"
    )
    assert config_difference([{"a": {"b": 1}, "c": 2}, {"a": {"b": 2}, "c": 2}]) == {"a.b": [1, 2]}
