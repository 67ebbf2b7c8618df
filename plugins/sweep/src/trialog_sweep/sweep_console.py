"""What ``trialog sweep`` says while it runs: each trial as it starts and ends, and the running best.

Every sweeper records a trial's progress in sweep.json through :meth:`trialog_sweep.sweep.Sweep.update`
(local, ray and submitit alike); that one place tells the active :class:`SweepConsole` what changed,
so every sweeper talks the same way without printing anything itself. Plain lines on standard error,
like the ``console`` plugin of a single run (standard output keeps the final table)::

    trialog: trial t0001 started [1/3 done]: lr=0.2
    trialog: trial t0001 finished [2/3 done]: error=0.0134 (its min 0.0121) -> runs/.../toy_t0001
    trialog: best so far: t0000 error=0.0109 (min) lr=0.05 -> runs/.../toy_t0000
    trialog: trial t0002: attempt 1: exit status 1; retrying
    trialog: trial t0002 failed [3/3 done]: exit status 1; see .../trials/t0002.log

``trialog sweep --quiet`` (and ``trialog sweep run --quiet``) runs without a console. Programs that
drive a sweeper themselves get the same lines inside ``with talking():``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["SweepConsole", "active", "talking"]


def say(text: str) -> None:
    print(f"trialog: {text}", file=sys.stderr, flush=True)  # the console plugin's lines, for a sweep


_ENDED = ("finished", "error")
_lock = threading.Lock()
_active: SweepConsole | None = None


class SweepConsole:
    """Turns one trial's change (its sweep.json entry before and after) into lines on standard error."""

    def changed(self, sweep: Any, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        """Called by ``Sweep.update`` (under the sweep's lock) after sweep.json was rewritten."""
        from .sweep import format_value, trial_metric

        status = after.get("status")
        trial_id = after.get("id")
        params = " ".join(f"{k}={format_value(v)}" for k, v in sorted((after.get("params") or {}).items()))
        where = f" -> {sweep.folder / after['run']}" if after.get("run") else ""
        counted = [t for t in sweep.trials if t.get("status") != "registered"]
        done = f"[{sum(t.get('status') in _ENDED for t in counted)}/{len(counted)} done]"
        started = status == "running" and (
            before.get("status") != "running" or (after.get("attempts") or 0) > (before.get("attempts") or 0)
        )
        if started:
            attempt = int(after.get("attempts") or 1)
            again = f" (attempt {attempt})" if attempt > 1 else ""
            say(f"trial {trial_id} started{again} {done}: {params or '(no parameters)'}{where}")
        elif status == "running" and after.get("error") and after.get("error") != before.get("error"):
            say(f"trial {trial_id}: {after['error']}")
        if status == before.get("status") or status not in _ENDED:
            return
        metric = sweep.spec.metric
        if status == "finished":
            value = trial_metric(after)
            result = f"{metric}={format_value(value)}" if metric else "no metric set"
            best = after.get("best_metric")
            if metric and best is not None and best != value:
                result += f" (its {sweep.spec.mode} {format_value(best)})"
            say(f"trial {trial_id} finished {done}: {result}{where}")
        else:
            say(f"trial {trial_id} failed {done}: {after.get('error') or 'no reason recorded'}{where}")
        self.best(sweep)

    def best(self, sweep: Any) -> None:
        """The running best: the best finished trial so far (sweep.json's ``best``)."""
        from .sweep import format_value

        best = sweep.data.get("best")
        metric = sweep.spec.metric
        if not metric:
            return
        if not best:
            say(f"best so far: none (no finished trial with {metric})")
            return
        params = " ".join(f"{k}={format_value(v)}" for k, v in sorted((best.get("params") or {}).items()))
        where = f" -> {sweep.folder / best['run']}" if best.get("run") else ""
        say(
            f"best so far: {best['id']} {metric}={format_value(best.get('metric'))} ({sweep.spec.mode}) {params}{where}"
        )


def active() -> SweepConsole | None:
    """The console sweeps in this process talk to (None: they are quiet, the default outside the CLI)."""
    return _active


@contextlib.contextmanager
def talking(quiet: bool = False) -> Iterator[SweepConsole | None]:
    """Within the block, every sweep of this process prints its trials (nothing when ``quiet``)."""
    global _active
    console = None if quiet else SweepConsole()
    with _lock:
        previous, _active = _active, console
    try:
        yield console
    finally:
        with _lock:
            _active = previous


def report(sweep: Any, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """Tell the active console (if any) about one trial's change; a console error never stops a sweep."""
    console = _active
    if console is None:
        return
    with contextlib.suppress(OSError, ValueError):  # a closed or broken stderr
        console.changed(sweep, before, after)
