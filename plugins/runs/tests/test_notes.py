"""``trialog runs note``: notes on many runs (a folder of runs with --where, a glob pattern) and removal."""

from __future__ import annotations

import json

import trialog
from trialog.cli import main


def _notes(run_dir):
    return [n["text"] for n in json.loads((run_dir / "run.json").read_text()).get("notes", [])]


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
