"""The console plugin: a run prints its folder, a line per epoch and its last/best values; quiet=True silences it."""

from __future__ import annotations

import pytest

from trialog import Experiment


class Toy(Experiment):
    def setup(self) -> None:
        self.w = 0.0

    def train(self, epoch: int) -> None:
        for _ in range(5):
            self.w += 0.5
            self.add_result(10.0 - self.w, "loss")

    def validate(self, epoch: int) -> None:
        self.add_result(self.w / 10, "accuracy")


def test_a_run_prints_its_folder_each_epoch_and_the_best_values(tmp_path, capsys):
    exp = Toy(name="toy", n_epochs=2, base_dir=tmp_path, loggers={})
    exp.run()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"trialog: run 'toy' -> {exp.run_dir}"
    assert lines[1] == "trialog: epoch 1/2  accuracy 0.25  loss 7.5"
    assert lines[2] == "trialog: epoch 2/2  accuracy 0.5  loss 5"
    assert lines[3].startswith("trialog: run 'toy' finished in ") and lines[3].endswith(f" -> {exp.run_dir}")
    assert lines[4].split() == ["accuracy", "last", "0.5", "best", "0.5", "(max)"]
    assert lines[5].split() == ["loss", "last", "5", "best", "5", "(min)"]
    assert len(lines) == 6


def test_an_epoch_line_shows_only_what_that_epoch_added(tmp_path, capsys):
    class Sometimes(Experiment):
        def train(self, epoch: int) -> None:
            self.add_result(float(epoch), "loss")
            if epoch == 0:
                self.add_result(1.0, "lr")

    Sometimes(name="s", n_epochs=2, base_dir=tmp_path, loggers={}).run()
    lines = capsys.readouterr().err.splitlines()
    assert lines[1] == "trialog: epoch 1/2  loss 0  lr 1"
    assert lines[2] == "trialog: epoch 2/2  loss 1"


def test_quiet_prints_nothing(tmp_path, capsys):
    Toy(name="toy", n_epochs=2, base_dir=tmp_path, loggers={}, quiet=True).run()
    assert capsys.readouterr().err == ""


def test_a_failed_run_says_what_failed_and_where(tmp_path, capsys):
    class Boom(Experiment):
        def train(self, epoch: int) -> None:
            raise ValueError("boom")

    exp = Boom(name="boom", n_epochs=1, base_dir=tmp_path, loggers={})
    with pytest.raises(ValueError):
        exp.run()
    out = capsys.readouterr().err.splitlines()
    assert out[-1] == f"trialog: run 'boom' failed: ValueError: boom -> {exp.run_dir}"


def test_a_resumed_run_says_where_it_continues(tmp_path, capsys):
    first = Toy(name="toy", n_epochs=1, base_dir=tmp_path, loggers={})
    first.run()
    first.close()
    capsys.readouterr()
    again = Toy(name="toy", n_epochs=2, base_dir=tmp_path, loggers={}, resume=first.run_dir)
    again.run()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"trialog: run 'toy' resumed -> {first.run_dir}"
    assert lines[1] == "trialog: epoch 2/2  accuracy 0.5  loss 5"


def test_the_console_lines_are_kept_with_the_run(tmp_path, capsys):
    exp = Toy(name="toy", n_epochs=1, base_dir=tmp_path, loggers={})
    exp.run()
    seen = capsys.readouterr().err
    kept = (exp.run_dir / "log" / "stderr.txt").read_text()
    assert (
        kept.splitlines()[:2]
        == seen.splitlines()[:2]
        == [
            f"trialog: run 'toy' -> {exp.run_dir}",
            "trialog: epoch 1/1  accuracy 0.25  loss 7.5",
        ]
    )
