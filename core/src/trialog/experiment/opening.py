"""Opening an :class:`trialog.Experiment`'s run folder: the config coerced, the checkpoint options checked,
the folder created (or the resumed one locked and checked), run.json assembled (its identity kept across
resumes), and the folder wired (config, sources, checkpoint manager, results log, loggers). ``Experiment.__init__`` calls
these in order; nothing here runs after the constructor.
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialog.errors import ConfigError, RunFolderError, TrialogWarning
from trialog.fileio import write_atomic
from trialog.run.folder import (
    LAYOUT,
    RunMeta,
    collect_metadata,
    create_run_folder,
    effective_status,
    now_iso,
    pack_sources,
    read_meta,
)
from trialog.run.folder import check_run_folder as _check_run_folder
from trialog.run.liveness import RunLock
from trialog.run.machine import describe_machine
from trialog.run.provenance import code_roots, provenance_gaps
from trialog.run.redact import redact
from trialog.run.threads import apply_threads, threads_from_env

if TYPE_CHECKING:
    from trialog.config.config import Config

#: The Experiment's options that must be bools (checked before anything is written).
FLAG_OPTIONS = (
    "resume_new_folder",
    "append_rnd_to_name",
    "save_sources",
    "resume_reset_epochs",
    "resume_fallback",
    "resume_skip_unreadable",
    "capture_output",
    "quiet",
)
#: Checkpoint options the Experiment handles itself; the rest go to CheckpointManager.
CHECKPOINT_DEFAULTS: dict[str, Any] = {"every": 1, "keep_last": 2}


def coerce_config(config: Any) -> Config:
    """A :class:`trialog.Config` from None, a file path, a mapping or a Config."""
    from trialog.config.config import Config

    if config is None:
        return Config()
    if isinstance(config, (str, os.PathLike)):
        return Config(config)
    if not isinstance(config, Config):
        return Config(config=config)
    return config


def identity(
    default_name: str,
    config: Mapping[str, Any],
    resumed_meta: Mapping[str, Any],
    name: str | None,
    n_epochs: int | None,
    seed: int | None,
    random_suffix: bool,
) -> tuple[str, int, int]:
    """The run's name, epochs and seed: the arguments, else the config, else the resumed run.json, else
    the class name / 0 / a random seed. ``random_suffix``: a random suffix on the name (trixi's option)."""
    name = name or config.get("name") or resumed_meta.get("name") or default_name
    if random_suffix:
        name = f"{name}_{secrets.token_hex(3)}"
    if n_epochs is None:
        n_epochs = config.get("n_epochs", 0)
    if seed is None:
        seed = config.get("seed", resumed_meta.get("seed"))
    if seed is None:
        seed = secrets.randbelow(2**31)
    return str(name), int(n_epochs or 0), int(seed)


def checkpoint_options(checkpoint: Mapping[str, Any] | bool | None) -> dict[str, Any]:
    """The checkpoint options with their defaults (``every`` included); ``False``: no automatic checkpoints."""
    ckpt = dict(CHECKPOINT_DEFAULTS)
    if checkpoint is False:
        ckpt["every"] = 0
    elif isinstance(checkpoint, Mapping):
        ckpt.update(checkpoint)
    elif checkpoint not in (None, True):
        raise ConfigError(
            f"checkpoint must be a dict of CheckpointManager options or a bool, not {checkpoint!r}"
        )
    return ckpt


def default_loggers() -> dict[str, Any]:
    """``{"file": "file"}`` when the trialog-file plugin is installed, else none."""
    from trialog.hooks import plugins

    try:
        installed = plugins.names("trialog.loggers")
    except Exception:
        installed = []
    return {"file": "file"} if "file" in installed else {}


def open_folder(
    exp: Any,
    resume_from: Path | None,
    new_folder: bool,
    base: Path,
    folder_format: str,
    resumed_meta: dict[str, Any],
) -> dict[str, Any]:
    """Create the run folder (or take the resumed one, locked and checked) and set ``exp``'s folder
    attributes; returns ``resumed_meta``, read again under the lock when the run resumes in its folder."""
    if resume_from is not None and not new_folder:
        # storage: one process per run folder; locked before anything in it is written
        exp._run_lock = RunLock(resume_from).acquire()
        try:
            _check_run_folder(resume_from)
            resumed_meta = read_meta(resume_from)  # again: it may have changed before the lock was ours
        except BaseException:
            exp._run_lock.release()
            raise
        if effective_status(resumed_meta) == "running":
            exp._run_lock.release()
            raise RunFolderError(
                f"cannot resume {str(resume_from)!r}: it is still running (pid {resumed_meta.get('pid')} on "
                f"{resumed_meta.get('host')}); stop it first, or pass resume_new_folder=True"
            )
        exp.run_dir = resume_from
        for sub in LAYOUT:
            (exp.run_dir / sub).mkdir(exist_ok=True)
    else:
        exp.run_dir = create_run_folder(base, exp.name, folder_format)
        exp._run_lock = RunLock(exp.run_dir).acquire()
    exp.base_dir = exp.run_dir.parent
    for sub in LAYOUT:  # exp.config_dir, exp.log_dir, ...
        setattr(exp, f"{sub}_dir", exp.run_dir / sub)
    return resumed_meta


def keep_identity(
    meta: dict[str, Any], resumed_meta: Mapping[str, Any], resume_from: Path | None, new_folder: bool
) -> None:
    """run.json of a resumed run: linked to the old folder; in the same folder its start and resumes kept."""
    if resume_from is not None:
        meta["resumed_from"] = str(resume_from.resolve())
        if not new_folder:
            # Same folder: keep the original identity (start, earlier resumes) and log this resume.
            meta["start"] = resumed_meta.get("start", meta["start"])
            meta["epoch"] = resumed_meta.get("epoch")
            meta["resumes"] = [*resumed_meta.get("resumes", []), {"time": now_iso(), "pid": meta["pid"]}]
    if resumed_meta.get("status") == "registered" and not new_folder:  # trialog_sweep.registered
        meta.update(start=now_iso(), resumes=[], resumed_from=None, registered=resumed_meta.get("registered"))


def start_meta(
    exp: Any,
    heartbeat_interval: float,
    purpose: str | None,
    resumed_meta: Mapping[str, Any],
    resume_from: Path | None,
    new_folder: bool,
) -> tuple[RunMeta, str | None]:
    """The run.json of the run being opened, and the git diff of its code."""
    meta, diff = collect_metadata(exp.name, seed=exp.seed, heartbeat_interval=heartbeat_interval)
    meta["argv"] = redact(meta.get("argv", []))
    meta["n_epochs"] = exp.n_epochs
    meta["machine"] = describe_machine(exp.plugin_hooks)
    if exp._at_best is not None:
        meta["at_best"] = {"monitor": exp._at_best[0], "mode": exp._at_best[1]}
    # a registry field (trialog.run.folder.REGISTRY_KEYS)
    meta["purpose"] = purpose or exp.config.get("purpose") or resumed_meta.get("purpose")
    threads = threads_from_env() or resumed_meta.get("threads")  # a sweep trial's (trialog.run.threads)
    if threads is not None:
        apply_threads(threads)  # a resumed trial computes with the threads it started with
        meta["threads"] = threads
    keep_identity(meta, resumed_meta, resume_from, new_folder)
    return RunMeta(exp.run_dir, meta, heartbeat_interval=heartbeat_interval), diff


def init_folder(exp: Any, diff: str | None, save_sources: bool, loggers: Any) -> None:
    """Write the config, git diff and sources; make the checkpoint manager, results log and loggers."""
    from trialog.checkpoint.manager import CheckpointManager
    from trialog.loggers.dispatch import CombinedLogger
    from trialog.results.log import ResultLog

    if diff:
        write_atomic(exp.save_dir / "git.diff", diff.encode("utf-8"))
    exp.save_config(exp.config, "config")
    if save_sources:
        try:
            packed = pack_sources(exp.save_dir / "sources.zip")
        except OSError as exc:
            warnings.warn(
                f"trialog: could not write {exp.save_dir / 'sources.zip'}: {exc}",
                TrialogWarning,
                stacklevel=3,
            )
        else:  # never silently: one warning when the code or its git state could not be recorded
            gaps = provenance_gaps(packed, exp.meta.data.get("git"), code_roots())
            if gaps:
                warnings.warn(
                    f"trialog: the provenance of run {exp.run_dir.name} is incomplete: {gaps}",
                    TrialogWarning,
                    stacklevel=3,
                )
    exp.checkpoints = CheckpointManager(
        exp.checkpoint_dir, **exp._checkpoint_options, on_saved=exp._saved_events.saved
    )
    # A resumed run whose results log was deleted: restore_resumed() decides (trialog.results.resumelog).
    exp._results_missing = (
        exp._resume_from is not None
        and exp._resume_from.resolve() == exp.run_dir.resolve()
        and not (exp.result_dir / "results.jsonl").exists()
    )
    exp._results = ResultLog(exp.result_dir, at_best=exp._at_best)
    exp.clog = CombinedLogger(loggers, run_dir=exp.run_dir)
    objects = exp.clog.loggers.values()
    exp._result_listeners = any(hasattr(o, "on_result_added") for o in objects)
    exp._value_listeners = any(hasattr(o, "show_value") for o in objects)
    exp._result_hook = exp.plugin_hooks.manager.hook.on_result_added
    exp.seed_rngs(exp.seed)


__all__ = [
    "CHECKPOINT_DEFAULTS",
    "checkpoint_options",
    "coerce_config",
    "default_loggers",
    "init_folder",
    "keep_identity",
    "open_folder",
    "start_meta",
]


def check_options(exp: Any, checkpoint: Any, loggers: Any, monitor: str | None, mode: str | None) -> Any:
    """The checkpoint, logger and monitor options checked (before the run folder exists); the loggers parsed."""
    from trialog.loggers.preflight import check_checkpoint_options, check_loggers
    from trialog.results.atbest import AtBest
    from trialog.results.direction import metric_mode

    ckpt = checkpoint_options(checkpoint)
    exp.checkpoint_every = int(ckpt.pop("every") or 0)
    exp._checkpoint_options = ckpt
    # parsed and checked once: CombinedLogger takes them as they are
    loggers = check_loggers(default_loggers() if loggers is None else loggers)
    check_checkpoint_options(ckpt)
    monitor = monitor or ckpt.get("monitor")
    exp._at_best = None if monitor is None else (monitor, mode or ckpt.get("mode") or metric_mode(monitor))
    if exp._at_best is not None:
        AtBest(*exp._at_best)  # a wrong monitor or mode is named before the run folder exists
    return loggers
