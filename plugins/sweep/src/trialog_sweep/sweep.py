"""Sweeps: the search-space language, the trial list, ``sweep.json`` and running one trial.

A sweep is a config with a ``"sweep"`` block (or a file whose ``sweep.config`` names the base config)::

    {"sweep": {
        "config": "config.json",                       # the base config (path relative to this file)
        "name": "digits-lr",
        "grid": {"model.params.channels": [8, 16]},     # cartesian, trixi's GridSearch order
        "space": {"trainer.optimization.optimizer.params.lr": {"loguniform": [1e-4, 1e-1]}},
        "set": {"trainer.epochs": 2},                   # fixed overrides of every trial
        "repeat": 3, "num_samples": 2, "seed": 0,
        "metric": "val/accuracy", "mode": "max",
        "early_stopping": {"type": "asha", "grace_period": 1},
        "resources": {"cpu": 1, "gpu": 0}, "max_failures": 2
    }}

Trials are numbered ``t0000, t0001, ...``: for each of ``num_samples`` samples, each grid point, each
repeat (seeds ``0..repeat-1``). Sampled values depend only on ``seed``, the sample and the grid point,
so two sweepers (or a resumed sweep) draw the same trials. Every trial is one trialog run whose run
folder lies in the sweep folder; ``sweep.json`` there lists the trials and the best one.
Torch-free: torch is only imported by the trial process that runs a ``trialog run`` config.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import importlib
import json
import math
import os
import random
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from trialog.errors import ConfigError, RunFolderError, TrialogError

__all__ = [
    "DISTRIBUTIONS",
    "GROUP",
    "SWEEP_FILE",
    "Sweep",
    "SweepSpec",
    "Sweeper",
    "best_trial",
    "driver_options",
    "load_spec",
    "open_sweep",
    "read_sweep",
    "run_config_file",
    "run_trial",
    "seconds_option",
    "sort_trials",
    "sweeper_class",
    "trial_metric",
]

SWEEP_FILE = "sweep.json"
TRIALS_DIR = "trials"
DISTRIBUTIONS = ("grid", "choice", "uniform", "loguniform", "randint")
_KEYS = (
    "config",
    "name",
    "grid",
    "space",
    "set",
    "repeat",
    "num_samples",
    "seed",
    "metric",
    "mode",
    "early_stopping",
    "resources",
    "max_failures",
    "experiment",
    "search",
)
_EARLY_STOPPING_KEYS = ("type", "grace_period", "reduction_factor", "max_t", "brackets")
_RESOURCE_KEYS = ("cpu", "gpu", "mem_gb", "time_min")  # mem_gb, time_min: cluster sweepers
_SEARCHES = ("random", "optuna")


#: The entry-point group of sweepers: ``name = "package.module:SweeperClass"`` (see :class:`Sweeper`).
GROUP = "trialog.sweepers"


class Sweeper(Protocol):
    """The contract of a ``trialog.sweepers`` entry point: a class that runs a sweep's trials.

    ``trialog sweep`` constructs it as ``Sweeper(parallel=N, address=ADDR)`` (both may be None; plus
    ``options={"key": "value"}`` when ``--option KEY=VALUE`` is given) and calls :meth:`run` once; an
    argument the sweeper cannot use is a ConfigError naming the option. Each trial is one trialog run in the
    sweep folder, started with :func:`run_trial` (in a process of the sweeper's choosing), and every
    change of a trial goes through :meth:`Sweep.update` (sweep.json and the console lines follow from it).
    Optional: a classmethod ``refresh(sweep)`` that updates the trials' states in memory from the
    sweeper's own bookkeeping (job states) for ``trialog sweep show``.
    """

    def __init__(
        self,
        parallel: int | None = None,
        address: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None: ...

    def run(self, sweep: Sweep) -> None:
        """Run (or continue) every trial of ``sweep`` not finished yet, keeping ``sweep.json`` current."""


def sweeper_class(name: str) -> type[Sweeper]:
    """The sweeper class the ``trialog.sweepers`` entry point ``name`` names, checked against :class:`Sweeper`."""
    from trialog.api import plugins
    from trialog.errors import PluginError

    cls = plugins.load(GROUP, name)
    if not isinstance(cls, type) or not callable(getattr(cls, "run", None)):
        raise PluginError(
            f"sweeper {name!r} (entry point group {GROUP}) is {cls!r}, not a sweeper: a sweeper is a class "
            "with a run(sweep) method (trialog_sweep.Sweeper)"
        )
    return cls


def driver_options(
    sweeper: str,
    parallel: int | None,
    address: str | None,
    options: Mapping[str, Any] | None,
    known: Sequence[str],
) -> dict[str, Any]:
    """A sweeper's own options (``--option KEY=VALUE``), after the checks a sweeper without Ray makes.

    It refuses ``--address`` (a Ray cluster's), a ``--parallel`` below 1 and an option not in ``known``,
    each with a ConfigError that names it.
    """
    if address:
        raise ConfigError("--address connects to a Ray cluster; use --sweeper ray with it")
    if parallel is not None and int(parallel) < 1:
        raise ConfigError(f"--parallel must be >= 1, got {parallel}")
    options = dict(options or {})
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(f"--option {unknown}: the {sweeper} sweeper knows only {', '.join(known)}")
    return options


def seconds_option(options: Mapping[str, Any], key: str, default: float) -> float:
    """``--option KEY=SECONDS`` as a float >= 0 (``default`` when not given); a ConfigError names a bad one."""
    try:
        value = float(options.get(key, default))
    except (TypeError, ValueError):
        raise ConfigError(f"--option {key}={options[key]!r}: give seconds, such as {default:g}") from None
    if value < 0:
        raise ConfigError(f"--option {key}={options[key]!r}: seconds must be >= 0")
    return value


# ---------------------------------------------------------------------------------------- the spec


@dataclass
class SweepSpec:
    """A validated sweep block plus the base config it varies."""

    base: dict[str, Any]
    config_dir: Path
    name: str
    grid: dict[str, list[Any]] = field(default_factory=dict)
    space: dict[str, dict[str, Any]] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)
    repeat: int | None = None
    num_samples: int = 1
    seed: int = 0
    metric: str | None = None
    mode: str = "max"
    early_stopping: dict[str, Any] | None = None
    resources: dict[str, float] = field(default_factory=lambda: {"cpu": 1.0, "gpu": 0.0})
    max_failures: int = 2
    experiment: str | None = None
    search: str = "random"

    def as_dict(self) -> dict[str, Any]:
        """The sweep block as written to sweep.json (JSON-able)."""
        return {
            "name": self.name,
            "grid": self.grid,
            "space": self.space,
            "set": self.fixed,
            "repeat": self.repeat,
            "num_samples": self.num_samples,
            "seed": self.seed,
            "metric": self.metric,
            "mode": self.mode,
            "early_stopping": self.early_stopping,
            "resources": self.resources,
            "max_failures": self.max_failures,
            "experiment": self.experiment,
            "search": self.search,
        }

    @property
    def epochs(self) -> int | None:
        """The trials' epoch count as the base config gives it (``trainer.epochs`` or ``n_epochs``)."""
        from trialog.api import Config

        cfg = Config(config=self.base)
        for key in ("trainer.epochs", "n_epochs"):
            if key in self.fixed:
                return int(self.fixed[key])
            with contextlib.suppress(Exception):
                if key in cfg and cfg[key] is not None:
                    return int(cfg[key])
        return None

    def points(self) -> list[dict[str, Any]]:
        """The trials' parameters in order: samples, then grid points (GridSearch order), then repeats."""
        from trialog.api import GridSearch

        grid_keys = sorted(self.grid)
        combos = [{k: c[k] for k in grid_keys} for c in GridSearch(self.grid)] if self.grid else [{}]
        out = []
        for sample in range(self.num_samples):
            for index, combo in enumerate(combos):
                rng = random.Random(f"trialog-sweep:{self.seed}:{sample}:{index}")
                params = dict(combo)
                for key in sorted(self.space):
                    params[key] = sample_value(self.space[key], rng)
                for rep in range(self.repeat or 1):
                    point = dict(params)
                    if self.repeat is not None:
                        point["seed"] = rep
                    out.append(point)
        return out

    def trial_config(self, params: Mapping[str, Any], trial_name: str) -> dict[str, Any]:
        """The base config with the fixed overrides and ``params`` set, named ``trial_name``."""
        from trialog.api import Config

        cfg = Config(config=copy.deepcopy(self.base))
        for key, value in [*self.fixed.items(), *params.items()]:
            cfg[key] = copy.deepcopy(value)
        cfg["name"] = trial_name
        return cfg.to_plain()


def sample_value(dist: Mapping[str, Any], rng: random.Random) -> Any:
    """Draw one value of a validated distribution (``{"uniform": [0, 1]}`` ...) from ``rng``."""
    ((kind, arg),) = dist.items()
    if kind == "choice":
        return copy.deepcopy(arg[rng.randrange(len(arg))])
    low, high = arg
    if kind == "uniform":
        return rng.uniform(low, high)
    if kind == "loguniform":
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    if kind == "randint":
        return rng.randrange(int(low), int(high))
    raise ConfigError(f"cannot sample a {kind!r} distribution")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_int(block: Mapping[str, Any], key: str, minimum: int) -> int:
    value = block[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"sweep key {key!r} must be an integer >= {minimum}, got {value!r}")
    return value


def _check_distribution(key: str, dist: Any) -> dict[str, Any]:
    where = f"sweep key 'space.{key}'"
    if not isinstance(dist, Mapping) or len(dist) != 1:
        raise ConfigError(
            f'{where}: give one distribution such as {{"loguniform": [1e-4, 1e-1]}}, got {dist!r}; '
            f"kinds: {', '.join(DISTRIBUTIONS)}"
        )
    ((kind, arg),) = dist.items()
    if kind not in DISTRIBUTIONS:
        raise ConfigError(f"{where}: unknown distribution {kind!r}; kinds: {', '.join(DISTRIBUTIONS)}")
    if kind in ("grid", "choice"):
        if not isinstance(arg, list) or not arg:
            raise ConfigError(f"{where}: {kind!r} takes a non-empty list of values, got {arg!r}")
        return {kind: list(arg)}
    if not (isinstance(arg, list) and len(arg) == 2 and all(_number(v) for v in arg)):
        raise ConfigError(f"{where}: {kind!r} takes [low, high] numbers, got {arg!r}")
    low, high = arg
    if not low < high:
        raise ConfigError(f"{where}: {kind!r} needs low < high, got [{low}, {high}]")
    if kind == "loguniform" and low <= 0:
        raise ConfigError(f"{where}: 'loguniform' needs 0 < low, got [{low}, {high}]")
    if kind == "randint" and not all(isinstance(v, int) for v in arg):
        raise ConfigError(f"{where}: 'randint' takes integer bounds [low, high) , got {arg!r}")
    return {kind: [low, high]}


def _check_key(cfg: Any, key: Any, section: str) -> str:
    if not isinstance(key, str) or not key:
        raise ConfigError(f"sweep key {section!r}: keys must be dotted config keys (strings), got {key!r}")
    if key == "seed":
        return key  # every run has a seed, also when the base config leaves it to the run
    try:
        known = key in cfg
    except ConfigError:
        known = False
    if not known:
        raise ConfigError(
            f"sweep key '{section}.{key}': the base config has no key {key!r}; a sweep only varies keys the "
            "config has (check the spelling, or add the key to the config first)"
        )
    return key


def spec_from_block(block: Any, base: Mapping[str, Any], config_dir: Path, default_name: str) -> SweepSpec:
    """Validate a ``"sweep"`` block against its base config; errors name the sweep key."""
    from trialog.api import Config

    if not isinstance(block, Mapping):
        raise ConfigError(f"config key 'sweep' must be a mapping of sweep options, got {block!r}")
    unknown = sorted(set(block) - set(_KEYS))
    if unknown:
        raise ConfigError(f"sweep key(s) {unknown} unknown; allowed: {', '.join(_KEYS)}")
    cfg = Config(config=copy.deepcopy(dict(base)))
    spec = SweepSpec(base=cfg.to_plain(), config_dir=config_dir, name=str(block.get("name") or default_name))

    grid = block.get("grid") or {}
    if not isinstance(grid, Mapping):
        raise ConfigError(f"sweep key 'grid' must map dotted config keys to lists of values, got {grid!r}")
    for key, values in grid.items():
        _check_key(cfg, key, "grid")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"sweep key 'grid.{key}': give a non-empty list of values, got {values!r}")
        spec.grid[key] = list(values)
    space = block.get("space") or {}
    if not isinstance(space, Mapping):
        raise ConfigError(f"sweep key 'space' must map dotted config keys to distributions, got {space!r}")
    for key, dist in space.items():
        _check_key(cfg, key, "space")
        checked = _check_distribution(key, dist)
        if "grid" in checked:
            if key in spec.grid:
                raise ConfigError(f"sweep key 'space.{key}': {key!r} is already a 'grid' key")
            spec.grid[key] = checked["grid"]
        else:
            spec.space[key] = checked
    fixed = block.get("set") or {}
    if not isinstance(fixed, Mapping):
        raise ConfigError(f"sweep key 'set' must map dotted config keys to values, got {fixed!r}")
    for key, value in fixed.items():
        spec.fixed[_check_key(cfg, key, "set")] = copy.deepcopy(value)
    both = sorted(set(spec.grid) & set(spec.space) | (set(spec.fixed) & (set(spec.grid) | set(spec.space))))
    if both:
        raise ConfigError(f"sweep keys {both} are given twice (in 'grid', 'space' or 'set'); give each once")

    if block.get("repeat") is not None:
        spec.repeat = _positive_int(block, "repeat", 1)
        if "seed" in spec.grid or "seed" in spec.space:
            raise ConfigError("sweep key 'repeat' sets the seed of every trial; do not also vary 'seed'")
    if block.get("num_samples") is not None:
        spec.num_samples = _positive_int(block, "num_samples", 1)
    if block.get("seed") is not None:
        spec.seed = _positive_int(block, "seed", 0)
    if block.get("max_failures") is not None:
        spec.max_failures = _positive_int(block, "max_failures", 0)
    metric = block.get("metric")
    if metric is not None and (not isinstance(metric, str) or not metric):
        raise ConfigError(f"sweep key 'metric' must be a result name such as 'val/accuracy', got {metric!r}")
    spec.metric = metric
    mode = block.get("mode", "max")
    if mode not in ("min", "max"):
        raise ConfigError(f"sweep key 'mode' must be 'min' or 'max', got {mode!r}")
    spec.mode = mode
    if block.get("early_stopping") is not None:
        spec.early_stopping = _check_early_stopping(block["early_stopping"], metric)
    if block.get("resources") is not None:
        spec.resources = _check_resources(block["resources"])
    experiment = block.get("experiment")
    if experiment is not None and (not isinstance(experiment, str) or ":" not in experiment):
        raise ConfigError(
            f"sweep key 'experiment' must name an Experiment class as 'module:Class', got {experiment!r}"
        )
    spec.experiment = experiment
    search = block.get("search", "random")
    if search not in _SEARCHES:
        raise ConfigError(f"sweep key 'search' must be one of {', '.join(_SEARCHES)}, got {search!r}")
    if search == "optuna":
        if metric is None:
            raise ConfigError("sweep key 'search': 'optuna' needs 'metric' (and 'mode') to optimise")
        if spec.grid or spec.repeat is not None:
            raise ConfigError(
                "sweep key 'search': 'optuna' samples the 'space' distributions; it takes no 'grid' or "
                "'repeat' (use 'choice' instead of 'grid')"
            )
    spec.search = search
    return spec


def _check_early_stopping(value: Any, metric: str | None) -> dict[str, Any]:
    if not isinstance(value, Mapping) or value.get("type", "asha") != "asha":
        raise ConfigError(
            f'sweep key \'early_stopping\' must be {{"type": "asha", "grace_period": 1, ...}}, got {value!r}'
        )
    unknown = sorted(set(value) - set(_EARLY_STOPPING_KEYS))
    if unknown:
        raise ConfigError(
            f"sweep key 'early_stopping' has unknown key(s) {unknown}; allowed: {', '.join(_EARLY_STOPPING_KEYS)}"
        )
    for key in _EARLY_STOPPING_KEYS[1:]:
        if key in value and not (isinstance(value[key], int) and value[key] >= 1):
            raise ConfigError(f"sweep key 'early_stopping.{key}' must be an integer >= 1, got {value[key]!r}")
    if metric is None:
        raise ConfigError("sweep key 'early_stopping' needs 'metric' (and 'mode') to compare trials by")
    return {"type": "asha", **{k: v for k, v in value.items() if k != "type"}}


def _check_resources(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ConfigError(
            f'sweep key \'resources\' must be a mapping such as {{"cpu": 1, "gpu": 0}}, got {value!r}'
        )
    unknown = sorted(set(value) - set(_RESOURCE_KEYS))
    if unknown:
        raise ConfigError(
            f"sweep key 'resources' has unknown key(s) {unknown}; allowed: {', '.join(_RESOURCE_KEYS)}"
        )
    out = {"cpu": 1.0, "gpu": 0.0}
    for key, amount in value.items():
        if not _number(amount) or amount < 0:
            raise ConfigError(f"sweep key 'resources.{key}' must be a number >= 0, got {amount!r}")
        out[key] = float(amount)
    return out


def load_spec(path: str | os.PathLike[str]) -> SweepSpec:
    """Read a sweep file (JSON or YAML): a config with a ``sweep`` block, or one naming ``sweep.config``."""
    from trialog.api import Config, read_config_file

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"sweep file {str(path)!r} does not exist; give a config with a 'sweep' block")
    raw = read_config_file(
        path
    )  # as written: Config would split the dotted keys of the sweep block into nesting
    if "sweep" not in raw:
        raise ConfigError(f'{path}: no \'sweep\' block; add "sweep": {{"grid": {{...}}, ...}} to the config')
    block = copy.deepcopy(raw["sweep"])
    data = Config(config={k: v for k, v in raw.items() if k != "sweep"}, deep=True).to_plain()
    base: Mapping[str, Any] = data
    config_dir = path.resolve().parent
    default_name = path.stem
    if isinstance(block, Mapping) and block.get("config") is not None:
        ref = block["config"]
        if isinstance(ref, Mapping):
            base = ref
        elif isinstance(ref, str):
            base_path = (config_dir / ref).resolve()
            if not base_path.is_file():
                raise ConfigError(
                    f"sweep key 'config' ({path}): the base config {str(base_path)!r} does not exist"
                )
            base = Config(file_=base_path).to_plain()
            config_dir = base_path.parent
        else:
            raise ConfigError(f"sweep key 'config' must be a config file path or a mapping, got {ref!r}")
        if data:
            base = {**base, **data}  # keys beside the sweep block override the base config's
    if default_name in ("sweep", "config"):
        default_name = str(base.get("name") or path.resolve().parent.name)
    return spec_from_block(block, base, config_dir, default_name)


# ---------------------------------------------------------------------------------------- sweep.json


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def trial_metric(trial: Mapping[str, Any]) -> float | None:
    value: Any = trial.get("metric")
    if not _number(value) or math.isnan(value):
        return None
    return float(value)


def sort_trials(trials: Sequence[Mapping[str, Any]], mode: str) -> list[Mapping[str, Any]]:
    """Trials best first by their metric (trials without one last, in id order)."""
    sign = -1.0 if mode == "max" else 1.0

    def key(t: Mapping[str, Any]) -> tuple[int, float, str]:
        m = trial_metric(t)
        return (1, 0.0, str(t.get("id"))) if m is None else (0, sign * m, str(t.get("id")))

    return sorted(trials, key=key)


def best_trial(trials: Sequence[Mapping[str, Any]], mode: str) -> dict[str, Any] | None:
    ranked = [
        t for t in sort_trials(trials, mode) if trial_metric(t) is not None and t.get("status") == "finished"
    ]
    return dict(ranked[0]) if ranked else None


def read_sweep(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """``sweep.json`` of a sweep folder; a missing or corrupt file is a RunFolderError naming it."""
    file = Path(folder) / SWEEP_FILE
    if not file.is_file():
        raise RunFolderError(f"{str(folder)!r} is not a sweep folder (no {SWEEP_FILE})")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{str(file)!r} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("trials"), list):
        raise RunFolderError(f"{str(file)!r} is not a trialog sweep file (no 'trials' list)")
    return data


class Sweep:
    """A sweep folder: the spec, the trials and the atomically rewritten ``sweep.json``."""

    def __init__(self, folder: Path, spec: SweepSpec, sweeper: str, data: dict[str, Any]):
        self.folder = folder
        self.spec = spec
        self.sweeper = sweeper
        self.data = data
        self._lock = threading.RLock()

    @property
    def trials(self) -> list[dict[str, Any]]:
        return self.data["trials"]

    def trial(self, trial_id: str) -> dict[str, Any]:
        for t in self.trials:
            if t["id"] == trial_id:
                return t
        raise TrialogError(f"sweep {self.folder}: no trial {trial_id!r}")

    @property
    def options(self) -> dict[str, Any]:
        """The driver options sweep.json records (``parallel``, ``address``, ``threads``, sweeper options)."""
        options = self.data.setdefault("options", {})
        options.setdefault("threads", trial_threads(self.spec))  # a sweep folder written before options
        return options

    @property
    def threads(self) -> int:
        """Every trial's thread count: fixed when the sweep was created, never from ``--parallel``."""
        return int(self.options["threads"])

    def trial_name(self, trial_id: str) -> str:
        return f"{self.spec.name}_{trial_id}"

    def add_trial(self, trial_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Register a trial (sweepers whose search picks the parameters add trials as they go)."""
        with self._lock:
            trial = {
                "id": trial_id,
                "params": dict(params),
                "run": None,
                "status": "pending",
                "metric": None,
                "best_metric": None,
                "attempts": 0,
                "error": None,
            }
            self.trials.append(trial)
            self.write_trial_file(trial)
            self.save()
            return trial

    def trial_file(self, trial_id: str) -> Path:
        return self.folder / TRIALS_DIR / f"{trial_id}.json"

    def write_trial_file(self, trial: Mapping[str, Any]) -> Path:
        """The trial's own file (its config, where its modules are, the Experiment class) for the trial process."""
        from trialog.api import write_json

        file = self.trial_file(trial["id"])
        file.parent.mkdir(exist_ok=True)
        config = self.spec.trial_config(trial["params"], self.trial_name(trial["id"]))
        config_file = file.with_suffix(".config.json")  # what `trialog run` reads
        write_json(config_file, config)
        write_json(
            file,
            {
                "id": trial["id"],
                "name": self.trial_name(trial["id"]),
                "sweep_dir": str(self.folder.resolve()),
                "config_dir": str(self.spec.config_dir),
                "experiment": self.spec.experiment,
                "config_file": str(config_file.resolve()),
                "config": config,
                "threads": self.threads,
            },
        )
        return file

    def update(self, trial_id: str, **fields: Any) -> None:
        """Set fields of one trial, recompute ``best``, rewrite sweep.json and tell the sweep console."""
        from .sweep_console import report

        with self._lock:
            trial = self.trial(trial_id)
            before = dict(trial)
            trial.update(fields)
            self.save()
            report(self, before, trial)

    def save(self) -> None:
        from trialog.api import write_json

        with self._lock:
            self.data["best"] = best_trial(self.trials, self.spec.mode)
            self.data["updated"] = _now()
            write_json(self.folder / SWEEP_FILE, self.data)

    def run_folder(self, trial_id: str) -> Path | None:
        """The trial's run folder in the sweep folder (found by its run name), or None before it started."""
        from trialog.api import Run, find_runs

        recorded = self.trial(trial_id).get("run")
        if recorded and (self.folder / recorded / "run.json").is_file():
            return self.folder / recorded
        name = self.trial_name(trial_id)
        for path in find_runs(self.folder):
            with contextlib.suppress(TrialogError):
                if Run(path).meta.get("name") == name:
                    return path
        return None

    def collect(self, trial_id: str) -> dict[str, Any]:
        """Read the trial's run folder: run folder name, its metric (last) and best value."""
        path = self.run_folder(trial_id)
        if path is None:
            return {"run": None}
        out: dict[str, Any] = {"run": path.name}
        metric = self.spec.metric
        if metric:
            from trialog.api import Run

            stats = Run(path).summary.get(metric)
            if stats:
                out["metric"] = stats["last"]
                out["best_metric"] = stats["max" if self.spec.mode == "max" else "min"]
        return out

    def pending(self) -> list[dict[str, Any]]:
        """The trials to run: not finished, and not registered (``trialog sweep run`` chooses those)."""
        return [t for t in self.trials if t["status"] not in ("finished", "registered")]


def _free_folder(base: Path, name: str) -> Path:
    stem = f"{_dt.datetime.now():%Y%m%d-%H%M%S}_{name}-sweep"  # a run folder's default name format
    for number in range(1000):
        candidate = base / (stem if number == 0 else f"{stem}_{number}")
        try:
            candidate.mkdir(parents=True)
        except FileExistsError:
            continue
        return candidate
    raise RunFolderError(f"no free sweep folder name {stem!r} in {base}")


def trial_threads(spec: SweepSpec) -> int:
    """The thread count of every trial of a new sweep: its ``resources.cpu`` (at least 1)."""
    return max(1, int(spec.resources["cpu"]))


def saved_spec(data: Mapping[str, Any], folder: Path) -> SweepSpec:
    """The spec a sweep.json recorded, validated again."""
    saved = data.get("spec") or {}
    block = {k: v for k, v in saved.items() if v is not None}
    config_dir = Path(data.get("config_dir") or folder)
    return spec_from_block(block, data.get("config") or {}, config_dir, str(saved.get("name") or folder.name))


def open_sweep(
    config: str | os.PathLike[str] | None,
    sweeper: str,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    precompute: bool | None = None,
    spec: SweepSpec | None = None,
    options: Mapping[str, Any] | None = None,
) -> Sweep:
    """Create a sweep folder for ``config`` (or reopen ``resume``); the spec is validated first.

    ``precompute``: list every trial now (default: for the deterministic search); a search that picks
    parameters as it goes (Optuna) adds trials itself. ``spec``: the already loaded spec of ``config``.
    ``options``: the driver's options, recorded in sweep.json (``threads`` is added from the spec).
    """
    if resume is not None:
        folder = Path(resume).resolve()
        data = read_sweep(folder)
        spec = saved_spec(data, folder)
        if data.get("sweeper") not in (None, sweeper):
            raise ConfigError(
                f"sweep {folder} was run by the {data.get('sweeper')!r} sweeper; resume it with "
                f"--sweeper {data.get('sweeper')}"
            )
        return Sweep(folder, spec, sweeper, data)
    if config is None:
        raise ConfigError("give a sweep config file, or --resume SWEEP_DIR")
    spec = spec or load_spec(config)
    base = Path(base_dir if base_dir is not None else spec.base.get("base_dir") or "runs")
    folder = _free_folder(base.resolve(), spec.name)
    data = {
        "format": 1,
        "name": spec.name,
        "sweeper": sweeper,
        "created": _now(),
        "source": str(Path(config).resolve()),
        "config_dir": str(spec.config_dir),
        "spec": spec.as_dict(),
        "config": spec.base,
        "metric": spec.metric,
        "mode": spec.mode,
        "trials": [],
        "best": None,
        "options": {**(options or {}), "threads": trial_threads(spec)},
    }
    sweep = Sweep(folder, spec, sweeper, data)
    if precompute if precompute is not None else spec.search == "random":
        for index, params in enumerate(spec.points()):
            sweep.add_trial(f"t{index:04d}", params)
    sweep.save()
    return sweep


# ---------------------------------------------------------------------------------------- one trial


def _import_experiment(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"sweep key 'experiment': cannot import {target!r}: {type(exc).__name__}: {exc}"
        ) from exc
    return obj


def run_trial(
    trial_file: str | os.PathLike[str], resume: str | os.PathLike[str] | None = None, quiet: bool = True
) -> Path:
    """Run one trial in this process (an Experiment class, or the ``run_config`` hook: ``trialog run``); its run folder.

    ``resume``: the trial's run folder from an earlier attempt, continued with trialog's exact resume.
    The trial computes with the thread count its run folder recorded (resume), else its trial file's.
    """
    from .trialproc import apply_threads, recorded_threads

    trial = json.loads(Path(trial_file).read_text(encoding="utf-8"))
    threads = recorded_threads(resume) or trial.get("threads")
    if threads is not None:
        apply_threads(threads)
    sweep_dir = Path(trial["sweep_dir"])
    config_dir = trial["config_dir"]
    if config_dir not in sys.path:
        sys.path.insert(0, config_dir)  # the config's own modules ("model:Net", "exp:MyExperiment")
    from trialog.api import code_folder

    with code_folder(config_dir):  # the run records the config folder's code and git state, as `trialog run`
        if trial.get("experiment"):
            cls = _import_experiment(trial["experiment"])
            exp = cls(config=trial["config"], name=trial["name"], base_dir=sweep_dir, resume=resume)
            try:
                exp.run()
            finally:
                exp.close()
            return Path(exp.run_dir)
        run_dirs = run_config_file(trial["config_file"], sweep_dir, resume, quiet)
    for path in [*run_dirs, *sorted(sweep_dir.iterdir())]:
        meta = Path(path) / "run.json"
        if meta.is_file():
            with contextlib.suppress(ValueError, OSError):
                if json.loads(meta.read_text(encoding="utf-8")).get("name") == trial["name"]:
                    return Path(path)
    raise TrialogError(f"trial {trial['id']}: no run folder named {trial['name']!r} in {sweep_dir}")


def run_config_file(
    config_file: str | os.PathLike[str],
    base_dir: str | os.PathLike[str],
    resume: str | os.PathLike[str] | None = None,
    quiet: bool = True,
) -> list[Path]:
    """Run a config file through the framework plugin's ``run_config`` hook (trialog-torch: ``trialog run``).

    Returns the run folders it wrote; a config no installed plugin runs is a ConfigError saying what to install.
    """
    from trialog.api import plugins

    run_dirs = plugins.get_plugin_manager().hook.run_config(
        config=str(config_file),
        base_dir=str(base_dir),
        resume=None if resume is None else str(resume),
        quiet=bool(quiet),
    )
    if run_dirs is None:
        raise ConfigError(
            f"no installed plugin runs the config {str(config_file)!r} (the run_config hook): pip install "
            "trialog-torch, or give the sweep block an 'experiment' class"
        )
    return [Path(run_dir) for run_dir in run_dirs]


# ---------------------------------------------------------------------------------------- show


def format_table(data: Mapping[str, Any]) -> str:
    """The trials of a sweep.json as a text table, best first."""
    mode = data.get("mode") or "max"
    metric = data.get("metric") or "metric"
    trials = sort_trials(data.get("trials", []), mode)
    keys = sorted({k for t in trials for k in (t.get("params") or {})})
    headers = ["ID", "STATUS", f"{metric} ({mode})".upper(), *keys, "RUN"]
    rows = []
    for t in trials:
        m = trial_metric(t)
        params = t.get("params") or {}
        rows.append(
            [
                str(t.get("id")),
                str(t.get("status")),
                "-" if m is None else f"{m:.4g}",
                *(format_value(params.get(k)) for k in keys),
                str(t.get("run") or "-"),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if not isinstance(value, str) else value


def describe_best(data: Mapping[str, Any]) -> str:
    best = data.get("best")
    if not best:
        return "best trial: none (no finished trial with the metric)"
    return (
        f"best trial: {best['id']} {data.get('metric')}={best['metric']:.4g} params={json.dumps(best['params'])} "
        f"run={best.get('run')}"
    )
