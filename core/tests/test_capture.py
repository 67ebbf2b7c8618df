"""The console and the crash are kept in the run folder (log/stdout.txt, log/stderr.txt, log/error.txt, run.json)."""

from __future__ import annotations

import json
import sys

import pytest

import trialog

SECRET = "xoxb-1234567890-abcdefghij"


class PrintAndRaise(trialog.Experiment):
    def train(self, epoch):
        print(f"epoch {epoch} token {SECRET}")
        print("partial", end="")
        print(" line", file=sys.stderr)
        if epoch == 1:
            raise ValueError("boom")


def test_print_and_raise_leaves_console_and_traceback(tmp_path, capsys):
    # quiet: only what the experiment itself prints (trialog's console lines go to stderr.txt too)
    exp = PrintAndRaise(name="p", n_epochs=3, base_dir=tmp_path, loggers={}, quiet=True)
    with pytest.raises(ValueError, match="boom"):
        exp.run()
    seen = capsys.readouterr()
    assert f"epoch 0 token {SECRET}" in seen.out and "partialepoch 1" in seen.out  # the terminal sees all
    assert seen.err == " line\n line\n"
    log = exp.run_dir / "log"
    stdout = (log / "stdout.txt").read_text()
    assert stdout == "epoch 0 token ***redacted***\npartialepoch 1 token ***redacted***\npartial"
    assert (log / "stderr.txt").read_text() == " line\n line\n"
    error = (log / "error.txt").read_text()
    assert error.startswith("Traceback (most recent call last):") and "in train" in error
    assert error.rstrip().endswith("ValueError: boom")
    meta = json.loads((exp.run_dir / "run.json").read_text())
    assert meta["error"] == "ValueError: boom" and meta["status"] == "error"
    assert meta["traceback"].endswith("ValueError: boom") and "in train" in meta["traceback"]
    assert not hasattr(sys.stdout, "_pending")  # the stream is given back
    print("after the run")
    assert "after the run" not in (log / "stdout.txt").read_text()


def test_capture_output_false_keeps_nothing(tmp_path):
    exp = PrintAndRaise(name="p", n_epochs=3, base_dir=tmp_path, loggers={}, capture_output=False)
    with pytest.raises(ValueError):
        exp.run()
    log = exp.run_dir / "log"
    assert not (log / "stdout.txt").exists() and not (log / "error.txt").exists()
    assert "traceback" not in json.loads((exp.run_dir / "run.json").read_text())


def test_a_finished_run_keeps_its_console(tmp_path):
    class Prints(trialog.Experiment):
        def train(self, epoch):
            print("e", epoch)

    exp = Prints(name="p", n_epochs=2, base_dir=tmp_path, loggers={}, quiet=True)
    exp.run()
    assert (exp.run_dir / "log" / "stdout.txt").read_text() == "e 0\ne 1\n"
    assert not (exp.run_dir / "log" / "error.txt").exists()
    assert not (exp.run_dir / "log" / "stderr.txt").exists()  # nothing printed there: no file


def test_an_experiment_never_closed_gives_the_streams_back_when_collected(tmp_path):
    import gc

    before = sys.stdout
    exp = trialog.Experiment(name="g", base_dir=tmp_path, loggers={})
    exp.begin_run()
    assert sys.stdout is not before
    print("while running")
    log = exp.run_dir / "log" / "stdout.txt"
    del exp
    gc.collect()
    assert sys.stdout is before and log.read_text() == "while running\n"
