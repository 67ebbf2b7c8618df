"""Kept-warm trial servers (``--option keep_warm=SECONDS``): the next sweep forks from the same server.

Every test points ``TRIALOG_RUNTIME_DIR`` at a folder of its own, stops the servers it started and waits
for them to exit (on their pidfds).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from trialog_sweep.sweep import open_sweep, read_sweep
from trialog_sweep.sweep_local import LocalSweeper
from trialog_sweep.testing import read_gate, records, wait_exit, write_toy_sweep
from trialog_sweep.trialserver import RUNTIME_ENV, kept_servers, runtime_dir

from trialog.cli import main
from trialog.errors import ConfigError, TrialogError

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and SO_PEERCRED: Linux")

PROBE = '''
import os

from toyexp import Toy

import probeconst


class Probe(Toy):
    """Toy that records its module constant and whether it was forked from a server (its parent's pid)."""

    def validate(self, epoch):
        super().validate(epoch)
        self.add_result(float(probeconst.VALUE), "const", tag="env")
        with open(os.path.join(self.config["pids"], str(os.getpid())), "w") as fh:
            fh.write(str(os.getppid()))
'''


def _probe_sweep(tmp_path: Path, **base) -> Path:
    folder = tmp_path / "cfg"
    path = write_toy_sweep(folder, {"experiment": "probe:Probe", "grid": {"lr": [0.05, 0.2]}}, **base)
    (folder / "probe.py").write_text(PROBE)
    (folder / "probeconst.py").write_text("VALUE = 1\n")
    (tmp_path / "pids").mkdir(exist_ok=True)
    data = json.loads(path.read_text())
    data["pids"] = str(tmp_path / "pids")
    path.write_text(json.dumps(data))
    return path


def _sweep(path: Path, base: Path, **options) -> Path:
    sweep = open_sweep(path, "local", base_dir=base)
    LocalSweeper(options=options).run(sweep)
    data = read_sweep(sweep.folder)
    assert [t["status"] for t in data["trials"]] == ["finished"] * len(data["trials"])
    return sweep.folder


def _numbers(folder: Path) -> list[list[tuple]]:
    return [records(folder / t["run"]) for t in read_sweep(folder)["trials"]]


def _parents(pids: Path) -> set[int]:
    found = {int(p.read_text()) for p in pids.iterdir()}
    for p in pids.iterdir():
        p.unlink()
    return found


def test_the_next_sweep_forks_from_the_kept_server_and_its_trials_equal_fresh_processes(tmp_path, runtime):
    path = _probe_sweep(tmp_path)
    fresh = _numbers(_sweep(path, tmp_path / "fresh", warm="0"))
    _parents(tmp_path / "pids")

    first = _numbers(_sweep(path, tmp_path / "a", keep_warm="60"))
    (server,) = kept_servers()
    assert _parents(tmp_path / "pids") == {server["pid"]}  # every trial a child of the kept server
    second = _numbers(_sweep(path, tmp_path / "b", keep_warm="60"))
    assert _parents(tmp_path / "pids") == {server["pid"]}
    (again,) = kept_servers()
    assert (again["pid"], again["sweeps"], again["trials_running"]) == (server["pid"], 2, 0)
    assert first == second == fresh
    assert all(("const", "env", 2, None, 1.0) in trial for trial in fresh)

    assert main(["sweep", "servers", "--json"]) == 0
    assert main(["sweep", "servers", "--stop"]) == 0
    wait_exit(server["pid"])
    assert not list(runtime.glob("*.sock"))  # the stopped server removed its socket
    assert kept_servers() == []


def test_an_edited_module_retires_the_kept_server_and_the_sweep_sees_the_new_code(tmp_path, runtime):
    path = _probe_sweep(tmp_path)
    _sweep(path, tmp_path / "a", keep_warm="60")
    (old,) = kept_servers()
    const = tmp_path / "cfg" / "probeconst.py"
    const.write_text("VALUE = 2\n")
    os.utime(const, ns=(const.stat().st_atime_ns, const.stat().st_mtime_ns + 10**9))  # surely a new mtime
    folder = _sweep(path, tmp_path / "b", keep_warm="60")
    wait_exit(old["pid"])  # retired: it had nothing running, so it ended at once
    (new,) = kept_servers()
    assert new["pid"] != old["pid"] and new["sweeps"] == 1
    assert _parents(tmp_path / "pids") >= {new["pid"]}
    assert all(("const", "env", 2, None, 2.0) in trial for trial in _numbers(folder))


def test_a_killed_driver_takes_its_trials_with_it_and_the_resume_runs_on_the_kept_server(tmp_path, runtime):
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    path = _probe_sweep(tmp_path, gate=str(gate))
    unkilled = _numbers(_sweep(_probe_sweep(tmp_path / "u"), tmp_path / "u" / "o", warm="0"))
    base = tmp_path / "o"
    argv = [sys.executable, "-m", "trialog.cli", "sweep", str(path), "--base-dir", str(base)]
    driver = subprocess.Popen(
        [*argv, "--option", "keep_warm=60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        read_gate(gate)  # t0000 mid-epoch 1: let it finish
        trial_pid = read_gate(gate)  # t0001 mid-epoch 1: kill the driver now
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        wait_exit(trial_pid)  # the server saw the driver's connection close and killed the trial
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    (server,) = kept_servers()
    assert server["trials_running"] == 0
    os.unlink(gate)
    (folder,) = base.iterdir()
    assert [t["status"] for t in read_sweep(folder)["trials"]] == ["finished", "running"]
    assert main(["sweep", "--resume", str(folder)]) == 0  # keep_warm as sweep.json recorded it
    (after,) = kept_servers()
    assert (after["pid"], after["sweeps"]) == (server["pid"], 2)
    assert _numbers(folder) == unkilled


def test_ctrl_c_of_the_driver_ends_its_trials_on_the_kept_server_and_leaves_the_sweep_resumable(
    tmp_path, runtime
):
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    path = _probe_sweep(tmp_path, gate=str(gate))
    base = tmp_path / "o"
    argv = [sys.executable, "-m", "trialog.cli", "sweep", str(path), "--base-dir", str(base)]
    driver = subprocess.Popen(
        [*argv, "--option", "keep_warm=60", "--parallel", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        trial_pids = {read_gate(gate), read_gate(gate)}  # both trials mid-epoch 1
        driver.send_signal(
            signal.SIGINT
        )  # what Ctrl-C sends the driver (the server is in a session of its own)
        assert driver.wait() != 0
        for pid in trial_pids:
            wait_exit(pid)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    (server,) = kept_servers()
    assert server["trials_running"] == 0 and server["connections"] == 1  # the status request itself
    (folder,) = base.iterdir()
    trials = read_sweep(folder)["trials"]
    assert [t["status"] for t in trials] == ["running", "running"]  # no retry was started
    assert all(t.get("attempts") == 1 for t in trials)


def test_the_kept_server_ends_after_its_idle_time_and_removes_its_socket(tmp_path, runtime):
    _sweep(_probe_sweep(tmp_path), tmp_path / "a", keep_warm="0.2")
    (sock,) = runtime.glob("trials-*.sock")
    (server,) = kept_servers()
    wait_exit(server["pid"])
    assert not sock.exists()


def test_a_runtime_folder_others_can_write_is_refused_by_name(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    monkeypatch.setenv(RUNTIME_ENV, str(folder))
    with pytest.raises(TrialogError, match=f"{folder}.*chmod 700"):
        runtime_dir()


def test_keep_warm_must_be_seconds():
    with pytest.raises(ConfigError, match="keep_warm='soon'"):
        LocalSweeper(options={"keep_warm": "soon"})
    with pytest.raises(ConfigError, match="keep_warm"):
        LocalSweeper(options={"keep_warm": "-1"})


PEER = """
import json, os, socket, sys
os.setgid(65534)
os.setuid(65534)  # nobody
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    sock.connect(sys.argv[1])
except OSError as exc:
    print("refused:", exc.errno)
    sys.exit(0)
try:
    sock.sendall(json.dumps({"status": 1}).encode() + b"\\n")
    print("answer:", sock.recv(65536).decode() or "none")
except OSError:  # the server closed the connection unread: a reset
    print("answer: none")
"""


@pytest.fixture
def open_runtime(monkeypatch):
    """A runtime folder whose parents other users can pass (pytest's own folder is 0700): one in /tmp."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="trialog-rt-"))  # mode 0700
    monkeypatch.setenv(RUNTIME_ENV, str(folder))
    try:
        yield folder
    finally:
        for server in kept_servers(stop=True):
            if server.get("pid"):
                wait_exit(int(server["pid"]))
        shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="switches to the user nobody: needs root")
def test_another_user_gets_nothing_from_a_kept_server(tmp_path, open_runtime):
    _sweep(_probe_sweep(tmp_path), tmp_path / "a", keep_warm="60")
    (sock,) = open_runtime.glob("trials-*.sock")
    asked = [sys.executable, "-c", PEER, str(sock)]
    out = subprocess.run(asked, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "refused: 13"  # EACCES: the 0700 folder keeps other users out
    open_runtime.chmod(0o711)
    try:
        sock.chmod(0o777)  # even with the folder and the socket open to them, the server asks the kernel who
        out = subprocess.run(asked, capture_output=True, text=True, check=True).stdout
    finally:
        open_runtime.chmod(0o700)
    assert out.strip() == "answer: none"
