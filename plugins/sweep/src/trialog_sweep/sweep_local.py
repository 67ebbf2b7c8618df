"""The ``local`` sweeper: every trial a process forked from a warm trial server, N at a time.

The driver starts a trial server (:mod:`trialog_sweep.trialserver`) that imports trialog, the plugins, the
framework plugin (torch) and the user's modules once and forks each trial from there, with every
per-process state reset, so a trial's results are bitwise those of the trial run alone, and starting it
costs a fork instead of an interpreter and the torch import.

Crash isolation stays: a trial child that dies (a crash, SIGKILL, out of memory) takes nothing else
down and is started again with ``resume=<its run folder>`` up to ``max_failures`` times, so it continues
from its last checkpoint with trialog's exact resume; a server that dies is started again. The trials
die with the driver, and ``trialog sweep --resume SWEEP_DIR`` continues every trial that did not finish.

Options (``--option KEY=VALUE``):

* ``warm=0``: a fresh interpreter per trial instead (no server).
* ``keep_warm=SECONDS``: the trial server outlives the sweep by SECONDS idle, and the next sweep of the
  same config, python, environment and working folder forks its trials from it without importing
  anything (``trialog sweep servers [--stop]`` lists or ends the kept servers). Default 0: the server
  ends with its sweep.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from trialog.errors import ConfigError

from .sweep import Sweep, driver_options, seconds_option
from .trialserver import (
    PARENT_ENV,
    TrialServer,
    die_with_parent,
    preload,
    run_one,
    serve,
    trial_parser,
)

__all__ = ["LocalSweeper", "TrialServer", "main", "preload", "sweep_env"]

_OPTIONS = ("keep_warm", "warm")


class LocalSweeper:
    """Run a sweep's trials in ``parallel`` processes on this machine (forked from a warm trial server)."""

    name = "local"

    def __init__(
        self,
        parallel: int | None = None,
        address: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        options = driver_options(self.name, parallel, address, options, _OPTIONS)
        self.parallel = 1 if parallel is None else int(parallel)
        self.warm = str(options.get("warm", "1")).lower() not in ("0", "false", "no")
        self.keep_warm = seconds_option(options, "keep_warm", 0)
        self._server: TrialServer | None = None
        self._server_lock = threading.Lock()
        self._stopping = threading.Event()

    def run(self, sweep: Sweep) -> None:
        if sweep.spec.early_stopping is not None:
            raise ConfigError(
                "sweep key 'early_stopping': the local sweeper runs every trial to the end; use --sweeper ray "
                "for ASHA early stopping"
            )
        if sweep.spec.search != "random":
            raise ConfigError(f"sweep key 'search': {sweep.spec.search!r} needs --sweeper ray")
        todo = sweep.pending()
        self._stopping.clear()
        pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="trialog-sweep")
        try:
            for future in [pool.submit(self._trial, sweep, t["id"]) for t in todo]:
                future.result()
        except BaseException:  # Ctrl-C: no attempt starts any more, and the running trials end now
            self._stopping.set()
            raise
        finally:
            with self._server_lock:
                server, self._server = self._server, None
            if server is not None:
                server.close()  # a trial still running on it is killed (a kept server's too)
            pool.shutdown(wait=True, cancel_futures=True)

    def _start(self, sweep: Sweep, cmd: list[str], log: Path) -> int:
        """Run one attempt of a trial (``cmd``: the trial file and ``--resume``); its exit status."""
        if self._stopping.is_set():
            return 1 << 8
        if not self.warm:
            env = sweep_env(sweep)
            with open(log, "ab") as out:
                return subprocess.call(
                    [sys.executable, "-m", "trialog_sweep.sweep_local", *cmd],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
        with self._server_lock:
            if self._server is None or not self._server.alive():
                self._server = TrialServer(sweep, sweep_env(sweep), keep_warm=self.keep_warm)
            server = self._server
        return server.run(cmd, log)

    def _trial(self, sweep: Sweep, trial_id: str) -> None:
        trial = sweep.trial(trial_id)
        file = sweep.write_trial_file(trial)  # rewritten: it carries the sweep's recorded thread count
        log = sweep.folder / "trials" / f"{trial_id}.log"
        failures = 0
        while True:
            previous = sweep.run_folder(trial_id)
            sweep.update(
                trial_id, status="running", attempts=trial.get("attempts", 0) + 1, **sweep.collect(trial_id)
            )
            cmd = [str(file)]
            if previous is not None:
                cmd += ["--resume", str(previous)]
            rc = self._start(sweep, cmd, log)
            if rc != 0 and self._stopping.is_set():
                return  # interrupted: the trial stays 'running' and `trialog sweep --resume` continues it
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


def sweep_env(sweep: Sweep) -> dict[str, str]:
    """The environment of a sweep's trial processes: the sweep's thread count, the driver's pid."""
    from .trialproc import environment

    return environment(sweep.threads, {PARENT_ENV: str(os.getpid())})


def main(argv: list[str] | None = None) -> int:
    """``python -m trialog_sweep.sweep_local TRIAL_FILE [--resume RUN_DIR]``: one trial process (or a server)."""
    args: Any = trial_parser().parse_args(argv)
    if args.serve_fd is not None or args.listen_fd is not None:
        return serve(args)
    if args.trial_file is None:
        trial_parser().error("give a TRIAL_FILE")
    die_with_parent(int(os.environ.get(PARENT_ENV) or 0) or None)
    return run_one(args)


if __name__ == "__main__":
    sys.exit(main())
