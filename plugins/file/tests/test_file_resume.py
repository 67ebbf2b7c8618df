"""The file logger's side of the resume contract (issue 18) and the data each curve PNG was drawn from."""

from __future__ import annotations

import csv

import pytest
from trialog_file import MAX_CURVE_POINTS, FileLogger, plotted_series

from trialog.errors import TrialogError


def _rows(folder):
    with open(folder / "log" / "values.csv", newline="") as handle:
        return [(r["name"], r["tag"], r["counter"], r["value"]) for r in csv.DictReader(handle)]


def test_a_curve_png_carries_the_points_it_was_drawn_from(tmp_path):
    logger = FileLogger(folder=tmp_path, plot_every_s=None)
    for i in range(5):
        logger.show_value(i * 0.5, "loss", None, "train")
        logger.show_value(i * 0.25, "loss", i * 10, "val")
    logger.close()
    assert plotted_series(tmp_path / "plot" / "loss.png") == {
        "train": ([1, 2, 3, 4, 5], [0.0, 0.5, 1.0, 1.5, 2.0]),
        "val": ([0, 10, 20, 30, 40], [0.0, 0.25, 0.5, 0.75, 1.0]),
    }
    (tmp_path / "other.png").write_bytes((tmp_path / "plot" / "loss.png").read_bytes()[:40])
    with pytest.raises(TrialogError, match=r"other\.png"):
        plotted_series(tmp_path / "other.png")


def test_a_resume_cuts_the_csv_back_and_redraws_the_whole_run(tmp_path):
    first = FileLogger(folder=tmp_path, plot_every_s=None)
    for i in range(4):
        first.show_value(float(i), "loss", None, None)
    first.on_checkpoint(0)
    for i in range(4, 7):
        first.show_value(float(i), "loss", None, None)  # past the checkpoint: discarded by the resume
    first.flush()  # on disk (CSV and PNG) when the process is "killed"
    assert len(_rows(tmp_path)) == 7

    second = FileLogger(folder=tmp_path, plot_every_s=None)
    second.on_resume(0, None, 0, None)
    assert _rows(tmp_path) == [("loss", "", str(i + 1), repr(float(i))) for i in range(4)]
    assert plotted_series(tmp_path / "plot" / "loss.png") == {"loss": ([1, 2, 3, 4], [0.0, 1.0, 2.0, 3.0])}
    for i in range(4, 6):
        second.show_value(10.0 + i, "loss", None, None)  # a direct call's counter continues too
    second.close()
    expected = [1, 2, 3, 4, 5, 6], [0.0, 1.0, 2.0, 3.0, 14.0, 15.0]
    assert _rows(tmp_path) == [("loss", "", str(c), repr(v)) for c, v in zip(*expected)]
    assert plotted_series(tmp_path / "plot" / "loss.png") == {"loss": expected}


def test_the_refilled_curve_keeps_the_bounded_window(tmp_path):
    n = MAX_CURVE_POINTS * 2 + 3
    whole = FileLogger(folder=tmp_path / "whole", plot_every_s=None)
    first = FileLogger(folder=tmp_path / "killed", plot_every_s=None)
    for i in range(n):
        whole.show_value(float(i), "loss", None, None)
        first.show_value(float(i), "loss", None, None)
    first.on_checkpoint(3)
    first.flush()
    whole.close()
    second = FileLogger(folder=tmp_path / "killed", plot_every_s=None)
    second.on_resume(3, None, 0, None)
    second.close()
    drawn = plotted_series(tmp_path / "killed" / "plot" / "loss.png")
    assert drawn == plotted_series(tmp_path / "whole" / "plot" / "loss.png")
    assert len(drawn["loss"][0]) <= MAX_CURVE_POINTS


def test_without_a_csv_the_curves_are_refilled_from_the_results_log(tmp_path):
    import trialog

    class Toy(trialog.Experiment):
        def train(self, epoch):
            for i in range(3):
                self.add_result(epoch * 3.0 + i, "loss", tag="train")

        def validate(self, epoch):
            pass

    loggers = {"file": {"type": "file", "csv": "off", "plot_every_s": None}}
    first = Toy(name="t", n_epochs=2, base_dir=tmp_path, loggers=loggers, save_sources=False)
    first.run()
    first.close()
    resumed = Toy(n_epochs=3, base_dir=tmp_path, resume=first.run_dir, loggers=loggers, save_sources=False)
    resumed.run()
    resumed.close()
    counters, values = plotted_series(first.run_dir / "plot" / "loss.png")["train"]
    assert counters == list(range(1, 10)) and values == [float(v) for v in range(9)]
