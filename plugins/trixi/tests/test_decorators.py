"""trialog_trixi.decorators: experimentify (a class made an Experiment) and with_args_as_config."""

from __future__ import annotations

import pytest
from trialog_trixi import experimentify, with_args_as_config

from trialog.api import Config, Experiment, Run
from trialog.errors import ConfigError


def _options(tmp_path, **more):
    return {"base_dir": tmp_path, "loggers": {}, "checkpoint": False, "save_sources": False, **more}


def test_experimentify_runs_the_named_methods_as_the_lifecycle(tmp_path):
    calls = []

    @experimentify(
        setup_fn="build",
        train_fn="fit",
        validate_fn="check",
        end_fn="finish",
        **_options(tmp_path, n_epochs=2),
    )
    class Plain:
        """A class that knows nothing of trialog."""

        def __init__(self, lr, scale=2):
            super().__init__()  # must not build the experiment a second time
            self.lr = lr * scale

        def build(self):
            calls.append("setup")

        def fit(self, epoch):
            calls.append(("train", epoch))
            self.add_result(self.lr * epoch, "loss", counter=epoch)

        def check(self, epoch):
            calls.append(("validate", epoch))

        def finish(self):
            calls.append("end")

    exp = Plain(0.5)
    assert isinstance(exp, Experiment) and isinstance(exp, Plain)
    assert type(exp).__name__ == "Plain" and type(exp).__doc__ == "A class that knows nothing of trialog."
    assert exp.lr == 1.0 and exp.n_epochs == 2
    assert "lr" in exp.reserved_attributes  # set by the constructor: configuration, not checkpoint state
    exp.run()
    assert calls == ["setup", ("train", 0), ("validate", 0), ("train", 1), ("validate", 1), "end"]
    assert len(list(tmp_path.iterdir())) == 1  # one run folder
    run = Run(exp.run_dir)
    assert run.status == "finished" and run.results["loss"]["value"].tolist() == [0.0, 1.0]


def test_experimentify_default_names_and_test(tmp_path):
    @experimentify(**_options(tmp_path, n_epochs=1))
    class Plain:
        def train(self, epoch):
            self.trained = epoch

        def test(self):
            self.tested = True

    exp = Plain()
    exp.run()
    exp.run_test(setup=False)
    assert exp.trained == 0 and exp.tested is True
    exp.close()


def test_experimentify_errors_name_the_class_and_method(tmp_path):
    with pytest.raises(ConfigError, match=r"Plain has no method 'fit' \(given as train_fn\)"):

        @experimentify(train_fn="fit", **_options(tmp_path))
        class Plain:
            pass

    with pytest.raises(ConfigError, match="decorates a class"):
        experimentify(**_options(tmp_path))(lambda: None)

    @experimentify(**_options(tmp_path))
    class NoInit:
        pass

    with pytest.raises(TypeError, match=r"NoInit\(\) takes no arguments"):
        NoInit(3)
    assert not tmp_path.exists() or not list(tmp_path.iterdir())  # refused before a run folder was made


def test_with_args_as_config_sets_the_global_for_the_call_only():
    seen = []

    @with_args_as_config
    def train(lr, epochs=3, *rest, momentum=0.9, **extra):
        config = fn_args_as_config  # noqa: F821 -- the decorator puts it in this module's globals
        seen.append(config)
        return config.lr * config.epochs

    assert train(0.5, 4, "a", beta=1) == 2.0
    config = seen[-1]
    assert isinstance(config, Config)
    assert dict(config) == {"lr": 0.5, "epochs": 4, "rest": ("a",), "momentum": 0.9, "extra": {"beta": 1}}
    assert train(1.0) == 3.0 and seen[-1].epochs == 3
    assert "fn_args_as_config" not in globals()  # it never outlives the call
    assert train.__name__ == "train"
    with pytest.raises(TypeError):
        train()  # a wrong call fails as it would undecorated


def test_with_args_as_config_nested_calls_see_their_own_arguments():
    @with_args_as_config
    def inner(x):
        return fn_args_as_config.x  # noqa: F821

    @with_args_as_config
    def outer(y):
        before = fn_args_as_config.y  # noqa: F821
        got = inner(y + 1)
        return before, got, fn_args_as_config.y  # noqa: F821

    assert outer(1) == (1, 2, 1)
