"""The ``console`` entry of ``trialog.plugins``: a run says where it writes, how each epoch went and how it ended.

Registered through the core's own entry points like any third-party plugin. Plain lines on standard error
(``trialog: epoch 1/5  loss[train] 0.1216``), like a progress bar: they read the same in a terminal, a
notebook or a SLURM log, and standard output stays the program's. An epoch line shows the latest value of
each result added during that epoch. ``Experiment(quiet=True)`` silences it (the trainers draw their own
progress bars); blocking the plugin silences every run.
"""

from __future__ import annotations

import sys
import time
import weakref
from collections.abc import Mapping
from typing import Any

from trialog.hooks.markers import hookimpl
from trialog.results.direction import metric_mode

#: Per experiment: when it started and the result counts at the last epoch line.
_seen: weakref.WeakKeyDictionary[Any, tuple[float, dict[str, int]]] = weakref.WeakKeyDictionary()


def say(text: str) -> None:
    print(f"trialog: {text}", file=sys.stderr, flush=True)


def _quiet(experiment: Any) -> bool:
    return bool(getattr(experiment, "quiet", False))


def _summary(experiment: Any) -> Mapping[str, Mapping[str, Any]]:
    try:
        return experiment.results.summary()
    except Exception:  # a damaged results view must not take the run down; the run says so elsewhere
        return {}


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@hookimpl
def on_run_start(experiment: Any, run: Mapping[str, Any]) -> None:
    """Print the run folder (and where a resumed run continues)."""
    if _quiet(experiment):
        return
    _seen[experiment] = (
        time.monotonic(),
        {k: int(s.get("count", 0)) for k, s in _summary(experiment).items()},
    )
    where = getattr(experiment, "run_dir", "?")
    if run.get("resumed_from"):
        say(f"run {run.get('name')!r} resumed -> {where}")
    else:
        say(f"run {run.get('name')!r} -> {where}")


@hookimpl
def on_epoch_end(experiment: Any, epoch: int) -> None:
    """Print the epoch's latest values."""
    if _quiet(experiment):
        return
    started, counts = _seen.get(experiment, (time.monotonic(), {}))
    summary = _summary(experiment)
    fresh = {k: s for k, s in summary.items() if int(s.get("count", 0)) > counts.get(k, 0)}
    _seen[experiment] = (started, {k: int(s.get("count", 0)) for k, s in summary.items()})
    total = getattr(experiment, "n_epochs", 0)
    values = "  ".join(f"{k} {_number(s.get('last'))}" for k, s in sorted(fresh.items()))
    say(f"epoch {epoch + 1}/{total}  {values}".rstrip())


@hookimpl
def on_run_end(experiment: Any, run: Mapping[str, Any], summary: Mapping[str, Any]) -> None:
    """Print the final status and each result's last and best value."""
    if _quiet(experiment):
        return
    started, _ = _seen.pop(experiment, (None, {}))
    took = f" in {time.monotonic() - started:.1f} s" if started is not None else ""
    say(
        f"run {run.get('name')!r} {run.get('status', 'ended')}{took} -> {getattr(experiment, 'run_dir', '?')}"
    )
    rows = [(str(k), s) for k, s in summary.items() if isinstance(s, Mapping) and "last" in s]
    width = max((len(k) for k, _ in rows), default=0)
    for key, stats in sorted(rows):
        line = f"  {key:<{width}}  last {_number(stats.get('last'))}"
        if isinstance(stats.get("min"), (int, float)) and isinstance(stats.get("max"), (int, float)):
            mode = metric_mode(key.split("[")[0])
            line += f"   best {_number(stats[mode])} ({mode})"
        print(line, file=sys.stderr, flush=True)


@hookimpl
def on_run_error(experiment: Any, run: Mapping[str, Any], error: BaseException) -> None:
    """Say that the run failed, with what and where its folder is."""
    if _quiet(experiment):
        return
    _seen.pop(experiment, None)
    say(
        f"run {run.get('name')!r} failed: {type(error).__name__}: {error} -> {getattr(experiment, 'run_dir', '?')}"
    )
