"""The run registry (purpose, notes, tags, star, display name, removal) in run.json, and its CLI."""

from __future__ import annotations

import json
import multiprocessing
import shutil

import pytest
from trialog_runs.registry import RegistryError, add_note, rename, set_removed, set_starred, update_tags

from trialog.cli import main
from trialog.errors import RunFolderError
from trialog.run.folder import Run, RunMeta, collect_metadata, create_run_folder


def _run(tmp_path, name="exp", **extra):
    path = create_run_folder(tmp_path, name)
    meta, _ = collect_metadata(name, seed=1)
    meta.update(extra)
    writer = RunMeta(path, meta, heartbeat_interval=0)
    writer.finish("finished")
    return path, writer


def test_fields_roundtrip_and_run_exposes_them(tmp_path):
    path, _ = _run(tmp_path, purpose="try a smaller lr")
    add_note(path, "first")
    add_note(path, "second")
    update_tags(path, ["baseline", "v2"])
    update_tags(path, ["v3"], ["v2"])
    set_starred(path, True)
    rename(path, "lr sweep 1")
    run = Run(path)
    assert run.purpose == "try a smaller lr"
    assert [n["text"] for n in run.notes] == ["first", "second"]
    assert run.notes[0]["time"] <= run.notes[1]["time"]
    assert run.tags == ["baseline", "v3"]
    assert run.starred and not run.removed
    assert run.name == "lr sweep 1" and path.exists()  # rename never moves the folder
    set_removed(path)
    assert Run(path).removed
    set_removed(path, False)
    assert not Run(path).removed


def test_heartbeat_keeps_registry_changes_from_another_process(tmp_path):
    path = create_run_folder(tmp_path, "live")
    meta, _ = collect_metadata("live", seed=1)
    writer = RunMeta(path, meta, heartbeat_interval=0)
    add_note(path, "written while running")
    update_tags(path, ["live"])
    writer.update(epoch=3)  # what the heartbeat and the epoch end do
    writer.beat()
    data = json.loads((path / "run.json").read_text())
    assert data["epoch"] == 3
    assert [n["text"] for n in data["notes"]] == ["written while running"]
    assert data["tags"] == ["live"]


def _tagger(path, i):
    update_tags(path, [f"t{i}"])


def test_concurrent_tagging_loses_nothing(tmp_path):
    path, writer = _run(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_tagger, args=(path, i)) for i in range(6)]
    for p in procs:
        p.start()
    for _ in range(20):
        writer.beat()
    for p in procs:
        p.join()
    assert sorted(Run(path).tags) == sorted(f"t{i}" for i in range(6))


@pytest.mark.parametrize(
    "call",
    [
        lambda p: add_note(p, "   "),
        lambda p: add_note(p, "x" * 20_000),
        lambda p: update_tags(p, ["has space"]),
        lambda p: update_tags(p, ["<script>"]),
        lambda p: rename(p, "two\nlines"),
    ],
)
def test_bad_changes_are_refused_before_writing(tmp_path, call):
    path, _ = _run(tmp_path)
    before = (path / "run.json").read_bytes()
    with pytest.raises(RegistryError):
        call(path)
    assert (path / "run.json").read_bytes() == before


def test_trixi_runs_are_read_only(tmp_path):
    trixi = tmp_path / "trixi"
    shutil.copytree(
        __import__("pathlib").Path(__file__).parents[3] / "core" / "tests" / "data" / "trixi-run-example",
        trixi,
    )
    with pytest.raises(RegistryError, match="trixi"):
        add_note(trixi, "x")
    with pytest.raises(RunFolderError):
        add_note(tmp_path, "x")


def test_cli_registry_and_ls_filters(tmp_path, capsys):
    a, _ = _run(tmp_path, "alpha")
    b, _ = _run(tmp_path, "beta")
    (a / "config" / "config.json").write_text(json.dumps({"lr": 0.001}))
    (b / "config" / "config.json").write_text(json.dumps({"lr": 0.1}))
    assert main(["runs", "note", str(a), "good one"]) == 0
    assert main(["runs", "tag", str(a), "+baseline", "+draft"]) == 0
    assert main(["runs", "tag", str(a), "-draft"]) == 0
    assert main(["runs", "star", str(b)]) == 0
    assert main(["runs", "rename", str(b), "beta two"]) == 0
    capsys.readouterr()

    def ls(*extra):
        assert main(["runs", "ls", str(tmp_path), "--json", *extra]) == 0
        return [r["name"] for r in json.loads(capsys.readouterr().out)]

    assert ls() == ["alpha", "beta two"]
    assert ls("--where", "lr<0.01 and status=finished and tag:baseline") == ["alpha"]
    assert ls("--tag", "baseline") == ["alpha"]
    assert ls("--where", "starred") == ["beta two"]
    assert ls("--status", "error") == []
    assert main(["runs", "rm", str(a)]) == 0
    capsys.readouterr()
    assert ls() == ["beta two"]
    assert ls("--all") == ["alpha", "beta two"]
    assert main(["runs", "restore", str(a)]) == 0
    capsys.readouterr()
    assert main(["runs", "ls", str(tmp_path), "--csv"]) == 0
    csv_text = capsys.readouterr().out
    assert csv_text.splitlines()[0].startswith("path,name,status") and "baseline" in csv_text
    assert main(["runs", "ls", str(tmp_path), "--where", "lr<"]) == 1
    assert "filter" in capsys.readouterr().err


def test_purge_asks_and_deletes(tmp_path, monkeypatch, capsys):
    a, _ = _run(tmp_path, "alpha")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["runs", "rm", str(a), "--purge"]) == 1
    assert a.exists()
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert main(["runs", "rm", str(a), "--purge"]) == 0
    assert not a.exists()


def test_experiment_purpose(tmp_path):
    from trialog import Experiment

    exp = Experiment(name="p", base_dir=tmp_path, purpose="check the registry", save_sources=False)
    exp.run()
    exp.close()
    assert Run(exp.run_dir).purpose == "check the registry"
