"""The README's promise for its own example: killed with SIGKILL at random points, resumed, same results."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import trialog
from trialog.run.folder import Run, find_runs

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


SCRIPT = Path(__file__).with_name("readme_example.py")


def _run(base: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(base), *args], capture_output=True, text=True, timeout=HANG
    )


def _records(run_dir: Path) -> list[tuple]:
    return [(r["name"], r["tag"], r["value"], r["counter"], r["epoch"]) for r in Run(run_dir).records]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> list[tuple]:
    base = tmp_path_factory.mktemp("reference")
    done = _run(base, "full")
    assert done.returncode == 0, done.stderr
    (run_dir,) = find_runs(base)
    records = _records(run_dir)
    errors = [r[2] for r in records if r[0] == "error"]
    assert len(records) == 5 * 101 and errors == sorted(errors, reverse=True) and errors[-1] < 0.001
    return records


# Random kill points (drawn once, reproducibly): mid-epoch, the first step of an epoch, the last epoch.
_DRAW = random.Random(20261201)
KILL_POINTS = sorted({(_DRAW.randrange(1, 5), _DRAW.randrange(100)) for _ in range(4)} | {(1, 0), (4, 99)})


@pytest.mark.parametrize("epoch,step", KILL_POINTS)
def test_readme_example_killed_at_a_random_point_resumes_to_the_same_results(
    tmp_path, reference, epoch, step
):
    killed = _run(tmp_path, "kill", str(epoch), str(step))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = _run(tmp_path, "resume")
    assert resumed.returncode == 0, resumed.stderr
    (run_dir,) = find_runs(tmp_path)
    assert Run(run_dir).status == "finished"
    assert _records(run_dir) == reference


class Walker(trialog.Experiment):
    def setup(self):
        self.w = np.zeros(2)
        self.history = []
        self.count = 0
        self.tags = {"best": None}
        self.fh = open(__file__)  # not storable: named in one warning

    def train(self, epoch):
        self.w = self.w + np.random.rand(2)
        self.count += 1
        self.history.append(float(self.w.sum()))
        self.tags["best"] = max(self.history)
        self.add_result(float(self.w.sum()), "w", tag="train")

    def end(self):
        self.fh.close()


def test_simple_attributes_are_checkpointed_and_an_unstorable_one_is_named_once(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exp = Walker(n_epochs=3, seed=1, base_dir=tmp_path, loggers={}, save_sources=False)
        exp.run()
    exp.close()
    messages = [str(w.message) for w in caught if issubclass(w.category, trialog.TrialogWarning)]
    assert len(messages) == 1 and "fh (TextIOWrapper)" in messages[0] and "not_checkpointed" in messages[0]
    state, _ = exp.checkpoints.load("last")
    assert set(state["simple"]) == {"w", "history", "count", "tags"}
    assert state["simple"]["count"] == 3 and state["simple"]["tags"] == {"best": max(exp.history)}
    np.testing.assert_array_equal(state["simple"]["w"], exp.w)
    # configuration (what the constructor set) is never state
    assert "name" not in state["simple"] and "n_epochs" not in state["simple"]


def test_not_checkpointed_silences_the_warning(tmp_path):
    class Quiet(Walker):
        not_checkpointed = ("fh",)

    with warnings.catch_warnings():
        warnings.simplefilter("error", trialog.TrialogWarning)
        exp = Quiet(n_epochs=1, seed=1, base_dir=tmp_path, loggers={}, save_sources=False)
        exp.run()
    exp.close()
