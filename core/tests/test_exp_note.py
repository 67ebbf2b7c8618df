"""Notes on one run (exp.note, removal); `trialog runs note` over many runs is trialog-runs'."""

from __future__ import annotations

import json

import pytest

import trialog
from trialog.errors import RegistryError


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
