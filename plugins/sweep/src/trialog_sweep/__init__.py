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

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> the module that defines it (imported on first use: the ``sweep`` plugin entry,
#: :mod:`trialog_sweep.hooks`, is loaded with every plugin manager and must stay cheap)
_LAZY = {
    "GROUP": "sweep",
    "SWEEP_FILE": "sweep",
    "Sweep": "sweep",
    "SweepSpec": "sweep",
    "Sweeper": "sweep",
    "best_trial": "sweep",
    "driver_options": "sweep",
    "seconds_option": "sweep",
    "load_spec": "sweep",
    "open_sweep": "sweep",
    "read_sweep": "sweep",
    "run_config_file": "sweep",
    "run_trial": "sweep",
    "sweeper_class": "sweep",
    "ProcessSnapshot": "trialproc",
}

__all__ = [
    "GROUP",
    "SWEEP_FILE",
    "ProcessSnapshot",
    "Sweep",
    "SweepSpec",
    "Sweeper",
    "best_trial",
    "driver_options",
    "load_spec",
    "open_sweep",
    "read_sweep",
    "run_config_file",
    "run_trial",
    "seconds_option",
    "sweeper_class",
]

if TYPE_CHECKING:  # pragma: no cover
    from .sweep import (
        GROUP,
        SWEEP_FILE,
        Sweep,
        Sweeper,
        SweepSpec,
        best_trial,
        driver_options,
        load_spec,
        open_sweep,
        read_sweep,
        run_config_file,
        run_trial,
        seconds_option,
        sweeper_class,
    )
    from .trialproc import ProcessSnapshot


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'trialog_sweep' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"trialog_sweep.{where}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
