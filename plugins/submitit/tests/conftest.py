"""A toy sweep, a FIFO gate that stops a trial mid-epoch, and a real single-node SLURM (root only)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from trialog_sweep.testing import HANG, read_gate

__all__ = ["HANG", "read_gate"]  # the sweep tests' helpers, from trialog-sweep

WALK = '''
import os

import numpy as np

from trialog import Experiment


class Walk(Experiment):
    """A noisy walk towards 2; with config gate (a FIFO) it writes its pid there mid-epoch 1 and waits;
    with a FIFO gate.go beside it, it then waits until the test releases it (release_gate)."""

    def setup(self):
        self.x = 0.0

    def train(self, epoch):
        for step in range(4):
            gate = self.config.get("gate")
            if epoch == 1 and step == 1 and gate and os.path.exists(gate):
                with open(gate, "w") as fh:  # blocks until the test opens the FIFO for reading
                    fh.write(str(os.getpid()))
                if os.path.exists(gate + ".go"):
                    with open(gate + ".go") as fh:  # and waits here until the test releases it
                        fh.read()
            self.x += self.config["lr"] * (2 - self.x) + np.random.normal() * 0.01
            self.add_result(self.x, "x", tag="train")

    def validate(self, epoch):
        self.add_result(abs(self.x - 2), "gap", tag="val")

    def get_state(self):
        return {"x": self.x}

    def set_state(self, state):
        self.x = float(state["x"])
'''


def write_sweep(folder: Path, sweep: dict, **base) -> Path:
    """A sweep of the Walk experiment (3 epochs) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "walk.py").write_text(WALK)
    config = {"name": "walk", "n_epochs": 3, "lr": 0.3, "gate": None, "seed": 1, **base}
    config["sweep"] = {"experiment": "walk:Walk", "metric": "gap", "mode": "min", **sweep}
    path = folder / "sweep.json"
    path.write_text(json.dumps(config))
    return path


def make_gate(folder: Path, hold: bool = False, name: str = "gate") -> Path:
    """A gate FIFO (and, ``hold``, its release FIFO: a trial past the gate waits until release_gate)."""
    gate = folder / name
    os.mkfifo(gate)
    if hold:
        os.mkfifo(folder / f"{name}.go")
    return gate


def release_gate(gate: Path) -> None:
    """Let one trial that waits on ``gate``'s release FIFO go on."""
    with open(str(gate) + ".go", "w") as fh:
        fh.write("go")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SLURM_CONF = """\
ClusterName=trialogtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/munge
AuthInfo=socket={dir}/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
KillWait=2
MinJobAge=3600
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
NodeName={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """munged, slurmctld and slurmd on 127.0.0.1 from a temporary folder, as root; stopped after."""
    missing = [b for b in ("munged", "slurmctld", "slurmd", "sbatch", "scontrol") if shutil.which(b) is None]
    for sbin in ("/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd"):
        if Path(sbin).is_file() and Path(sbin).name in missing:
            missing.remove(Path(sbin).name)
    if missing:
        pytest.skip(f"no SLURM here: {', '.join(missing)} not installed (Debian: slurm-wlm munge)")
    if os.geteuid() != 0:
        pytest.skip("a test SLURM runs its daemons as root (SlurmUser=root); run as root")
    folder = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool"):
        (folder / sub).mkdir()
    key = folder / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    host = socket.gethostname().split(".")[0]
    conf = folder / "slurm.conf"
    conf.write_text(SLURM_CONF.format(host=host, dir=folder, ctld_port=_free_port(), d_port=_free_port()))
    env = dict(os.environ, SLURM_CONF=str(conf))
    sbin = "/usr/sbin"
    procs = []
    log = open(folder / "daemons.log", "ab")
    try:
        munge_args = [f"--socket={folder}/munge.sock", f"--key-file={key}", f"--pid-file={folder}/munged.pid"]
        munge_args += [f"--log-file={folder}/munged.log", f"--seed-file={folder}/munge.seed"]
        procs.append(
            subprocess.Popen([f"{sbin}/munged", "-F", "--force", *munge_args], stdout=log, stderr=log)
        )
        _wait_for(lambda: (folder / "munge.sock").exists(), "munged's socket", procs)
        procs.append(subprocess.Popen([f"{sbin}/slurmctld", "-D", "-i"], env=env, stdout=log, stderr=log))
        procs.append(subprocess.Popen([f"{sbin}/slurmd", "-D"], env=env, stdout=log, stderr=log))

        def idle() -> bool:
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
            return out.stdout.strip() == "idle"

        _wait_for(idle, "the SLURM node to be idle", procs)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SLURM_CONF", str(conf))
            yield folder
    finally:
        for proc in reversed(procs):  # only the daemons this fixture started, by pid
            proc.terminate()
            try:
                proc.wait(HANG)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _wait_for(ready, what: str, procs: list) -> None:
    deadline = time.monotonic() + HANG
    while not ready():
        dead = [p.args[0] for p in procs if p.poll() is not None]
        if dead:
            pytest.fail(f"SLURM did not start: {', '.join(dead)} exited (see the fixture's daemons.log)")
        assert time.monotonic() < deadline, f"waited {HANG} s for {what}"
        time.sleep(0.2)
