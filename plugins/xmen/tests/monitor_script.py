"""A loop of one's own driven by a trialog.Monitor, run as a subprocess by test_monitor.py.

Usage: python monitor_script.py BASE_DIR MODE — MODE: full | kill (SIGKILL at step 3 of the third epoch,
after the second epoch's checkpoint) | resume (resume="last" and finish).

Two nested wrapped loops (epochs of 5 steps); ``loss@3s`` crosses epoch boundaries, ``acc@2e`` fires every
other epoch, a hook ``^s$@4s`` records the steps it sees, the checkpoint is taken every epoch and the run
stops at 4 epochs through ``limit``, however many the loop would give.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys

import trialog


class Steps(trialog.MonitorHook):
    def __call__(self, monitor, values, trigger, count):
        monitor.experiment.add_result(values["s"], "hooked", counter=count)


def main(base: str, mode: str) -> None:
    exp = trialog.Experiment(
        name="mon", base_dir=base, loggers={}, resume="last" if mode == "resume" else None
    )
    m = trialog.Monitor(
        exp, log=("loss@3s", "acc@2e"), checkpoint="@1e", limit="@4e", hooks=[Steps("^s$@4s")]
    )
    exp.begin_run()
    exp.restore_resumed()
    for epoch in m(itertools.count(m.epoch)):
        exp.begin_epoch(epoch)
        for i in m(range(5)):
            s = m.step + 1  # the step this iteration counts
            loss = 100 * epoch + i
            m.log(locals())
            if mode == "kill" and epoch == 2 and i == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        m.log(acc=float(epoch))
    exp.finish_run()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
