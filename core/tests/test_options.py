"""Option values checked against constructor annotations (the logger options schema), before any folder exists."""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

import pytest

from trialog import ConfigError, Experiment
from trialog.api import Range, check_option_values, hookimpl
from trialog.errors import LoggerConfigError


class Probe:
    """A logger whose constructor is its options schema."""

    def __init__(
        self,
        run_dir: str | os.PathLike[str] | None = None,
        rate: Annotated[float, Range(min=0, min_open=True)] = 1.0,
        size: Annotated[int, Range(min=1, max=10)] = 3,
        mode: Literal["a", "b"] = "a",
        enabled: bool = True,
        every_s: Annotated[float, Range(min=0)] | None = None,
        names: list[str] | None = None,
        anything: Any = None,
        folder: os.PathLike[str] | str | None = None,
    ) -> None:
        self.rate = rate

    @hookimpl
    def show_value(self, value: Any, name: str) -> None:
        pass


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rate": "abc"}, "option 'rate' must be a number > 0, got 'abc' (str)"),
        ({"rate": 0}, "option 'rate' must be > 0, got 0"),
        ({"rate": True}, "option 'rate' must be a number > 0, got True (bool)"),
        ({"size": 2.5}, "option 'size' must be an integer >= 1 and <= 10, got 2.5 (float)"),
        ({"size": 11}, "option 'size' must be >= 1 and <= 10, got 11"),
        ({"mode": "c"}, "option 'mode' must be one of 'a', 'b', got 'c' (str)"),
        ({"enabled": "no"}, "option 'enabled' must be true or false, got 'no' (str)"),
        ({"every_s": -1}, "option 'every_s' must be >= 0, got -1"),
        ({"every_s": "x"}, "option 'every_s' must be a number >= 0 or null, got 'x' (str)"),
        ({"names": "a,b"}, "option 'names' must be a list or null, got 'a,b' (str)"),
        ({"folder": 3}, "option 'folder' must be a path or a string or null, got 3 (int)"),
    ],
)
def test_a_value_the_annotation_rules_out_is_named_before_the_folder(tmp_path, options, message):
    with pytest.raises(LoggerConfigError) as err:
        Experiment(name="x", base_dir=tmp_path / "runs", loggers={"p": {"type": Probe, **options}})
    assert str(err.value) == f"logger 'p' (Probe): {message}"
    assert not (tmp_path / "runs").exists()


def test_values_the_annotations_allow_pass():
    check_option_values(
        "probe",
        Probe,
        {"rate": 2, "size": 10, "mode": "b", "enabled": False, "every_s": None, "names": ["x"], "anything": object(),
         "folder": "somewhere"},
    )  # fmt: skip


def test_unresolvable_annotations_check_nothing():
    class Odd:
        def __init__(self, x: NotImportedHere = 1) -> None:  # type: ignore[name-defined]  # noqa: F821
            pass

    check_option_values("odd", Odd, {"x": "anything"})


def test_loggers_given_as_a_string_is_named(tmp_path):
    with pytest.raises(LoggerConfigError, match=r"'loggers' must be a mapping .* not a string"):
        Experiment(name="x", base_dir=tmp_path / "runs", loggers="file")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("key", "value"), [("background", "yes"), ("every", "10"), ("queue_size", 0)])
def test_dispatcher_options_are_checked(tmp_path, key, value):
    with pytest.raises(LoggerConfigError, match=f"'{key}' must be"):
        Experiment(name="x", base_dir=tmp_path / "runs", loggers={"p": {"type": Probe, key: value}})
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("loggers", [5, True, 0.5])
def test_loggers_neither_mapping_nor_list_is_named(tmp_path, loggers):
    with pytest.raises(LoggerConfigError, match=r"'loggers' must be a mapping .* not a (int|bool|float)"):
        Experiment(name="x", base_dir=tmp_path / "runs", loggers=loggers)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("key", "value"),
    [("quiet", "no"), ("save_sources", "false"), ("capture_output", 0), ("resume_new_folder", None)],
)
def test_experiment_flags_are_bools(tmp_path, key, value):
    with pytest.raises(ConfigError, match=f"Experiment option '{key}' must be true or false, got {value!r}"):
        Experiment(name="x", base_dir=tmp_path / "runs", loggers={}, **{key: value})
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [({"async_save": "no"}, "'async_save' must be"), ({"keep_last": "2"}, "'keep_last' must be")],
)
def test_checkpoint_option_values_are_checked(tmp_path, options, message):
    with pytest.raises(ConfigError, match=f"checkpoint option {message}"):
        Experiment(name="x", base_dir=tmp_path / "runs", loggers={}, checkpoint=options)
    assert not (tmp_path / "runs").exists()
