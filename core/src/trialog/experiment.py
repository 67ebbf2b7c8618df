"""``trialog.Experiment``: trixi's experiment lifecycle on a crash-safe run folder with exact resume.

Subclass it and override the stages::

    class MyExperiment(trialog.Experiment):
        def setup(self):                 # build model, data, optimizer
            self.w = numpy.zeros(3)
        def train(self, epoch):
            self.add_result(loss, "loss", tag="train")
        def validate(self, epoch):
            self.add_result(acc, "acc", tag="val")

    MyExperiment(config, n_epochs=10, seed=1, base_dir="runs").run()
    MyExperiment(n_epochs=10, base_dir="runs", resume="last").run()   # after a crash: same results

What a checkpoint holds: the epoch and the results log position, every RNG (through the
``get_rng_state`` plugin hook: python and numpy by the core's ``python`` plugin, torch by
trialog-torch's), the experiment's "simple" public attributes (numbers, strings, bools, None, numpy
arrays and scalars, lists/tuples/dicts of those — trixi's "simple" save type; here ``self.w``), what
:meth:`Experiment.get_state` returns (override it with :meth:`Experiment.set_state` for anything else),
and the parts registered with :meth:`Experiment.add_state_part`. An attribute set after ``__init__``
that none of these stores is named in one warning at the first checkpoint.

Lifecycle of :meth:`Experiment.run`: :meth:`~Experiment.begin_run` (``on_run_start``) → ``setup()`` →
``prepare()`` → :meth:`~Experiment.restore_resumed` (resume: restore the latest checkpoint; the run
continues at :attr:`~Experiment.start_epoch`) → per epoch :meth:`~Experiment.begin_epoch`
(``on_epoch_start``) → ``train(epoch)`` → ``validate(epoch)`` → :meth:`~Experiment.end_epoch`
(``on_epoch_end``, checkpoint, ``on_checkpoint_saved``) → ``end()`` → :meth:`~Experiment.finish_run`
(``on_run_end``). An exception calls :meth:`~Experiment.fail_run` (``process_err(e)``,
``on_run_error``) and is re-raised. A framework that owns its training loop (a trainer, Lightning)
calls these stage methods itself instead of :meth:`~Experiment.run`. Lifecycle hooks reach both the
loggers (``self.clog.lifecycle``) and the ``trialog.plugins`` modules, each plugin called on its own
(:class:`trialog.plugins.PluginHooks`: a failing plugin is warned about once, counted, and disabled
after 5 consecutive failures).
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import copy
import functools
import os
import secrets
import threading
import traceback as _traceback
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .atbest import AtBest
from .capture import ConsoleCapture, write_error
from .checkpoint import MANIFEST_NAME
from .direction import metric_mode
from .dispatch import to_scalar
from .errors import AmbiguousResultError, ConfigError, RunFolderError, TrialogWarning
from .fileio import inside, is_disk_full, write_atomic
from .liveness import RunLock
from .machine import describe_machine
from .overrides import prepare_config
from .plugins import PluginHooks, get_plugin_manager
from .preflight import check_checkpoint_options, check_flags, check_loggers
from .provenance import code_roots, provenance_gaps
from .redact import find_credentials, redact, redact_text
from .run import (
    DEFAULT_FOLDER_FORMAT,
    LAYOUT,
    RunMeta,
    collect_metadata,
    create_run_folder,
    effective_status,
    is_trialog_run,
    latest_run,
    now_iso,
    pack_sources,
    read_meta,
)
from .run import check_run_folder as _check_run_folder
from .threads import apply_threads, threads_from_env

#: Checkpoint options the Experiment handles itself; the rest go to CheckpointManager.
_CHECKPOINT_DEFAULTS: dict[str, Any] = {"every": 1, "keep_last": 2}
#: The restores a checkpoint is applied by: a resumed run(), a resumed run_test(), load_checkpoint().
RESTORE_KINDS: tuple[str, ...] = ("resume", "test", "load")
_SIMPLE_SCALARS = (bool, int, float, str, bytes, type(None))


def is_simple(value: Any) -> bool:
    """Whether ``value`` is "simple" (trixi's save type): numbers, strings, bools, None, bytes, numpy arrays
    (not of objects) and scalars, and lists, tuples and dicts (string or int keys) of those."""
    if isinstance(value, _SIMPLE_SCALARS):
        return True
    module = type(value).__module__
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.generic):
            return not isinstance(value, np.object_)
        if isinstance(value, np.ndarray):
            return not value.dtype.hasobject
        return False
    if type(value) in (list, tuple):
        return all(is_simple(v) for v in value)
    if type(value) is dict:
        return all(isinstance(k, (str, int)) and is_simple(v) for k, v in value.items())
    return False


@dataclass(frozen=True)
class RestoreContext:
    """What :meth:`Experiment.restore_state` is restoring: ``kind`` ("resume", "test", "load"), ``source``
    (the checkpoint, for messages) and the caller's ``options``."""

    kind: str
    source: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _StatePart:
    get: Callable[[], Any]
    set: Callable[[Any], None]
    restore_on: tuple[str, ...]
    attributes: tuple[str, ...]


class Experiment:
    """An experiment run for ``n_epochs`` epochs in its own run folder (trixi's Experiment + ExperimentLogger).

    Args:
        config: a :class:`trialog.Config`, a mapping, or the path of a JSON/YAML config file. Saved to
            ``config/config.json``. ``name``, ``n_epochs``, ``seed`` and ``base_dir`` are read from it
            when not given as arguments.
        name: the experiment name (default: ``config.name``, else the class name).
        n_epochs: how many epochs :meth:`run` trains; on resume the value given here wins.
        seed: seeds python's ``random``, numpy's global generator and, through the ``seed_rngs``
            plugin hook, the frameworks' (torch). Default: ``config.seed``, else a random seed that
            is recorded in run.json.
        base_dir: the folder the run folder is created in (default ``config.base_dir`` or ``"runs"``).
        loggers: logger declarations for :class:`trialog.CombinedLogger` (default ``{"file": "file"}``
            when the trialog-file plugin is installed, else none).
        resume: a run folder, or ``"last"`` (the newest run in ``base_dir`` by start time), to continue
            from its latest checkpoint.
        resume_new_folder: continue in a new run folder whose run.json links the old one.
        resume_fallback: when the latest checkpoint fails verification, resume from the newest intact one
            (with a warning) instead of raising CheckpointError.
        resume_skip_unreadable: ``resume="last"`` skips run folders whose run.json cannot be read
            instead of raising RunFolderError naming them.
        append_rnd_to_name: append a random suffix to the name (trixi's option).
        folder_format: the run folder name: strftime codes, ``{experiment_name}``, ``{run_number}``.
        checkpoint: options for :class:`trialog.CheckpointManager` plus ``every`` (save every N
            epochs; 0 disables automatic checkpoints). Default: every epoch, keep the last 2.
            ``False`` disables automatic checkpoints.
        save_sources: zip the entry script and the local modules it imported to ``save/sources.zip``.
        heartbeat_interval: seconds between run.json heartbeats while running (0: only at epoch ends).
        update_from_argv: apply ``--a.b 3`` overrides to the config: True reads ``sys.argv[1:]``, a list
            is used as it is. Only keys the config has can be set; others are a ConfigError. With trialog-xmen,
            ``--help`` prints the declared parameters (``trialog.param``) and exits (:mod:`trialog.overrides`).
        resume_reset_epochs: a resumed run starts again at epoch 0 after restoring its state (trixi's
            fine-tuning behaviour; trixi's default was True, here False so that a resume continues exactly).
        exp_name: trixi's name for ``name`` (used when ``name`` is not given).
        capture_output: while the run runs, tee stdout and stderr into ``log/stdout.txt`` and
            ``log/stderr.txt`` (redacted); an exception that ends it leaves its traceback in ``log/error.txt``
            and its last lines in run.json (``traceback``). See :mod:`trialog.capture`.
        monitor, mode: keep every result of the epoch where ``monitor`` was best (``mode`` "min" or "max",
            default by its name, :func:`trialog.direction.metric_mode`) as ``at_best/<name>`` in
            ``result/results.json`` (:mod:`trialog.atbest`). Default: the checkpoint ``monitor``, if any.
        quiet: print nothing (by default the ``console`` plugin prints the run folder at the start, a line
            per epoch with its latest values, and the last and best values at the end).

    Class attributes a subclass may set: ``store_simple_attributes`` (default True: checkpoint the simple
    attributes, see :meth:`get_simple_variables`) and ``not_checkpointed`` (names of attributes that
    ``setup()`` rebuilds, so the "not stored" warning leaves them out).
    """

    #: Checkpoint the "simple" public attributes (trixi's "simple" save type) under ``state["simple"]``.
    store_simple_attributes: ClassVar[bool] = True
    #: How many of a name's last values ``add_result(plot_running_mean=True)`` averages (trixi's default).
    running_mean_length: ClassVar[int] = 10
    #: Attributes rebuilt by setup(): no "not stored in checkpoints" warning for them.
    not_checkpointed: ClassVar[Sequence[str]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # What exists when the outermost constructor returns is configuration, not checkpoint state: wrap
        # each subclass constructor so the snapshot is retaken after it (the outermost one finishes last).
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_trialog_snapshot", False):

            @functools.wraps(init)
            def __init__(self: Experiment, *args: Any, **kw: Any) -> None:
                init(self, *args, **kw)
                self._reserved_attributes = frozenset(self.__dict__) | {"_reserved_attributes"}

            __init__._trialog_snapshot = True  # type: ignore[attr-defined]
            cls.__init__ = __init__  # type: ignore[method-assign]

    def __init__(
        self,
        config: Any = None,
        name: str | None = None,
        n_epochs: int | None = None,
        seed: int | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        loggers: Any = None,
        resume: str | os.PathLike[str] | None = None,
        resume_new_folder: bool = False,
        append_rnd_to_name: bool = False,
        folder_format: str = DEFAULT_FOLDER_FORMAT,
        checkpoint: Mapping[str, Any] | bool | None = None,
        save_sources: bool = True,
        heartbeat_interval: float = 30.0,
        update_from_argv: bool | Sequence[str] = False,
        resume_reset_epochs: bool = False,
        resume_fallback: bool = False,
        resume_skip_unreadable: bool = False,
        purpose: str | None = None,
        exp_name: str | None = None,
        capture_output: bool = True,
        monitor: str | None = None,
        mode: str | None = None,
        quiet: bool = False,
    ):
        from .config import Config

        check_flags(
            "Experiment",
            {
                "resume_new_folder": resume_new_folder,
                "append_rnd_to_name": append_rnd_to_name,
                "save_sources": save_sources,
                "resume_reset_epochs": resume_reset_epochs,
                "resume_fallback": resume_fallback,
                "resume_skip_unreadable": resume_skip_unreadable,
                "capture_output": capture_output,
                "quiet": quiet,
            },
        )
        if config is None:
            config = Config()
        elif isinstance(config, (str, os.PathLike)):
            config = Config(config)
        elif not isinstance(config, Config):
            config = Config(config=config)

        base = Path(base_dir if base_dir is not None else config.get("base_dir") or "runs")
        resume_from: Path | None = None
        resumed_meta: dict[str, Any] = {}
        if resume:  # None or False: a new run
            resume_from = _resolve_resume(resume, base, skip_unreadable=resume_skip_unreadable)
            resumed_meta = read_meta(resume_from)
            if not config and (resume_from / "config" / "config.json").is_file():
                config = Config(resume_from / "config" / "config.json")
        # plugins' declared defaults (trialog-xmen's params) fill the config, the overrides apply, plugins check it
        prepare_config(type(self), config, update_from_argv)
        self.config = config
        #: True: the ``console`` plugin prints nothing for this run (no folder, epoch or summary lines).
        self.quiet = bool(quiet)

        name = name or exp_name or config.get("name") or resumed_meta.get("name") or type(self).__name__
        if append_rnd_to_name and not (resume_from is not None and not resume_new_folder):
            name = f"{name}_{secrets.token_hex(3)}"
        self.name: str = str(name)
        if n_epochs is None:
            n_epochs = config.get("n_epochs", 0)
        self.n_epochs: int = int(n_epochs or 0)
        if seed is None:
            seed = config.get("seed", resumed_meta.get("seed"))
        if seed is None:
            seed = secrets.randbelow(2**31)
        self.seed: int = int(seed)

        self.epoch: int = 0
        #: The epoch :meth:`run` starts at (set by :meth:`restore_resumed`; a loop of your own reads it).
        self.start_epoch: int = 0
        self.resume_reset_epochs = bool(resume_reset_epochs)
        self._stop_requested = False
        self._parts: dict[str, _StatePart] = {}
        self._series: dict[str, Any] = {}
        self._running_means: dict[str, collections.deque[Any]] = {}
        self._restoring: RestoreContext | None = None
        self._warned_unstored = False
        #: Each ``trialog.plugins`` hook implementation called on its own, failures counted per plugin.
        self.plugin_hooks = PluginHooks(get_plugin_manager())
        self._closed = False
        self._resume_from = resume_from
        self._resume_fallback = resume_fallback or bool(getattr(resume, "fallback", False))
        self._restored = False

        ckpt = dict(_CHECKPOINT_DEFAULTS)
        if checkpoint is False:
            ckpt["every"] = 0
        elif isinstance(checkpoint, Mapping):
            ckpt.update(checkpoint)
        elif checkpoint not in (None, True):
            raise ConfigError(
                f"checkpoint must be a dict of CheckpointManager options or a bool, not {checkpoint!r}"
            )
        self.checkpoint_every = int(ckpt.pop("every") or 0)
        self._checkpoint_options = ckpt
        # Every mistake in the options stops the run here, before its folder exists.
        if loggers is None:
            loggers = _default_loggers()
        loggers = check_loggers(loggers)  # parsed and checked once: CombinedLogger takes them as they are
        check_checkpoint_options(ckpt)
        monitor = monitor or ckpt.get("monitor")
        self._at_best = (
            None if monitor is None else (monitor, mode or ckpt.get("mode") or metric_mode(monitor))
        )
        if self._at_best is not None:
            AtBest(*self._at_best)  # a wrong monitor or mode is named before the run folder exists
        self._next_step: int | None = None
        self._thread_id = threading.get_ident()
        self._saved_pending: collections.deque[Any] = collections.deque()

        # ---- the run folder and its run.json
        if resume_from is not None and not resume_new_folder:
            # storage: one process per run folder; locked before anything in it is written
            self._run_lock = RunLock(resume_from).acquire()
            try:
                _check_run_folder(resume_from)
                resumed_meta = read_meta(resume_from)  # again: it may have changed before the lock was ours
            except BaseException:
                self._run_lock.release()
                raise
            if effective_status(resumed_meta) == "running":
                self._run_lock.release()
                raise RunFolderError(
                    f"cannot resume {str(resume_from)!r}: it is still running (pid {resumed_meta.get('pid')} on "
                    f"{resumed_meta.get('host')}); stop it first, or pass resume_new_folder=True"
                )
            self.run_dir = resume_from
            for sub in LAYOUT:
                (self.run_dir / sub).mkdir(exist_ok=True)
        else:
            self.run_dir = create_run_folder(base, self.name, folder_format)
            self._run_lock = RunLock(self.run_dir).acquire()
        self.base_dir = self.run_dir.parent
        self.config_dir = self.run_dir / "config"
        self.checkpoint_dir = self.run_dir / "checkpoint"
        self.img_dir = self.run_dir / "img"
        self.log_dir = self.run_dir / "log"
        self.plot_dir = self.run_dir / "plot"
        self.result_dir = self.run_dir / "result"
        self.save_dir = self.run_dir / "save"
        self._console = ConsoleCapture(self.log_dir) if capture_output else None

        meta, diff = collect_metadata(self.name, seed=self.seed, heartbeat_interval=heartbeat_interval)
        meta["argv"] = redact(meta.get("argv", []))
        meta["n_epochs"] = self.n_epochs
        meta["machine"] = describe_machine(self.plugin_hooks)
        if self._at_best is not None:
            meta["at_best"] = {"monitor": self._at_best[0], "mode": self._at_best[1]}
        meta["purpose"] = (
            purpose or config.get("purpose") or resumed_meta.get("purpose")
        )  # a registry field (trialog.run.REGISTRY_KEYS)
        threads = threads_from_env() or resumed_meta.get("threads")  # a sweep trial's (trialog.threads)
        if threads is not None:
            apply_threads(threads)  # a resumed trial computes with the threads it started with
            meta["threads"] = threads
        if resume_from is not None:
            meta["resumed_from"] = str(resume_from.resolve())
            if not resume_new_folder:
                # Same folder: keep the original identity (start, earlier resumes) and log this resume.
                meta["start"] = resumed_meta.get("start", meta["start"])
                meta["epoch"] = resumed_meta.get("epoch")
                meta["resumes"] = [*resumed_meta.get("resumes", []), {"time": now_iso(), "pid": meta["pid"]}]
        if resumed_meta.get("status") == "registered" and not resume_new_folder:  # trialog_sweep.registered
            meta.update(
                start=now_iso(), resumes=[], resumed_from=None, registered=resumed_meta.get("registered")
            )
        self.meta = RunMeta(self.run_dir, meta, heartbeat_interval=heartbeat_interval)
        try:
            self._init_folder(diff, save_sources, loggers)
        except BaseException as exc:
            # The folder exists now: say why the run never started instead of leaving it "running".
            self.meta.finish("error", error=redact_text(f"{type(exc).__name__}: {exc}"))
            self._run_lock.release()
            raise
        self._finalizer = weakref.finalize(self, _close_quietly, self.clog, self.meta, self._console)
        self.meta.start_heartbeat()
        self._reserved_attributes: frozenset[str] = frozenset(self.__dict__) | {"_reserved_attributes"}

    def _init_folder(self, diff: str | None, save_sources: bool, loggers: Any) -> None:
        from .checkpoint import CheckpointManager
        from .dispatch import CombinedLogger
        from .results import ResultLog

        if diff:
            write_atomic(self.save_dir / "git.diff", diff.encode("utf-8"))
        self.save_config(self.config, "config")
        if save_sources:
            try:
                packed = pack_sources(self.save_dir / "sources.zip")
            except OSError as exc:
                warnings.warn(
                    f"trialog: could not write {self.save_dir / 'sources.zip'}: {exc}",
                    TrialogWarning,
                    stacklevel=3,
                )
            else:  # never silently: one warning when the code or its git state could not be recorded
                gaps = provenance_gaps(packed, self.meta.data.get("git"), code_roots())
                if gaps:
                    warnings.warn(
                        f"trialog: the provenance of run {self.run_dir.name} is incomplete: {gaps}",
                        TrialogWarning,
                        stacklevel=3,
                    )
        self.checkpoints = CheckpointManager(
            self.checkpoint_dir, **self._checkpoint_options, on_saved=self._on_checkpoint_saved
        )
        # A resumed run whose results log was deleted: restore_resumed() decides (trialog.resumelog).
        self._results_missing = (
            self._resume_from is not None
            and self._resume_from.resolve() == self.run_dir.resolve()
            and not (self.result_dir / "results.jsonl").exists()
        )
        self._results = ResultLog(self.result_dir, at_best=self._at_best)
        self.clog = CombinedLogger(loggers, run_dir=self.run_dir)
        objects = self.clog.loggers.values()
        self._result_listeners = any(hasattr(o, "on_result_added") for o in objects)
        self._value_listeners = any(hasattr(o, "show_value") for o in objects)
        self._result_hook = self.plugin_hooks.manager.hook.on_result_added
        self.seed_rngs(self.seed)

    # ------------------------------------------------------------------ lifecycle (override these)
    def setup(self) -> None:
        """Build what the run needs (model, data, optimizer); called first by :meth:`run`."""

    def prepare(self) -> None:
        """Called after :meth:`setup`, directly before training starts."""

    def train(self, epoch: int) -> None:
        """Train one epoch."""

    def validate(self, epoch: int) -> None:
        """Validate after each training epoch."""

    def end(self) -> None:
        """Called after the last epoch."""

    def test(self) -> None:
        """The test stage, run by :meth:`run_test`."""

    def end_test(self) -> None:
        """Called after :meth:`test`."""

    def process_err(self, e: BaseException) -> None:
        """Called with the exception that ended the run (before it is re-raised)."""

    def get_state(self) -> dict[str, Any]:
        """What a checkpoint stores besides epoch, results position, RNGs and the simple attributes.

        Override it (with :meth:`set_state`) for objects that are not "simple": the values may be numpy
        arrays, numbers, strings, lists and dicts (and whatever the checkpoint format stores).
        """
        return {}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`get_state` returned (on resume and by :meth:`load_checkpoint`).

        :attr:`restoring` tells which restore is running (``kind``: "resume", "test" or "load") and with
        which options.
        """

    # ------------------------------------------------------------------ running
    def run(self, setup: bool = True) -> None:
        """Run the lifecycle: setup, prepare, ``n_epochs`` × (train, validate), end.

        A resumed run restores its latest checkpoint after ``prepare()`` and continues at
        :attr:`start_epoch` (the epoch after the checkpoint's, or 0 with ``resume_reset_epochs``).
        """
        self._stop_requested = False
        try:
            self.begin_run()
            if setup:
                self.setup()
                self.prepare()
            self.restore_resumed(full=True)
            for epoch in range(self.start_epoch, self.n_epochs):
                self.begin_epoch(epoch)
                self.train(epoch=epoch)
                self.validate(epoch=epoch)
                self.end_epoch(epoch)
                if self._stop_requested:
                    break
            self.start_epoch = self.n_epochs
            self.end()
            self.wait_checkpoints()  # an asynchronous save that failed fails the run
        except (KeyboardInterrupt, SystemExit) as exc:  # SystemExit: a requeue signal's handler, sys.exit()
            self.fail_run(exc, "killed")
            raise
        except Exception as exc:
            self.fail_run(exc, "error")
            raise
        self._finish_or_fail()

    def run_test(self, setup: bool = True) -> None:
        """Run the test stage: (setup, prepare,) test, end_test; a resumed run restores its model state first."""
        try:
            self.begin_run()
            if setup:
                self.setup()
                self.prepare()
            self.restore_resumed(full=False)
            self.test()
            self.end_test()
            self.wait_checkpoints()
        except (KeyboardInterrupt, SystemExit) as exc:  # SystemExit: a requeue signal's handler, sys.exit()
            self.fail_run(exc, "killed")
            raise
        except Exception as exc:
            self.fail_run(exc, "error")
            raise
        self._finish_or_fail("finished")

    def _finish_or_fail(self, status: str | None = None) -> None:
        """:meth:`finish_run`; if it fails before the run is recorded as ended (a subclass's end checkpoint,
        a full disk), the run is failed with that error instead, so its lock is released either way."""
        try:
            self.finish_run(status)
        except BaseException as exc:
            if self._run_lock.held:
                self.fail_run(exc, "killed" if isinstance(exc, KeyboardInterrupt) else "error")
            raise

    def stop(self) -> None:
        """Ask :meth:`run` to stop after the current epoch (status "stopped"; ``end()`` still runs)."""
        self._stop_requested = True

    @property
    def stop_requested(self) -> bool:
        """Whether :meth:`stop` was called since the run started (a loop of your own checks this)."""
        return self._stop_requested

    # ------------------------------------------------------------------ stages (for loops of your own)
    def begin_run(self) -> None:
        """Mark the run as running (run.json, heartbeat), log the config and fire ``on_run_start``."""
        self._thread_id = threading.get_ident()
        self._run_lock.acquire()  # released when an earlier run() ended
        self.meta.update(status="running", end=None, pid=os.getpid())
        if self._console is not None:
            self._console.start()
        self.meta.start_heartbeat()
        self.clog.log_config(self._plain_config())
        self._fire(
            "on_run_start", experiment=self, run=copy.deepcopy(self.meta.data), config=self._plain_config()
        )

    def begin_epoch(self, epoch: int) -> None:
        """Set :attr:`epoch` and fire ``on_epoch_start`` (and any pending ``on_checkpoint_saved``)."""
        self.epoch = epoch
        self._drain_checkpoint_events()
        self._fire("on_epoch_start", experiment=self, epoch=epoch)

    def end_epoch(self, epoch: int) -> None:
        """Fire ``on_epoch_end``, checkpoint when due (every ``checkpoint["every"]`` epochs, the last epoch,
        and when a stop was requested), write the results summary and record the epoch in run.json."""
        self._fire("on_epoch_end", experiment=self, epoch=epoch)
        last = epoch + 1 >= self.n_epochs
        if self.checkpoint_every and (
            (epoch + 1) % self.checkpoint_every == 0 or last or self._stop_requested
        ):
            self.save_checkpoint()
        self._results.save_summary()
        self.meta.update(epoch=epoch)

    def finish_run(self, status: str | None = None) -> None:
        """Wait for checkpoints, write the summary, flush the loggers, set the final status, fire ``on_run_end``.

        ``status`` defaults to "stopped" after :meth:`stop`, else "finished".
        """
        if status is None:
            status = "stopped" if self._stop_requested else "finished"
        self.wait_checkpoints()
        summary = self.save_results()
        self.clog.flush()
        self.clog.wait_idle()
        self.meta.finish(status, epoch=self.epoch)
        self._run_lock.release()
        self._stop_console()
        self._fire("on_run_end", experiment=self, run=copy.deepcopy(self.meta.data), summary=summary)

    def fail_run(self, exc: BaseException, status: str = "error") -> None:
        """Record that ``exc`` ended the run: ``process_err``, status ``status`` with the error, ``on_run_error``."""
        tb = "".join(_traceback.format_exception(type(exc), exc, exc.__traceback__))
        with contextlib.suppress(Exception):
            self.process_err(exc)
        with contextlib.suppress(Exception):
            self.wait_checkpoints()
        with contextlib.suppress(Exception):
            self._results.save_summary()
        error = redact_text(f"{type(exc).__name__}: {exc}")
        crash: dict[str, Any] = {}
        if self._console is not None:
            with contextlib.suppress(OSError):
                crash["traceback"] = write_error(self.log_dir, exc)
        try:
            self.meta.finish(status, error=error, epoch=self.epoch, **crash)
        except OSError as meta_exc:  # run.json cannot be written (a full disk): say so in run.lock
            self._run_lock.mark_ended(f"disk full ({error})" if is_disk_full(meta_exc) else error)
        self._run_lock.release()
        self._fire(
            "on_run_error", experiment=self, run=copy.deepcopy(self.meta.data), error=exc, traceback=tb
        )
        with contextlib.suppress(Exception):
            self.clog.flush()
        self._stop_console()

    def _stop_console(self) -> None:
        if self._console is not None:
            self._console.stop()

    def close(self) -> dict[str, Any]:
        """Close the loggers and stop the heartbeat (also done at interpreter exit); returns the logger summary.

        An experiment used without :meth:`run` (as a plain run folder + logger) is recorded as finished.
        """
        if self._closed:
            return {}
        self._closed = True
        self._finalizer.detach()
        try:
            self.wait_checkpoints()
        finally:
            if self.meta.data.get("status") == "running":
                self.save_results()
                self.meta.finish("finished", epoch=self.epoch)
            self.meta.stop_heartbeat()
            self._run_lock.release()
            self._stop_console()
        return self.clog.close()

    def __enter__(self) -> Experiment:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None and self.meta.data.get("status") == "running":
            status = "killed" if isinstance(exc, KeyboardInterrupt) else "error"
            self.meta.finish(status, error=redact_text(f"{type(exc).__name__}: {exc}"), epoch=self.epoch)
        self.close()

    # ------------------------------------------------------------------ hooks
    def _fire(self, hook: str, **kwargs: Any) -> None:
        """Call a lifecycle hook on the loggers and, one by one, on the ``trialog.plugins`` modules."""
        self.clog.lifecycle(hook, **kwargs)
        if self.plugin_hooks.has(hook):  # the common case on the add_result path: no plugin, no call
            self.plugin_hooks.call(hook, **kwargs)

    @property
    def loggers(self) -> dict[str, Any]:
        """The logger objects by their configured name (``self.loggers["file"]``)."""
        return self.clog.loggers

    def _plain_config(self) -> dict[str, Any]:
        """The config as loggers and plugins see it: plain values, credentials redacted."""
        plain = self.config.to_plain() if hasattr(self.config, "to_plain") else dict(self.config)
        return redact(plain)

    # ------------------------------------------------------------------ results
    @property
    def results(self) -> Any:
        """The run's results log (``result/results.jsonl``): a :class:`trialog.results.ResultLog`
        (``latest(name)``, ``stats``, ``summary()``, ``best()``); record results with :meth:`add_result`."""
        return self._results

    def add_result(
        self,
        value: Any,
        name: str,
        counter: float | None = None,
        tag: str | None = None,
        plot_result: bool = True,
        plot_running_mean: bool = False,
    ) -> None:
        """Record ``value`` under ``name`` in the results log (one line on disk at once) and plot it.

        ``counter`` is the x position: an int, or a float (trixi's ``epoch + i / len(loader)``).
        ``plot_running_mean``: plot the mean of the last :attr:`running_mean_length` values added under
        ``name`` with this flag instead of the value (the log records the value itself).
        """
        if plot_running_mean:
            self._add_running_mean(value, name, counter, tag, plot_result)
            return
        self._add_result(value, name, counter, tag, plot_result, epoch=self.epoch)

    def _add_running_mean(
        self, value: Any, name: str, counter: float | None, tag: str | None, plot_result: bool
    ) -> None:
        if type(value) is not float and type(value) is not int:
            value = to_scalar(value)
        if not isinstance(value, (int, float)):
            raise ConfigError(
                f"add_result({name!r}, plot_running_mean=True): a running mean needs a number, not "
                f"{type(value).__name__}"
            )
        self._add_result(value, name, counter, tag, False, epoch=self.epoch)
        window = self._running_means.get(name)
        if window is None:
            length = max(1, int(self.running_mean_length))
            window = self._running_means[name] = collections.deque(maxlen=length)
        window.append(value)
        if plot_result and self._value_listeners:
            # the hook spec still types counter as int; float counters (trixi's) reach loggers as they are
            self.clog.show_value(sum(window) / len(window), name, counter=counter, tag=tag)

    def add_result_without_epoch(
        self,
        value: Any,
        name: str,
        counter: float | None = None,
        tag: str | None = None,
        plot_result: bool = True,
    ) -> None:
        """Like :meth:`add_result` but the record carries no epoch (a final test score)."""
        self._add_result(value, name, counter, tag, plot_result, epoch=None)

    def _add_result(
        self,
        value: Any,
        name: str,
        counter: float | None,
        tag: str | None,
        plot_result: bool,
        epoch: int | None,
    ) -> None:
        # The hot path of a training loop: skip conversions and hook machinery nobody is listening to.
        if type(value) is not float and type(value) is not int:
            value = to_scalar(value)
        self._results.add(name, value, counter, tag, epoch)
        if self._result_listeners or self._result_hook.get_hookimpls():
            self._fire(
                "on_result_added",
                experiment=self,
                name=name,
                value=value,
                counter=counter,
                tag=tag,
                epoch=epoch,
            )
        if plot_result and self._value_listeners:
            self.clog.show_value(value, name, counter=counter, tag=tag)

    def get_result(self, name: str, tag: str | None = None) -> Any:
        """The last value recorded under ``name`` and ``tag`` (None when there is none).

        Without ``tag``, ``name`` is a series key (``"val/accuracy"``) or a name logged under one tag only;
        a name logged under several tags is an :class:`~trialog.errors.AmbiguousResultError` naming them.
        """
        try:
            return self._results.last(name, tag)
        except AmbiguousResultError:
            raise
        except KeyError:
            return None

    def save_results(self) -> dict[str, dict[str, Any]]:
        """Write the summary ``result/results.json`` now (it is also written at every epoch end); return it."""
        self._results.save_summary()
        return self._results.summary()

    # ------------------------------------------------------------------ what a checkpoint holds
    def get_simple_variables(self, ignore: Sequence[str] = ()) -> dict[str, Any]:
        """The "simple" public attributes set after construction (trixi's "simple" save type).

        Numbers, strings, bools, None, numpy arrays (not of objects) and scalars, and lists, tuples and
        dicts of those. Attributes that existed when the constructor returned (name, n_epochs, the
        folders, options) and names starting with ``_`` are not included.
        """
        skip = set(ignore) | self.reserved_attributes
        return {k: v for k, v in _public_items_of(self) if k not in skip and is_simple(v)}

    def update_attributes(self, var_dict: Mapping[str, Any], ignore: Sequence[str] = ()) -> None:
        """Set attributes from ``var_dict`` (trixi's helper), skipping ``ignore``, private and reserved names."""
        skip = set(ignore) | self.reserved_attributes
        for key, value in var_dict.items():
            if key not in skip and not str(key).startswith("_"):
                setattr(self, key, value)

    @property
    def reserved_attributes(self) -> frozenset[str]:
        """Attributes that existed when the constructor returned: configuration, never checkpoint state."""
        return self._reserved_attributes

    def checkpointed_attributes(self) -> Sequence[str]:
        """Names of attributes a subclass stores in checkpoints itself (so the core does not warn about them)."""
        return ()

    def add_state_part(
        self,
        name: str,
        get: Callable[[], Any],
        set: Callable[[Any], None],
        *,
        restore_on: Sequence[str] = RESTORE_KINDS,
        attributes: Sequence[str] = (),
    ) -> None:
        """Add a named part to every checkpoint: ``get()`` is stored under ``state["parts"][name]``, ``set(value)``
        restores it.

        ``restore_on``: the restores that apply it (of "resume" — a resumed :meth:`run` —, "test" — a
        resumed :meth:`run_test` — and "load" — :meth:`load_checkpoint`). ``attributes``: attribute names
        the part stores (no "not stored" warning for them). A plugin adds its parts in
        ``on_run_start`` or a subclass in its constructor; a checkpoint without a registered part is
        restored with a warning naming it.
        """
        if not name or not isinstance(name, str):
            raise ConfigError(f"a state part needs a non-empty string name, got {name!r}")
        unknown = [k for k in restore_on if k not in RESTORE_KINDS]
        if unknown:
            raise ConfigError(
                f"state part {name!r}: restore_on {unknown} unknown; choose from {list(RESTORE_KINDS)}"
            )
        if name in self._parts:
            raise ConfigError(f"a state part named {name!r} is already registered")
        self._parts[name] = _StatePart(get, set, tuple(restore_on), tuple(attributes))

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything a checkpoint of this moment holds: ``{"trialog", "rng", "simple", "user", "parts"}``."""
        state: dict[str, Any] = {
            "trialog": {
                "epoch": self.epoch,
                "results_position": self._results.position(),
                "results_records": sum(s.count for s in self._results.stats.values()),
                "seed": self.seed,
                "n_epochs": self.n_epochs,
                # the dispatcher's call numbers: default counters continue after a resume
                "counters": self.clog.counter_state(),
            },
            "rng": self.rng_state(),
            "user": dict(self.get_state()),
        }
        if self.store_simple_attributes:
            state["simple"] = self.get_simple_variables()
        if self._parts:
            state["parts"] = {name: part.get() for name, part in self._parts.items()}
        self._warn_unstored(state)
        return state

    def _warn_unstored(self, state: Mapping[str, Any]) -> None:
        if self._warned_unstored:
            return
        self._warned_unstored = True
        claimed = (
            set(state.get("simple", ())) | set(state.get("user", ())) | set(self.checkpointed_attributes())
        )
        claimed |= set(getattr(type(self), "not_checkpointed", ()))
        for part in self._parts.values():
            claimed |= set(part.attributes)
        # an object whose own method is a part's getter (a trialog.Monitor) is stored by that part
        owners = {id(getattr(part.get, "__self__", None)) for part in self._parts.values()}
        lost = [
            f"{k} ({type(v).__name__})"
            for k, v in _public_items_of(self)
            if k not in self.reserved_attributes
            and k not in claimed
            and id(v) not in owners
            and not is_simple(v)
            and not _is_code(v)
        ]
        if lost:
            warnings.warn(
                f"trialog: {type(self).__name__} attribute(s) {', '.join(lost)} are not stored in checkpoints "
                "(they are not 'simple' values): a resumed run has what setup() builds again. Store them "
                "with get_state()/set_state() or add_state_part(), or name them in the class attribute "
                "`not_checkpointed` when setup() rebuilds them",
                TrialogWarning,
                stacklevel=4,
            )

    @property
    def restoring(self) -> RestoreContext | None:
        """While :meth:`restore_state` runs: what is being restored (kind, source, options); else None."""
        return self._restoring

    def restore_state(
        self,
        state: Mapping[str, Any],
        *,
        kind: str = "load",
        results: bool = False,
        rng: bool = True,
        source: str = "the checkpoint",
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Restore a checkpoint's state: epoch, simple attributes, :meth:`set_state`, parts, RNGs.

        ``kind``: "resume", "test" or "load" (parts restore only on the kinds they were registered for).
        ``results`` also truncates this run's results log to the checkpoint's position (only for a
        checkpoint of this run). ``options`` reach :meth:`set_state` through :attr:`restoring`.
        """
        if kind not in RESTORE_KINDS:
            raise ConfigError(f"restore kind {kind!r} unknown; choose from {list(RESTORE_KINDS)}")
        self._restoring = RestoreContext(kind, source, dict(options or {}))
        try:
            meta = state.get("trialog", {})
            if results and "results_position" in meta:
                self._results.truncate(int(meta["results_position"]))
            if "epoch" in meta:
                self.epoch = int(meta["epoch"])
            if self.store_simple_attributes and "simple" in state:
                self.update_attributes(state["simple"])
            self.set_state(state.get("user", {}))
            saved_parts = state.get("parts", {})
            for name, part in self._parts.items():
                if kind not in part.restore_on:
                    continue
                if name in saved_parts:
                    part.set(saved_parts[name])
                else:
                    warnings.warn(
                        f"{source} holds no state part {name!r}; it keeps its current state",
                        TrialogWarning,
                        stacklevel=2,
                    )
            if rng and "rng" in state:
                self.set_rng_state(state["rng"])
        finally:
            self._restoring = None

    # ------------------------------------------------------------------ checkpoints and resume
    def _on_checkpoint_saved(self, entry: Any) -> None:
        # Called by the manager once the file and the manifest are on disk. In async mode that happens on
        # the writer thread: queue it, so loggers and plugins are only ever called from the run's thread.
        if threading.get_ident() != self._thread_id:
            self._saved_pending.append(entry)
            return
        self._fire_checkpoint_saved(entry)

    def _fire_checkpoint_saved(self, entry: Any) -> None:
        self._fire(
            "on_checkpoint_saved",
            experiment=self,
            path=str(entry.path),
            step=entry.step,
            epoch=entry.epoch,
            metric=entry.metric,
        )

    def _drain_checkpoint_events(self) -> None:
        while self._saved_pending:
            self._fire_checkpoint_saved(self._saved_pending.popleft())

    def save_checkpoint(self, metrics: Mapping[str, Any] | None = None, step: int | None = None) -> Any:
        """Checkpoint :meth:`checkpoint_state` after epoch ``self.epoch`` into the run's series.

        ``metrics`` defaults to the last value of the manager's ``monitor`` result. ``step`` defaults to
        one more than the latest checkpoint's. Returns the manifest entry (a
        :class:`trialog.checkpoint.CheckpointEntry`).
        """
        manager = self.checkpoints
        if metrics is None and manager.monitor is not None and manager.monitor in self._results.stats:
            metrics = {manager.monitor: self._results.last(manager.monitor)}
        if step is None:
            if self._next_step is None:
                latest = manager.latest()
                self._next_step = 0 if latest is None else latest.step + 1
            step = self._next_step
        self._next_step = step + 1
        state = self.checkpoint_state()
        # The resume contract: every logger's output up to here is on disk before the checkpoint is.
        late = self.clog.sync(
            "on_checkpoint",
            experiment=self,
            step=step,
            epoch=self.epoch,
            position=state["trialog"]["results_position"],
        )
        if late:
            warnings.warn(
                f"trialog: logger(s) {', '.join(late)} did not finish on_checkpoint within "
                f"{self.clog.drain_timeout} s; checkpoint {step} is saved without waiting for them",
                TrialogWarning,
                stacklevel=2,
            )
        return manager.save(state, step=step, epoch=self.epoch, metrics=metrics)

    def checkpoint_series(self, name: str, **options: Any) -> Any:
        """A checkpoint series of your own in ``checkpoint/<name>/`` (a :class:`trialog.CheckpointManager`).

        Made once per name and kept: the run waits for its saves like for its own, and its saves fire
        ``on_checkpoint_saved``. ``options`` are CheckpointManager options; by default the run's format
        and async mode and ``keep_last=1`` (a named checkpoint replaced by the next save of that name).
        """
        from .checkpoint import CheckpointManager

        manager = self._series.get(name)
        if manager is not None:
            return manager
        if (
            not name
            or Path(name).name != name
            or name in ("last", "best")
            or name.startswith((".", "step-"))
            or name == MANIFEST_NAME
        ):
            raise ConfigError(
                f"checkpoint series name {name!r} is not usable: it must be a plain folder name, not 'last', "
                "'best', or one starting with '.' or 'step-' (those select or name the run's own series)"
            )
        options.setdefault("format", self.checkpoints.format)
        options.setdefault("async_save", self.checkpoints.async_save)
        options.setdefault("keep_last", 1)
        options.setdefault("on_saved", self._on_checkpoint_saved)
        manager = CheckpointManager(self.checkpoint_dir / name, **options)
        self._series[name] = manager
        return manager

    def checkpoint_series_names(self) -> list[str]:
        """Names of the checkpoint series in this run folder besides the run's own (saved in any process)."""
        if not self.checkpoint_dir.is_dir():
            return []
        return sorted(p.name for p in self.checkpoint_dir.iterdir() if (p / MANIFEST_NAME).is_file())

    def load_checkpoint(self, which: str | int = "last", *, restore_results: bool = False) -> dict[str, Any]:
        """Load a checkpoint ("last", "best" or a step) and restore it (:meth:`restore_state`, kind "load").

        ``restore_results`` also truncates the results log to the checkpoint's position. Returns the state.
        """
        state, entry = self.checkpoints.load(which)
        self.restore_state(state, kind="load", results=restore_results, source=str(entry.path))
        return state

    def wait_checkpoints(self) -> None:
        """Block until every asynchronous save (the run's and its series') is on disk; re-raise a failed one."""
        try:
            self.checkpoints.wait()
            for manager in self._series.values():
                manager.wait()
        finally:
            self._drain_checkpoint_events()

    def restore_resumed(self, full: bool = True) -> int:
        """Restore the resumed run's latest checkpoint once; returns :attr:`start_epoch`.

        ``full`` (a resumed :meth:`run`, kind "resume"): also the results log, the RNGs and the epoch to
        continue at; otherwise (kind "test") only the state. Does nothing for a run that is not resumed or
        was restored already. :meth:`run` calls it after ``prepare()``; a loop of your own calls it before
        its first epoch.
        """
        if self._resume_from is None or self._restored:
            return self.start_epoch
        self._restored = True
        src = self._resume_from
        from .checkpoint import CheckpointManager

        same_folder = src.resolve() == self.run_dir.resolve()
        manager = (
            self.checkpoints
            if same_folder
            else CheckpointManager(src / "checkpoint", **self._checkpoint_options)
        )
        latest = manager.latest()
        if latest is None:
            # Killed before the first checkpoint: start over from epoch 0. The RNGs were seeded by __init__
            # with the original seed and setup() ran as in the first attempt, so nothing else to restore.
            if full and same_folder:
                self._results.truncate(0)
            if full:
                self._resume_loggers(None, None, 0, src)
            return self.start_epoch
        state, entry = manager.load("last", fallback=self._resume_fallback)
        if full and same_folder:
            state, entry = self._check_results_cover(manager, state, entry)
        position = int(state["trialog"]["results_position"])
        if full and not same_folder:
            self._copy_results(src / "result" / "results.jsonl", position)
        self.restore_state(
            state,
            kind="resume" if full else "test",
            results=full and same_folder,
            rng=full,
            source=f"the checkpoint of {src}",
        )
        if full:
            self.clog.restore_counters(state["trialog"].get("counters", ()))
            self._resume_loggers(entry.step, int(state["trialog"]["epoch"]), position, src)
            self.start_epoch = int(state["trialog"]["epoch"]) + 1
            if self.resume_reset_epochs:
                self.start_epoch = 0
                self.epoch = 0
        return self.start_epoch

    def _check_results_cover(
        self, manager: Any, state: dict[str, Any], entry: Any
    ) -> tuple[dict[str, Any], Any]:
        from .resumelog import check_results_cover

        try:
            return check_results_cover(
                manager,
                state,
                entry,
                self.run_dir,
                missing=self._results_missing,
                fallback=self._resume_fallback,
            )
        except BaseException:
            self._results.keep_summary()  # results.json still summarises the records that were lost
            if self._results_missing and self._results.position() == 0:
                # A deleted log is not recreated empty: leave the folder as the error describes it.
                self._results.close()
                for name in ("results.jsonl", "results.series", "results.series.json"):
                    with contextlib.suppress(OSError):
                        (self.result_dir / name).unlink()
            raise

    def _resume_loggers(self, step: int | None, epoch: int | None, position: int, source: Path) -> None:
        """The resume contract: every logger brings its output back to checkpoint ``step`` (``on_resume``)."""
        missing = self.clog.missing("on_resume")
        if missing:
            warnings.warn(
                f"trialog: logger(s) {', '.join(missing)} do not implement on_resume: what they logged after "
                "the checkpoint this run resumes from stays in their output (see trialog.hookspecs)",
                TrialogWarning,
                stacklevel=3,
            )
        self._fire(
            "on_resume",
            experiment=self,
            step=step,
            epoch=epoch,
            position=position,
            results=str(self.result_dir / "results.jsonl"),
            source=str(source),
        )

    def _copy_results(self, source: Path, position: int) -> None:
        """Start this run's results log with the old run's records up to ``position`` (resume in a new folder)."""
        from .results import ResultLog

        with open(source, "rb") as fh:
            head = fh.read(position)
        self._results.close()
        with open(self.result_dir / "results.jsonl", "ab") as fh:
            fh.write(head)
        self._results = ResultLog(self.result_dir, at_best=self._at_best)

    # ------------------------------------------------------------------ RNGs (through the plugin hooks)
    def seed_rngs(self, seed: int) -> None:
        """Seed every generator the ``trialog.plugins`` know (python and numpy by the core's, torch's by trialog-torch)."""
        self.plugin_hooks.call("seed_rngs", seed=seed)

    def rng_state(self) -> dict[str, Any]:
        """The merged RNG state of every ``trialog.plugins`` module (``{"python": ..., "numpy": ..., "torch": ...}``)."""
        state: dict[str, Any] = {}
        for part in self.plugin_hooks.call("get_rng_state"):
            state.update(part)
        return state

    def set_rng_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state :meth:`rng_state` produced (also the 0.1 layout with a ``"plugins"`` sub-mapping)."""
        merged = {k: v for k, v in state.items() if k != "plugins"}
        merged.update(state.get("plugins") or {})
        if merged:
            self.plugin_hooks.call("set_rng_state", state=merged)

    # ------------------------------------------------------------------ run-folder API (trixi's ExperimentLogger)
    def save_config(self, data: Any, name: str = "config") -> Path:
        """Save a config (Config or mapping) as ``config/<name>.json`` (credentials redacted)."""
        from .config import Config

        path = inside(self.config_dir, _with_suffix(name, ".json"), "config name")
        path.parent.mkdir(parents=True, exist_ok=True)
        if find_credentials(data):
            data = Config(config=redact(data)) if isinstance(data, Config) else redact(data)
        if hasattr(data, "dump"):
            data.dump(path)
        else:
            _write_json(path, data)
        return path

    def load_config(self, name: str = "config") -> Any:
        """Load ``config/<name>.json`` as a :class:`trialog.Config` (tags stay unresolved)."""
        from .config import Config

        return Config(inside(self.config_dir, _with_suffix(name, ".json"), "config name"))

    def note(self, text: str | int, remove: bool = False) -> list[dict[str, Any]]:
        """Leave a timestamped note in run.json (xmen's ``note``); ``remove=True``: remove note number ``text``
        (0 is the first; or the note whose text is ``text``). Returns the notes (:mod:`trialog.notes`)."""
        from .notes import change_note

        return change_note(self.run_dir, text, remove=remove)

    def print(self, *args: Any, sep: str = " ") -> None:
        """Print to stdout and log the text through the loggers (``show_text``)."""
        text = redact_text(sep.join(str(a) for a in args))
        builtins.print(text, flush=True)
        self.clog.show_text(text)

    # ------------------------------------------------------------------ names trialog-trixi adds
    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: say where trixi's names went instead of a bare AttributeError
        if name in _TRIXI_MEMBERS:
            raise AttributeError(
                f"{type(self).__name__}.{name} is trixi's API, which comes with trialog-trixi: pip install "
                "trialog-trixi and subclass trialog_trixi.TrixiExperiment (or trixi's Experiment / PytorchExperiment)"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


#: Members trialog-trixi's classes add (its ``TrixiAPI`` mixin): named in the error above.
_TRIXI_MEMBERS = frozenset(
    "elog exp_name get_result_without_epoch save_dict load_dict save_numpy_data load_numpy_data save_pickle "
    "load_pickle save_file".split()
)


# ---------------------------------------------------------------------------------------------------------------


def _resolve_resume(resume: str | os.PathLike[str], base_dir: Path, skip_unreadable: bool = False) -> Path:
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


def _default_loggers() -> dict[str, Any]:
    from . import plugins

    try:
        installed = plugins.names("trialog.loggers")
    except Exception:
        installed = []
    return {"file": "file"} if "file" in installed else {}


def _entry_get(entry: Any, key: str) -> Any:
    return entry[key] if isinstance(entry, Mapping) else getattr(entry, key)


def _with_suffix(name: str, suffix: str) -> str:
    return name if name.endswith(suffix) else name + suffix


def _write_json(path: Path, data: Any) -> None:
    from .run import atomic_write_json

    atomic_write_json(path, data)


def _close_quietly(clog: Any, meta: RunMeta, console: ConsoleCapture | None = None) -> None:
    # Interpreter exit or garbage collection: flush what the loggers hold; never raise from here.
    if console is not None:
        with contextlib.suppress(Exception):
            console.stop()
    with contextlib.suppress(Exception):
        meta.stop_heartbeat()
    with contextlib.suppress(Exception):
        clog.close()


def _is_code(value: Any) -> bool:
    """Functions, methods, classes and modules: behaviour (re-made by the code), not state to checkpoint."""
    import inspect

    return inspect.isroutine(value) or inspect.isclass(value) or inspect.ismodule(value)


def _public_items_of(obj: Any) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in list(vars(obj).items()) if not k.startswith("_")]


__all__ = ["RESTORE_KINDS", "Experiment", "RestoreContext", "is_simple"]
