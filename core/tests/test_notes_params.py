"""Notes on one run (exp.note, removal; `trialog runs note` is trialog-runs') and declared parameters."""

from __future__ import annotations

import json

import pytest

import trialog
from trialog.errors import ConfigError, RegistryError
from trialog.params import params_help


def _notes(run_dir):
    return [n["text"] for n in json.loads((run_dir / "run.json").read_text()).get("notes", [])]


def test_exp_note_add_and_remove_by_index_or_text(tmp_path):
    exp = trialog.Experiment(name="n", base_dir=tmp_path, loggers={})
    exp.note("first")
    exp.note("second")
    assert [n["text"] for n in exp.note("third")] == ["first", "second", "third"]
    exp.meta.update(epoch=1)  # a heartbeat write keeps the notes
    assert [n["text"] for n in exp.note(0, remove=True)] == ["second", "third"]
    exp.note("third", remove=True)
    assert _notes(exp.run_dir) == ["second"]
    with pytest.raises(RegistryError, match="has 1 note"):
        exp.note(5, remove=True)
    with pytest.raises(RegistryError, match="has no note 'nope'"):
        exp.note("nope", remove=True)
    exp.close()


class Declared(trialog.Experiment):
    """Trains a declared model."""

    lr: float = trialog.param(0.1, "the learning rate")
    layers: int = trialog.param(3, "hidden layers")
    act: str = trialog.param("relu", "activation", choices=("relu", "tanh"))


def test_declared_parameters_fill_the_config_and_check_overrides(tmp_path):
    exp = Declared(base_dir=tmp_path, loggers={}, update_from_argv=["--lr", "1", "--act", "tanh"])
    assert (exp.lr, exp.layers, exp.act) == (1, 3, "tanh") and exp.config["layers"] == 3
    saved = json.loads((exp.run_dir / "config" / "config.json").read_text())
    assert saved["lr"] == 1 and saved["act"] == "tanh"
    exp.close()
    given = Declared(config={"layers": 5}, base_dir=tmp_path, loggers={})
    assert given.layers == 5 and given.lr == 0.1  # the config wins over the default
    given.close()
    before = sorted(tmp_path.iterdir())
    with pytest.raises(ConfigError, match=r"--layers expects int, got 'four'"):
        Declared(base_dir=tmp_path, loggers={}, update_from_argv=["--layers", "four"])
    with pytest.raises(ConfigError, match=r"parameter 'lr': config 'lr' is 'fast' \(str\), expected float"):
        Declared(config={"lr": "fast"}, base_dir=tmp_path, loggers={})
    with pytest.raises(
        ConfigError, match=r"parameter 'act': config 'act' is 'gelu', not one of \['relu', 'tanh'\]"
    ):
        Declared(base_dir=tmp_path, loggers={}, update_from_argv=["--act", "gelu"])
    with pytest.raises(ConfigError, match="unknown config key 'depth'"):
        Declared(base_dir=tmp_path, loggers={}, update_from_argv=["--depth", "2"])
    assert sorted(tmp_path.iterdir()) == before  # nothing written


def test_help_prints_the_parameters(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        Declared(base_dir=tmp_path, loggers={}, update_from_argv=["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out == params_help(Declared) + "\n"
    assert "Trains a declared model." in out and "--lr" in out and "float = 0.1  the learning rate" in out
    assert "(one of 'relu', 'tanh')" in out and not any(tmp_path.iterdir())  # no run folder


def test_a_bad_declaration_is_named(tmp_path):
    class Bad(trialog.Experiment):
        n: int = trialog.param("x")

    class BadChoice(trialog.Experiment):
        act: str = trialog.param("gelu", choices=("relu",))

    with pytest.raises(ConfigError, match=r"parameter 'n': the default is 'x' \(str\), expected int"):
        Bad(base_dir=tmp_path, loggers={})
    with pytest.raises(ConfigError, match=r"parameter 'act': the default is 'gelu', not one of \['relu'\]"):
        BadChoice(base_dir=tmp_path, loggers={})
    assert not any(tmp_path.iterdir())
