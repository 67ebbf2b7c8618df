"""Notes on one run and many (exp.note, runs note by pattern or --where, removal)."""

from __future__ import annotations

import json

import pytest

import trialog
from trialog.cli import main
from trialog.registry import RegistryError


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


def test_runs_note_over_several_runs(tmp_path, capsys):
    runs = []
    for lr in (0.1, 0.01, 0.001):
        exp = trialog.Experiment(config={"lr": lr}, name=f"lr{lr}", base_dir=tmp_path, loggers={})
        exp.close()
        runs.append(exp.run_dir)
    assert main(["runs", "note", str(tmp_path), "small lr", "--where", "config.lr < 0.05"]) == 0
    assert [_notes(r) for r in runs] == [[], ["small lr"], ["small lr"]]
    assert main(["runs", "note", str(tmp_path / "*lr0.1*"), "the big one"]) == 0
    assert _notes(runs[0]) == ["the big one"]
    assert main(["runs", "note", str(runs[1]), "--remove", "0"]) == 0
    assert _notes(runs[1]) == []
    assert "2 note(s)" not in capsys.readouterr().err
    assert main(["runs", "note", str(tmp_path / "nothing*"), "x"]) != 0
    assert "no run folder matches" in capsys.readouterr().err
