"""trialog-sweep: hyperparameter sweeps for trialog, every trial a resumable trialog run.

What it brings (registered through entry points, like any third-party plugin):

- ``trialog sweep CONFIG`` / ``--resume SWEEP_DIR`` / ``show`` / ``run`` (the ``sweep`` entry of
  ``trialog.plugins``, :mod:`trialog_sweep.hooks`, adds the command), and registered trials
  (:mod:`trialog_sweep.registered`);
- the ``trialog.sweepers`` entry-point group and its contract, :class:`Sweeper`; the ``local`` sweeper
  (:mod:`trialog_sweep.sweep_local`); trialog-ray and trialog-submitit add ``ray`` and ``submitit``;
- the search-space language, the trial list and ``sweep.json`` (:mod:`trialog_sweep.sweep`), the console
  lines every sweeper shares (:mod:`trialog_sweep.sweep_console`) and a trial process's reset
  (:mod:`trialog_sweep.trialproc`).

A trial whose sweep names an ``experiment`` class runs that Experiment; any other trial's config runs
through the core's ``run_config`` hook, which a framework plugin implements (trialog-torch: what
``trialog run`` does).
"""

from __future__ import annotations

from .sweep import (
    GROUP,
    SWEEP_FILE,
    Sweep,
    Sweeper,
    SweepSpec,
    best_trial,
    load_spec,
    open_sweep,
    read_sweep,
    run_config_file,
    run_trial,
    sweeper_class,
)
from .trialproc import ProcessSnapshot

__all__ = [
    "GROUP",
    "SWEEP_FILE",
    "ProcessSnapshot",
    "Sweep",
    "SweepSpec",
    "Sweeper",
    "best_trial",
    "load_spec",
    "open_sweep",
    "read_sweep",
    "run_config_file",
    "run_trial",
    "sweeper_class",
]
