"""Repairing a run folder (``trialog runs repair RUN``, trialog-runs): the checkpoint manifest and the results log.

:func:`repair_run` rebuilds ``checkpoint/index.json`` from the checkpoint files (each is verified) and cuts a
damaged results log back to the position the checkpoint a resume starts from recorded, all under the run
folder's lock (never while an Experiment writes it). It knows the core's storage formats; the command that
calls it is trialog-runs'.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

__all__ = ["repair_run"]


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def repair_run(run_dir: str | os.PathLike[str], out: TextIO, confirm: Callable[[str], bool]) -> bool:
    """Rebuild ``run_dir``'s checkpoint manifest and cut a damaged results log (after ``confirm(question)``).

    Reports each step on ``out``; False when the run stays damaged (unreadable checkpoint files and none
    readable, or a results log left damaged).
    """
    from trialog.checkpoint.manager import repair_manifest
    from trialog.fileio import check_inside
    from trialog.run.folder import Run
    from trialog.run.liveness import RunLock

    run = Run(run_dir)
    directory = check_inside(run.path, run.path / "checkpoint")
    with RunLock(run.path):  # not while an Experiment writes the folder
        entries, problems = repair_manifest(directory)
        for entry in entries:
            print(
                f"listed  step {entry.step}  epoch {_fmt(entry.epoch)}  {entry.file}  ({entry.format})",
                file=out,
            )
        for problem in problems:
            print(f"skipped {problem} (left in place)", file=out)
        print(
            f"wrote {directory / 'index.json'}: {len(entries)} checkpoint(s)"
            + (f", {len(problems)} file(s) unreadable" if problems else ""),
            file=out,
        )
        cut = _repair_results(run, directory, confirm, out)
    return bool(entries or not problems) and cut


def _repair_results(run: Any, directory: Path, confirm: Callable[[str], bool], out: TextIO) -> bool:
    """Cut a damaged results log back to the results position of the checkpoint a resume starts from.

    Everything after that position is written again by the resumed run, so nothing the checkpoint vouches
    for is lost. Damage before it cannot be cut away (the records the checkpoint's epochs produced are
    gone): that is said, and nothing changes. False when the log stays damaged.
    """
    from trialog.checkpoint.manager import CheckpointManager
    from trialog.results.log import find_damage
    from trialog.results.series import sidecar_paths

    if run.kind != "trialog":
        return True
    log = run.path / "result" / "results.jsonl"
    damage = find_damage(log) if log.is_file() else None
    if damage is None:
        print(f"{log}: intact", file=out)
        return True
    print(f"DAMAGED {damage}", file=out)
    manager = CheckpointManager(directory)
    latest = manager.latest()
    if latest is None:
        position, source = 0, "no checkpoint: the resumed run starts over from epoch 0"
    else:
        state, entry = manager.load("last")
        position = int(state["trialog"]["results_position"])
        source = f"checkpoint step {entry.step} (epoch {entry.epoch}) resumes from byte {position}"
    if position > damage.offset:  # type: ignore[attr-defined]
        print(
            f"cannot repair {log}: line {damage.line} lies before where {source}; the records of the epochs "  # type: ignore[attr-defined]
            "that checkpoint holds are damaged. Resume from an earlier run, or remove the damaged line by hand",
            file=out,
        )
        return False
    size = log.stat().st_size
    question = (
        f"cut {log} from {size} to {position} bytes ({source}; the damaged line {damage.line} and "  # type: ignore[attr-defined]
        f"the records after the checkpoint go, the resumed run writes them again)?"
    )
    if not confirm(question):
        print(f"{log}: left as it was", file=out)
        return False
    with open(log, "r+b") as fh:
        fh.truncate(position)
        fh.flush()
        os.fsync(fh.fileno())
    for sidecar in sidecar_paths(log):  # a cache of the log: rebuilt from the log on the next read
        sidecar.unlink(missing_ok=True)
    print(f"cut {log} to {position} bytes: `--resume` continues from there", file=out)
    return True
