"""The Experiment's public extension surface (what trialog.api documents for plugins and subclasses)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import trialog
from trialog import hookimpl
from trialog.api import RestoreContext, is_simple, metric_mode
from trialog.errors import ConfigError, TrialogWarning
from trialog.experiment.state import RESTORE_KINDS
from trialog.hooks.plugins import PluginHooks, get_plugin_manager
from trialog.testing import trialog_warnings

OPTS = {"loggers": {}, "save_sources": False}


class Counter:
    """An object that is not "simple": its state goes through a registered part."""

    def __init__(self) -> None:
        self.n = 0


class WithPart(trialog.Experiment):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.counter = Counter()
        self.add_state_part(
            "counter", lambda: {"n": self.counter.n}, self._set_counter, attributes=("counter",)
        )
        self.seen: list[RestoreContext] = []

    def _set_counter(self, value):
        self.counter.n = int(value["n"])

    def train(self, epoch):
        self.counter.n += 10
        self.add_result(float(self.counter.n), "n")

    def set_state(self, state):
        assert self.restoring is not None
        self.seen.append(self.restoring)


def test_a_state_part_is_saved_and_restored_on_resume_and_load(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrialogWarning)  # the part claims "counter": no "not stored" warning
        exp = WithPart(n_epochs=3, seed=0, base_dir=tmp_path, **OPTS)
        exp.run()
    exp.close()
    state, _ = exp.checkpoints.load("last")
    assert state["parts"] == {"counter": {"n": 30}}

    resumed = WithPart(n_epochs=5, base_dir=tmp_path, resume=exp.run_dir, **OPTS)
    resumed.run()
    resumed.close()
    assert resumed.counter.n == 50
    assert [c.kind for c in resumed.seen] == ["resume"]
    assert "the checkpoint of" in resumed.seen[0].source

    resumed.counter.n = 0
    resumed.load_checkpoint(3)  # keep_last=2: steps 3 and 4 are left
    assert resumed.counter.n == 40 and resumed.seen[-1].kind == "load" and resumed.epoch == 3


def test_restore_on_limits_a_part_to_some_restores(tmp_path):
    restored = []
    exp = trialog.Experiment(n_epochs=1, seed=0, base_dir=tmp_path, **OPTS)
    exp.add_state_part("opt", lambda: 1, restored.append, restore_on=("resume",))
    exp.run()
    exp.load_checkpoint()
    assert restored == []  # not on a load
    exp.close()
    with pytest.raises(ConfigError, match="'opt' is already registered"):
        exp.add_state_part("opt", lambda: 1, restored.append)
    with pytest.raises(ConfigError, match=r"restore_on \['later'\] unknown"):
        exp.add_state_part("x", lambda: 1, restored.append, restore_on=("later",))
    assert RESTORE_KINDS == ("resume", "test", "load")


def test_a_checkpoint_without_a_registered_part_restores_with_a_warning(tmp_path):
    exp = trialog.Experiment(n_epochs=1, seed=0, base_dir=tmp_path, **OPTS)
    exp.run()
    exp.add_state_part("late", lambda: 1, lambda v: None)
    with trialog_warnings() as messages:
        exp.load_checkpoint()
    exp.close()
    assert len(messages) == 1 and "no state part 'late'" in messages[0]


def test_resume_reset_epochs_restores_state_and_starts_at_epoch_zero(tmp_path):
    class Steps(trialog.Experiment):
        def setup(self):
            self.steps = 0
            self.epochs_seen = []

        def train(self, epoch):
            self.steps += 1
            self.epochs_seen.append(epoch)

    first = Steps(n_epochs=2, seed=0, base_dir=tmp_path, **OPTS)
    first.run()
    first.close()
    again = Steps(n_epochs=2, base_dir=tmp_path, resume=first.run_dir, resume_reset_epochs=True, **OPTS)
    again.run()
    again.close()
    # the state (simple attributes included) is restored, and the epochs are counted from 0 again
    assert again.epochs_seen == [0, 1, 0, 1] and again.steps == 4


def test_a_loop_of_your_own_drives_the_stages_like_run(tmp_path):
    class Plain(trialog.Experiment):
        def setup(self):
            self.w = 1.0

        def train(self, epoch):
            self.w *= 0.5
            self.add_result(self.w, "w")

    reference = Plain(n_epochs=3, seed=0, base_dir=tmp_path / "a", **OPTS)
    reference.run()
    reference.close()

    own = Plain(n_epochs=3, seed=0, base_dir=tmp_path / "b", **OPTS)
    own.begin_run()
    own.setup()
    start = own.restore_resumed()
    for epoch in range(start, own.n_epochs):
        own.begin_epoch(epoch)
        own.train(epoch)
        own.end_epoch(epoch)
    own.finish_run()
    own.close()

    def values(run_dir):
        return [(r["name"], r["value"], r["epoch"]) for r in trialog.Run(run_dir).records]

    assert (
        values(own.run_dir) == values(reference.run_dir) == [("w", 0.5, 0), ("w", 0.25, 1), ("w", 0.125, 2)]
    )
    assert trialog.Run(own.run_dir).status == "finished"
    assert [e.epoch for e in own.checkpoints.entries] == [1, 2]  # keep_last=2 of epochs 0..2


def test_fail_run_records_the_error(tmp_path):
    exp = trialog.Experiment(n_epochs=1, seed=0, base_dir=tmp_path, **OPTS)
    exp.begin_run()
    exp.fail_run(RuntimeError("boom"))
    exp.close()
    meta = trialog.Run(exp.run_dir).meta
    assert meta["status"] == "error" and meta["error"] == "RuntimeError: boom"


def test_checkpoint_series_of_a_plugin(tmp_path):
    saved = []

    class Listener:
        @hookimpl
        def on_checkpoint_saved(self, path, step):
            saved.append((path, step))

    pm = get_plugin_manager()
    pm.register(Listener(), name="test-listener")
    try:
        exp = trialog.Experiment(n_epochs=1, seed=0, base_dir=tmp_path, checkpoint=False, **OPTS)
        series = exp.checkpoint_series("ema")
        assert exp.checkpoint_series("ema") is series
        series.save(exp.checkpoint_state(), step=7)
        exp.wait_checkpoints()
        assert exp.checkpoint_series_names() == ["ema"]
        with pytest.raises(ConfigError, match="'step-1' is not usable"):
            exp.checkpoint_series("step-1")
        with pytest.raises(ConfigError, match=r"'\.\./x' is not usable"):
            exp.checkpoint_series("../x")
        exp.close()
    finally:
        pm.unregister(name="test-listener")
    assert [step for _, step in saved] == [7]
    assert saved[0][0].startswith(str(exp.checkpoint_dir / "ema"))


class Boom:
    def __init__(self):
        self.calls = 0

    @hookimpl
    def on_epoch_end(self, epoch):
        self.calls += 1
        raise ValueError(f"bad epoch {epoch}")


class Good:
    def __init__(self):
        self.epochs = []

    @hookimpl
    def on_epoch_end(self, epoch):
        self.epochs.append(epoch)


def test_a_failing_plugin_is_isolated_warned_once_and_disabled_after_five(tmp_path):
    pm = get_plugin_manager()
    boom, good = Boom(), Good()
    pm.register(boom, name="test-boom")
    pm.register(good, name="test-good")
    try:
        with trialog_warnings() as messages:
            exp = trialog.Experiment(n_epochs=8, seed=0, base_dir=tmp_path, checkpoint=False, **OPTS)
            exp.run()
            exp.close()
    finally:
        pm.unregister(name="test-boom")
        pm.unregister(name="test-good")
    assert good.epochs == list(range(8))  # the other plugin saw every epoch
    assert boom.calls == 5  # disabled after 5 consecutive failures
    named = [m for m in messages if "test-boom" in m]
    assert len(named) == 2 and "ValueError: bad epoch 0" in named[0] and "5 times in a row" in named[1]
    assert exp.plugin_hooks.failures == {"test-boom.on_epoch_end": 5}
    assert trialog.Run(exp.run_dir).status == "finished"


def test_plugin_hooks_reset_the_streak_on_success():
    pm = get_plugin_manager()

    class Flaky:
        n = 0

        @hookimpl
        def on_epoch_start(self, epoch):
            self.n += 1
            if self.n % 2:
                raise RuntimeError("odd")

    pm.register(Flaky(), name="test-flaky")
    try:
        hooks = PluginHooks(pm, max_failures=2)
        with trialog_warnings() as messages:
            for epoch in range(10):
                hooks.call("on_epoch_start", epoch=epoch)
    finally:
        pm.unregister(name="test-flaky")
    assert hooks.failures == {"test-flaky.on_epoch_start": 5} and not hooks.disabled
    assert len(messages) == 1


def test_the_rng_plugin_is_registered_like_any_plugin():
    from trialog.hooks import plugins

    assert "python" in plugins.names("trialog.plugins")
    assert plugins.find("trialog.plugins", "python").distribution == "trialog"
    assert get_plugin_manager().get_plugin("python") is not None


def test_is_simple_and_metric_mode():
    assert is_simple([1, 2.0, "a", None, (True, b"x")]) and is_simple({"a": np.zeros(3), 1: np.float32(2)})
    assert not is_simple(np.array([object()])) and not is_simple({1, 2}) and not is_simple(Counter())
    assert not is_simple({(1, 2): 3})
    for name, mode in {
        "val/accuracy": "max", "val/nll": "min", "train/loss": "min", "val/dice": "max", "val/f1": "max",
        "test/top1_acc": "max", "val/error_rate": "min", "val/dice_loss": "min", "val/auc": "max",
        "mse": "min", "val/heatmap_mse": "min", "val/something": "min", "val/iou": "max",
    }.items():  # fmt: skip
        assert metric_mode(name) == mode, name
    assert metric_mode("val/something", default=None) is None and metric_mode("lr", default="max") == "max"


def test_config_hooks_fill_defaults_before_the_overrides_and_check_after(tmp_path):
    class Declared(trialog.Experiment):
        DEFAULTS = {"lr": 0.1, "depth": 2}

    class Declarations:
        @hookimpl
        def config_defaults(self, experiment_class, argv):
            return getattr(experiment_class, "DEFAULTS", None)

        @hookimpl
        def check_config(self, experiment_class, config):
            if config.get("lr", 1) <= 0:
                raise ConfigError(f"config 'lr' must be positive, not {config['lr']!r}")

    pm = get_plugin_manager()
    pm.register(Declarations(), name="test-declarations")
    try:
        exp = Declared(config={"depth": 5}, base_dir=tmp_path, update_from_argv=["--lr", "0.5"], **OPTS)
        assert (exp.config["lr"], exp.config["depth"]) == (0.5, 5)  # the override and the config win
        exp.close()
        plain = trialog.Experiment(base_dir=tmp_path, **OPTS)  # a class that declares nothing
        assert "lr" not in plain.config
        plain.close()
        before = sorted(tmp_path.iterdir())
        with pytest.raises(ConfigError, match="config 'lr' must be positive"):
            Declared(base_dir=tmp_path, update_from_argv=["--lr", "-1"], **OPTS)
        assert sorted(tmp_path.iterdir()) == before  # refused before the run folder exists
    finally:
        pm.unregister(name="test-declarations")
