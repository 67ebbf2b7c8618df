"""Listings (issue 20 item 4): where each run is, the registry in ``runs show``, config columns, nested
folders and sweeps, and ``trialog.runs_frame``."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from trialog_runs.registry import add_note, rename, set_purpose, set_starred, update_tags

import trialog
from trialog.cli import main
from trialog.errors import TrialogError
from trialog.run.folder import latest_run, walk_runs


class Scripted(trialog.Experiment):
    def train(self, epoch):
        self.add_result(1.0 / (epoch + 1), "loss", tag="train")

    def validate(self, epoch):
        self.add_result(self.config.acc + epoch, "acc", tag="val")


def make_run(base: Path, name: str = "bc_mlp", **config) -> Path:
    config = {"acc": 0.5, "model": {"depth": 2}, **config}
    exp = Scripted(config=config, name=name, n_epochs=2, base_dir=base, loggers={}, save_sources=False)
    exp.run()
    exp.close()
    return exp.run_dir


def make_sweep(base: Path, tmp_path: Path) -> tuple[Path, list[Path]]:
    """A sweep folder as trialog-sweep lays it out (sweep.json, trials/) holding two trial run folders."""
    folder = base / "20261201-101500_lrs-sweep"
    (folder / "trials").mkdir(parents=True)
    (folder / "sweep.json").write_text(
        json.dumps({"format": 1, "name": "lrs", "sweeper": "local", "trials": []})
    )
    trials = [make_run(folder, name=f"lrs_t{i:04d}", acc=acc) for i, acc in enumerate((0.2, 0.3))]
    return folder, trials


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out


@pytest.fixture
def runs(tmp_path):
    base = tmp_path / "runs"
    flat = [make_run(base, acc=0.1), make_run(base, acc=0.2, model={"depth": 3, "width": 8})]
    sweep, trials = make_sweep(base, tmp_path)
    return base, flat, sweep, trials


def test_ls_says_where_each_run_is_and_which_sweep_holds_it(runs, capsys):
    base, flat, sweep, trials = runs
    code, out = cli(capsys, "runs", "ls", base)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[-2:] == ["sweep", "folder"]
    folders = [line.split()[-1] for line in lines[1:]]
    expected = [p.name for p in flat] + [f"{sweep.name}/{t.name}" for t in trials]
    assert sorted(folders) == sorted(expected)  # the two identical bc_mlp rows are told apart
    for line in lines[1:]:
        cells = line.split()
        assert cells[-2] == (sweep.name if "/" in cells[-1] else "-")
    # The folder column is what `runs show` takes (relative to the DIR given).
    code, out = cli(capsys, "runs", "show", base / folders[-1])
    assert code == 0 and out.startswith("run ")


def test_ls_json_has_folder_sweep_and_flat_config(runs, capsys):
    base, flat, sweep, trials = runs
    _code, out = cli(capsys, "runs", "ls", base, "--json")
    rows = {r["folder"]: r for r in json.loads(out)}
    assert rows[flat[1].name]["config"] == {"acc": 0.2, "model.depth": 3, "model.width": 8}
    assert rows[flat[1].name]["sweep"] is None
    trial = rows[f"{sweep.name}/{trials[0].name}"]
    assert trial["sweep"] == sweep.name and trial["config"]["acc"] == 0.2


def test_ls_csv_carries_config_columns(runs, capsys):
    base, flat, sweep, trials = runs
    code, out = cli(capsys, "runs", "ls", base, "--csv", "-m", "val/acc:max")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 4
    header = next(csv.reader(io.StringIO(out)))
    assert {"folder", "sweep", "config.acc", "config.model.depth", "config.model.width"} <= set(header)
    by_folder = {r["folder"]: r for r in table}
    assert by_folder[flat[0].name]["config.model.width"] == ""  # absent in that run
    assert by_folder[flat[1].name]["config.model.width"] == "8"
    assert float(by_folder[flat[1].name]["val/acc max"]) == pytest.approx(1.2)
    assert by_folder[f"{sweep.name}/{trials[1].name}"]["sweep"] == sweep.name


def test_where_sees_sweep_and_duration(runs, capsys):
    base, _flat, sweep, trials = runs
    _code, out = cli(capsys, "runs", "ls", base, "--json", "--where", f"sweep={sweep.name} and duration>=0")
    assert sorted(r["path"] for r in json.loads(out)) == sorted(map(str, trials))


def test_walk_runs_skips_hidden_folders_and_never_enters_a_run(tmp_path):
    base = tmp_path / "runs"
    top = make_run(base)
    hidden = make_run(base / ".trash")
    inside = make_run(top / "save")  # a run folder inside a run's save/ is the run's own business
    deep = make_run(base / "a" / "b")
    found = dict(walk_runs(base))
    assert top in found and deep in found
    assert hidden not in found and inside not in found
    assert walk_runs(base, max_depth=3) == sorted([(top, None), (deep, None)])
    assert walk_runs(base, max_depth=2) == [(top, None)]  # runs/a/b/RUN lies 3 levels down
    assert walk_runs(top) == [(top, None)]
    with pytest.raises(TrialogError, match="not a folder of runs"):
        walk_runs(tmp_path / "nothing")


def test_latest_run_still_looks_at_the_folder_itself_only(runs):
    base, flat, sweep, trials = runs  # the trials started after the flat runs
    assert latest_run(base) == flat[-1]
    assert latest_run(sweep) == trials[-1]


def test_show_prints_the_registry_fields(tmp_path, capsys):
    run = make_run(tmp_path / "runs")
    code, out = cli(capsys, "runs", "show", run)
    assert "tags      (none)" in out and "starred   no" in out
    set_purpose(run, "does depth help?")
    add_note(run, "lr too high\nafter epoch 3")
    update_tags(run, ["baseline", "mlp"])
    set_starred(run, True)
    rename(run, "mlp baseline")
    code, out = cli(capsys, "runs", "show", run)
    assert code == 0
    lines = out.splitlines()
    assert "shown as  mlp baseline" in lines
    assert "purpose   does depth help?" in lines
    assert "tags      baseline mlp" in lines
    assert "starred   yes" in lines
    note = next(i for i, line in enumerate(lines) if line.startswith("note "))
    assert lines[note].endswith("  lr too high") and lines[note + 1].strip() == "after epoch 3"


def test_runs_frame(runs):
    base, flat, sweep, _trials = runs
    frame = trialog.runs_frame(base)
    assert len(frame) == 4
    assert list(frame.columns[:4]) == ["path", "folder", "sweep", "name"]
    for column in ("config.acc", "config.model.depth", "val/acc.max", "train/loss.last", "duration", "tags"):
        assert column in frame.columns, column
    assert "acc.max" not in frame.columns  # the filter's shorthand for val/acc.max is no column of its own
    row = frame.set_index("folder").loc[flat[1].name]
    assert row["config.model.width"] == 8 and row["val/acc.max"] == pytest.approx(1.2)
    assert row["status"] == "finished" and row["path"] == str(flat[1].resolve())
    assert frame["sweep"].fillna("").tolist().count(sweep.name) == 2
    picked = trialog.runs_frame(base, where="config.acc>=0.2 and sweep=null")
    assert picked["folder"].tolist() == [flat[1].name]
    empty = trialog.runs_frame(base, where="acc.max>100")
    assert len(empty) == 0 and "config.acc" not in empty.columns and "path" in empty.columns


def test_runs_frame_leaves_removed_runs_out(runs):
    base, flat, _sweep, _trials = runs
    from trialog_runs.registry import set_removed

    set_removed(flat[0], True)
    assert flat[0].name not in trialog.runs_frame(base)["folder"].tolist()
    assert flat[0].name in trialog.runs_frame(base, removed=True)["folder"].tolist()


def test_runs_frame_without_pandas_names_the_extra(tmp_path, monkeypatch):
    make_run(tmp_path / "runs")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(TrialogError, match=r"trialog-runs\[pandas\]"):
        trialog.runs_frame(tmp_path / "runs")


def test_runs_frame_is_trialog_runs_export():
    from trialog_runs import frame, runs_frame

    assert trialog.runs_frame is runs_frame is frame.runs_frame


def test_import_trialog_does_not_import_pandas():
    code = "import sys, trialog; trialog.runs_frame; assert 'pandas' not in sys.modules, 'pandas imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)


def test_runs_frame_without_pandas_names_the_extra(monkeypatch, tmp_path):
    """The one lazy-import helper: a missing pandas is a named error with trialog-runs' pandas extra."""
    import sys

    from trialog_runs.frame import runs_frame

    from trialog.errors import TrialogError

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(TrialogError, match=r"runs_frame needs pandas.*pip install 'trialog-runs\[pandas\]'"):
        runs_frame(tmp_path)
