"""A run killed with SIGKILL at chosen points and resumed, for ``test_kill_resume.py`` (a subprocess per attempt).

Usage: python kill_resume_script.py BASE_DIR SETTINGS_JSON

SETTINGS: ``kind`` ("plain" or "torch"), ``counters`` (pass explicit counters), ``every`` (the loggers'
frequency), ``epochs``, ``batches``, ``kill`` ([epoch, batch, flushed] to SIGKILL this process at, just after
that batch's values were logged, and with ``flushed`` after the loggers wrote everything logged so far,
past the last checkpoint too, the worst case for a resume; null: run to the end) and ``resume`` (resume
the newest run in BASE_DIR; with ``new_folder`` into a new run folder).
The script prints its run folder when it finishes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys

import numpy as np

import trialog

BASE, SETTINGS = sys.argv[1], json.loads(sys.argv[2])
EVERY = SETTINGS["every"]
LOGGERS = {
    # plot_every_s: curves are redrawn while the run goes (and at a resume), as in a real run
    "file": {"type": "file", "plot_every_s": 0.05, "every": EVERY},
    "tb": {"type": "tensorboard", "every": EVERY, "flush_secs": 0.05},
}


class Steps:
    """The logging of one batch, shared by both experiment kinds: train values with and without a tag."""

    def log_batch(self, exp: trialog.Experiment, epoch: int, batch: int, loss: float) -> None:
        step = epoch * SETTINGS["batches"] + batch
        counter = step if SETTINGS["counters"] else None
        exp.add_result(loss, "loss", counter=counter, tag="train")
        exp.add_result(random.random(), "noise", counter=counter)
        exp.clog.show_value(loss * 2, "double", counter=counter, tag="train")  # a value that is no result
        kill = SETTINGS["kill"]
        if kill is not None and kill[:2] == [epoch, batch]:
            if kill[2]:
                exp.clog.flush()
                exp.clog.wait_idle(600)
            os.kill(os.getpid(), signal.SIGKILL)

    def log_epoch(self, exp: trialog.Experiment, epoch: int, accuracy: float) -> None:
        exp.add_result(accuracy, "accuracy", counter=epoch if SETTINGS["counters"] else None, tag="val")


class Plain(trialog.Experiment, Steps):
    def setup(self) -> None:
        self.w = np.random.randn(4)

    def train(self, epoch: int) -> None:
        for batch in range(SETTINGS["batches"]):
            self.w = self.w + 0.1 * np.random.randn(4)
            self.log_batch(self, epoch, batch, float(np.abs(self.w).mean()))

    def validate(self, epoch: int) -> None:
        self.log_epoch(self, epoch, float(np.tanh(self.w.sum())))

    def get_state(self) -> dict:
        return {"w": self.w}

    def set_state(self, state) -> None:
        self.w = np.array(state["w"])


def torch_experiment() -> type:
    import torch
    from trialog_torch import TorchExperiment

    class Torch(TorchExperiment, Steps):
        def setup(self) -> None:
            self.model = torch.nn.Linear(3, 1)
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05)

        def train(self, epoch: int) -> None:
            for batch in range(SETTINGS["batches"]):
                x = torch.randn(8, 3)
                loss = ((self.model(x) - x.sum(1, keepdim=True)) ** 2).mean()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.log_batch(self, epoch, batch, float(loss.item()))

        def validate(self, epoch: int) -> None:
            with torch.no_grad():
                x = torch.randn(16, 3)
                error = ((self.model(x) - x.sum(1, keepdim=True)) ** 2).mean()
            self.log_epoch(self, epoch, float(1.0 / (1.0 + error.item())))

    return Torch


if __name__ == "__main__":
    cls = torch_experiment() if SETTINGS["kind"] == "torch" else Plain
    options = {"base_dir": BASE, "loggers": LOGGERS, "save_sources": False, "n_epochs": SETTINGS["epochs"]}
    if SETTINGS["resume"]:
        exp = cls(resume="last", resume_new_folder=SETTINGS.get("new_folder", False), **options)
    else:
        exp = cls(name="killed", seed=7, **options)
    exp.run()
    exp.close()
    print(exp.run_dir)
