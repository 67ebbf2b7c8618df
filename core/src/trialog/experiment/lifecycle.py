"""The one lifecycle driver: the order of an experiment's stages, for every loop that runs one.

:meth:`Experiment.run`, :meth:`Experiment.run_test` and trialog-torch's ``Trainer.fit`` all call
:func:`drive_lifecycle`::

    begin_run → before() → restore_resumed → [begin_epoch → epoch(e) → end_epoch]* → end() → wait_checkpoints
    → finish_run                       (KeyboardInterrupt/SystemExit → fail_run "killed", Exception → "error")

``exp`` may be None (a DDP rank other than 0, which writes nothing): the loop then runs without the
experiment's stages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Stages(Protocol):
    """What the driver calls on an experiment (:class:`trialog.Experiment` is one)."""

    n_epochs: int
    start_epoch: int
    _run_lock: Any

    @property
    def stop_requested(self) -> bool: ...

    def begin_run(self) -> None: ...
    def restore_resumed(self, full: bool = True) -> int: ...
    def begin_epoch(self, epoch: int) -> None: ...
    def end_epoch(self, epoch: int) -> None: ...
    def wait_checkpoints(self) -> None: ...
    def finish_run(self, status: str | None = None) -> None: ...
    def fail_run(self, exc: BaseException, status: str = "error") -> None: ...


def drive_lifecycle(
    exp: Stages | None,
    *,
    before: Callable[[], None] | None = None,
    full_restore: bool = True,
    start: Callable[[int], int] | None = None,
    epoch: Callable[[int], None] | None = None,
    n_epochs: int | None = None,
    stop: Callable[[], bool] | None = None,
    end: Callable[[], None] | None = None,
    status: str | None = None,
) -> None:
    """Run ``exp``'s lifecycle around the caller's stages.

    ``before``: after ``begin_run``, before the restore (setup, prepare). ``full_restore``: a resumed run
    (results, RNGs, start epoch) or only the state (a test). ``start(first_epoch)``: may change the epoch
    the loop starts at (a DDP broadcast). ``epoch(e)``: one epoch's work, for ``e`` in ``[start,
    n_epochs)`` (default ``exp.n_epochs``); without it there is no epoch loop (a test).
    ``stop()``: checked after each epoch (default ``exp.stop_requested``). ``end``: after the loop.
    ``status``: the final status (default "stopped" after a stop, else "finished").
    """
    try:
        first = 0
        if exp is not None:
            exp.begin_run()
        if before is not None:
            before()
        if exp is not None:
            first = exp.restore_resumed(full=full_restore)
        if start is not None:
            first = start(first)
        if epoch is not None:
            last = n_epochs if n_epochs is not None else (exp.n_epochs if exp is not None else 0)
            stopping = stop if stop is not None else (lambda: exp is not None and exp.stop_requested)
            for e in range(first, last):
                if exp is not None:
                    exp.begin_epoch(e)
                epoch(e)
                if exp is not None:
                    exp.end_epoch(e)
                if stopping():
                    break
            if exp is not None:
                exp.start_epoch = exp.n_epochs
        if end is not None:
            end()
        if exp is not None:
            exp.wait_checkpoints()  # an asynchronous save that failed fails the run
    except (KeyboardInterrupt, SystemExit) as exc:  # SystemExit: a requeue signal's handler, sys.exit()
        if exp is not None:
            exp.fail_run(exc, "killed")
        raise
    except Exception as exc:
        if exp is not None:
            exp.fail_run(exc, "error")
        raise
    if exp is not None:
        finish_or_fail(exp, status)


def finish_or_fail(exp: Stages, status: str | None = None) -> None:
    """``exp.finish_run(status)``; if it fails before the run is recorded as ended (a subclass's end
    checkpoint, a full disk), the run is failed with that error instead, so its lock is released either way."""
    try:
        exp.finish_run(status)
    except BaseException as exc:
        if exp._run_lock.held:
            exp.fail_run(exc, "killed" if isinstance(exc, KeyboardInterrupt) else "error")
        raise


__all__ = ["Stages", "drive_lifecycle", "finish_or_fail"]
