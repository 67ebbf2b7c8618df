"""The per-process state of a sweep trial: its thread settings and the reset before a trial starts.

A trial's numbers must not depend on what ran before it in the same process, nor on how many trials
share the machine. Two things decide that here:

* **threads**: every trial of a sweep runs with the sweep's own recorded thread count (``threads`` in
  ``sweep.json``'s ``options``, from the sweep's ``resources.cpu``; never from ``--parallel``). It is set
  as ``OMP_NUM_THREADS``/``MKL_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` and, when torch is imported, by
  ``torch.set_num_threads``; the run records it as ``threads`` in its ``run.json`` and a resumed trial
  takes it from there, so a continued trial computes with the threads it started with (the core's
  ``trialog.api.threads`` applies and records it; this module adds what only a sweep needs).
* **reset**: a trial started in a warm process (a fork of the local sweeper's preloaded server, a reused
  Ray worker) first gets a fresh process's state: fresh unseeded RNGs (python, numpy, torch), no
  plugin-registered hook objects left by an earlier trial, logging's handlers and levels as the warm
  process had them, the environment as it was, and the thread settings above.
"""

from __future__ import annotations

import logging
import os
import random
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialog.api import threads as _threads

__all__ = [
    "THREADS_ENV",
    "ProcessSnapshot",
    "apply_threads",
    "environment",
    "recorded_threads",
    "threads_from_env",
]

#: Set in a trial process to the trial's thread count; the run records it in run.json as ``threads``.
THREADS_ENV = _threads.THREADS_ENV
apply_threads = _threads.apply_threads
threads_from_env = _threads.threads_from_env


def recorded_threads(run_dir: str | os.PathLike[str] | None) -> int | None:
    """The thread count a trial's run folder recorded in its run.json (None: none recorded)."""
    if run_dir is None:
        return None
    import json

    try:
        value = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8")).get("threads")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


class ProcessSnapshot:
    """What a warm process looks like before any trial ran; :meth:`reset` puts it back before each trial."""

    def __init__(self) -> None:
        from trialog.api import plugins

        plugins.get_plugin_manager()  # built now: its own plugins are the warm process's
        self.environ: Mapping[str, str] = dict(os.environ)
        root = logging.getLogger()
        self.root_handlers = list(root.handlers)
        self.root_level = root.level
        self.loggers = {
            name: (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
            for name, logger in logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger)
        }
        self.plugin_names = _plugin_names()

    def reset(self, threads: int | None = None, environ: Mapping[str, str] | None = None) -> None:
        """Fresh RNGs, the warm process's logging, environment and plugins, and ``threads`` threads.

        ``threads`` None: the thread count the warm process had (its environment's ``TRIALOG_THREADS``).
        ``environ``: the environment to start from instead of the warm process's (a kept-warm server's
        trial takes its driver's).
        """
        os.environ.clear()
        os.environ.update(self.environ if environ is None else environ)
        root = logging.getLogger()
        root.handlers[:] = self.root_handlers
        root.setLevel(self.root_level)
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if not isinstance(logger, logging.Logger):
                continue
            level, handlers, propagate, disabled = self.loggers.get(name, (logging.NOTSET, [], True, False))
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate, logger.disabled = propagate, disabled
        _unregister_plugins_except(self.plugin_names)
        _fresh_rngs()
        threads = threads or threads_from_env()
        if threads is not None:
            apply_threads(threads)


def _plugin_names() -> set[str]:
    from trialog.api import plugins

    return {name for name, _ in plugins.get_plugin_manager().list_name_plugin()}


def _unregister_plugins_except(names: set[str]) -> None:
    from trialog.api import plugins

    manager = plugins.get_plugin_manager()
    for name, plugin in list(manager.list_name_plugin()):
        if name not in names:
            manager.unregister(plugin, name=name)


def _fresh_rngs() -> None:
    """Seed every global RNG from the OS, as a fresh interpreter does (trials seed their own)."""
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "seed"):
        torch.seed()


def environment(threads: int, extra: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The environment of a trial process with ``threads`` threads (a copy of this one's)."""
    env = dict(os.environ, **(extra or {}))
    for var in _threads.THREAD_VARS:
        env[var] = str(max(1, int(threads)))
    return env
