"""Resuming an :class:`trialog.Experiment`: which run folder ``resume=`` names, and applying its latest
checkpoint once (:func:`restore_resumed`): the results log cut or copied to the checkpoint's position
(:mod:`trialog.results.resumelog` checks it still covers it), the state restored, the loggers told (``on_resume``).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from typing import Any

from trialog.errors import RunFolderError, TrialogWarning
from trialog.run.folder import is_trialog_run, latest_run, read_meta


def resolve_resume(resume: str | os.PathLike[str], base_dir: Path, skip_unreadable: bool = False) -> Path:
    """The run folder ``resume`` names: a folder, or ``"last"`` (the newest run in ``base_dir``)."""
    if isinstance(resume, str) and resume == "last":
        return latest_run(base_dir, skip_unreadable=skip_unreadable)
    path = Path(resume)
    if not path.is_dir():
        raise RunFolderError(f"cannot resume from {str(path)!r}: it does not exist or is not a folder")
    if not is_trialog_run(path):
        raise RunFolderError(
            f"cannot resume from {str(path)!r}: it is not a trialog run folder (no run.json); "
            "pass a folder an Experiment created, or resume='last'"
        )
    return path


def resume_source(
    resume: Any, base_dir: Path, config: Any, skip_unreadable: bool
) -> tuple[Path | None, dict[str, Any], Any]:
    """The run folder to resume (None for a new run), its run.json, and the config (the folder's when
    none is given)."""
    if not resume:  # None or False: a new run
        return None, {}, config
    from trialog.config.config import Config

    resume_from = resolve_resume(resume, base_dir, skip_unreadable=skip_unreadable)
    resumed_meta = read_meta(resume_from)
    if not config and (resume_from / "config" / "config.json").is_file():
        config = Config(resume_from / "config" / "config.json")
    return resume_from, resumed_meta, config


def restore_resumed(exp: Any, full: bool) -> int:
    """:meth:`Experiment.restore_resumed`: restore the resumed run's latest checkpoint once."""
    if exp._resume_from is None or exp._restored:
        return exp.start_epoch
    exp._restored = True
    src = exp._resume_from
    from trialog.checkpoint.manager import CheckpointManager

    same_folder = src.resolve() == exp.run_dir.resolve()
    manager = (
        exp.checkpoints if same_folder else CheckpointManager(src / "checkpoint", **exp._checkpoint_options)
    )
    latest = manager.latest()
    if latest is None:
        # Killed before the first checkpoint: start over from epoch 0. The RNGs were seeded by __init__
        # with the original seed and setup() ran as in the first attempt, so nothing else to restore.
        if full and same_folder:
            exp._results.truncate(0)
        if full:
            resume_loggers(exp, None, None, 0, src)
        return exp.start_epoch
    state, entry = manager.load("last", fallback=exp._resume_fallback)
    if full and same_folder:
        state, entry = _check_results_cover(exp, manager, state, entry)
    position = int(state["trialog"]["results_position"])
    if full and not same_folder:
        _copy_results(exp, src / "result" / "results.jsonl", position)
    exp.restore_state(
        state,
        kind="resume" if full else "test",
        results=full and same_folder,
        rng=full,
        source=f"the checkpoint of {src}",
    )
    if full:
        exp.clog.restore_counters(state["trialog"].get("counters", ()))
        resume_loggers(exp, entry.step, int(state["trialog"]["epoch"]), position, src)
        exp.start_epoch = int(state["trialog"]["epoch"]) + 1
        if exp.resume_reset_epochs:
            exp.start_epoch = 0
            exp.epoch = 0
    return exp.start_epoch


def _check_results_cover(
    exp: Any, manager: Any, state: dict[str, Any], entry: Any
) -> tuple[dict[str, Any], Any]:
    from trialog.results.resumelog import check_results_cover

    try:
        return check_results_cover(
            manager, state, entry, exp.run_dir, missing=exp._results_missing, fallback=exp._resume_fallback
        )
    except BaseException:
        exp._results.keep_summary()  # results.json still summarises the records that were lost
        if exp._results_missing and exp._results.position() == 0:
            # A deleted log is not recreated empty: leave the folder as the error describes it.
            exp._results.close()
            for name in ("results.jsonl", "results.series", "results.series.json"):
                with contextlib.suppress(OSError):
                    (exp.result_dir / name).unlink()
        raise


def resume_loggers(exp: Any, step: int | None, epoch: int | None, position: int, source: Path) -> None:
    """The resume contract: every logger brings its output back to checkpoint ``step`` (``on_resume``)."""
    missing = exp.clog.missing("on_resume")
    if missing:
        warnings.warn(
            f"trialog: logger(s) {', '.join(missing)} do not implement on_resume: what they logged after "
            "the checkpoint this run resumes from stays in their output (see trialog.hooks.specs)",
            TrialogWarning,
            stacklevel=4,
        )
    exp._fire(
        "on_resume",
        experiment=exp,
        step=step,
        epoch=epoch,
        position=position,
        results=str(exp.result_dir / "results.jsonl"),
        source=str(source),
    )


def _copy_results(exp: Any, source: Path, position: int) -> None:
    """Start this run's results log with the old run's records up to ``position`` (resume in a new folder)."""
    from trialog.results.log import ResultLog

    with open(source, "rb") as fh:
        head = fh.read(position)
    exp._results.close()
    with open(exp.result_dir / "results.jsonl", "ab") as fh:
        fh.write(head)
    exp._results = ResultLog(exp.result_dir, at_best=exp._at_best)


__all__ = ["resolve_resume", "restore_resumed", "resume_loggers", "resume_source"]
