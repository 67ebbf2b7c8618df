"""Every reader of a run folder follows one containment rule (trialog.run.folder.run_file): nothing is read through a
symlink that leaves the run folder, Run.results included (issue 19, item 3)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from trialog.errors import RunFolderError
from trialog.results.log import ResultLog
from trialog.run.folder import Run, run_file


def _run(path, value):
    (path / "result").mkdir(parents=True)
    (path / "config").mkdir()
    (path / "config" / "config.json").write_text(json.dumps({"lr": value}))
    (path / "run.json").write_text(json.dumps({"name": path.name, "status": "finished"}))
    with ResultLog(path / "result") as log:
        log.add("loss", value, counter=0)
    return path


@pytest.mark.parametrize("link", ["result", "result/results.jsonl", "config", "run.json"])
def test_no_reader_follows_a_link_out_of_the_run_folder(tmp_path, link):
    run = _run(tmp_path / "run", 1.0)
    outside = _run(tmp_path / "outside", 4000.0)
    entry = run / link
    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    os.symlink(outside / link, entry)
    with pytest.raises(
        RunFolderError, match=rf"{link.split('/')[0]}.* is a symbolic link to .*outside the run folder"
    ):
        run_file(run, *link.split("/"))
    reader = {
        "result": lambda r: r.results,
        "result/results.jsonl": lambda r: r.results,
        "config": lambda r: r.config,
        "run.json": lambda r: r.meta,
    }[link]
    with pytest.raises(RunFolderError, match="outside the run folder"):
        reader(Run(run))
    if link.startswith("result"):
        with pytest.raises(RunFolderError, match="outside the run folder"):
            _ = Run(run).records


def test_a_link_that_stays_inside_is_read(tmp_path):
    run = _run(tmp_path / "run", 1.0)
    (run / "save").mkdir()
    shutil.move(run / "result" / "results.jsonl", run / "save" / "results.jsonl")
    os.symlink(run / "save" / "results.jsonl", run / "result" / "results.jsonl")
    assert Run(run).results["loss"]["value"].tolist() == [1.0]
