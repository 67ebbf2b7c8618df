"""``trialog.Experiment``: trixi's experiment lifecycle on a crash-safe run folder with exact resume.

Subclass it and override the stages::

    class MyExperiment(trialog.Experiment):
        def setup(self):                 # build model, data, optimizer
            self.w = numpy.zeros(3)
        def train(self, epoch):
            self.add_result(loss, "loss", tag="train")
        def validate(self, epoch):
            self.add_result(acc, "acc", tag="val")
        def get_state(self):             # what a checkpoint stores besides epoch, results and RNGs
            return {"w": self.w}
        def set_state(self, state):
            self.w = state["w"]

    MyExperiment(config, n_epochs=10, seed=1, base_dir="runs").run()
    MyExperiment(n_epochs=10, base_dir="runs", resume="last").run()   # after a crash: same results

Lifecycle of :meth:`Experiment.run`: ``on_run_start`` → ``setup()`` → ``prepare()`` → (resume: restore
the latest checkpoint) → per epoch ``on_epoch_start`` → ``train(epoch)`` → ``validate(epoch)`` →
``on_epoch_end`` → checkpoint (``on_checkpoint_saved``) → ``end()`` → ``on_run_end``. An exception
calls ``process_err(e)`` and ``on_run_error`` and is re-raised. Lifecycle hooks reach both the
loggers (``self.clog.lifecycle``) and the ``trialog.plugins`` modules (the plugin manager).
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import copy
import json
import os
import random
import secrets
import shutil
import threading
import traceback as _traceback
import warnings
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .dispatch import to_scalar
from .errors import ConfigError, RunFolderError, TrialogWarning
from .plugins import get_plugin_manager
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

#: Checkpoint options the Experiment handles itself; the rest go to CheckpointManager.
_CHECKPOINT_DEFAULTS: dict[str, Any] = {"every": 1, "keep_last": 2}


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
        append_rnd_to_name: append a random suffix to the name (trixi's option).
        folder_format: the run folder name: strftime codes, ``{experiment_name}``, ``{run_number}``.
        checkpoint: options for :class:`trialog.CheckpointManager` plus ``every`` (save every N
            epochs; 0 disables automatic checkpoints). Default: every epoch, keep the last 2.
            ``False`` disables automatic checkpoints.
        save_sources: zip the entry script and the local modules it imported to ``save/sources.zip``.
        heartbeat_interval: seconds between run.json heartbeats while running (0: only at epoch ends).
        update_from_argv: apply ``--a.b 3`` overrides to the config: True reads ``sys.argv[1:]``, a list
            is used as it is. Only keys the config has can be set; others are a ConfigError.
    """

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
        purpose: str | None = None,
    ):
        from .config import Config

        if config is None:
            config = Config()
        elif isinstance(config, (str, os.PathLike)):
            config = Config(config)
        elif not isinstance(config, Config):
            config = Config(config=config)

        base = Path(base_dir if base_dir is not None else config.get("base_dir") or "runs")
        resume_from: Path | None = None
        resumed_meta: dict[str, Any] = {}
        if resume is not None and resume is not False:
            resume_from = _resolve_resume(resume, base)
            resumed_meta = read_meta(resume_from)
            if not config and (resume_from / "config" / "config.json").is_file():
                config = Config(resume_from / "config" / "config.json")
        if update_from_argv is not False:
            config.update_from_argv(None if update_from_argv is True else list(update_from_argv))
        self.config = config

        name = name or config.get("name") or resumed_meta.get("name") or type(self).__name__
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
        self._start_epoch = 0
        self._stop_requested = False
        self._closed = False
        self._resume_from = resume_from
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
        self._next_step: int | None = None
        self._thread_id = threading.get_ident()
        self._saved_pending: collections.deque[Any] = collections.deque()

        # ---- the run folder and its run.json
        if resume_from is not None and not resume_new_folder:
            if effective_status(resumed_meta) == "running":
                raise RunFolderError(
                    f"cannot resume {str(resume_from)!r}: it is still running (pid {resumed_meta.get('pid')} on "
                    f"{resumed_meta.get('host')}); stop it first, or pass resume_new_folder=True"
                )
            self.run_dir = resume_from
            for sub in LAYOUT:
                (self.run_dir / sub).mkdir(exist_ok=True)
        else:
            self.run_dir = create_run_folder(base, self.name, folder_format)
        self.base_dir = self.run_dir.parent
        self.config_dir = self.run_dir / "config"
        self.checkpoint_dir = self.run_dir / "checkpoint"
        self.img_dir = self.run_dir / "img"
        self.log_dir = self.run_dir / "log"
        self.plot_dir = self.run_dir / "plot"
        self.result_dir = self.run_dir / "result"
        self.save_dir = self.run_dir / "save"

        meta, diff = collect_metadata(self.name, seed=self.seed, heartbeat_interval=heartbeat_interval)
        meta["n_epochs"] = self.n_epochs
        meta["purpose"] = purpose or config.get("purpose") or resumed_meta.get("purpose")  # trialog.registry
        if resume_from is not None:
            meta["resumed_from"] = str(resume_from.resolve())
            if not resume_new_folder:
                # Same folder: keep the original identity (start, earlier resumes) and log this resume.
                meta["start"] = resumed_meta.get("start", meta["start"])
                meta["epoch"] = resumed_meta.get("epoch")
                meta["resumes"] = [*resumed_meta.get("resumes", []), {"time": now_iso(), "pid": meta["pid"]}]
        self.meta = RunMeta(self.run_dir, meta, heartbeat_interval=heartbeat_interval)
        try:
            self._init_folder(diff, save_sources, loggers)
        except BaseException as exc:
            # The folder exists now: say why the run never started instead of leaving it "running".
            self.meta.finish("error", error=f"{type(exc).__name__}: {exc}")
            raise
        self._finalizer = weakref.finalize(self, _close_quietly, self.clog, self.meta)
        self.meta.start_heartbeat()

    def _init_folder(self, diff: str | None, save_sources: bool, loggers: Any) -> None:
        from .checkpoint import CheckpointManager
        from .dispatch import CombinedLogger
        from .results import ResultLog

        if diff:
            (self.save_dir / "git.diff").write_text(diff, encoding="utf-8")
        self.save_config(self.config, "config")
        if save_sources:
            try:
                pack_sources(self.save_dir / "sources.zip")
            except OSError as exc:
                warnings.warn(
                    f"trialog: could not write {self.save_dir / 'sources.zip'}: {exc}",
                    TrialogWarning,
                    stacklevel=3,
                )
        try:
            self.checkpoints = CheckpointManager(
                self.checkpoint_dir, **self._checkpoint_options, on_saved=self._on_checkpoint_saved
            )
        except TypeError as exc:
            raise ConfigError(
                f"checkpoint options {sorted(self._checkpoint_options)} are not all CheckpointManager options "
                f"({exc}); use every, format, keep_last, keep_best, monitor, mode, async_save"
            ) from None
        self._results = ResultLog(self.result_dir)
        if loggers is None:
            loggers = _default_loggers()
        self.clog = CombinedLogger(loggers, run_dir=self.run_dir)
        objects = self.clog.loggers.values()
        self._result_listeners = any(hasattr(o, "on_result_added") for o in objects)
        self._value_listeners = any(hasattr(o, "show_value") for o in objects)
        self._result_hook = _plugin_manager().hook.on_result_added
        self._seed_rngs(self.seed)

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
        """The user state a checkpoint stores (numpy arrays, numbers, strings, lists, dicts)."""
        return {}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`get_state` returned (called on resume and by :meth:`load_checkpoint`)."""

    # ------------------------------------------------------------------ running
    def run(self, setup: bool = True) -> None:
        """Run the lifecycle: setup, prepare, ``n_epochs`` × (train, validate), end.

        A resumed run restores its latest checkpoint after ``prepare()`` and continues at the next epoch.
        """
        self._stop_requested = False
        try:
            self._fire_start()
            if setup:
                self.setup()
                self.prepare()
            if self._resume_from is not None and not self._restored:
                self._restore(full=True)
            for epoch in range(self._start_epoch, self.n_epochs):
                self.epoch = epoch
                self._drain_checkpoint_events()
                self._fire("on_epoch_start", experiment=self, epoch=epoch)
                self.train(epoch=epoch)
                self.validate(epoch=epoch)
                self._end_epoch(epoch)
                if self._stop_requested:
                    break
            self._start_epoch = self.n_epochs
            self.end()
            self._wait_checkpoints()  # an asynchronous save that failed fails the run
        except KeyboardInterrupt as exc:
            self._fail(exc, "killed")
            raise
        except Exception as exc:
            self._fail(exc, "error")
            raise
        self._finish("stopped" if self._stop_requested else "finished")

    def run_test(self, setup: bool = True) -> None:
        """Run the test stage: (setup, prepare,) test, end_test; a resumed run restores its model state first."""
        try:
            self._fire_start()
            if setup:
                self.setup()
                self.prepare()
            if self._resume_from is not None and not self._restored:
                self._restore(full=False)
            self.test()
            self.end_test()
            self._wait_checkpoints()
        except KeyboardInterrupt as exc:
            self._fail(exc, "killed")
            raise
        except Exception as exc:
            self._fail(exc, "error")
            raise
        self._finish("finished")

    def stop(self) -> None:
        """Ask :meth:`run` to stop after the current epoch (status "stopped"; ``end()`` still runs)."""
        self._stop_requested = True

    def _fire_start(self) -> None:
        self._thread_id = threading.get_ident()
        self.meta.update(status="running", end=None, pid=os.getpid())
        self.meta.start_heartbeat()
        self.clog.log_config(self._plain_config())
        self._fire(
            "on_run_start", experiment=self, run=copy.deepcopy(self.meta.data), config=self._plain_config()
        )

    def _end_epoch(self, epoch: int) -> None:
        self._fire("on_epoch_end", experiment=self, epoch=epoch)
        last = epoch + 1 >= self.n_epochs
        if self.checkpoint_every and (
            (epoch + 1) % self.checkpoint_every == 0 or last or self._stop_requested
        ):
            self.save_checkpoint()
        self._results.save_summary()
        self.meta.update(epoch=epoch)

    def _finish(self, status: str) -> None:
        self._wait_checkpoints()
        summary = self.save_results()
        self.clog.flush()
        self.clog.wait_idle()
        self.meta.finish(status, epoch=self.epoch)
        self._fire("on_run_end", experiment=self, run=copy.deepcopy(self.meta.data), summary=summary)

    def _fail(self, exc: BaseException, status: str) -> None:
        tb = "".join(_traceback.format_exception(type(exc), exc, exc.__traceback__))
        with contextlib.suppress(Exception):
            self.process_err(exc)
        with contextlib.suppress(Exception):
            self._wait_checkpoints()
        with contextlib.suppress(Exception):
            self._results.save_summary()
        self.meta.finish(status, error=f"{type(exc).__name__}: {exc}", epoch=self.epoch)
        self._fire(
            "on_run_error", experiment=self, run=copy.deepcopy(self.meta.data), error=exc, traceback=tb
        )
        with contextlib.suppress(Exception):
            self.clog.flush()

    def close(self) -> dict[str, Any]:
        """Close the loggers and stop the heartbeat (also done at interpreter exit); returns the logger summary.

        An experiment used without :meth:`run` (as a plain run folder + logger) is recorded as finished.
        """
        if self._closed:
            return {}
        self._closed = True
        self._finalizer.detach()
        try:
            self._wait_checkpoints()
        finally:
            if self.meta.data.get("status") == "running":
                self.save_results()
                self.meta.finish("finished", epoch=self.epoch)
            self.meta.stop_heartbeat()
        return self.clog.close()

    def __enter__(self) -> Experiment:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None and self.meta.data.get("status") == "running":
            status = "killed" if isinstance(exc, KeyboardInterrupt) else "error"
            self.meta.finish(status, error=f"{type(exc).__name__}: {exc}", epoch=self.epoch)
        self.close()

    # ------------------------------------------------------------------ hooks
    def _fire(self, hook: str, **kwargs: Any) -> None:
        """Call a lifecycle hook on the loggers and on the ``trialog.plugins`` modules."""
        self.clog.lifecycle(hook, **kwargs)
        caller = getattr(_plugin_manager().hook, hook)
        if not caller.get_hookimpls():  # the common case on the add_result path: skip pluggy's call machinery
            return
        try:
            caller(**kwargs)
        except Exception as exc:
            warnings.warn(
                f"trialog: a plugin's {hook} hook failed: {type(exc).__name__}: {exc}",
                TrialogWarning,
                stacklevel=3,
            )

    @property
    def loggers(self) -> dict[str, Any]:
        """The logger objects by their configured name (``self.loggers["file"]``)."""
        return self.clog.loggers

    def _plain_config(self) -> dict[str, Any]:
        return self.config.to_plain() if hasattr(self.config, "to_plain") else dict(self.config)

    # ------------------------------------------------------------------ results
    @property
    def results(self) -> Any:
        """The run's :class:`trialog.results.ResultLog` (``result/results.jsonl``)."""
        return self._results

    def add_result(
        self,
        value: Any,
        name: str,
        counter: int | None = None,
        tag: str | None = None,
        plot_result: bool = True,
    ) -> None:
        """Record ``value`` under ``name`` in the results log (one line on disk at once) and plot it."""
        self._add_result(value, name, counter, tag, plot_result, epoch=self.epoch)

    def add_result_without_epoch(
        self,
        value: Any,
        name: str,
        counter: int | None = None,
        tag: str | None = None,
        plot_result: bool = True,
    ) -> None:
        """Like :meth:`add_result` but the record carries no epoch (a final test score)."""
        self._add_result(value, name, counter, tag, plot_result, epoch=None)

    def _add_result(
        self,
        value: Any,
        name: str,
        counter: int | None,
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

    def get_result(self, name: str) -> Any:
        """The last value recorded under ``name`` (None when there is none)."""
        stats = self._results.stats.get(name)
        return None if stats is None else stats.last

    def save_results(self) -> dict[str, dict[str, Any]]:
        """Write the summary ``result/results.json`` now (it is also written at every epoch end); return it."""
        self._results.save_summary()
        return self._results.summary()

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

    def _experiment_state(self) -> dict[str, Any]:
        return {
            "trialog": {
                "epoch": self.epoch,
                "results_position": self._results.position(),
                "seed": self.seed,
                "n_epochs": self.n_epochs,
            },
            "rng": self._rng_state(),
            "user": dict(self.get_state()),
        }

    def save_checkpoint(self, metrics: Mapping[str, Any] | None = None, step: int | None = None) -> Any:
        """Checkpoint the state after epoch ``self.epoch``: epoch, results position, RNGs and :meth:`get_state`.

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
        return manager.save(self._experiment_state(), step=step, epoch=self.epoch, metrics=metrics)

    def load_checkpoint(self, which: str | int = "last", *, restore_results: bool = False) -> dict[str, Any]:
        """Load a checkpoint ("last", "best" or a step) and restore :meth:`set_state`, epoch and RNGs from it.

        ``restore_results`` also truncates the results log to the checkpoint's position. Returns the state.
        """
        state, _ = self.checkpoints.load(which)
        self._apply_state(state, restore_results=restore_results)
        return state

    def _wait_checkpoints(self) -> None:
        try:
            self.checkpoints.wait()
        finally:
            self._drain_checkpoint_events()

    def _restore(self, full: bool) -> None:
        """Restore the resumed run's latest checkpoint (full: also results, RNGs and the next epoch)."""
        self._restored = True
        src = self._resume_from
        assert src is not None
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
            return
        state, _ = manager.load("last")
        position = int(state["trialog"]["results_position"])
        if full and not same_folder:
            self._copy_results(src / "result" / "results.jsonl", position)
        self._apply_state(state, restore_results=full and same_folder, rng=full)
        if full:
            self._start_epoch = int(state["trialog"]["epoch"]) + 1

    def _copy_results(self, source: Path, position: int) -> None:
        """Start this run's results log with the old run's records up to ``position`` (resume in a new folder)."""
        from .results import ResultLog

        with open(source, "rb") as fh:
            head = fh.read(position)
        self._results.close()
        with open(self.result_dir / "results.jsonl", "ab") as fh:
            fh.write(head)
        self._results = ResultLog(self.result_dir)

    def _apply_state(self, state: Mapping[str, Any], restore_results: bool, rng: bool = True) -> None:
        meta = state.get("trialog", {})
        if restore_results and "results_position" in meta:
            self._results.truncate(int(meta["results_position"]))
        if "epoch" in meta:
            self.epoch = int(meta["epoch"])
        self.set_state(state.get("user", {}))
        if rng and "rng" in state:
            self._set_rng_state(state["rng"])

    # ------------------------------------------------------------------ RNGs
    def _seed_rngs(self, seed: int) -> None:
        import numpy as np

        random.seed(seed)
        np.random.seed(seed % 2**32)
        _plugin_manager().hook.seed_rngs(seed=seed)

    def _rng_state(self) -> dict[str, Any]:
        import numpy as np

        version, internal, gauss = random.getstate()
        np_state = np.random.get_state(legacy=False)
        state: dict[str, Any] = {
            "python": {
                "version": int(version),
                "internal": np.asarray(internal, dtype=np.int64),
                "gauss_next": gauss,
            },
            "numpy": {
                "bit_generator": np_state["bit_generator"],
                "key": np.asarray(np_state["state"]["key"]).copy(),
                "pos": int(np_state["state"]["pos"]),
                "has_gauss": int(np_state["has_gauss"]),
                "gauss": float(np_state["gauss"]),
            },
        }
        plugins: dict[str, Any] = {}
        for part in _plugin_manager().hook.get_rng_state():
            if part:
                plugins.update(part)
        if plugins:
            state["plugins"] = plugins
        return state

    def _set_rng_state(self, state: Mapping[str, Any]) -> None:
        import numpy as np

        py = state.get("python")
        if py is not None:
            internal = tuple(int(x) for x in np.asarray(py["internal"]).tolist())
            gauss = py.get("gauss_next")
            random.setstate((int(py["version"]), internal, None if gauss is None else float(gauss)))
        npy = state.get("numpy")
        if npy is not None:
            np.random.set_state(
                {
                    "bit_generator": str(npy["bit_generator"]),
                    "state": {"key": np.asarray(npy["key"], dtype=np.uint32), "pos": int(npy["pos"])},
                    "has_gauss": int(npy["has_gauss"]),
                    "gauss": float(npy["gauss"]),
                }
            )
        if state.get("plugins"):
            _plugin_manager().hook.set_rng_state(state=dict(state["plugins"]))

    # ------------------------------------------------------------------ run-folder API (trixi's ExperimentLogger)
    def save_config(self, data: Any, name: str = "config") -> Path:
        """Save a config (Config or mapping) as ``config/<name>.json``."""
        path = self.config_dir / _with_suffix(name, ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        if hasattr(data, "dump"):
            data.dump(path)
        else:
            _write_json(path, data)
        return path

    def load_config(self, name: str = "config") -> Any:
        """Load ``config/<name>.json`` as a :class:`trialog.Config` (tags stay unresolved)."""
        from .config import Config

        return Config(self.config_dir / _with_suffix(name, ".json"))

    def save_dict(self, data: Mapping[str, Any], path: str) -> Path:
        """Save a dict as JSON in ``save/<path>.json`` (numpy values become lists)."""
        target = self.save_dir / _with_suffix(path, ".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_json(target, data)
        return target

    def load_dict(self, path: str) -> Any:
        """Load ``save/<path>.json``."""
        target = self.save_dir / _with_suffix(path, ".json")
        return json.loads(target.read_text(encoding="utf-8"))

    def save_numpy_data(self, data: Any, path: str) -> Path:
        """Save an array as ``save/<path>.npy``."""
        import numpy as np

        target = self.save_dir / _with_suffix(path, ".npy")
        target.parent.mkdir(parents=True, exist_ok=True)
        np.save(target, data, allow_pickle=False)
        return target

    def load_numpy_data(self, path: str) -> Any:
        """Load ``save/<path>.npy`` (never unpickles)."""
        import numpy as np

        return np.load(self.save_dir / _with_suffix(path, ".npy"), allow_pickle=False)

    def save_pickle(self, data: Any, path: str) -> Path:
        """Pickle ``data`` to ``save/<path>``. Prefer :meth:`save_dict` / :meth:`save_numpy_data`."""
        import pickle

        target = self.save_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            pickle.dump(data, fh)
        return target

    def load_pickle(self, path: str) -> Any:
        """Unpickle ``save/<path>``.

        Unsafe for files you did not write yourself: unpickling runs code named in the file.
        """
        import pickle

        with open(self.save_dir / path, "rb") as fh:
            return pickle.load(fh)

    def save_file(self, filepath: str | os.PathLike[str], path: str | None = None) -> Path:
        """Copy a file into ``save/`` (or ``save/<path>/``)."""
        target_dir = self.save_dir if path is None else self.save_dir / path
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / Path(filepath).name
        shutil.copy2(filepath, target)
        return target

    def print(self, *args: Any, sep: str = " ") -> None:
        """Print to stdout and log the text through the loggers (``show_text``)."""
        text = sep.join(str(a) for a in args)
        builtins.print(text, flush=True)
        self.clog.show_text(text)


# ---------------------------------------------------------------------------------------------------------------


def _resolve_resume(resume: str | os.PathLike[str], base_dir: Path) -> Path:
    if isinstance(resume, str) and resume == "last":
        return latest_run(base_dir)
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


def _plugin_manager() -> Any:
    return get_plugin_manager()


def _entry_get(entry: Any, key: str) -> Any:
    return entry[key] if isinstance(entry, Mapping) else getattr(entry, key)


def _with_suffix(name: str, suffix: str) -> str:
    return name if name.endswith(suffix) else name + suffix


def _write_json(path: Path, data: Any) -> None:
    from .run import atomic_write_json

    atomic_write_json(path, data)


def _close_quietly(clog: Any, meta: RunMeta) -> None:
    # Interpreter exit or garbage collection: flush what the loggers hold; never raise from here.
    with contextlib.suppress(Exception):
        meta.stop_heartbeat()
    with contextlib.suppress(Exception):
        clog.close()


__all__ = ["Experiment"]
