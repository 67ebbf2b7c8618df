"""The ``local`` sweeper: every trial a ``python -m trialog.sweep_local`` process, N at a time.

A trial process that dies (a crash, SIGKILL, out of memory) is started again with
``resume=<its run folder>`` up to ``max_failures`` times, so it continues from its last checkpoint with
trialog's exact resume. Trial processes die with the sweep driver (``PR_SET_PDEATHSIG`` on Linux), and
``trialog sweep --resume SWEEP_DIR`` continues every trial that did not finish.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .sweep import Sweep, run_trial

__all__ = ["LocalSweeper", "main"]

_PARENT_ENV = "TRIALOG_SWEEP_PARENT"
_PR_SET_PDEATHSIG = 1


class LocalSweeper:
    """Run a sweep's trials in ``parallel`` worker processes on this machine."""

    name = "local"

    def __init__(self, parallel: int | None = None, address: str | None = None) -> None:
        if address:
            raise ConfigError("--address connects to a Ray cluster; use --sweeper ray with it")
        self.parallel = 1 if parallel is None else int(parallel)
        if self.parallel < 1:
            raise ConfigError(f"--parallel must be >= 1, got {parallel}")

    def run(self, sweep: Sweep) -> None:
        if sweep.spec.early_stopping is not None:
            raise ConfigError(
                "sweep key 'early_stopping': the local sweeper runs every trial to the end; use --sweeper ray "
                "for ASHA early stopping"
            )
        if sweep.spec.search != "random":
            raise ConfigError(f"sweep key 'search': {sweep.spec.search!r} needs --sweeper ray")
        todo = sweep.pending()
        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="trialog-sweep") as pool:
            for future in [pool.submit(self._trial, sweep, t["id"]) for t in todo]:
                future.result()

    def _trial(self, sweep: Sweep, trial_id: str) -> None:
        trial = sweep.trial(trial_id)
        file = sweep.trial_file(trial_id)
        if not file.is_file():
            sweep.write_trial_file(trial)
        log = sweep.folder / "trials" / f"{trial_id}.log"
        failures = 0
        while True:
            previous = sweep.run_folder(trial_id)
            sweep.update(
                trial_id, status="running", attempts=trial.get("attempts", 0) + 1, **sweep.collect(trial_id)
            )
            cmd = [sys.executable, "-m", "trialog.sweep_local", str(file)]
            if previous is not None:
                cmd += ["--resume", str(previous)]
            env = dict(os.environ, **{_PARENT_ENV: str(os.getpid())})
            # N trials each starting a thread per core (torch, numpy's BLAS) would fight over the cores.
            env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // self.parallel)))
            with open(log, "ab") as out:
                rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
            fields = sweep.collect(trial_id)
            if rc == 0:
                sweep.update(trial_id, status="finished", error=None, **fields)
                return
            failures += 1
            why = f"exit status {rc}" if rc > 0 else f"killed by signal {-rc}"
            if failures > sweep.spec.max_failures:
                sweep.update(trial_id, status="error", error=f"{why}; see {log}", **fields)
                return
            sweep.update(trial_id, error=f"attempt {failures}: {why}; retrying", **fields)


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when the sweep driver dies (Linux; elsewhere a no-op)."""
    parent = os.environ.get(_PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):  # the driver died before prctl took effect
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    """``python -m trialog.sweep_local TRIAL_FILE [--resume RUN_DIR]``: one trial process."""
    parser = argparse.ArgumentParser(prog="python -m trialog.sweep_local")
    parser.add_argument("trial_file", type=Path)
    parser.add_argument("--resume", type=Path)
    args: Any = parser.parse_args(argv)
    _die_with_parent()
    run_dir = run_trial(args.trial_file, resume=args.resume)
    print(f"run folder: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
