"""Experiment: lifecycle order, hooks on loggers and plugins, statuses, results, checkpoints, run-folder API."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

import trialog
from trialog import hookimpl
from trialog.errors import ConfigError, LoggerConfigError, PluginError
from trialog.hooks.plugins import get_plugin_manager
from trialog.run.folder import Run, find_runs


class Recorder:
    """A logger object: records every lifecycle hook and show_value/show_text call."""

    def __init__(self, events):
        self.events = events
        self.values = []
        self.texts = []

    @hookimpl
    def on_run_start(self, run, config):
        self.events.append(("logger", "on_run_start", run["status"], dict(config)))

    @hookimpl
    def on_epoch_start(self, epoch):
        self.events.append(("logger", "on_epoch_start", epoch))

    @hookimpl
    def on_epoch_end(self, epoch):
        self.events.append(("logger", "on_epoch_end", epoch))

    @hookimpl
    def on_result_added(self, name, value, tag, epoch):
        self.events.append(("logger", "on_result_added", name, value, tag, epoch))

    @hookimpl
    def on_checkpoint_saved(self, path, step, epoch):
        self.events.append(("logger", "on_checkpoint_saved", step, epoch, path))

    @hookimpl
    def on_run_end(self, run, summary):
        self.events.append(("logger", "on_run_end", run["status"], summary))

    @hookimpl
    def on_run_error(self, run, error, traceback):
        self.events.append(("logger", "on_run_error", run["status"], error, traceback))

    @hookimpl
    def show_value(self, value, name, counter, tag):
        self.values.append((name, value, counter, tag))

    @hookimpl
    def show_text(self, text):
        self.texts.append(text)


class PluginRecorder:
    """A ``trialog.plugins``-style object registered on the plugin manager."""

    def __init__(self, events):
        self.events = events
        self.seeds = []
        self.rng_restored = []

    @hookimpl
    def on_run_start(self, experiment, run):
        self.events.append(("plugin", "on_run_start", experiment.name))

    @hookimpl
    def on_epoch_end(self, experiment, epoch):
        self.events.append(("plugin", "on_epoch_end", epoch))

    @hookimpl
    def on_checkpoint_saved(self, step):
        self.events.append(("plugin", "on_checkpoint_saved", step))

    @hookimpl
    def on_run_end(self, summary):
        self.events.append(("plugin", "on_run_end"))

    @hookimpl
    def on_run_error(self, error):
        self.events.append(("plugin", "on_run_error", type(error).__name__))

    @hookimpl
    def seed_rngs(self, seed):
        self.seeds.append(seed)

    @hookimpl
    def get_rng_state(self):
        return {"fake_framework": np.arange(3)}

    @hookimpl
    def set_rng_state(self, state):
        self.rng_restored.append(state["fake_framework"].tolist())


@pytest.fixture
def events():
    return []


@pytest.fixture
def plugin(events):
    pm = get_plugin_manager()
    obj = PluginRecorder(events)
    pm.register(obj, name="test-recorder")
    yield obj
    pm.unregister(name="test-recorder")


class Lifecycle(trialog.Experiment):
    def __init__(self, events, **kwargs):
        self.events = events
        super().__init__(**kwargs)

    def setup(self):
        self.events.append(("exp", "setup"))
        self.w = 0.0

    def prepare(self):
        self.events.append(("exp", "prepare"))

    def train(self, epoch):
        self.events.append(("exp", "train", epoch))
        self.w += 1.0
        self.add_result(self.w, "loss", tag="train")

    def validate(self, epoch):
        self.events.append(("exp", "validate", epoch))

    def end(self):
        self.events.append(("exp", "end"))

    def test(self):
        self.events.append(("exp", "test"))

    def end_test(self):
        self.events.append(("exp", "end_test"))

    def process_err(self, e):
        self.events.append(("exp", "process_err", type(e).__name__))

    def get_state(self):
        return {"w": self.w}

    def set_state(self, state):
        self.w = float(state["w"])


def _make(events, tmp_path, **kwargs):
    kwargs.setdefault("n_epochs", 2)
    kwargs.setdefault("seed", 3)
    kwargs.setdefault("save_sources", False)
    return Lifecycle(
        events,
        config={"lr": 0.5},
        name="life",
        base_dir=tmp_path,
        loggers={"rec": Recorder(events)},
        **kwargs,
    )


def _names(events, source=None):
    return [e[:2] if e[0] != "exp" else e[:3] for e in events if source is None or e[0] == source]


def test_lifecycle_order_and_hooks(tmp_path, events, plugin):
    exp = _make(events, tmp_path)
    assert plugin.seeds == [3]
    exp.run()
    exp.close()
    flow = [e[1] if e[0] != "exp" else e[1:] for e in events if e[0] in ("exp", "logger")]
    flow = [f if isinstance(f, str) else tuple(f) for f in flow]
    assert flow == [
        "on_run_start", ("setup",), ("prepare",),
        "on_epoch_start", ("train", 0), "on_result_added", ("validate", 0), "on_epoch_end", "on_checkpoint_saved",
        "on_epoch_start", ("train", 1), "on_result_added", ("validate", 1), "on_epoch_end", "on_checkpoint_saved",
        ("end",), "on_run_end",
    ]  # fmt: skip
    plugin_flow = [e[1:] for e in events if e[0] == "plugin"]
    assert plugin_flow == [
        ("on_run_start", "life"),
        ("on_epoch_end", 0), ("on_checkpoint_saved", 0),
        ("on_epoch_end", 1), ("on_checkpoint_saved", 1),
        ("on_run_end",),
    ]  # fmt: skip
    start = next(e for e in events if e[1] == "on_run_start" and e[0] == "logger")
    assert start[2] == "running" and start[3] == {"lr": 0.5}
    added = [e for e in events if e[1] == "on_result_added"]
    assert added[0][2:] == ("loss", 1.0, "train", 0)
    saved = [e for e in events if e[0] == "logger" and e[1] == "on_checkpoint_saved"]
    assert saved[-1][2:4] == (1, 1) and saved[-1][4].endswith(".npz")
    end = next(e for e in events if e[1] == "on_run_end" and e[0] == "logger")
    assert end[2] == "finished" and end[3]["loss"]["last"] == 2.0
    assert exp.loggers["rec"].values == [("loss", 1.0, None, "train"), ("loss", 2.0, None, "train")]
    meta = json.loads((exp.run_dir / "run.json").read_text())
    assert meta["status"] == "finished" and meta["epoch"] == 1 and meta["seed"] == 3


def test_error_calls_process_err_and_on_run_error(tmp_path, events, plugin):
    class Broken(Lifecycle):
        def validate(self, epoch):
            raise ValueError("bad batch")

    exp = Broken(events, n_epochs=2, base_dir=tmp_path, loggers={"rec": Recorder(events)}, save_sources=False)
    with pytest.raises(ValueError, match="bad batch"):
        exp.run()
    exp.close()
    assert ("exp", "process_err", "ValueError") in events
    logger_error = next(e for e in events if e[0] == "logger" and e[1] == "on_run_error")
    assert logger_error[2] == "error" and isinstance(logger_error[3], ValueError)
    assert "Traceback" in logger_error[4] and "bad batch" in logger_error[4]
    assert ("plugin", "on_run_error", "ValueError") in events
    run = Run(exp.run_dir)
    assert run.status == "error" and run.meta["error"] == "ValueError: bad batch"
    assert not any(e[1] == "on_run_end" for e in events)


def test_keyboard_interrupt_reads_killed(tmp_path, events):
    class Interrupted(Lifecycle):
        def train(self, epoch):
            raise KeyboardInterrupt

    exp = Interrupted(events, n_epochs=2, base_dir=tmp_path, loggers={}, save_sources=False)
    with pytest.raises(KeyboardInterrupt):
        exp.run()
    exp.close()
    assert Run(exp.run_dir).status == "killed"


def test_stop_ends_after_the_current_epoch(tmp_path, events):
    class Stopping(Lifecycle):
        def validate(self, epoch):
            if epoch == 1:
                self.stop()

    exp = Stopping(events, n_epochs=5, base_dir=tmp_path, loggers={}, save_sources=False)
    exp.run()
    exp.close()
    assert [e[2] for e in events if e[:2] == ("exp", "train")] == [0, 1]
    assert ("exp", "end") in events
    assert Run(exp.run_dir).status == "stopped"
    assert exp.checkpoints.latest().epoch == 1  # a stopped run can be resumed from where it stopped


def test_run_test_and_run_setup_false(tmp_path, events):
    exp = _make(events, tmp_path)
    exp.run()
    exp.run_test(setup=False)
    exp.close()
    assert _names(events, "exp")[-2:] == [("exp", "test"), ("exp", "end_test")]
    assert sum(1 for e in events if e == ("exp", "setup")) == 1


def test_results_api(tmp_path, events):
    exp = _make(events, tmp_path, n_epochs=1)
    exp.run()
    exp.add_result_without_epoch(0.9, "test_acc", tag="test")
    exp.add_result(np.float32(0.25), "quiet", plot_result=False)
    assert (
        exp.get_result("loss") == 1.0 and exp.get_result("test_acc") == 0.9 and exp.get_result("nope") is None
    )
    summary = exp.save_results()
    assert summary["quiet"]["last"] == 0.25
    exp.close()
    assert ("quiet", 0.25, None, None) not in exp.loggers["rec"].values
    run = Run(exp.run_dir)
    assert np.isnan(run.results["test_acc"]["epoch"][0])
    stored = json.loads((exp.run_dir / "result" / "results.json").read_text())
    assert stored["test/test_acc"] == summary["test_acc"] and stored["test/test_acc"]["last"] == 0.9


def test_seeding_is_reproducible_and_rng_state_is_checkpointed(tmp_path, plugin):
    values = []
    for sub in ("a", "b"):
        exp = trialog.Experiment(seed=11, base_dir=tmp_path / sub, loggers={}, save_sources=False)
        values.append((random.random(), float(np.random.rand())))
        exp.epoch = 4
        entry = exp.save_checkpoint()
        exp.close()
    assert values[0] == values[1]
    assert plugin.seeds == [11, 11]

    state, _ = exp.checkpoints.load("last")
    # one merged mapping: the core's own "python" plugin contributes python and numpy, like any plugin
    assert state["rng"]["fake_framework"].tolist() == [0, 1, 2]
    assert {"python", "numpy"} <= set(state["rng"])
    assert state["trialog"]["epoch"] == 4 and entry.epoch == 4
    after = (random.random(), float(np.random.rand()))
    random.seed(0)
    exp.load_checkpoint()
    assert (random.random(), float(np.random.rand())) == after
    assert plugin.rng_restored == [[0, 1, 2]]


def test_checkpoint_options_monitor_and_every(tmp_path, events):
    class Scored(Lifecycle):
        def validate(self, epoch):
            self.add_result([0.2, 0.9, 0.5, 0.4][epoch], "acc")

    exp = Scored(
        events,
        n_epochs=4,
        base_dir=tmp_path,
        loggers={},
        save_sources=False,
        checkpoint={"every": 2, "monitor": "acc", "mode": "max", "keep_best": 1, "keep_last": 1},
    )
    exp.run()
    exp.close()
    assert [(e.epoch, e.metric) for e in exp.checkpoints.entries] == [(1, 0.9), (3, 0.4)]
    assert exp.checkpoints.best().epoch == 1

    with pytest.raises(ConfigError, match="not_an_option"):
        Lifecycle(events, base_dir=tmp_path / "bad", loggers={}, checkpoint={"not_an_option": 1})
    assert not (tmp_path / "bad").exists()  # refused before anything was written


def test_no_checkpoints_when_disabled(tmp_path, events):
    exp = _make(events, tmp_path, checkpoint=False)
    exp.run()
    exp.close()
    assert exp.checkpoints.entries == ()


def test_run_folder_api(tmp_path, events):
    exp = _make(events, tmp_path)
    cfg = trialog.Config(config={"a": {"b": [1, 2]}, "t": "x"})
    exp.save_config(cfg, "other")
    assert exp.load_config("other").a.b == [1, 2]
    assert exp.load_config().lr == 0.5  # the experiment's own config was saved as config/config.json
    exp.print("epoch", 3, "done")
    exp.close()
    assert exp.loggers["rec"].texts == ["epoch 3 done"]
    assert sorted(p.name for p in exp.run_dir.iterdir()) == sorted(
        ["checkpoint", "config", "img", "log", "plot", "result", "save", "run.json", "run.lock"]
    )


def test_names_defaults_and_folder_format(tmp_path):
    exp = trialog.Experiment(
        config={"name": "from_config", "n_epochs": 7, "seed": 5},
        base_dir=tmp_path,
        loggers={},
        folder_format="{experiment_name}-{run_number}",
        save_sources=False,
    )
    exp2 = trialog.Experiment(
        config={"name": "from_config"},
        base_dir=tmp_path,
        loggers={},
        folder_format="{experiment_name}-{run_number}",
        append_rnd_to_name=True,
        save_sources=False,
    )
    exp.close()
    exp2.close()
    assert (exp.name, exp.n_epochs, exp.seed, exp.run_dir.name) == ("from_config", 7, 5, "from_config-1")
    assert exp2.name.startswith("from_config_") and exp2.run_dir.name == f"{exp2.name}-1"


def test_default_loggers_use_the_file_plugin(tmp_path):
    from trialog.hooks import plugins

    if "file" not in plugins.names("trialog.loggers"):
        pytest.skip("trialog-file is not installed")
    exp = trialog.Experiment(base_dir=tmp_path, save_sources=False)
    try:
        assert list(exp.loggers) == ["file"]
        exp.add_result(0.5, "loss", tag="train")
    finally:
        exp.close()
    # the file logger wrote into this run's folder (its CSV of values), not somewhere else
    rows = (exp.run_dir / "log" / "values.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("loss,train,")


def test_sources_zip_written_by_the_experiment(tmp_path, monkeypatch):
    (tmp_path / "mymodule_for_sources.py").write_text("VALUE = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import mymodule_for_sources

    exp = trialog.Experiment(base_dir=tmp_path / "runs", loggers={})
    exp.close()
    with zipfile.ZipFile(exp.run_dir / "save" / "sources.zip") as zf:
        names = zf.namelist()
    assert "mymodule_for_sources.py" in names
    assert not any("site-packages" in n or n.startswith("numpy") for n in names)


# ----------------------------------------------------------------------------------------------- bad input


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.json"):
        trialog.Experiment(config=tmp_path / "nope.json", base_dir=tmp_path, loggers={})
    assert (
        not (tmp_path / "runs").exists() and list(tmp_path.iterdir()) == []
    )  # no folder for a run that failed


def test_malformed_config_json_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "lr": 0.1,\n  "depth": ,\n}')
    with pytest.raises(ConfigError, match=r"bad\.json.*line 3, column 12"):
        trialog.Experiment(config=path, base_dir=tmp_path, loggers={})


def test_unknown_override_key_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"'lrr'.*'lr'"):
        trialog.Experiment(config={"lr": 0.1}, base_dir=tmp_path, loggers={}, update_from_argv=["--lrr", "2"])
    exp = trialog.Experiment(
        config={"lr": 0.1}, base_dir=tmp_path, loggers={}, update_from_argv=["--lr", "2"], save_sources=False
    )
    exp.close()
    assert exp.config.lr == 2.0
    assert json.loads((exp.run_dir / "config" / "config.json").read_text())["lr"] == 2.0


def test_bad_logger_options_stop_the_run_before_its_folder_exists(tmp_path):
    class Quiet:
        @trialog.hookimpl
        def show_value(self, value):
            pass

    with pytest.raises(LoggerConfigError, match="no_such_option"):
        trialog.Experiment(
            base_dir=tmp_path, loggers={"x": {"type": Quiet, "no_such_option": 1}}, save_sources=False
        )
    with pytest.raises(PluginError, match="no_such_logger"):
        trialog.Experiment(base_dir=tmp_path, loggers={"x": "no_such_logger"}, save_sources=False)
    assert find_runs(tmp_path) == [] and list(tmp_path.iterdir()) == []


def test_used_as_a_context_manager_without_run(tmp_path):
    with trialog.Experiment(base_dir=tmp_path / "ok", loggers={}, save_sources=False) as exp:
        exp.add_result(1.0, "x")
    assert Run(exp.run_dir).status == "finished"
    assert Run(exp.run_dir).summary["x"]["last"] == 1.0
    with pytest.raises(RuntimeError), trialog.Experiment(base_dir=tmp_path / "bad", loggers={}) as failed:
        raise RuntimeError("oops")
    assert Run(failed.run_dir).status == "error" and Run(failed.run_dir).meta["error"] == "RuntimeError: oops"


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_state_and_diff_are_recorded(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", "-b", "exp-branch"], cwd=repo, check=True)
    (repo / "train.py").write_text("depth = 3\n")
    subprocess.run([*git, "add", "train.py"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], cwd=repo, check=True)
    (repo / "train.py").write_text("depth = 4\n")
    monkeypatch.chdir(repo)
    exp = trialog.Experiment(base_dir=tmp_path / "runs", loggers={}, save_sources=False)
    exp.close()
    meta = Run(exp.run_dir).meta
    assert meta["git"]["branch"] == "exp-branch" and meta["git"]["dirty"] is True
    assert "+depth = 4" in (exp.run_dir / "save" / "git.diff").read_text()


def test_async_checkpoint_hooks_reach_loggers_on_the_run_thread(tmp_path, events):
    import threading

    class ThreadRecorder(Recorder):
        @hookimpl
        def on_checkpoint_saved(self, path, step, epoch):
            self.events.append(("saved", step, threading.get_ident(), path))

    exp = Lifecycle(
        events,
        n_epochs=3,
        base_dir=tmp_path,
        loggers={"rec": ThreadRecorder(events)},
        save_sources=False,
        checkpoint={"async_save": True},
    )
    exp.run()
    exp.close()
    saved = [e for e in events if e[0] == "saved"]
    assert [e[1] for e in saved] == [0, 1, 2]
    assert {e[2] for e in saved} == {threading.get_ident()}
    assert [Path(e[3]).name for e in saved] == ["step-00000000.npz", "step-00000001.npz", "step-00000002.npz"]
    assert Path(saved[-1][3]).is_file()
