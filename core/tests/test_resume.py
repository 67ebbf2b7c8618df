"""The key guarantee: a run killed with SIGKILL (mid-epoch or mid-checkpoint-write) resumes to the exact results
of a run that was never interrupted; plus resume edge cases in-process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import trialog
from trialog.checkpoint.manager import CheckpointManager
from trialog.errors import RunFolderError
from trialog.run.folder import Run, find_runs

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


SCRIPT = Path(__file__).with_name("resume_script.py")
N_EPOCHS = 5


def _run(base: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(base), str(N_EPOCHS), *args],
        capture_output=True,
        text=True,
        timeout=HANG,
        cwd=base.parent,
    )


def _records(run_dir: Path) -> list[tuple]:
    # Everything but the wall-clock time must match exactly (values compared as floats, not approximately).
    return [(r["name"], r["tag"], r["value"], r["counter"], r["epoch"]) for r in Run(run_dir).records]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> list[tuple]:
    base = tmp_path_factory.mktemp("reference") / "runs"
    done = _run(base, "full")
    assert done.returncode == 0, done.stderr
    (run_dir,) = find_runs(base)
    records = _records(run_dir)
    assert len(records) == N_EPOCHS * 5
    return records


def _killed_then_resumed(base: Path, mode: str, kill_epoch: int, *extra: str) -> Path:
    killed = _run(base, mode, str(kill_epoch), *extra)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (run_dir,) = find_runs(base)
    run = Run(run_dir)
    assert run.status == "killed"  # run.json still says "running", but the process is gone
    assert run.meta["stored_status"] == "running"
    return run_dir


@pytest.mark.parametrize("async_save", [False, True], ids=["sync", "async"])
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(tmp_path, reference, async_save):
    base = tmp_path / "runs"
    extra = ("async",) if async_save else ()
    run_dir = _killed_then_resumed(base, "kill-epoch", 3, *extra)
    # Everything added before the kill is on disk and parses: 3 epochs + 3 losses of the 4th.
    records = _records(run_dir)
    assert records == reference[: 3 * 5 + 3]
    # The checkpoint of epoch 2 is the latest one and loads (async: its write may still have been in flight,
    # then epoch 1's is the latest complete one).
    state, entry = CheckpointManager(run_dir / "checkpoint").load("last")
    assert entry.epoch == state["trialog"]["epoch"]
    assert entry.epoch in ((1, 2) if async_save else (2,))

    resumed = _run(base, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert find_runs(base) == [run_dir]  # same folder
    assert _records(run_dir) == reference
    run = Run(run_dir)
    assert run.status == "finished" and run.meta["epoch"] == N_EPOCHS - 1
    assert run.meta["resumed_from"] == str(run_dir.resolve()) and len(run.meta["resumes"]) == 1
    assert run.summary["loss"]["count"] == N_EPOCHS * 4


@pytest.mark.parametrize("async_save", [False, True], ids=["sync", "async"])
def test_sigkill_mid_checkpoint_write_keeps_previous_checkpoint(tmp_path, reference, async_save):
    base = tmp_path / "runs"
    extra = ("async",) if async_save else ()
    run_dir = _killed_then_resumed(base, "kill-checkpoint", 2, *extra)
    # The epoch-2 checkpoint never got its final name; the manifest still lists epoch 1, which loads.
    manager = CheckpointManager(run_dir / "checkpoint")
    assert [e.epoch for e in manager.entries] == [0, 1]
    state, entry = manager.load("last")
    assert entry.epoch == 1 and state["user"]["note"] == "toy"
    assert any(p.name.startswith(".trialog-tmp-") for p in (run_dir / "checkpoint").iterdir())
    records = _records(run_dir)
    if async_save:  # training went on while the background write ran into the kill
        assert len(records) >= 3 * 5 and records == reference[: len(records)]
    else:
        assert records == reference[: 3 * 5]

    resumed = _run(base, "resume")
    assert resumed.returncode == 0, resumed.stderr
    assert _records(run_dir) == reference
    assert not any(p.name.startswith(".trialog-tmp-") for p in (run_dir / "checkpoint").iterdir())


# ----------------------------------------------------------------------------------------- in-process


class Counting(trialog.Experiment):
    def setup(self):
        self.total = np.zeros(2)

    def train(self, epoch):
        self.total = self.total + np.random.rand(2)
        self.add_result(float(self.total.sum()), "score")

    def get_state(self):
        return {"total": self.total}

    def set_state(self, state):
        self.total = np.array(state["total"])


def test_callers_n_epochs_wins_and_new_folder_links_the_old(tmp_path):
    first = Counting(n_epochs=2, seed=5, base_dir=tmp_path, loggers={}, save_sources=False)
    first.run()
    first.close()
    longer = Counting(
        n_epochs=4,
        base_dir=tmp_path,
        loggers={},
        resume=first.run_dir,
        resume_new_folder=True,
        save_sources=False,
    )
    longer.run()
    longer.close()
    assert longer.run_dir != first.run_dir
    assert longer.seed == 5  # from the resumed run's run.json
    meta = json.loads((longer.run_dir / "run.json").read_text())
    assert meta["resumed_from"] == str(first.run_dir.resolve())
    np.testing.assert_array_equal(Run(longer.run_dir).results["score"]["epoch"], [0, 1, 2, 3])
    np.testing.assert_array_equal(Run(first.run_dir).results["score"]["epoch"], [0, 1])  # old run untouched

    straight = Counting(n_epochs=4, seed=5, base_dir=tmp_path / "straight", loggers={}, save_sources=False)
    straight.run()
    straight.close()
    assert (
        Run(longer.run_dir).results["score"]["value"].tolist()
        == Run(straight.run_dir).results["score"]["value"].tolist()
    )


def test_resume_from_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "not-a-run").mkdir()
    with pytest.raises(RunFolderError, match=r"not-a-run.*not a trialog run folder"):
        Counting(base_dir=tmp_path, resume=tmp_path / "not-a-run", loggers={})
    with pytest.raises(RunFolderError, match="does not exist"):
        Counting(base_dir=tmp_path, resume=tmp_path / "missing", loggers={})
    (tmp_path / "empty-base").mkdir()
    with pytest.raises(RunFolderError, match=r"no trialog run folder.*empty-base"):
        Counting(base_dir=tmp_path / "empty-base", resume="last", loggers={})


def test_resume_of_a_live_run_is_refused(tmp_path):
    live = Counting(n_epochs=1, seed=1, base_dir=tmp_path, loggers={}, save_sources=False)
    with pytest.raises(RunFolderError, match=r"in use by pid \d+ on .*run\.lock"):
        Counting(base_dir=tmp_path, resume=live.run_dir, loggers={})
    live.close()


def test_resume_before_any_checkpoint_starts_over(tmp_path):
    class Failing(Counting):
        def train(self, epoch):
            super().train(epoch)
            if epoch == 0 and not self._resume_from:
                raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Failing(n_epochs=3, seed=9, base_dir=tmp_path / "a", loggers={}, save_sources=False).run()
    (run_dir,) = find_runs(tmp_path / "a")
    assert Run(run_dir).status == "error"
    resumed = Failing(n_epochs=3, base_dir=tmp_path / "a", loggers={}, resume="last", save_sources=False)
    resumed.run()
    resumed.close()
    straight = Counting(n_epochs=3, seed=9, base_dir=tmp_path / "b", loggers={}, save_sources=False)
    straight.run()
    straight.close()
    assert _records(run_dir) == _records(straight.run_dir)


def test_a_finished_run_is_resumed_in_the_same_process_even_when_finishing_failed(tmp_path):
    """The run folder lock ends with the run: after run() returns, or raises while finishing (a subclass's
    end step), a second Experiment in this process resumes the folder; the failed one is recorded as an error."""
    first = Counting(n_epochs=1, seed=1, base_dir=tmp_path, loggers={}, save_sources=False)
    first.run()
    again = Counting(n_epochs=2, base_dir=tmp_path, resume=first.run_dir, loggers={}, save_sources=False)
    again.run()

    class FailsWhileFinishing(Counting):
        def finish_run(self, status=None):
            raise OSError("end step failed")

    failing = FailsWhileFinishing(n_epochs=1, base_dir=tmp_path, loggers={}, save_sources=False)
    with pytest.raises(OSError, match="end step failed"):
        failing.run()
    assert json.loads((failing.run_dir / "run.json").read_text())["status"] == "error"
    resumed = Counting(n_epochs=1, base_dir=tmp_path, resume=failing.run_dir, loggers={}, save_sources=False)
    resumed.close()
