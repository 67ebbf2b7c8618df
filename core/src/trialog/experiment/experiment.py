"""``trialog.Experiment``: trixi's experiment lifecycle on a crash-safe run folder with exact resume.

How a run goes, what a checkpoint holds and where the work is done: the package docstring (:mod:`trialog.experiment`).
"""

from __future__ import annotations

import builtins
import collections
import os
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from trialog.config.overrides import prepare_config
from trialog.errors import AmbiguousResultError
from trialog.experiment import lifecycle as _lifecycle
from trialog.experiment import opening as _open
from trialog.experiment import resume as _resume
from trialog.experiment import stages as _stages
from trialog.experiment import state as _state
from trialog.experiment.state import RESTORE_KINDS, RestoreContext, StatePart, is_simple
from trialog.hooks.plugins import PluginHooks, get_plugin_manager
from trialog.loggers.dispatch import to_scalar
from trialog.loggers.preflight import check_flags
from trialog.run.capture import ConsoleCapture
from trialog.run.folder import DEFAULT_FOLDER_FORMAT
from trialog.run.liveness import RunLock
from trialog.run.redact import redact_text

if TYPE_CHECKING:
    from trialog.checkpoint.manager import CheckpointManager
    from trialog.loggers.dispatch import CombinedLogger
    from trialog.results.log import ResultLog


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
            ``--help`` prints the declared parameters (``trialog.param``) and exits (:mod:`trialog.config.overrides`).
        resume_reset_epochs: a resumed run starts again at epoch 0 after restoring its state (trixi's
            fine-tuning behaviour; trixi's default was True, here False so that a resume continues exactly).
        exp_name: trixi's name for ``name`` (used when ``name`` is not given).
        capture_output: while the run runs, tee stdout and stderr into ``log/stdout.txt`` and
            ``log/stderr.txt`` (redacted); an exception that ends it leaves its traceback in ``log/error.txt``
            and its last lines in run.json (``traceback``). See :mod:`trialog.run.capture`.
        monitor, mode: keep every result of the epoch where ``monitor`` was best (``mode`` "min" or "max",
            default by its name, :func:`trialog.results.direction.metric_mode`) as ``at_best/<name>`` in
            ``result/results.json`` (:mod:`trialog.results.atbest`). Default: the checkpoint ``monitor``, if any.
        quiet: print nothing (by default the ``console`` plugin prints the run folder at the start, a line
            per epoch with its latest values, and the last and best values at the end).

    Class attributes a subclass may set: ``store_simple_attributes`` (default True: checkpoint the simple
    attributes, see :meth:`get_simple_variables`) and ``not_checkpointed`` (names of attributes that
    ``setup()`` rebuilds, so the "not stored" warning leaves them out).
    """

    #: Checkpoint the "simple" public attributes (trixi's "simple" save type) under ``state["simple"]``.
    store_simple_attributes: ClassVar[bool] = True
    #: Sets of simple values count as simple (for checkpoint formats that store sets).
    simple_sets: ClassVar[bool] = False
    #: How many of a name's last values ``add_result(plot_running_mean=True)`` averages (trixi's default).
    running_mean_length: ClassVar[int] = 10
    #: Attributes rebuilt by setup(): no "not stored in checkpoints" warning for them.
    not_checkpointed: ClassVar[Sequence[str]] = ()

    # Set while the run folder is opened (trialog.experiment.opening).
    run_dir: Path
    base_dir: Path
    config_dir: Path
    checkpoint_dir: Path
    img_dir: Path
    log_dir: Path
    plot_dir: Path
    result_dir: Path
    save_dir: Path
    checkpoints: CheckpointManager
    clog: CombinedLogger
    _run_lock: RunLock
    _results: ResultLog
    _results_missing: bool
    _result_listeners: bool
    _value_listeners: bool
    _result_hook: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # What exists when the outermost constructor returns is configuration, not checkpoint state: wrap
        # each subclass constructor so the snapshot is retaken after it (the outermost one finishes last).
        super().__init_subclass__(**kwargs)
        _stages.snapshot_after_init(cls)

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
        check_flags("Experiment", {k: v for k, v in locals().items() if k in _open.FLAG_OPTIONS})
        config = _open.coerce_config(config)
        base = Path(base_dir if base_dir is not None else config.get("base_dir") or "runs")
        resume_from, resumed_meta, config = _resume.resume_source(
            resume, base, config, resume_skip_unreadable
        )
        # plugins' declared defaults (trialog-xmen's params) fill the config, the overrides apply, plugins check it
        prepare_config(type(self), config, update_from_argv)
        self.config = config
        #: True: the ``console`` plugin prints nothing for this run (no folder, epoch or summary lines).
        self.quiet = bool(quiet)

        self.name, self.n_epochs, self.seed = _open.identity(
            type(self).__name__, config, resumed_meta, name or exp_name, n_epochs, seed,
            random_suffix=append_rnd_to_name and not (resume_from is not None and not resume_new_folder),
        )  # fmt: skip

        self.epoch: int = 0
        #: The epoch :meth:`run` starts at (set by :meth:`restore_resumed`; a loop of your own reads it).
        self.start_epoch: int = 0
        self.resume_reset_epochs = bool(resume_reset_epochs)
        self._stop_requested = False
        self._parts: dict[str, StatePart] = {}
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

        # Every mistake in the options stops the run here, before its folder exists.
        loggers = _open.check_options(self, checkpoint, loggers, monitor, mode)
        self._next_step: int | None = None
        self._saved_events = _state.SavedEvents(self)

        # ---- the run folder and its run.json
        resumed_meta = _open.open_folder(
            self, resume_from, resume_new_folder, base, folder_format, resumed_meta
        )
        self._console = ConsoleCapture(self.log_dir) if capture_output else None

        self.meta, diff = _open.start_meta(
            self, heartbeat_interval, purpose, resumed_meta, resume_from, resume_new_folder
        )
        try:
            _open.init_folder(self, diff, save_sources, loggers)
        except BaseException as exc:
            # The folder exists now: say why the run never started instead of leaving it "running".
            self.meta.finish("error", error=redact_text(f"{type(exc).__name__}: {exc}"))
            self._run_lock.release()
            raise
        self._finalizer = weakref.finalize(self, _stages.close_quietly, self.clog, self.meta, self._console)
        self.meta.start_heartbeat()
        self._reserved_attributes: frozenset[str] = frozenset(self.__dict__) | {"_reserved_attributes"}

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

    def set_state(self, state: Mapping[str, Any], context: RestoreContext | None = None) -> None:
        """Restore what :meth:`get_state` returned (on resume and by :meth:`load_checkpoint`).

        ``context`` tells which restore is running (``kind``: "resume", "test" or "load") and with which
        options. An override written as ``set_state(self, state)`` is called without it (and reads
        :attr:`restoring`).
        """

    # ------------------------------------------------------------------ running (trialog.experiment.lifecycle)
    def run(self, setup: bool = True) -> None:
        """Run the lifecycle: setup, prepare, ``n_epochs`` × (train, validate), end.

        A resumed run restores its latest checkpoint after ``prepare()`` and continues at
        :attr:`start_epoch` (the epoch after the checkpoint's, or 0 with ``resume_reset_epochs``).
        """
        self._stop_requested = False
        _lifecycle.drive_lifecycle(
            self, before=self._setup_stage if setup else None, epoch=self._epoch_stage, end=self.end
        )

    def run_test(self, setup: bool = True) -> None:
        """Run the test stage: (setup, prepare,) test, end_test; a resumed run restores its model state first."""
        _lifecycle.drive_lifecycle(
            self,
            before=self._setup_stage if setup else None,
            full_restore=False,
            end=self._test_stage,
            status="finished",
        )

    def _setup_stage(self) -> None:
        self.setup()
        self.prepare()

    def _epoch_stage(self, epoch: int) -> None:
        self.train(epoch=epoch)
        self.validate(epoch=epoch)

    def _test_stage(self) -> None:
        self.test()
        self.end_test()

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
        _stages.begin_run(self)

    def begin_epoch(self, epoch: int) -> None:
        """Set :attr:`epoch` and fire ``on_epoch_start`` (and any pending ``on_checkpoint_saved``)."""
        self.epoch = epoch
        self._saved_events.drain()
        self._fire("on_epoch_start", experiment=self, epoch=epoch)

    def end_epoch(self, epoch: int) -> None:
        """Fire ``on_epoch_end``, checkpoint when due (every ``checkpoint["every"]`` epochs, the last epoch,
        and when a stop was requested), write the results summary and record the epoch in run.json."""
        _stages.end_epoch(self, epoch)

    def finish_run(self, status: str | None = None) -> None:
        """Wait for checkpoints, write the summary, flush the loggers, set the final status, fire ``on_run_end``.

        ``status`` defaults to "stopped" after :meth:`stop`, else "finished".
        """
        _stages.finish_run(self, status)

    def fail_run(self, exc: BaseException, status: str = "error") -> None:
        """Record that ``exc`` ended the run: ``process_err``, status ``status`` with the error, ``on_run_error``."""
        _stages.fail_run(self, exc, status)

    def close(self) -> dict[str, Any]:
        """Close the loggers and stop the heartbeat (also done at interpreter exit); returns the logger summary.

        An experiment used without :meth:`run` (as a plain run folder + logger) is recorded as finished.
        """
        return _stages.close(self)

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

    # ------------------------------------------------------------------ results
    @property
    def results(self) -> Any:
        """The run's results log (``result/results.jsonl``): a :class:`trialog.results.log.ResultLog`
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
            _stages.add_running_mean(self, value, name, counter, tag, plot_result)
            return
        self._add_result(value, name, counter, tag, plot_result, epoch=self.epoch)

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

    # ------------------------------------------------------------------ what a checkpoint holds (trialog.experiment.state)
    def get_simple_variables(self, ignore: Sequence[str] = ()) -> dict[str, Any]:
        """The "simple" public attributes set after construction (trixi's "simple" save type).

        Numbers, strings, bools, None, numpy arrays (not of objects) and scalars, and lists, tuples and
        dicts of those (:func:`is_simple`). Attributes that existed when the constructor returned (name,
        n_epochs, the folders, options) and names starting with ``_`` are not included.
        """
        skip = set(ignore) | self.reserved_attributes
        return {
            k: v
            for k, v in _state.public_items(self)
            if k not in skip and is_simple(v, sets=self.simple_sets)
        }

    def stores_simple(self) -> bool:
        """Whether the checkpoint being written stores :meth:`get_simple_variables` (under ``"simple"``)."""
        return self.store_simple_attributes

    def restores_simple(self, context: RestoreContext) -> bool:
        """Whether the restore ``context`` applies a checkpoint's simple attributes."""
        return self.store_simple_attributes

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
        self._parts[name] = _state.make_state_part(self._parts, name, get, set, restore_on, attributes)

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything a checkpoint of this moment holds: ``{"trialog", "rng", "simple", "user", "parts"}``."""
        return _state.checkpoint_state(self)

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
        checkpoint of this run). ``options`` reach :meth:`set_state` in its :class:`RestoreContext`.
        """
        _state.restore_state(self, state, kind=kind, results=results, rng=rng, source=source, options=options)

    # ------------------------------------------------------------------ checkpoints and resume
    def save_checkpoint(self, metrics: Mapping[str, Any] | None = None, step: int | None = None) -> Any:
        """Checkpoint :meth:`checkpoint_state` after epoch ``self.epoch`` into the run's series.

        ``metrics`` defaults to the last value of the manager's ``monitor`` result. ``step`` defaults to
        one more than the latest checkpoint's. Returns the manifest entry (a
        :class:`trialog.checkpoint.manager.CheckpointEntry`).
        """
        return _state.save_checkpoint(self, metrics, step)

    def checkpoint_series(self, name: str, **options: Any) -> Any:
        """A checkpoint series of your own in ``checkpoint/<name>/`` (a :class:`trialog.CheckpointManager`).

        Made once per name and kept: the run waits for its saves like for its own, and its saves fire
        ``on_checkpoint_saved``. ``options`` are CheckpointManager options; by default the run's format
        and async mode and ``keep_last=1`` (a named checkpoint replaced by the next save of that name).
        """
        return _state.checkpoint_series(self, name, options)

    def checkpoint_series_names(self) -> list[str]:
        """Names of the checkpoint series in this run folder besides the run's own (saved in any process)."""
        return _state.series_names(self.checkpoint_dir)

    def load_checkpoint(self, which: str | int = "last", *, restore_results: bool = False) -> dict[str, Any]:
        """Load a checkpoint ("last", "best" or a step) and restore it (:meth:`restore_state`, kind "load").

        ``restore_results`` also truncates the results log to the checkpoint's position. Returns the state.
        """
        state, entry = self.checkpoints.load(which)
        self.restore_state(state, kind="load", results=restore_results, source=str(entry.path))
        return state

    def wait_checkpoints(self) -> None:
        """Block until every asynchronous save (the run's and its series') is on disk; re-raise a failed one."""
        _state.wait_checkpoints(self)

    def restore_resumed(self, full: bool = True) -> int:
        """Restore the resumed run's latest checkpoint once; returns :attr:`start_epoch`.

        ``full`` (a resumed :meth:`run`, kind "resume"): also the results log, the RNGs and the epoch to
        continue at; otherwise (kind "test") only the state. Does nothing for a run that is not resumed or
        was restored already. :meth:`run` calls it after ``prepare()``; a loop of your own calls it before
        its first epoch (:mod:`trialog.experiment.resume`).
        """
        return _resume.restore_resumed(self, full)

    # ------------------------------------------------------------------ RNGs (through the plugin hooks)
    def seed_rngs(self, seed: int) -> None:
        """Seed every generator the ``trialog.plugins`` know (python and numpy by the core's, torch's by trialog-torch)."""
        self.plugin_hooks.call("seed_rngs", seed=seed)

    def rng_state(self) -> dict[str, Any]:
        """The merged RNG state of every ``trialog.plugins`` module (``{"python": ..., "numpy": ..., "torch": ...}``)."""
        return _state.rng_state(self)

    def set_rng_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state :meth:`rng_state` produced (also the 0.1 layout with a ``"plugins"`` sub-mapping)."""
        _state.set_rng_state(self, state)

    # ------------------------------------------------------------------ run-folder API (trixi's ExperimentLogger)
    def save_config(self, data: Any, name: str = "config") -> Path:
        """Save a config (Config or mapping) as ``config/<name>.json`` (credentials redacted)."""
        return _stages.save_config(self, data, name)

    def load_config(self, name: str = "config") -> Any:
        """Load ``config/<name>.json`` as a :class:`trialog.Config` (tags stay unresolved)."""
        return _stages.load_config(self, name)

    def note(self, text: str | int, remove: bool = False) -> list[dict[str, Any]]:
        """Leave a timestamped note in run.json (xmen's ``note``); ``remove=True``: remove note number ``text``
        (0 is the first; or the note whose text is ``text``). Returns the notes (:mod:`trialog.run.notes`)."""
        from trialog.run.notes import change_note

        return change_note(self.run_dir, text, remove=remove)

    def print(self, *args: Any, sep: str = " ") -> None:
        """Print to stdout and log the text through the loggers (``show_text``)."""
        text = redact_text(sep.join(str(a) for a in args))
        builtins.print(text, flush=True)
        self.clog.show_text(text)

    # ------------------------------------------------------------------ names trialog-trixi adds
    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: say where trixi's names went instead of a bare AttributeError
        raise _stages.missing_attribute(self, name)


__all__ = ["RESTORE_KINDS", "Experiment", "RestoreContext", "is_simple"]
