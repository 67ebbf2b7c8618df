"""Every result at the best step of a monitored metric: ``Experiment(monitor=..., mode=...)`` -> ``at_best/<name>``."""

from __future__ import annotations

import json

import pytest

import trialog
from trialog.cli import main
from trialog.errors import ConfigError

# per epoch: train loss (before), val loss (the monitor), test acc (after it)
HISTORY = [(0.9, 3.0, 0.1), (0.8, 1.0, 0.9), (0.7, 2.0, 0.5), (0.6, 0.5, 0.7), (0.5, 0.7, 0.99)]


class Scripted(trialog.Experiment):
    def train(self, epoch):
        self.add_result(HISTORY[epoch][0], "train/loss")

    def validate(self, epoch):
        self.add_result(HISTORY[epoch][1], "val/loss", counter=10 * epoch)
        self.add_result(HISTORY[epoch][2], "test/acc")


def _summary(exp):
    return json.loads((exp.run_dir / "result" / "results.json").read_text())


def test_values_from_the_min_val_loss_epoch(tmp_path, capsys):
    exp = Scripted(name="s", n_epochs=3, base_dir=tmp_path, loggers={}, monitor="val/loss")
    exp.run()
    exp.close()
    summary = _summary(exp)
    assert summary["at_best/test/acc"] == {"last": 0.9, "min": 0.9, "max": 0.9, "epoch": 1, "counter": None}
    assert summary["at_best/train/loss"]["last"] == 0.8 and summary["at_best/val/loss"]["counter"] == 10
    assert summary["test/acc"]["last"] == 0.5  # the plain summary is unchanged


def test_runs_ls_reads_at_best_values(tmp_path, capsys):
    """runs ls -m and the filter language read them like any result (trialog-runs: the integration session)."""
    pytest.importorskip("trialog_runs")
    exp = Scripted(name="s", n_epochs=3, base_dir=tmp_path, loggers={}, monitor="val/loss")
    exp.run()
    exp.close()
    assert main(["runs", "ls", str(tmp_path), "--json", "-m", "at_best/test/acc"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["metrics"]["at_best/test/acc"]["last"] == 0.9
    assert main(["runs", "ls", str(tmp_path), "--json", "--where", "at_best/test/acc.last > 0.8"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_after_a_resume_and_with_max_mode(tmp_path):
    first = Scripted(name="s", n_epochs=2, base_dir=tmp_path, loggers={}, monitor="val/loss")
    first.run()
    first.close()
    assert _summary(first)["at_best/test/acc"]["last"] == 0.9
    resumed = Scripted(n_epochs=5, base_dir=tmp_path, loggers={}, resume=first.run_dir, monitor="val/loss")
    resumed.run()
    resumed.close()
    summary = _summary(resumed)
    assert summary["at_best/test/acc"]["last"] == 0.7 and summary["at_best/val/loss"]["epoch"] == 3
    by_acc = Scripted(name="m", n_epochs=5, base_dir=tmp_path / "m", loggers={}, monitor="test/acc")
    by_acc.run()  # "acc" is higher-is-better: the mode follows the name
    by_acc.close()
    assert _summary(by_acc)["at_best/val/loss"]["last"] == 0.7
    forced = Scripted(
        name="f", n_epochs=5, base_dir=tmp_path / "f", loggers={}, monitor="test/acc", mode="min"
    )
    forced.run()
    forced.close()
    assert _summary(forced)["at_best/val/loss"]["last"] == 3.0


def test_a_killed_run_is_read_from_its_records(tmp_path):
    exp = Scripted(name="k", n_epochs=3, base_dir=tmp_path, loggers={}, monitor="val/loss")
    exp.run()
    exp.close()
    (exp.run_dir / "result" / "results.json").unlink()
    meta = json.loads((exp.run_dir / "run.json").read_text())
    assert meta["at_best"] == {"monitor": "val/loss", "mode": "min"}
    meta["status"] = "running"
    meta["pid"] = 2**22 + 12345  # no such process: the run reads as killed
    (exp.run_dir / "run.json").write_text(json.dumps(meta))
    assert trialog.Run(exp.run_dir).summary["at_best/test/acc"]["last"] == 0.9


def test_the_checkpoint_monitor_is_the_default(tmp_path):
    exp = Scripted(name="c", n_epochs=3, base_dir=tmp_path, loggers={}, checkpoint={"monitor": "val/loss"})
    exp.run()
    exp.close()
    assert _summary(exp)["at_best/test/acc"]["last"] == 0.9


def test_a_wrong_mode_is_named_before_the_folder_exists(tmp_path):
    with pytest.raises(ConfigError, match="mode for monitor 'val/loss' must be 'min' or 'max', not 'lowest'"):
        Scripted(name="x", base_dir=tmp_path, loggers={}, monitor="val/loss", mode="lowest")
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
