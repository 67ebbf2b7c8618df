"""Run folders, run.json metadata and staleness, sources.zip, and the Run reader (trialog and trixi runs)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from trialog.errors import ConfigError, RunFolderError
from trialog.run.folder import (
    LAYOUT,
    Run,
    RunMeta,
    collect_metadata,
    create_run_folder,
    effective_status,
    find_runs,
    git_info,
    latest_run,
    now_iso,
    pid_alive,
    resolve_folder_name,
)

#: Bounds a hang only: every wait in these tests is for an event, never for a time to pass.
HANG = 600.0

WHEN = dt.datetime(2026, 11, 21, 10, 15, 0)


# ------------------------------------------------------------------------------------------- run folders


def test_layout_and_default_name(tmp_path):
    path = create_run_folder(tmp_path, "mnist", when=WHEN)
    assert path.name == "20261121-101500_mnist"
    assert sorted(p.name for p in path.iterdir()) == sorted(LAYOUT)


def test_collision_never_reuses_a_folder(tmp_path):
    first = create_run_folder(tmp_path, "exp", when=WHEN)
    (first / "result" / "keep.txt").write_text("mine")
    second = create_run_folder(tmp_path, "exp", when=WHEN)
    third = create_run_folder(tmp_path, "exp", when=WHEN)
    assert [first.name, second.name, third.name] == [
        "20261121-101500_exp",
        "20261121-101500_exp_2",
        "20261121-101500_exp_3",
    ]
    assert (first / "result" / "keep.txt").read_text() == "mine"


def test_run_number_is_next_free(tmp_path):
    names = [create_run_folder(tmp_path, "e", "{experiment_name}-{run_number:03d}").name for _ in range(3)]
    assert names == ["e-001", "e-002", "e-003"]


def test_concurrent_creation_gives_distinct_folders(tmp_path):
    made: list[Path] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def make():
        barrier.wait()
        path = create_run_folder(tmp_path, "race", when=WHEN)
        with lock:
            made.append(path)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({p.name for p in made}) == 8


def test_name_with_separator_stays_one_folder(tmp_path):
    path = create_run_folder(tmp_path, "a/b", when=WHEN)
    assert path.parent == tmp_path and path.name == "20261121-101500_a_b"


def test_bad_folder_format_is_a_config_error():
    with pytest.raises(ConfigError, match=r"folder_format.*unknown_key"):
        resolve_folder_name("{unknown_key}", "x", 1, WHEN)


# --------------------------------------------------------------------------------------------- run.json


def test_run_json_fields_and_atomic_updates(tmp_path):
    run_dir = create_run_folder(tmp_path, "meta")
    meta, _ = collect_metadata("meta", seed=7, argv=["train.py", "--lr", "0.1"], git_dir=tmp_path)
    writer = RunMeta(run_dir, meta, heartbeat_interval=30)
    data = json.loads((run_dir / "run.json").read_text())
    for key in (
        "name",
        "status",
        "start",
        "end",
        "host",
        "user",
        "pid",
        "python",
        "packages",
        "trialog",
        "git",
        "argv",
        "seed",
        "resumed_from",
        "heartbeat",
        "heartbeat_interval",
    ):
        assert key in data, key
    assert data["status"] == "running" and data["seed"] == 7 and data["pid"] == os.getpid()
    assert data["argv"] == ["train.py", "--lr", "0.1"]
    assert "trialog" in data["trialog"] and "numpy" in data["packages"]
    assert data["git"] == {"commit": None, "branch": None, "dirty": None}  # tmp_path is no repository
    writer.finish("finished", epoch=3)
    data = json.loads((run_dir / "run.json").read_text())
    assert data["status"] == "finished" and data["end"] and data["epoch"] == 3
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == []  # no temp file left


def _git(cwd, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True, capture_output=True
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_info_commit_branch_dirty_and_diff(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "train.py").write_text("lr = 0.1\n")
    _git(tmp_path, "add", "train.py")
    _git(tmp_path, "commit", "-q", "-m", "first")
    info, diff = git_info(tmp_path)
    assert info["branch"] == "main" and len(info["commit"]) == 40 and info["dirty"] is False and diff is None
    (tmp_path / "train.py").write_text("lr = 0.2\n")
    info, diff = git_info(tmp_path)
    assert info["dirty"] is True
    assert "-lr = 0.1" in diff and "+lr = 0.2" in diff


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_running_with_dead_pid_reads_killed():
    meta = {
        "status": "running",
        "host": socket.gethostname(),
        "pid": _dead_pid(),
        "heartbeat": now_iso(),
        "heartbeat_interval": 30,
    }
    assert effective_status(meta) == "killed"
    meta["pid"] = os.getpid()
    assert effective_status(meta) == "running"


def test_stale_heartbeat_reads_killed_on_another_host():
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).isoformat()
    meta = {"status": "running", "host": "elsewhere", "pid": 1, "heartbeat": old, "heartbeat_interval": 30}
    assert effective_status(meta) == "killed"
    meta["heartbeat"] = now_iso()
    assert effective_status(meta) == "running"
    assert effective_status({**meta, "status": "finished"}) == "finished"
    # On the run's own host a live process is trusted over a late heartbeat (a slow epoch, a suspended laptop).
    here = {**meta, "host": socket.gethostname(), "pid": os.getpid(), "heartbeat": old}
    assert effective_status(here) == "running"


def test_pid_alive_rejects_a_reused_pid():
    assert pid_alive(os.getpid())
    assert not pid_alive(os.getpid(), start_ticks=-5) or not Path("/proc/self/stat").exists()
    assert not pid_alive(_dead_pid())


def test_heartbeat_thread_updates_run_json(tmp_path):
    run_dir = create_run_folder(tmp_path, "beat")
    meta, _ = collect_metadata("beat", git_dir=tmp_path)
    writer = RunMeta(run_dir, meta, heartbeat_interval=0.01)
    first = json.loads((run_dir / "run.json").read_text())["heartbeat"]
    seen = threading.Event()
    original = writer.beat

    def beat():
        original()
        seen.set()

    writer.beat = beat
    writer.start_heartbeat()
    assert seen.wait(HANG)
    writer.stop_heartbeat()
    assert json.loads((run_dir / "run.json").read_text())["heartbeat"] > first


# --------------------------------------------------------------------------------------------- sources


def test_sources_zip_has_script_and_local_modules_only(tmp_path):
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pkg" / "model.py").write_text("DEPTH = 3\n")
    (project / "helper.py").write_text("X = 1\n")
    (project / "train.py").write_text(
        "import sys, json, numpy\nimport helper\nfrom pkg import model\n"
        "from trialog.run.folder import pack_sources\n"
        "print(json.dumps(pack_sources(sys.argv[1])))\n"
    )
    out = tmp_path / "sources.zip"
    done = subprocess.run(
        [sys.executable, str(project / "train.py"), str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    with zipfile.ZipFile(out) as zf:
        names = sorted(zf.namelist())
        assert zf.read("helper.py") == b"X = 1\n"
    assert names == ["helper.py", "pkg/__init__.py", "pkg/model.py", "train.py"]
    assert json.loads(done.stdout) == ["helper.py", "pkg/__init__.py", "pkg/model.py", "train.py"]


# ------------------------------------------------------------------------------------------------ reader


def _write_trialog_run(base: Path, name: str, start: str, status: str = "finished") -> Path:
    path = base / name
    for sub in LAYOUT:
        (path / sub).mkdir(parents=True)
    meta = {"name": name, "status": status, "start": start, "end": start, "host": "h", "pid": 1, "epoch": 1}
    (path / "run.json").write_text(json.dumps(meta))
    (path / "config" / "config.json").write_text(json.dumps({"lr": 0.1, "model": {"depth": 2}}))
    lines = [
        {"name": "loss", "tag": "train", "value": 1.0, "counter": 0, "epoch": 0, "time": 1.0},
        {"name": "loss", "tag": "train", "value": 0.5, "counter": 1, "epoch": 1, "time": 2.0},
        {"name": "acc", "tag": "val", "value": 0.7, "counter": None, "epoch": 1, "time": 3.0},
    ]
    (path / "result" / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


def test_reader_on_a_trialog_run_with_truncated_last_line(tmp_path):
    path = _write_trialog_run(tmp_path, "r1", "2026-11-21T10:00:00+00:00")
    with open(path / "result" / "results.jsonl", "a") as fh:
        fh.write('{"name": "loss", "tag": "train", "val')  # killed mid-write
    run = Run(path)
    assert run.kind == "trialog" and run.status == "finished" and run.name == "r1"
    np.testing.assert_array_equal(run.results["loss"]["value"], [1.0, 0.5])
    np.testing.assert_array_equal(run.results["loss"]["epoch"], [0, 1])
    assert run.results["acc"]["tag"] == ["val"]
    assert run.summary["loss"] == {"last": 0.5, "min": 0.5, "max": 1.0, "mean": 0.75, "count": 2}
    assert run.config.model.depth == 2
    assert run.checkpoints == []


def test_reader_corrects_a_dead_running_run(tmp_path):
    path = _write_trialog_run(tmp_path, "dead", now_iso(), status="running")
    meta = json.loads((path / "run.json").read_text())
    meta.update(host=socket.gethostname(), pid=_dead_pid())
    (path / "run.json").write_text(json.dumps(meta))
    run = Run(path)
    assert run.status == "killed" and run.meta["stored_status"] == "running"


def test_reader_on_the_trixi_fixture(trixi_run):
    run = Run(trixi_run)
    assert run.kind == "trixi" and run.status == "finished" and run.name == "trixi_example"
    assert run.config.lr == 0.01 and run.config.model.depth == 3
    loss = run.results["loss"]
    assert loss["value"].shape == (9,) and loss["value"][-1] == pytest.approx(0.06948345122280154)
    np.testing.assert_array_equal(loss["counter"], np.arange(9))
    np.testing.assert_array_equal(run.results["acc"]["value"], [0.5, 0.6, 0.7])
    assert run.results["acc"]["tag"] == ["val"] * 3
    assert run.summary["acc"]["max"] == 0.7


def test_reader_on_a_killed_trixi_run(tmp_path, trixi_run):
    copy = tmp_path / "trixi-killed"
    shutil.copytree(trixi_run, copy)
    log = copy / "result" / "results-log.json"
    lines = log.read_text().splitlines()
    # What a killed trixi run leaves: no closing "]", a trailing comma, and a torn last element.
    body = ",\n".join(lines[1:6]) + ',\n{"acc": {"data": 0.'
    log.write_text("[\n" + body)
    exp = json.loads((copy / "config" / "exp.json").read_text())
    exp["state"] = "Started"
    (copy / "config" / "exp.json").write_text(json.dumps(exp))
    run = Run(copy)
    assert run.status == "killed"
    np.testing.assert_array_equal(run.results["loss"]["counter"], [0, 1, 2, 3])
    assert run.results["acc"]["value"].tolist() == [0.5]


def test_not_a_run_folder_is_a_named_error(tmp_path):
    with pytest.raises(RunFolderError, match=str(tmp_path)):
        Run(tmp_path)
    with pytest.raises(RunFolderError, match="does not exist"):
        Run(tmp_path / "missing")
    (tmp_path / "run.json").write_text("{\n  'bad'")
    with pytest.raises(RunFolderError, match=r"line 2, column 3"):
        _ = Run(tmp_path).meta


def test_latest_run_by_start_not_mtime(tmp_path):
    new = _write_trialog_run(tmp_path, "a-new", "2026-11-21T12:00:00+00:00")
    old = _write_trialog_run(tmp_path, "b-old", "2026-11-21T09:00:00+00:00")
    os.utime(new / "run.json", (0, 0))  # the newest run has the oldest file time
    os.utime(new, (0, 0))
    assert latest_run(tmp_path) == new
    assert find_runs(tmp_path) == [new, old]
    with pytest.raises(RunFolderError, match="no trialog run"):
        latest_run(tmp_path / "a-new" / "img")


def test_update_run_meta_is_the_one_outside_writer_and_the_heartbeat_keeps_its_registry_keys(
    tmp_path, trixi_run
):
    from trialog.api import registry_of, update_run_meta
    from trialog.errors import RegistryError
    from trialog.run.folder import REGISTRY_KEYS, RunMeta

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    meta = RunMeta(run_dir, {"name": "r", "status": "running"}, heartbeat_interval=0)
    data = update_run_meta(run_dir, lambda d: d.update(tags=["a"], starred=True, name="changed outside"))
    assert data["tags"] == ["a"] and registry_of(data)["starred"] is True
    meta.update(epoch=1)  # the running experiment's next write
    on_disk = json.loads((run_dir / "run.json").read_text())
    assert on_disk["tags"] == ["a"] and on_disk["starred"] is True and on_disk["epoch"] == 1
    assert on_disk["name"] == "r"  # not a registry key: the experiment's own value wins
    assert {"tags", "starred", "notes"} <= set(REGISTRY_KEYS)
    trixi = tmp_path / "trixi"
    shutil.copytree(trixi_run, trixi)
    with pytest.raises(RegistryError, match="trixi run folder"):
        update_run_meta(trixi, lambda d: d.update(tags=["x"]))
    with pytest.raises(RunFolderError, match=r"no run\.json"):
        update_run_meta(tmp_path, lambda d: None)
