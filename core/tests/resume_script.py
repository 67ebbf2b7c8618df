"""A small experiment run as a subprocess by test_resume.py: killed with SIGKILL at chosen points, then resumed.

Usage: python resume_script.py BASE_DIR N_EPOCHS MODE [KILL_EPOCH] [async]
MODE: full | kill-epoch (SIGKILL in the middle of KILL_EPOCH's training) | kill-checkpoint (SIGKILL while the
checkpoint of KILL_EPOCH is being written, half of it on disk) | resume (resume="last" and finish).
"""

from __future__ import annotations

import os
import random
import signal
import sys

import numpy as np

import trialog
from trialog.checkpoint.manager import NpzFormat


class Toy(trialog.Experiment):
    kill_epoch: int | None = None

    def setup(self) -> None:
        # Consumes RNG before training, so resume must restore RNG state after setup, not before.
        self.w = np.random.randn(4)

    def train(self, epoch: int) -> None:
        for i in range(4):
            self.w = self.w + 0.1 * np.random.randn(4) + random.random()
            self.add_result(float(np.abs(self.w).mean()), "loss", tag="train")
            if epoch == self.kill_epoch and i == 2 and MODE == "kill-epoch":
                os.kill(os.getpid(), signal.SIGKILL)

    def validate(self, epoch: int) -> None:
        self.add_result(float(self.w.sum() + random.gauss(0, 1)), "acc", counter=epoch, tag="val")

    def get_state(self) -> dict:
        return {"w": self.w, "note": "toy"}

    def set_state(self, state) -> None:
        self.w = np.array(state["w"])


def _kill_while_saving(experiment: Toy) -> None:
    original = NpzFormat.save

    def save(self, state, path):
        if experiment.epoch == experiment.kill_epoch:
            original(self, state, path)
            size = os.path.getsize(path)
            with open(path, "r+b") as fh:  # leave half a file, as a kill during the write would
                fh.truncate(size // 2)
            os.kill(os.getpid(), signal.SIGKILL)
        original(self, state, path)

    NpzFormat.save = save


if __name__ == "__main__":
    base_dir, n_epochs, MODE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    kill_epoch = int(sys.argv[4]) if len(sys.argv) > 4 else None
    async_save = "async" in sys.argv[5:]
    options = {"checkpoint": {"async_save": async_save}, "loggers": {}, "base_dir": base_dir}
    if MODE == "resume":
        exp = Toy(n_epochs=n_epochs, resume="last", **options)
    else:
        exp = Toy(name="toy", n_epochs=n_epochs, seed=123, **options)
    exp.kill_epoch = kill_epoch
    if MODE == "kill-checkpoint":
        _kill_while_saving(exp)
    exp.run()
    exp.close()
    print(exp.run_dir)
