"""One implementation per rule (issue 21): the JSON writer, the config flattener, the lazy import of an
optional dependency, and options a subclass shares with its base class (the plot hooks drawn for every
figure-storing logger: trialog-figures' tests)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import numpy as np
import pytest

from trialog import Config, Experiment
from trialog.api import Range, check_option_values, flatten, hookimpl, optional_import, write_json
from trialog.checkpoint.manager import CheckpointManager
from trialog.errors import ConfigError, LoggerConfigError, TrialogError
from trialog.hooks.options import option_parameters
from trialog.results.log import ResultLog

# --------------------------------------------------------------------------------------- the JSON writer


def test_write_json_is_utf8_text_with_a_newline_and_the_encoder_policy(tmp_path):
    path = tmp_path / "d.json"
    write_json(path, {"name": "café", "x": np.float32(1.5), "p": tmp_path})
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and '"café"' in text
    assert json.loads(text) == {"name": "café", "x": 1.5, "p": str(tmp_path)}


def test_write_json_refuses_or_falls_back_for_what_json_cannot_hold(tmp_path):
    path = tmp_path / "d.json"
    with pytest.raises(TypeError, match=r"'a.b': a builtins.object cannot be stored as JSON"):
        write_json(path, {"a": {"b": object()}})
    assert not path.exists()  # nothing half-written
    write_json(path, {"a": {"b": {1, 2}}}, fallback=str, durable=False)
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": {"b": "{1, 2}"}}


def test_results_and_the_checkpoint_manifest_are_written_by_the_one_writer(tmp_path):
    log = ResultLog(tmp_path / "result")
    log.add("accuracy", 0.5, tag="val")
    summary = log.save_summary()
    log.close()
    assert summary.read_text(encoding="utf-8").endswith("}\n")  # write_json's form
    manager = CheckpointManager(tmp_path / "checkpoint")
    manager.save({"w": np.zeros(2)}, step=1)
    manager.close()
    manifest = manager.manifest_path.read_text(encoding="utf-8")
    assert manifest.endswith("}\n") and json.loads(manifest)["entries"]


# --------------------------------------------------------------------------------------- the flattener


def test_flatten_joins_nested_keys_keeps_lists_and_empty_mappings():
    data = {"a": {"b": 1, "c": {"d": [1, 2]}}, "e": {}, 3: "x"}
    assert flatten(data) == {"a.b": 1, "a.c.d": [1, 2], "e": {}, "3": "x"}
    assert flatten(data, keep_empty=False) == {"a.b": 1, "a.c.d": [1, 2], "3": "x"}
    assert flatten(data, keep_lists=False) == {"a.b": 1, "a.c.d.0": 1, "a.c.d.1": 2, "e": {}, "3": "x"}
    assert flatten("not a mapping") == {}


def test_config_flat_is_the_one_flattener_with_trixis_options():
    config = Config(a={"b": 1, "e": {}}, l=list(range(12)))
    assert config.flat() == flatten(config, max_split_size=10, join=(str,), keep_empty=False)
    assert config.flat(keep_lists=False)["l"] == list(range(12))  # longer than max_split_size: kept whole


# --------------------------------------------------------------------------------- the lazy import


def test_optional_import_returns_the_module():
    assert optional_import("json", "reading", "trialog") is json


def test_a_missing_optional_dependency_names_the_purpose_and_the_install_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "nosuchpkg", None)
    with pytest.raises(
        TrialogError, match=r"^drawing needs nosuchpkg, which is not installed .*pip install 'trialog\[x\]'$"
    ):
        optional_import("nosuchpkg.sub", "drawing", "trialog[x]")
    with pytest.raises(ConfigError, match=r"reading needs Nosuch"):
        optional_import("nosuchpkg", "reading", "nosuch", package="Nosuch", error=ConfigError)


# ----------------------------------------------------------------------------- options a subclass shares


class Base:
    def __init__(self, *, run_dir: Any = None, every_s: Annotated[float, Range(min=0)] = 1.0) -> None:
        self.run_dir, self.every_s = run_dir, every_s

    @hookimpl
    def show_value(self, value: Any, name: str) -> None:
        pass


class Child(Base):
    def __init__(self, channel: str = "c", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.channel = channel


class Open:
    def __init__(self, **anything: Any) -> None:
        self.anything = anything

    @hookimpl
    def show_value(self, value: Any, name: str) -> None:
        pass


def test_a_subclass_taking_kwargs_shares_its_base_class_options():
    assert list(option_parameters(Child)) == ["channel", "run_dir", "every_s"]
    assert list(option_parameters(Open)) == ["anything"]  # a **kwargs nobody names: anything goes
    with pytest.raises(LoggerConfigError, match=r"child: option 'every_s' must be >= 0, got -1"):
        check_option_values("child", Child, {"every_s": -1})
    with pytest.raises(LoggerConfigError, match=r"child: option 'channel' must be a string"):
        check_option_values("child", Child, {"channel": 3})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"evry_s": 2},
            "logger 'c' (Child) does not accept option(s) 'evry_s'; it accepts: channel, every_s",
        ),
        ({"every_s": -1}, "logger 'c' (Child): option 'every_s' must be >= 0, got -1"),
    ],
)
def test_a_subclass_option_error_names_the_key_and_the_logger_before_the_folder(tmp_path, options, message):
    with pytest.raises(LoggerConfigError) as info:
        Experiment(name="x", base_dir=tmp_path / "runs", loggers={"c": {"type": Child, **options}})
    assert str(info.value) == message
    assert not (tmp_path / "runs").exists()


def test_the_base_class_options_reach_the_base_class():
    from trialog.loggers.dispatch import check_class

    _, _, params = check_class("c", Child, {"channel": "d", "every_s": 2.0})
    assert "every_s" in params and "run_dir" in params
    child = Child(channel="d", every_s=2.0)
    assert (child.channel, child.every_s) == ("d", 2.0)
