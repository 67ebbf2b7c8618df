"""The one lifecycle driver (trialog.experiment.lifecycle) and the restore context handed to ``set_state``."""

from __future__ import annotations

import numpy as np
import pytest

import trialog
from trialog.api import RestoreContext, drive_lifecycle, is_simple
from trialog.run.folder import read_meta

OPTS = {"loggers": {}, "save_sources": False}


class Recording(trialog.Experiment):
    """Every stage method appends its name (and epoch) to ``self.calls``."""

    fail_in: int | None = None
    interrupt_in: int | None = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._calls: list[str] = []

    def begin_run(self):
        self._calls.append("begin_run")
        super().begin_run()

    def restore_resumed(self, full=True):
        self._calls.append(f"restore({'full' if full else 'state'})")
        return super().restore_resumed(full)

    def begin_epoch(self, epoch):
        self._calls.append(f"begin_epoch {epoch}")
        super().begin_epoch(epoch)

    def end_epoch(self, epoch):
        self._calls.append(f"end_epoch {epoch}")
        super().end_epoch(epoch)

    def wait_checkpoints(self):
        self._calls.append("wait")
        super().wait_checkpoints()

    def finish_run(self, status=None):
        self._calls.append(f"finish_run {status}")
        super().finish_run(status)

    def fail_run(self, exc, status="error"):
        self._calls.append(f"fail_run {status}")
        super().fail_run(exc, status)

    def setup(self):
        self._calls.append("setup")

    def prepare(self):
        self._calls.append("prepare")

    def train(self, epoch):
        if epoch == self.fail_in:
            raise RuntimeError("boom")
        if epoch == self.interrupt_in:
            raise KeyboardInterrupt
        self._calls.append(f"train {epoch}")

    def validate(self, epoch):
        self._calls.append(f"validate {epoch}")

    def end(self):
        self._calls.append("end")

    def test(self):
        self._calls.append("test")

    def end_test(self):
        self._calls.append("end_test")


def _stages(calls):
    return [c for c in calls if c != "wait"]


def test_run_and_run_test_follow_the_drivers_stage_order(tmp_path):
    exp = Recording(n_epochs=2, seed=0, base_dir=tmp_path, **OPTS)
    exp.run()
    assert _stages(exp._calls) == [
        "begin_run", "setup", "prepare", "restore(full)",
        "begin_epoch 0", "train 0", "validate 0", "end_epoch 0",
        "begin_epoch 1", "train 1", "validate 1", "end_epoch 1",
        "end", "finish_run None",
    ]  # fmt: skip
    exp._calls.clear()
    exp.run_test()
    assert _stages(exp._calls) == [
        "begin_run",
        "setup",
        "prepare",
        "restore(state)",
        "test",
        "end_test",
        "finish_run finished",
    ]
    exp.close()


@pytest.mark.parametrize(("attribute", "status"), [("fail_in", "error"), ("interrupt_in", "killed")])
def test_an_exception_fails_the_run_with_its_status(tmp_path, attribute, status):
    exp = Recording(n_epochs=3, seed=0, base_dir=tmp_path, **OPTS)
    setattr(exp, attribute, 1)
    with pytest.raises((RuntimeError, KeyboardInterrupt)):
        exp.run()
    exp.close()
    assert _stages(exp._calls)[-2:] == ["begin_epoch 1", f"fail_run {status}"]
    assert read_meta(exp.run_dir)["status"] == status


def test_a_loop_of_your_own_through_the_driver(tmp_path):
    """What trialog-torch's Trainer.fit does: its own epoch work and stop rule, the experiment's stages."""
    exp = Recording(n_epochs=5, seed=0, base_dir=tmp_path, **OPTS)
    seen: list[int] = []

    def epoch(e):
        seen.append(e)
        exp.add_result(float(e), "e")

    drive_lifecycle(exp, start=lambda first: first + 1, epoch=epoch, stop=lambda: len(seen) == 2)
    exp.close()
    assert seen == [1, 2]
    assert read_meta(exp.run_dir)["status"] == "finished"
    assert "setup" not in exp._calls and exp.start_epoch == exp.n_epochs

    plain: list[int] = []  # no experiment (a DDP rank other than 0): only the loop runs
    drive_lifecycle(None, epoch=plain.append, n_epochs=3)
    assert plain == [0, 1, 2]


class WithContext(trialog.Experiment):
    not_checkpointed = ("contexts",)

    def setup(self):
        self.w = 0.0

    def train(self, epoch):
        self.w += 1.0

    def set_state(self, state, context):
        self.contexts = [*getattr(self, "contexts", []), context]
        assert self.restoring is context


class WithoutContext(WithContext):
    def set_state(self, state):  # a 0.1-style override: still called, reads self.restoring
        self.contexts = [*getattr(self, "contexts", []), self.restoring]


@pytest.mark.parametrize("cls", [WithContext, WithoutContext])
def test_set_state_receives_the_restore_context(tmp_path, cls):
    exp = cls(n_epochs=2, seed=0, base_dir=tmp_path, **OPTS)
    exp.run()
    exp.close()
    resumed = cls(n_epochs=3, base_dir=tmp_path, resume=exp.run_dir, **OPTS)
    resumed.run()
    resumed.restore_state(resumed.checkpoint_state(), kind="load", options={"why": "test"})
    resumed.close()
    kinds = [(c.kind, dict(c.options)) for c in resumed.contexts]
    assert kinds == [("resume", {}), ("load", {"why": "test"})]
    assert all(isinstance(c, RestoreContext) for c in resumed.contexts) and resumed.w == 3.0
    assert resumed.restoring is None


def test_is_simple_counts_sets_only_when_asked():
    assert not is_simple({1, 2}) and is_simple({1, 2}, sets=True)
    assert is_simple({"a": [{np.float32(1)}]}, sets=True)
    assert not is_simple(frozenset({1}), sets=True)  # torch's safe loader (weights_only) refuses frozensets
    assert not is_simple({object()}, sets=True)
