"""A run's compute threads: ``TRIALOG_THREADS`` given to its process, recorded in run.json as ``threads``.

A process started with ``TRIALOG_THREADS=N`` (a sweep's trial: trialog-sweep sets it from the sweep's
``resources.cpu``) computes with N threads (``OMP_NUM_THREADS``/``MKL_NUM_THREADS``/``OPENBLAS_NUM_THREADS``
and, once torch is imported, ``torch.set_num_threads``); the Experiment records N in run.json and a resumed
run takes it from there, so a continued run computes with the threads it started with.
"""

from __future__ import annotations

import os
import sys

__all__ = ["THREADS_ENV", "THREAD_VARS", "apply_threads", "threads_from_env"]

#: Set in a trial process to the trial's thread count; the run records it in run.json as ``threads``.
THREADS_ENV = "TRIALOG_THREADS"
#: The environment variables that carry a process's thread count.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", THREADS_ENV)


def apply_threads(threads: int) -> None:
    """Give this process ``threads`` compute threads (the environment, and torch when it is imported)."""
    threads = max(1, int(threads))
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(threads)


def threads_from_env() -> int | None:
    """The process's thread count as it was given it (``TRIALOG_THREADS``), for run.json."""
    value = os.environ.get(THREADS_ENV)
    return int(value) if value and value.isdigit() and int(value) >= 1 else None
