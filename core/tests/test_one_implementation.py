"""One implementation per rule (issue 21): the JSON writer, the config flattener, the lazy import of an
optional dependency, the plot hooks drawn for every figure-storing logger, and options a subclass shares
with its base class."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import numpy as np
import pytest

from trialog import Config, Experiment
from trialog.api import (
    FigureHooks,
    LoggerConfigError,
    Range,
    TrialogError,
    check_option_values,
    flatten,
    hookimpl,
    optional_import,
    write_json,
)
from trialog.checkpoint import CheckpointManager
from trialog.errors import ConfigError
from trialog.options import option_parameters
from trialog.results import ResultLog

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


def test_pillow_uses_it(monkeypatch, tmp_path):
    from trialog.animation import encode_gif

    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(TrialogError, match=r"GIF needs pillow.*pip install 'trialog\[video\]'"):
        encode_gif(np.zeros((2, 4, 4, 3), dtype=np.uint8))


# ------------------------------------------------------------------------------ the figure-hooks helper


class Gallery(FigureHooks):
    """Says only where a figure goes."""

    def __init__(self) -> None:
        self.figures: list[tuple[str, Any, Any, Any]] = []

    def emit_figure(self, name: str, counter: int | None, figure: Any, call: int | None) -> None:
        self.figures.append((name, counter, figure, call))


def test_figure_hooks_draw_each_plot_and_hand_it_over():
    pytest.importorskip("matplotlib")
    gallery = Gallery()
    rng = np.random.default_rng(0)
    gallery.show_barplot(np.arange(3), "bar", 5)
    gallery.show_lineplot(np.arange(4.0), None, "line")
    gallery.show_scatterplot(rng.random((6, 2)), "scatter")
    gallery.show_piechart(np.array([1, 2]), "pie")
    gallery.show_boxplot(rng.random((6, 2)), "box")
    gallery.show_histogram(rng.random(20), "hist")
    gallery.show_heatmap(rng.random((2, 2)), "heat")
    gallery.show_pr_curve(np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0]), "pr")
    gallery.show_roc_curve(np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0]), "roc")
    gallery.show_embedding(rng.random((8, 3)), "emb")
    names = [name for name, *_ in gallery.figures]
    assert names == ["bar", "line", "scatter", "pie", "box", "hist", "heat", "pr", "roc", "emb"]
    assert gallery.figures[0][1] == 5
    assert all(type(figure).__name__ == "Figure" for _, _, figure, _ in gallery.figures)
    assert gallery.figures[0][2].axes[0].get_title() == "bar"  # the title defaults to the name
    with pytest.raises(TrialogError, match=r"Gallery\.show_roc_curve\('roc'\): labels must be 0 or 1"):
        gallery.show_roc_curve(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.7, 0.1]), "roc")


def test_figure_hooks_get_the_call_number_through_the_dispatcher(tmp_path):
    pytest.importorskip("matplotlib")
    from trialog.dispatch import CombinedLogger

    clog = CombinedLogger({"g": {"type": Gallery}}, run_dir=tmp_path)
    gallery = clog["g"]
    clog.show_barplot(np.arange(3), "bar")
    clog.show_barplot(np.arange(3), "bar")
    clog.show_barplot(np.arange(3), "bar", 7)
    clog.close()
    assert [(counter, call) for _, counter, _, call in gallery.figures] == [(None, 0), (None, 1), (7, None)]


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
    from trialog.dispatch import check_class

    _, _, params = check_class("c", Child, {"channel": "d", "every_s": 2.0})
    assert "every_s" in params and "run_dir" in params
    child = Child(channel="d", every_s=2.0)
    assert (child.channel, child.every_s) == ("d", 2.0)
