"""The ``ray`` sweeper: ``trialog sweep CONFIG --sweeper ray [--address HOST:PORT]``.

Each Tune trial runs one trialog run (the ``trialog run`` trainer or the sweep's Experiment class) in
the sweep folder. Every epoch's scalar results are reported to Tune, with the run's checkpoint folder
as the Tune checkpoint; a trial Tune retries (``max_failures``) resumes its run folder with trialog's
exact resume. ``trialog sweep --resume SWEEP_DIR`` continues through ``Tuner.restore``; a trial whose
run already finished is never run again. Without ``--address`` (or ``RAY_ADDRESS``) a local Ray
instance is started whose servers listen on 127.0.0.1 only.

ray is imported when a sweep runs, never when the entry point is listed.
"""

from __future__ import annotations

import json
import numbers
import os
import sys
import warnings
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from trialog_sweep import ProcessSnapshot, open_sweep, read_sweep, run_trial

from trialog.api import hookimpl, plugins, series_values
from trialog.errors import ConfigError, TrialogError, TrialogWarning

__all__ = ["RaySweeper", "init_local", "tune_space"]

TUNE_DIR = "ray"
EXPERIMENT = "tune"
# Without it Ray advertises (and binds its gRPC servers to) the machine's outside address even for a
# cluster of one; read when ray is imported.
_LOCAL_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def init_local(num_cpus: int | None = None, **options: Any) -> Any:
    """Start a Ray instance of this process whose servers listen on 127.0.0.1 only; returns its context.

    Call it before anything imports ray (the switch that keeps Ray on the loopback interface is read at
    import). Options go to ``ray.init``.
    """
    if "ray" in sys.modules and os.environ.get(_LOCAL_ONLY_ENV) != "0":
        raise TrialogError(
            "trialog_ray.init_local: ray was imported before; a local Ray instance would listen on every "
            f"interface. Set {_LOCAL_ONLY_ENV}=0 before importing ray, or start Ray with --address"
        )
    os.environ[_LOCAL_ONLY_ENV] = "0"
    import ray

    options.setdefault("include_dashboard", False)
    options.setdefault("configure_logging", False)
    return ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.1", **options)


def tune_space(space: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The sweep's ``space`` as Tune search-space objects (for a search algorithm such as Optuna)."""
    from ray import tune

    out: dict[str, Any] = {}
    for key, dist in space.items():
        ((kind, arg),) = dist.items()
        if kind == "choice":
            out[key] = tune.choice(list(arg))
        elif kind == "uniform":
            out[key] = tune.uniform(*arg)
        elif kind == "loguniform":
            out[key] = tune.loguniform(*arg)
        elif kind == "randint":
            out[key] = tune.randint(*arg)
        else:
            raise ConfigError(f"sweep key 'space.{key}': {kind!r} has no Tune equivalent here")
    return out


class _Reporter:
    """A ``trialog.plugins``-style hook object: reports each epoch's scalar results to Tune."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str | None], float] = {}
        self.pending: tuple[int, dict[str, float]] | None = None

    @hookimpl
    def on_epoch_start(self, epoch: int) -> None:
        self._flush(None)
        self.values = {}

    @hookimpl
    def on_result_added(self, name: str, value: Any, epoch: int | None, tag: str | None) -> None:
        if epoch is not None and isinstance(value, numbers.Real) and not isinstance(value, bool):
            self.values[(name, tag)] = float(value)  # per series: val/accuracy, never train's for val's

    @hookimpl
    def on_epoch_end(self, epoch: int) -> None:
        self.pending = (epoch, {**series_values(self.values), "epoch": epoch})

    @hookimpl
    def on_checkpoint_saved(self, experiment: Any, epoch: int | None) -> None:
        # The epoch's checkpoint is on disk: report it with the epoch's results (Tune copies the folder).
        if self.pending is not None and self.pending[0] == epoch:
            self._flush(Path(experiment.checkpoint_dir))

    @hookimpl
    def on_run_end(self) -> None:
        self._flush(None)

    def _flush(self, checkpoint_dir: Path | None) -> None:
        if self.pending is None:
            return
        from ray import tune

        _, metrics = self.pending
        self.pending = None
        checkpoint = tune.Checkpoint.from_directory(str(checkpoint_dir)) if checkpoint_dir else None
        tune.report(metrics, checkpoint=checkpoint)


def _latest_experiment(storage: Path) -> Path | None:
    """The newest Tune experiment folder of this sweep (``tune``, or ``tune-N`` after a damaged state)."""
    found = [p for p in storage.glob(EXPERIMENT + "*") if p.is_dir()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _damaged_tune_state(folder: Path) -> Path | None:
    """The first of Tune's state files in ``folder`` that is empty or does not load, else None."""
    import cloudpickle

    for path in sorted(folder.iterdir()):
        is_json = path.name.startswith("experiment_state") and path.suffix == ".json"
        is_pickle = path.suffix == ".pkl" or path.name.startswith(("basic-variant-state", "search"))
        if not path.is_file() or not (is_json or is_pickle):
            continue  # Tune's markers (.validate_storage_marker is empty on purpose) and other files
        try:
            if is_json:
                json.loads(path.read_text(encoding="utf-8"))
            else:
                with open(path, "rb") as fh:
                    cloudpickle.load(fh)
        except Exception:
            return path
    return None


def _missing_trials(folder: Path, sweep: Any) -> list[str]:
    """The unfinished trials of sweep.json that Tune's newest saved state in ``folder`` does not hold.

    A driver killed before Tune saved a trial it had started leaves a state without it; restoring that
    state would never run the trial, and Tune would wait for its search algorithm forever.
    """
    states = sorted(folder.glob("experiment_state-*.json"), key=lambda p: p.stat().st_mtime)
    if not states:
        return []
    known: set[str] = set()
    for entry in json.loads(states[-1].read_text(encoding="utf-8")).get("trial_data", []):
        data = entry[0] if isinstance(entry, list) and entry else entry
        data = json.loads(data) if isinstance(data, str) else data
        config = data.get("config") if isinstance(data, dict) else None
        if isinstance(config, dict) and config.get("trial_id"):
            known.add(str(config["trial_id"]))
    return [t["id"] for t in sweep.trials if t["status"] != "finished" and t["id"] not in known]


_WORKER: list[ProcessSnapshot] = []  # the Ray worker's state before its first trial (reuse_actors)


def _fresh_worker() -> None:
    """A reused Ray worker starts each trial from the state it had before its first one."""
    if _WORKER:
        _WORKER[0].reset()
    else:
        _WORKER.append(ProcessSnapshot())


def _trainable(config: dict[str, Any], sweep_dir: str) -> None:
    """One Tune trial: run (or resume) the trial's trialog run, reporting every epoch."""
    from ray import tune

    _fresh_worker()
    sweep = open_sweep(None, "ray", resume=sweep_dir)  # read-only here: the driver owns sweep.json
    trial_id = config.get("trial_id") or tune.get_context().get_trial_id()
    try:
        trial = sweep.trial(trial_id)
    except TrialogError:
        if sweep.spec.search != "optuna":
            # a list sweep only ever runs the trials sweep.json lists: never invent one
            raise TrialogError(f"trial {trial_id!r} is not in {sweep.folder}/sweep.json") from None
        trial = {"id": trial_id, "params": dict(config)}
    file = sweep.trial_file(trial_id)
    if not file.is_file():
        sweep.write_trial_file(trial)
    previous = sweep.run_folder(trial_id)
    if previous is not None and _status(previous) == "finished":
        # A restored sweep whose state predates this trial's end: report the result, never train again.
        tune.report(_last_values(previous))
        return
    reporter = _Reporter()
    manager = plugins.get_plugin_manager()
    manager.register(reporter, name=f"trialog-ray-reporter-{trial_id}")
    try:
        run_trial(file, resume=previous)
    finally:
        manager.unregister(reporter)


def _status(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError):
        return None


def _last_values(run_dir: Path) -> dict[str, float]:
    from trialog.api import Run

    summary = Run(run_dir).summary
    return series_values({summary.pair(key): stats["last"] for key, stats in summary.items()})


class _SweepCallback:
    """Keeps sweep.json current from the driver as Tune starts, reports, retries and ends trials."""

    def __init__(self, sweep: Any) -> None:
        self.sweep = sweep

    def _id(self, trial: Any) -> str:
        trial_id = trial.config.get("trial_id") or trial.trial_id
        try:
            self.sweep.trial(trial_id)
        except TrialogError:
            params = {k: v for k, v in trial.config.items() if k != "trial_id"}
            self.sweep.add_trial(trial_id, params)
        return str(trial_id)

    def _update(self, trial: Any, **fields: Any) -> None:
        trial_id = self._id(trial)
        found = self.sweep.collect(trial_id)
        if found.get("run") is None:
            found.pop("run")
        self.sweep.update(trial_id, **{**found, **fields})

    def on_trial_start(self, trial: Any) -> None:
        entry = self.sweep.trial(self._id(trial))
        self._update(trial, status="running", attempts=entry.get("attempts", 0) + 1)

    def on_trial_result(self, trial: Any, result: Mapping[str, Any]) -> None:
        self._update(trial, status="running", iterations=result.get("training_iteration"))

    def on_trial_recover(self, trial: Any) -> None:
        # Tune starts the trial again next (on_trial_start counts the attempt).
        self._update(trial, error="an attempt failed; retried by Tune")

    def on_trial_complete(self, trial: Any) -> None:
        self._update(trial, status="finished", error=None)

    def on_trial_error(self, trial: Any) -> None:
        self._update(trial, status="error", error=str(getattr(trial, "error_file", None) or "failed in Tune"))


def _callback(folder: Path) -> Any:
    from ray import tune

    class SweepCallback(tune.Callback):  # type: ignore[misc]
        """Pickled with Tune's experiment state: it keeps only the folder and reopens sweep.json."""

        def __init__(self, folder: Path) -> None:
            self.folder = folder
            self._inner: _SweepCallback | None = None

        def __reduce__(self) -> Any:
            return (_callback, (self.folder,))

        @property
        def inner(self) -> _SweepCallback:
            if self._inner is None:
                self._inner = _SweepCallback(open_sweep(None, "ray", resume=self.folder))
            return self._inner

        def on_trial_start(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            self.inner.on_trial_start(trial)

        def on_trial_result(
            self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any
        ) -> None:
            self.inner.on_trial_result(trial, result)

        def on_trial_recover(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            self.inner.on_trial_recover(trial)

        def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            self.inner.on_trial_complete(trial)

        def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            self.inner.on_trial_error(trial)

    return SweepCallback(folder)


class RaySweeper:
    """Run a sweep's trials on Ray Tune: a cluster at ``address``, else a local instance on 127.0.0.1."""

    name = "ray"

    def __init__(self, parallel: int | None = None, address: str | None = None) -> None:
        if parallel is not None and parallel < 1:
            raise ConfigError(f"--parallel must be >= 1, got {parallel}")
        self.parallel = parallel
        self.address = address

    def _connect(self) -> None:
        address = self.address or os.environ.get("RAY_ADDRESS")
        if address:
            import ray

            if not ray.is_initialized():
                ray.init(address=address, configure_logging=False)
            return
        if "ray" in sys.modules and sys.modules["ray"].is_initialized():
            return  # this process already holds a Ray instance (a test module's, a notebook's)
        init_local(num_cpus=self.parallel or os.cpu_count() or 1)

    def run(self, sweep: Any) -> None:
        spec = sweep.spec
        if spec.search == "optuna":
            try:
                import optuna  # noqa: F401
            except ImportError as exc:
                raise ConfigError(
                    "sweep key 'search': 'optuna' needs optuna; pip install 'trialog-ray[optuna]'"
                ) from exc
        self._connect()
        from ray import tune

        storage = Path(sweep.folder).resolve() / TUNE_DIR
        trainable = tune.with_resources(
            partial(_trainable, sweep_dir=str(Path(sweep.folder).resolve())),
            {"cpu": spec.resources["cpu"], "gpu": spec.resources["gpu"]},
        )
        run_config = tune.RunConfig(
            name=EXPERIMENT,
            storage_path=str(storage),
            failure_config=tune.FailureConfig(max_failures=spec.max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            callbacks=[_callback(Path(sweep.folder).resolve())],
            verbose=0,
        )
        previous = _latest_experiment(storage)
        damaged = _damaged_tune_state(previous) if previous is not None else None
        missing = (
            _missing_trials(previous, sweep)
            if previous is not None and damaged is None and spec.search != "optuna"
            else []
        )
        if missing:
            warnings.warn(
                f"trialog-ray: Tune's experiment state {previous} does not hold trial(s) {', '.join(missing)} "
                "(the driver was killed before Tune saved them); continuing the unfinished trials listed in "
                "sweep.json, each resuming its own run folder",
                TrialogWarning,
                stacklevel=2,
            )
        if previous is not None and damaged is None and not missing and tune.Tuner.can_restore(str(previous)):
            tuner = tune.Tuner.restore(str(previous), trainable, resume_unfinished=True, resume_errored=True)
        else:
            if previous is not None and not missing:
                # Tune writes its state in place; a driver killed mid-write leaves it torn, and restoring it
                # would restart the sweep with no trials. sweep.json (written atomically) still knows them.
                warnings.warn(
                    f"trialog-ray: Tune's experiment state {damaged or previous} cannot be restored (the driver "
                    "was killed while writing it); continuing the unfinished trials listed in sweep.json, each "
                    "resuming its own run folder",
                    TrialogWarning,
                    stacklevel=2,
                )
            if previous is not None:
                run_config.name = f"{EXPERIMENT}-{len(list(storage.glob(EXPERIMENT + '*'))) + 1}"
            tuner = tune.Tuner(
                trainable,
                param_space=self._param_space(sweep),
                tune_config=self._tune_config(spec),
                run_config=run_config,
            )
        tuner.fit()
        sweep.data = read_sweep(sweep.folder)  # the callback's copy wrote it last
        for trial in sweep.trials:  # the same metric the local sweeper records: the run's last value
            found = sweep.collect(trial["id"])
            if found.get("run") is not None:
                sweep.update(trial["id"], **found)

    def _param_space(self, sweep: Any) -> dict[str, Any]:
        from ray import tune

        if sweep.spec.search == "optuna":
            return tune_space(sweep.spec.space)
        return {"trial_id": tune.grid_search([t["id"] for t in sweep.pending()])}

    def _tune_config(self, spec: Any) -> Any:
        from ray import tune

        # reuse_actors: a worker that ran a trial runs the next one (no new process importing torch);
        # _fresh_worker resets it first. A trial whose worker died still gets a new one (crash isolation).
        # Not with a scheduler that stops trials (ASHA): a stopped trial's thread may still run in its
        # worker when the next trial starts there, so each trial gets its own worker then.
        reuse = spec.early_stopping is None
        options: dict[str, Any] = {"max_concurrent_trials": self.parallel, "reuse_actors": reuse}
        if spec.metric is not None:
            options.update(metric=spec.metric, mode=spec.mode)
        if spec.search == "optuna":
            from ray.tune.search.optuna import OptunaSearch

            options["search_alg"] = OptunaSearch(seed=spec.seed)
            options["num_samples"] = spec.num_samples
        if spec.early_stopping is not None:
            from ray.tune.schedulers import ASHAScheduler

            es = spec.early_stopping
            options["scheduler"] = ASHAScheduler(
                time_attr="training_iteration",
                max_t=es.get("max_t") or spec.epochs or 100,
                grace_period=es.get("grace_period", 1),
                reduction_factor=es.get("reduction_factor", 2),
                brackets=es.get("brackets", 1),
            )
        return tune.TuneConfig(**options)
