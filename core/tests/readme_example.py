"""The README's "Use" example, verbatim but for the loggers, run as a subprocess by test_readme_resume.py.

Usage: python readme_example.py BASE_DIR full | kill EPOCH STEP | resume
``kill`` sends SIGKILL to itself at step STEP of epoch EPOCH's training; ``resume`` continues "last".
Nothing here overrides get_state/set_state: ``self.w`` survives the kill as a "simple" attribute.
"""

from __future__ import annotations

import os
import signal
import sys

from trialog import Experiment

KILL_AT: tuple[int, int] | None = None


class MyExperiment(Experiment):
    def setup(self):
        self.w = 0.0

    def train(self, epoch):
        for step in range(100):
            if (epoch, step) == KILL_AT:
                os.kill(os.getpid(), signal.SIGKILL)
            loss = (self.w - 3) ** 2
            self.w -= 0.01 * 2 * (self.w - 3)
            self.add_result(loss, "loss", tag="train")

    def validate(self, epoch):
        self.add_result(abs(self.w - 3), "error", tag="val")


if __name__ == "__main__":
    base_dir, mode = sys.argv[1], sys.argv[2]
    if mode == "kill":
        KILL_AT = (int(sys.argv[3]), int(sys.argv[4]))
    options = {
        "config": {"lr": 0.01},
        "n_epochs": 5,
        "base_dir": base_dir,
        "loggers": {},
        "save_sources": False,
    }
    if mode == "resume":
        exp = MyExperiment(resume="last", **options)
    else:
        exp = MyExperiment(name="toy", **options)
    exp.run()
    exp.close()
