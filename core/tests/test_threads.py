"""A run's compute threads (trialog.run.threads): TRIALOG_THREADS given to the process, recorded in run.json, kept on resume."""

from __future__ import annotations

import json
import os
import sys

import pytest

import trialog
from trialog.api import threads


class Short(trialog.Experiment):
    def train(self, epoch):
        self.add_result(float(epoch), "loss", tag="train")


@pytest.fixture(autouse=True)
def _torch_threads_restored():
    """apply_threads also sets torch's thread count when torch is imported: give it back after the test."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    yield
    if torch is not None:
        torch.set_num_threads(before)


def _run(tmp_path, **kwargs):
    exp = Short(name="t", n_epochs=1, base_dir=tmp_path / "runs", loggers={}, save_sources=False, **kwargs)
    exp.run()
    exp.close()
    return exp.run_dir


def test_the_given_threads_are_applied_recorded_and_kept_by_a_resumed_run(tmp_path, monkeypatch):
    for var in threads.THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    run_dir = _run(tmp_path)
    assert json.loads((run_dir / "run.json").read_text())["threads"] == 3
    assert os.environ["OMP_NUM_THREADS"] == "3"

    monkeypatch.delenv(threads.THREADS_ENV)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.threads_from_env() is None
    _run(tmp_path, resume=run_dir)  # the resumed run computes with the threads it started with
    assert json.loads((run_dir / "run.json").read_text())["threads"] == 3
    assert os.environ["OMP_NUM_THREADS"] == "3"


def test_a_run_without_threads_records_none_and_leaves_the_environment(tmp_path, monkeypatch):
    for var in threads.THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    run_dir = _run(tmp_path)
    assert "threads" not in json.loads((run_dir / "run.json").read_text())
    assert not any(var in os.environ for var in threads.THREAD_VARS)
