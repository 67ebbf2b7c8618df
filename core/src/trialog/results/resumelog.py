"""Resume checks of the results log: a checkpoint may only be resumed when the log still holds every record
it had when the checkpoint was taken; otherwise a :class:`~trialog.errors.ResultsLostError` says what was
lost and the ways on (README, "Lost results on resume are named"). A deleted log is never recreated empty.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from typing import Any

from trialog.errors import CheckpointError, ResultsLostError, TrialogWarning

#: How many older checkpoints are opened to find one the log still covers.
MAX_CANDIDATES = 32

__all__ = ["MAX_CANDIDATES", "check_results_cover", "count_records"]


def count_records(log: Path, stop: int) -> int:
    """Complete records (lines) in the first ``stop`` bytes of ``log`` (0 for a missing log)."""
    count = 0
    with contextlib.suppress(FileNotFoundError), open(log, "rb") as fh:
        left = stop
        while left > 0:
            block = fh.read(min(1 << 22, left))
            if not block:
                break
            count += block.count(b"\n")
            left -= len(block)
    return count


def _records(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"


def _position(state: dict[str, Any]) -> int:
    return int(state.get("trialog", {}).get("results_position", 0))


def _covers(size: int, position: int) -> bool:
    # A position inside the log that is not a record's end is ResultLog.truncate's error to report.
    return position <= size


def check_results_cover(
    manager: Any,
    state: dict[str, Any],
    entry: Any,
    run_dir: Path,
    *,
    missing: bool,
    fallback: bool,
) -> tuple[dict[str, Any], Any]:
    """``(state, entry)`` of the checkpoint to resume from: ``entry`` itself when ``run_dir``'s results log
    still holds everything up to its ``results_position``; with ``fallback`` the newest older checkpoint the
    log covers (with a warning); else a :class:`ResultsLostError`. ``missing``: the log was deleted."""
    log = run_dir / "result" / "results.jsonl"
    size = 0 if missing else os.stat(log).st_size
    position = _position(state)
    if _covers(size, position):
        return state, entry
    covering: tuple[dict[str, Any], Any] | None = None
    for candidate in list(reversed(manager.entries))[:MAX_CANDIDATES]:
        if candidate.step >= entry.step:
            continue
        try:
            older, older_entry = manager.load(candidate.step)
        except CheckpointError:
            continue
        if _covers(size, _position(older)):
            covering = older, older_entry
            break
    where = f"{entry.path.name} (step {entry.step}, epoch {entry.epoch})"
    if covering is not None and fallback:
        warnings.warn(
            f"resuming {run_dir} from checkpoint {covering[1].path.name} (step {covering[1].step}) instead of "
            f"{where}: the results log lost the records after byte {size}",
            TrialogWarning,
            stacklevel=3,
        )
        return covering
    had = state.get("trialog", {}).get("results_records")
    now = count_records(log, size) if not missing else 0
    lost = f"{position - size} bytes" + (f" ({_records(int(had) - now)})" if isinstance(had, int) else "")
    state_now = "is missing (deleted)" if missing else f"has {size} bytes ({_records(now)})"
    taken = f"{position} bytes" + (f" ({_records(had)})" if isinstance(had, int) else "")
    if covering is not None:
        older = f"checkpoint {covering[1].path.name} (step {covering[1].step}, epoch {covering[1].epoch})"
        way = f"resume from {older}, which the log still covers: `--resume {run_dir} --fallback` (resume_fallback=True)"
    else:
        way = "resume from a checkpoint the log still covers (none of this run's does; start a new run)"
    raise ResultsLostError(
        f"cannot resume {run_dir}: its results log {log} {state_now}, but checkpoint {where} was taken when it "
        f"had {taken}; {lost} from byte {size} on were lost after the checkpoint. Ways on: {way}; or rebuild "
        f"the log with `trialog runs repair {run_dir}` and resume again"
    )
