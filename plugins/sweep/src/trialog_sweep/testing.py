"""Helpers for testing sweepers (trialog-sweep's own tests, trialog-ray's, trialog-submitit's, yours).

A toy sweep whose trials are a few-step Experiment (``write_toy_sweep``), a trial stopped mid-epoch at a
FIFO gate (``read_gate`` hands the test the trial's pid, so it can kill it there), waiting for a process
to exit (``wait_exit``), a tiny digits grid (``write_digits_sweep``, trials through trialog-torch) and a
run's records as comparable tuples (``records``). Synchronisation is on
events (a FIFO, a pidfd); the only timeout bounds a hang.
"""

from __future__ import annotations

import os
import select
from pathlib import Path
from typing import Any

from trialog.api import write_json

__all__ = [
    "DIGITS_LR",
    "HANG",
    "TOY_EXPERIMENT",
    "read_gate",
    "records",
    "wait_exit",
    "write_digits_sweep",
    "write_toy_sweep",
]

HANG = 600  # seconds: bounds only a hang

#: The source of ``toyexp.py``: the ``Toy`` Experiment a toy sweep's trials run.
TOY_EXPERIMENT = '''
import os
import random

import numpy as np

from trialog import Experiment


class Toy(Experiment):
    """Noisy steps towards 3; with config gate (a FIFO) it reports its pid there mid-epoch 1 and waits."""

    def setup(self):
        self.w = float(self.config["w0"])

    def train(self, epoch):
        for step in range(5):
            gate = self.config.get("gate")
            if epoch == 1 and step == 2 and gate and os.path.exists(gate):
                with open(gate, "w") as fh:  # blocks until the test opens the FIFO for reading
                    fh.write(str(os.getpid()))
            noise = np.random.normal() * 0.01 + random.random() * 0.001
            self.w -= self.config["lr"] * (self.w - 3) + noise
            self.add_result(self.w, "w", tag="train")

    def validate(self, epoch):
        self.add_result(abs(self.w - 3), "error", tag="val")

    def get_state(self):
        return {"w": self.w}

    def set_state(self, state):
        self.w = float(state["w"])
'''


def write_toy_sweep(folder: Path, sweep: dict[str, Any], **base: Any) -> Path:
    """A sweep file of the Toy experiment (3 epochs, metric ``error``, min) in ``folder``, with ``toyexp.py``.

    ``sweep``: keys of the sweep block (``grid``, ``repeat``, ...); ``base``: keys of the base config.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toyexp.py").write_text(TOY_EXPERIMENT)
    config = {"name": "toy", "n_epochs": 3, "lr": 0.1, "w0": 0.0, "gate": None, "seed": 5, **base}
    config["sweep"] = {"experiment": "toyexp:Toy", "metric": "error", "mode": "min", **sweep}
    path = folder / "sweep.json"
    write_json(path, config)
    return path


#: The learning-rate key of the digits example's config (examples/digits/config.json).
DIGITS_LR = "trainer.optimization.optimizer.params.lr"


def write_digits_sweep(folder: Path, config: Path, name: str, rates: list[float], epochs: int = 1) -> Path:
    """A grid over ``rates`` of a tiny digits model (``config``: examples/digits/config.json), ``epochs`` long.

    Each trial checkpoints every epoch and logs to no logger; the metric is ``val/accuracy`` (max).
    """
    spec = {
        "sweep": {
            "config": str(config),
            "name": name,
            "grid": {DIGITS_LR: list(rates)},
            "set": {
                "trainer.epochs": epochs,
                "trainer.save_freq": 1,
                "trainer.optimization.scheduler.params.T_max": epochs,
                "model.params.channels": 4,
                "model.params.hidden": 16,
                "loggers": {},
            },
            "metric": "val/accuracy",
            "mode": "max",
        }
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.json"
    write_json(path, spec)
    return path


def records(run_dir: Path) -> list[tuple[Any, ...]]:
    """A run's result records as ``(name, tag, epoch, counter, value)`` tuples (bitwise comparable)."""
    from trialog.api import Run

    return [
        (r["name"], r.get("tag"), r.get("epoch"), r.get("counter"), r["value"]) for r in Run(run_dir).records
    ]


def read_gate(gate: Path) -> int:
    """Wait for a trial to write its pid into the FIFO ``gate``; return it (a trial that never comes fails)."""
    fd = os.open(gate, os.O_RDONLY | os.O_NONBLOCK)
    try:
        ready, _, _ = select.select([fd], [], [], HANG)
        assert ready, f"no trial reached {gate}"
        os.set_blocking(fd, True)
        data = b""
        while chunk := os.read(fd, 64):
            data += chunk
    finally:
        os.close(fd)
    return int(data)


def wait_exit(pid: int) -> None:
    """Block until process ``pid`` is gone (a pidfd becomes readable when it exits)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        select.select([fd], [], [])
    finally:
        os.close(fd)
