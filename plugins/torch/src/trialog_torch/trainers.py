"""Config-driven trainers (``trialog.trainers`` entry points): classification, regression, segmentation, autoencoder.

A trainer reads the ``trainer`` section of a run config, builds loss, optimizer, scheduler, metrics and
callbacks from it (types by import path or short name), and runs epochs of training and validation inside
a :class:`~trialog_torch.experiment.TorchExperiment`, which owns the run folder, loggers, results,
checkpoints and resume. Example section::

    "trainer": {
        "type": "classification", "epochs": 10, "device": "auto", "save_freq": 1,
        "monitor": "val/accuracy", "mode": "max", "log_every": 10, "amp": false, "grad_clip": 1.0,
        "optimization": {
            "loss": "cross_entropy",
            "optimizer": {"type": "torch.optim.Adam", "params": {"lr": 0.001}},
            "scheduler": {"type": "StepLR", "params": {"step_size": 5}, "step": "epoch"}
        },
        "metrics": ["accuracy", {"type": "top_k", "params": {"k": 3}}, "confusion_matrix"],
        "callbacks": {"early_stopping": {"patience": 3, "min_delta": 0.001}}
    }

The run's seed is the config's top-level ``seed`` (one key for the experiment, the data and the
trainer). Other keys: ``checkpoint`` (CheckpointManager options such as ``keep_last``, ``keep_best``,
``async_save``); ``train_metrics`` (true: the ``metrics`` on training data too, false: only the loss, or a
list of its own); ``class_names`` (rows of the confusion matrix and report); ``input_key``/``target_key``
(for batches that are dicts). Results are the metric tagged with its phase, the series ``train/loss``,
``val/accuracy``, ``test/iou`` (:mod:`trialog.results.summaries`); ``monitor`` names one of them, checked against
:meth:`Trainer.produced_keys` before the run folder is made. Every ``log_every`` steps the step's loss goes to the loggers as ``train/step_loss``.
``probes`` (default false: timings differ between any two runs, so they stay out of a results log that
a resumed run reproduces exactly; true to record them) records per training epoch ``sys/data_wait_s`` (time spent waiting for the loader's
next batch), ``sys/compute_s`` (the rest of the loop: forward, backward, step, as the host sees it; CUDA work
still queued is not waited for), ``sys/rss_peak_mb`` and, once CUDA is in use, ``sys/gpu_mem_peak_mb``;
``{"every_steps": N}`` records them every N optimizer steps too, as ``sys/step_data_wait_s``... at counter
``global_step`` (the time of the N steps since the last probe).

``type`` may be an import path of a :class:`Trainer` subclass (``"my_pkg.gan:GANTrainer"``, see
:func:`trainer_class`) whose :meth:`Trainer.training_step` returns one loss or ``{optimizer name: loss}``
for the named optimizers of ``optimization`` (``{"generator": {"optimizer": ..., "modules": ...}, ...}``);
``accumulate`` adds up the gradients of that many batches per step. ``test_on`` (``"best"``/``"last"``)
picks the weights ``data.test`` is evaluated with, ``predictions`` makes that test write one row per sample
(:mod:`trialog_torch.predictions`); :meth:`Trainer.evaluate_run` evaluates a trained run's checkpoint.

The per-step path stays lean: losses and metric inputs are kept as tensor references and reduced in
batches, and the loss reaches the host (``.item()``) only on steps that are logged.

Under ``torchrun --nproc_per_node N`` the trainer joins the process group (gloo on CPU, nccl on CUDA),
wraps the model in DistributedDataParallel, shards ``DataLoader``s with a ``DistributedSampler``, sums
losses and metric states over the ranks, and only rank 0 creates the run folder and writes results, logs
and checkpoints (``trainer.experiment`` and ``trainer.run_dir`` are None on the other ranks). Every rank
runs the same epoch loop (:meth:`Trainer.fit`); on rank 0 it drives the experiment through its public
stages (``begin_run``, ``restore_resumed``, ``begin_epoch``, ``end_epoch``, ``finish_run``).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from trialog.api import (
    MANIFEST_NAME,
    CheckpointEntry,
    CheckpointManager,
    RestoreContext,
    drive_lifecycle,
    metric_mode,
    peak_rss_mb,
)
from trialog.errors import CheckpointError, ConfigError, TrialogWarning

from . import distributed
from .building import build_object, import_object, split_spec
from .callbacks import Callback, GradientClipping, LRSchedulerCallback, build_callbacks
from .experiment import TorchExperiment
from .metrics import Metric, RocAuc, build_metrics
from .predictions import PredictionOptions, Predictions
from .schedules import build_schedules
from .workers import loader_callbacks

__all__ = [
    "AutoencoderTrainer",
    "ClassificationTrainer",
    "RegressionTrainer",
    "SegmentationTrainer",
    "Trainer",
    "TrainerExperiment",
    "TrainerStages",
    "trainer_class",
]

#: Keys a ``trainer`` section may hold.
TRAINER_KEYS = frozenset(
    {
        "type",
        "epochs",
        "device",
        "save_freq",
        "monitor",
        "mode",
        "optimization",
        "metrics",
        "callbacks",
        "amp",
        "grad_clip",
        "accumulate",
        "test_on",
        "predictions",
        "log_every",
        "checkpoint",
        "input_key",
        "target_key",
        "class_names",
        "train_metrics",
        "schedules",
        "probes",
    }
)
OPTIMIZATION_KEYS = frozenset({"loss", "optimizer", "scheduler"})
#: Keys of one named optimizer in ``trainer.optimization`` (``{"generator": {...}, "discriminator": {...}}``).
NAMED_OPTIMIZER_KEYS = frozenset({"optimizer", "scheduler", "modules"})
#: The name of the optimizer of a single-optimizer config (``optimization.optimizer``).
SINGLE = "optimizer"
#: CheckpointManager options a ``trainer.checkpoint`` mapping may set.
CHECKPOINT_KEYS = frozenset({"keep_last", "keep_best", "async_save", "format"})

LOSSES: dict[str, str] = {
    "cross_entropy": "torch.nn.CrossEntropyLoss",
    "nll": "torch.nn.NLLLoss",
    "bce": "torch.nn.BCELoss",
    "bce_with_logits": "torch.nn.BCEWithLogitsLoss",
    "mse": "torch.nn.MSELoss",
    "l1": "torch.nn.L1Loss",
    "mae": "torch.nn.L1Loss",
    "smooth_l1": "torch.nn.SmoothL1Loss",
    "huber": "torch.nn.HuberLoss",
}


def _section(config: Any) -> Mapping[str, Any]:
    if not isinstance(config, Mapping):
        raise ConfigError(
            f"the run config must be a mapping with a 'trainer' section, got {type(config).__name__}"
        )
    section = config.get("trainer")
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise ConfigError(f"config key 'trainer' must be a mapping, got {type(section).__name__}")
    if "seed" in section:
        raise ConfigError(
            "config key 'trainer.seed' is not used: the run's seed is the top-level key 'seed' (it seeds the "
            "experiment, the data order and the trainer alike); move it there"
        )
    unknown = sorted(set(section) - TRAINER_KEYS)
    if unknown:
        raise ConfigError(
            f"config key 'trainer' has unknown key(s) {unknown}; allowed: {sorted(TRAINER_KEYS)}"
        )
    return section


def _describe(obj: Any) -> str:
    return type(obj).__name__ if not isinstance(obj, type) else obj.__name__


def _shape(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return str(tuple(value.shape))
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_shape(v) for v in value) + ")"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_shape(v)}" for k, v in value.items()) + "}"
    return type(value).__name__


def _metric_and_phase(key: str) -> tuple[str, str | None]:
    """``"val/accuracy"`` -> ``("accuracy", "val")``: the result name is the metric, the tag its phase."""
    phase, sep, metric = key.partition("/")
    return (metric, phase) if sep and metric else (key, None)


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device) for v in value)
    if isinstance(value, Mapping):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


def _batch_size(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return int(value.shape[0]) if value.dim() else 1
    if isinstance(value, (list, tuple)) and value:
        return _batch_size(value[0])
    if isinstance(value, Mapping) and value:
        return _batch_size(next(iter(value.values())))
    return 1


def probe_values(data_wait_s: float, compute_s: float) -> dict[str, float]:
    """The ``sys/`` figures of one training epoch: data wait, compute, peak RSS and (CUDA in use) GPU memory peak."""
    from .hooks import probe_resources

    values = {"sys/data_wait_s": data_wait_s, "sys/compute_s": compute_s, "sys/rss_peak_mb": peak_rss_mb()}
    values.update(probe_resources() or {})
    return values


def _run_checkpoints(run: Path, monitor: str, mode: str) -> CheckpointManager:
    """The checkpoint series of another run folder, read-only, ranked by ``monitor``/``mode``."""
    folder = run / "checkpoint"
    if not (folder / MANIFEST_NAME).is_file():
        raise CheckpointError(
            f"{run} is not a run folder with checkpoints (no {folder / MANIFEST_NAME}); give the folder of a "
            "trained run"
        )
    return CheckpointManager(folder, format="torch", monitor=monitor, mode=mode)


def _epoch(entry: CheckpointEntry) -> int:
    """The epoch a checkpoint was saved at (its step when the manifest has no epoch)."""
    return int(entry.epoch if entry.epoch is not None else entry.step)


class _EpochAccumulator:
    """An epoch's losses and metric inputs, kept as tensor references and reduced in batches.

    Per step this only appends references (no kernel launch, no host sync); every ``max_steps`` steps,
    or once the kept outputs reach ``max_elements``, the outputs and targets are concatenated and the
    metrics update once for all of them. Metrics therefore see the same values, in fewer, larger calls.
    """

    def __init__(
        self,
        metrics: list[Metric],
        pair: Callable[[Any, Any], tuple[torch.Tensor, torch.Tensor]],
        max_steps: int = 32,
        max_elements: int = 1 << 22,
    ) -> None:
        self.metrics = metrics
        self.pair = pair
        self.max_steps = max_steps
        self.max_elements = max_elements
        self.losses: list[torch.Tensor] = []
        self.sizes: list[int] = []
        self.outputs: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []
        self.elements = 0
        for metric in metrics:
            metric.reset()

    def add(self, loss: torch.Tensor, size: int, output: Any, target: Any) -> None:
        """Keep one batch's loss (a 0-dim tensor) and, for the metrics, its detached output and target."""
        self.losses.append(loss)
        self.sizes.append(size)
        if not self.metrics or output is None:
            return
        if not (isinstance(output, torch.Tensor) and isinstance(target, torch.Tensor)):
            for metric in self.metrics:
                metric.update(*self.pair(output, target))
            return
        if self.outputs and (
            output.shape[1:] != self.outputs[0].shape[1:] or target.shape[1:] != self.targets[0].shape[1:]
        ):
            self.flush()
        self.outputs.append(output.detach())
        self.targets.append(target)
        self.elements += output.numel()
        if len(self.outputs) >= self.max_steps or self.elements >= self.max_elements:
            self.flush()

    def flush(self) -> None:
        """Update the metrics with everything kept so far."""
        if not self.outputs:
            return
        output = self.outputs[0] if len(self.outputs) == 1 else torch.cat(self.outputs)
        target = self.targets[0] if len(self.targets) == 1 else torch.cat(self.targets)
        self.outputs, self.targets, self.elements = [], [], 0
        for metric in self.metrics:
            metric.update(*self.pair(output, target))

    def finish(self) -> tuple[torch.Tensor, int]:
        """Flush the metrics; return the size-weighted loss sum (float64) and the number of samples."""
        self.flush()
        if not self.losses:
            return torch.zeros((), dtype=torch.float64), 0
        losses = torch.stack([loss.reshape(()).double() for loss in self.losses])
        weights = torch.tensor(self.sizes, dtype=torch.float64, device=losses.device)
        return (losses * weights).sum(), sum(self.sizes)


class Trainer:
    """Base trainer: the epoch loop, optimisation, AMP, DDP, metrics, callbacks, logging and checkpoints.

    Subclasses set the defaults of their task and may override :meth:`unpack` (batch -> input, target) and
    :meth:`compute_loss`.

    Args:
        config: the whole run config (a ``trialog.Config`` or dict); the trainer reads ``config["trainer"]``.
        model: the ``nn.Module`` to train.
        train_loader, val_loader, test_loader: data; validation and test are optional.
        name, base_dir, loggers, resume: passed to the experiment (run name, parent folder of runs, logger
            declarations, a run folder or ``"last"`` to resume).
        quiet: hide progress bars (default: hidden when stderr is not a terminal).
    """

    #: The ``trainer.type`` this class is registered under.
    task = "base"
    default_loss: Any = "cross_entropy"
    default_metrics: tuple[Any, ...] = ()
    default_monitor = "val/loss"

    def __init__(
        self,
        config: Mapping[str, Any],
        model: nn.Module,
        train_loader: Iterable[Any],
        val_loader: Iterable[Any] | None = None,
        test_loader: Iterable[Any] | None = None,
        *,
        name: str | None = None,
        base_dir: str | Path | None = None,
        loggers: Any = None,
        resume: str | Path | None = None,
        quiet: bool | None = None,
    ) -> None:
        from .utils import resolve_device

        self.config = config
        section = _section(config)
        self.section = section
        seed = config.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"config key 'seed' must be an integer, got {seed!r}")
        #: The run's seed (the config's top-level ``seed``; 0 when it has none).
        self.seed: int = int(seed or 0)
        self.epochs = self._int(section, "epochs", 1, minimum=0)
        self.save_freq = self._int(section, "save_freq", 1, minimum=0)
        self.log_every = self._int(section, "log_every", 0, minimum=0)
        #: Whether ``sys/`` probes are recorded per epoch, and every how many optimizer steps (0: never).
        self.probes, self.probe_every_steps = self._probes(section.get("probes", False))
        #: Batches whose gradients add up before each optimizer step (``trainer.accumulate``).
        self.accumulate = self._int(section, "accumulate", 1, minimum=1)
        #: Which weights ``data.test`` is evaluated with after training: "best" checkpoint or "last" weights.
        self.test_on: str = self._test_on(section)
        #: How predictions are written (``trainer.predictions``), or None: not at the end of training.
        self.predictions: PredictionOptions | None = PredictionOptions.from_config(section.get("predictions"))
        self.input_key = section.get("input_key", "input")
        self.target_key = section.get("target_key", "target")
        self.quiet = (not sys.stderr.isatty()) if quiet is None else bool(quiet)
        # the run's own console lines (trialog's console plugin) stand in for the bars when those are hidden
        self._console_quiet = bool(quiet) or not self.quiet

        try:
            device = resolve_device(section.get("device", "auto"))
        except ConfigError as err:
            raise ConfigError(f"config key 'trainer.device': {err}") from err
        self.created_process_group = distributed.init_from_env(device)
        if device.type == "cuda" and distributed.is_distributed():
            device = torch.device("cuda", distributed.local_rank())
            torch.cuda.set_device(device)
        self.device = device
        self.is_main = distributed.is_main_process()

        if not isinstance(model, nn.Module):
            raise ConfigError(f"the model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model.to(device)
        self._build_optimization(section.get("optimization") or {})
        self.amp_dtype = self._amp_dtype(section.get("amp", False))
        self.scaler = (
            torch.amp.GradScaler("cuda")
            if self.amp_dtype is torch.float16 and device.type == "cuda"
            else None
        )
        metrics_spec = section.get("metrics", list(self.default_metrics))
        train_spec = section.get("train_metrics", True)
        if train_spec is True:
            self.train_metrics = self._metrics(metrics_spec, "trainer.metrics")
        elif train_spec is False or train_spec is None:
            self.train_metrics = []
        else:
            self.train_metrics = self._metrics(train_spec, "trainer.train_metrics")
        self.eval_metrics = self._metrics(metrics_spec, "trainer.metrics")
        self.monitor: str = section.get("monitor") or self._default_monitor(val_loader is not None)
        self.mode: str = section.get("mode") or metric_mode(self.monitor)
        if self.mode not in ("min", "max"):
            raise ConfigError(f"config key 'trainer.mode' must be 'min' or 'max', got {self.mode!r}")
        self._check_monitor(val_loader is not None)
        self.callbacks: list[Callback] = build_callbacks(section.get("callbacks"))
        self.callbacks[:0] = self.scheduler_callbacks.values()
        if section.get("grad_clip") is not None:
            self.callbacks.insert(0, self._grad_clip(section["grad_clip"]))

        self.net: nn.Module = self.model
        if distributed.is_distributed():
            ids = [device.index] if device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.train_loader = self._shard(train_loader)
        self.val_loader = self._shard(val_loader, evaluation=True) if val_loader is not None else None
        self.test_loader = self._shard(test_loader, evaluation=True) if test_loader is not None else None
        # hyperparameter schedules and the sampler position: callbacks, so checkpoints carry them; seeded workers
        self.callbacks += build_schedules(section.get("schedules")) + loader_callbacks(self)

        self.global_step = 0
        self.epoch = 0
        #: The optimizer whose step is being prepared (what ``on_before_optimizer_step`` callbacks act on).
        self.stepping: str = next(iter(self.optimizers))
        self._pending: set[str] = set()
        self._recorded: tuple[Any, Any] | None = None
        self.history: list[dict[str, float]] = []
        self.best: float | None = None
        self.stop_reason: str | None = None
        self._checked_first_batch = False

        for callback in self.callbacks:
            callback.setup(self)

        self._shared = False
        self._epoch_started = 0.0
        self._epoch_values: dict[str, float] = {}
        self.final: dict[str, float] = {}
        self.bar: Any = None
        self.experiment: Any = None
        if self.is_main:
            self.experiment = self._make_experiment(
                name=name, base_dir=base_dir, loggers=loggers, resume=resume
            )
        else:
            # rank 0's experiment seeds its RNGs; the others seed theirs apart so dropout masks differ
            torch.manual_seed(self.seed + distributed.rank())

    # ------------------------------------------------------------------ config helpers

    @staticmethod
    def _int(section: Mapping[str, Any], key: str, default: int, minimum: int = 0) -> int:
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"config key 'trainer.{key}' must be an integer >= {minimum}, got {value!r}")
        return value

    def produced_keys(self, has_val: bool) -> list[str] | None:
        """The keys an epoch's values will have (``train/loss``, ``val/accuracy``, ``val/iou/*``...), declared
        before training so ``trainer.monitor`` is checked up front; None when they cannot be known in advance
        (a subclass that replaces the epoch loop, or a metric that declares no :attr:`~Metric.KEYS`).

        A subclass that changes what an epoch produces overrides this too (or returns None).
        """
        loops = ("train_epoch", "evaluate", "train_phase", "validate_phase", "_reduce")
        if any(getattr(type(self), name) is not getattr(Trainer, name) for name in loops):
            return None
        keys = ["train/loss", "time/epoch_s"]
        if list(self.optimizers) == [SINGLE]:
            keys.append("train/lr")
        else:
            keys += [f"train/{name}_{what}" for name in self.optimizers for what in ("loss", "lr")]
        phases = [("train", self.train_metrics)] + ([("val", self.eval_metrics)] if has_val else [])
        for phase, metrics in phases:
            if phase != "train":
                keys.append(f"{phase}/loss")
            for metric in metrics:
                declared = metric.keys()
                if declared is None:
                    return None
                keys += [f"{phase}/{key}" for key in declared]
        return list(dict.fromkeys(keys))

    def _check_monitor(self, has_val: bool) -> None:
        """``trainer.monitor`` must name a value the epochs produce: checked before the run folder is made."""
        import difflib
        import fnmatch

        keys = self.produced_keys(has_val)
        if keys is None or any(fnmatch.fnmatchcase(self.monitor, key) for key in keys):
            return
        close = difflib.get_close_matches(self.monitor, keys, n=3)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ConfigError(
            f"config key 'trainer.monitor': metric '{self.monitor}' is not produced by this trainer; "
            f"available: {keys}{'' if has_val else ' (no validation data, no val/ values)'}{hint}"
        )

    @staticmethod
    def _probes(spec: Any) -> tuple[bool, int]:
        """``trainer.probes``: true/false (per epoch), or ``{"every_steps": N}`` (per epoch and every N steps)."""
        key = "trainer.probes"
        if isinstance(spec, bool):
            return spec, 0
        if not isinstance(spec, Mapping):
            raise ConfigError(f"config key '{key}' must be true, false or {{'every_steps': N}}, got {spec!r}")
        unknown = sorted(set(spec) - {"every_steps"})
        if unknown:
            raise ConfigError(f"config key '{key}' has unknown key(s) {unknown}; allowed: ['every_steps']")
        every = spec.get("every_steps")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError(f"config key '{key}.every_steps' must be an integer >= 1, got {every!r}")
        return True, every

    def _default_monitor(self, has_val: bool) -> str:
        """The task's default monitor when its metric is configured, else the loss."""
        phase = "val" if has_val else "train"
        leaf = self.default_monitor.split("/", 1)[-1]
        if any(metric.name == leaf for metric in self.eval_metrics):
            return f"{phase}/{leaf}"
        return f"{phase}/loss"

    def _build_optimization(self, spec: Mapping[str, Any]) -> None:
        """Loss, optimizer(s) and their schedulers from ``trainer.optimization``.

        One optimizer: ``{"loss", "optimizer", "scheduler"}`` (named "optimizer"). Several: every key
        besides ``loss`` names one, ``{"optimizer": ..., "scheduler": ..., "modules": [...]}``, whose
        ``modules`` (attribute paths in the model, default all of it) say which parameters it updates.
        """
        key = "trainer.optimization"
        if not isinstance(spec, Mapping):
            raise ConfigError(f"config key '{key}' must be a mapping with loss, optimizer, scheduler")
        named = {name: item for name, item in spec.items() if name not in OPTIMIZATION_KEYS}
        for name, item in named.items():
            if not isinstance(item, Mapping):
                raise ConfigError(
                    f"config key '{key}' has unknown key {name!r} (not a mapping, so not a named optimizer); "
                    f"allowed: {sorted(OPTIMIZATION_KEYS)} or named optimizers "
                    '{"generator": {"optimizer": ..., "modules": ...}, ...}'
                )
        if named and {"optimizer", "scheduler"} & set(spec):
            raise ConfigError(
                f"config key '{key}' mixes 'optimizer'/'scheduler' with named optimizers {sorted(named)}; "
                "give one optimizer (optimizer, scheduler) or named ones, each with its own optimizer and scheduler"
            )
        self.loss_fn: Callable[..., torch.Tensor] = build_object(
            spec.get("loss", self.default_loss),
            f"{key}.loss",
            registry=LOSSES,
            modules=("torch.nn",),
            kind="loss",
        )
        if isinstance(self.loss_fn, nn.Module):
            self.loss_fn = self.loss_fn.to(self.device)
        #: The optimizers by name, in config order ("optimizer" for a single-optimizer config).
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        #: The parameters each optimizer updates (what its gradients are computed and clipped for).
        self.optimizer_params: dict[str, list[nn.Parameter]] = {}
        #: The scheduler callbacks by optimizer name.
        self.scheduler_callbacks: dict[str, LRSchedulerCallback] = {}
        if not named:
            self._add_optimizer(SINGLE, spec, key)
        for name, item in named.items():
            unknown = sorted(set(item) - NAMED_OPTIMIZER_KEYS)
            if unknown or "optimizer" not in item:
                raise ConfigError(
                    f"config key '{key}.{name}' must hold 'optimizer' (and optionally 'scheduler', 'modules'); "
                    f"got {sorted(item)}"
                )
            self._add_optimizer(name, item, f"{key}.{name}")
        #: The first optimizer (the only one of a single-optimizer config).
        self.optimizer: torch.optim.Optimizer = next(iter(self.optimizers.values()))
        self.scheduler_callback: LRSchedulerCallback | None = next(
            iter(self.scheduler_callbacks.values()), None
        )

    def _add_optimizer(self, name: str, spec: Mapping[str, Any], key: str) -> None:
        params = self._parameters(spec.get("modules"), f"{key}.modules")
        taken = {id(p) for group in self.optimizer_params.values() for p in group}
        if any(id(p) in taken for p in params):
            raise ConfigError(
                f"config key '{key}.modules': parameters of {spec.get('modules')!r} are already updated by "
                f"another optimizer of {sorted(self.optimizers)}; give each optimizer its own modules"
            )
        optimizer = build_object(
            spec.get("optimizer", {"type": "torch.optim.Adam", "params": {"lr": 1e-3}}),
            f"{key}.optimizer",
            params,
            modules=("torch.optim",),
            kind="optimizer",
        )
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ConfigError(
                f"config key '{key}.optimizer' built a {type(optimizer).__name__}, not a torch.optim.Optimizer"
            )
        self.optimizers[name] = optimizer
        self.optimizer_params[name] = params
        scheduler = spec.get("scheduler")
        if scheduler is not None:
            _, _, extras = split_spec(scheduler, f"{key}.scheduler", extra_keys=("step", "monitor"))
            if isinstance(scheduler, Mapping):
                scheduler = {k: v for k, v in scheduler.items() if k in ("type", "params")}
            try:
                callback = LRSchedulerCallback(scheduler, **extras, optimizer=name)
            except ValueError as err:
                raise ConfigError(f"config key '{key}.scheduler.step': {err}") from err
            callback.key = f"{key}.scheduler"
            self.scheduler_callbacks[name] = callback

    def _parameters(self, modules: Any, key: str) -> list[nn.Parameter]:
        """The trainable parameters of the model, or of the submodules ``modules`` names."""
        if modules is None:
            return [p for p in self.model.parameters() if p.requires_grad]
        names = [modules] if isinstance(modules, str) else modules
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names) or not names:
            raise ConfigError(f"config key '{key}' must be a module name or a list of them, got {modules!r}")
        params: dict[int, nn.Parameter] = {}
        for module_name in names:
            try:
                module = self.model.get_submodule(module_name)
            except AttributeError as err:
                children = [n for n, _ in self.model.named_children()]
                raise ConfigError(
                    f"config key '{key}': model {_describe(self.model)} has no submodule {module_name!r}; "
                    f"its children: {children}"
                ) from err
            params.update((id(p), p) for p in module.parameters() if p.requires_grad)
        if not params:
            raise ConfigError(f"config key '{key}': {modules!r} holds no trainable parameters")
        return list(params.values())

    def _test_on(self, section: Mapping[str, Any]) -> str:
        value = section.get("test_on", "best" if self.save_freq else "last")
        if value not in ("best", "last"):
            raise ConfigError(f"config key 'trainer.test_on' must be 'best' or 'last', got {value!r}")
        if value == "best" and not self.save_freq:
            raise ConfigError(
                "config key 'trainer.test_on': 'best' loads the best checkpoint, but trainer.save_freq is 0 "
                "(no checkpoints); set save_freq >= 1 or test_on 'last'"
            )
        return str(value)

    def _amp_dtype(self, spec: Any) -> torch.dtype | None:
        """The autocast dtype: bf16 on CPU, fp16 on CUDA (with a GradScaler); None when AMP is off."""
        if spec in (False, None):
            return None
        if spec is True or spec == "auto":
            dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        elif spec in ("bf16", "bfloat16"):
            dtype = torch.bfloat16
        elif spec in ("fp16", "float16"):
            dtype = torch.float16
        else:
            raise ConfigError(
                f"config key 'trainer.amp' must be true/false, 'auto', 'bf16' or 'fp16', got {spec!r}"
            )
        if self.device.type == "cpu" and dtype is torch.float16:
            raise ConfigError("config key 'trainer.amp': fp16 autocast needs CUDA; use 'bf16' on the CPU")
        if self.device.type not in ("cpu", "cuda"):
            return None
        return dtype

    def _metrics(self, spec: Any, key: str) -> list[Metric]:
        metrics = build_metrics(spec, key)
        names = self.section.get("class_names")
        # a loss that skips a label (CrossEntropyLoss(ignore_index=255)) means the metrics should skip it too
        ignored = getattr(self.loss_fn, "ignore_index", -100)
        for metric in metrics:
            if names is not None and hasattr(metric, "class_names") and metric.class_names is None:
                metric.class_names = list(names)
            if getattr(metric, "ignore_index", None) == -100 and ignored != -100:
                setattr(metric, "ignore_index", ignored)  # noqa: B010 (not every Metric has one)
            if isinstance(self.loss_fn, nn.BCELoss):  # the model outputs probabilities, not logits
                if getattr(metric, "threshold", None) == 0.0:
                    setattr(metric, "threshold", 0.5)  # noqa: B010
                if isinstance(metric, RocAuc):
                    metric.probabilities = True
        return metrics

    @staticmethod
    def _grad_clip(spec: Any) -> GradientClipping:
        key = "trainer.grad_clip"
        try:
            if isinstance(spec, (int, float)) and not isinstance(spec, bool):
                callback = GradientClipping(max_norm=spec)
            elif isinstance(spec, Mapping):
                callback = GradientClipping(**spec)
            else:
                raise TypeError(f"expected a number (max norm) or a mapping, got {spec!r}")
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"config key '{key}': {err}; use a max norm (1.0) or {{'max_norm': .., 'norm_type': .., 'value': ..}}"
            ) from err
        callback.key = key
        return callback

    def _shard(self, loader: Any, evaluation: bool = False) -> Any:
        if isinstance(loader, DataLoader):
            return distributed.distributed_loader(loader, seed=self.seed, evaluation=evaluation)
        return loader

    # ------------------------------------------------------------------ experiment glue

    def _make_experiment(self, *, name: Any, base_dir: Any, loggers: Any, resume: Any) -> Any:
        checkpoint: dict[str, Any] = {"format": "torch", "keep_last": 2, "keep_best": 1}
        options = self.section.get("checkpoint") or {}
        unknown = sorted(set(options) - CHECKPOINT_KEYS) if isinstance(options, Mapping) else None
        if unknown is None or unknown:
            raise ConfigError(
                f"config key 'trainer.checkpoint' must be a mapping with keys among {sorted(CHECKPOINT_KEYS)}, "
                f"got {options!r}; monitor, mode and the saving interval come from trainer.monitor, "
                "trainer.mode and trainer.save_freq"
            )
        checkpoint.update(options)
        checkpoint.update({"every": self.save_freq, "monitor": self.monitor, "mode": self.mode})
        stages = TrainerStages(
            train=self.train_phase,
            validate=self.validate_phase,
            end=self.end_phase,
            progress_state=self.progress_state,
            load_progress_state=self.load_progress_state,
        )
        return TrainerExperiment(
            stages,
            self._torch_objects(),
            config=self.config,
            name=name or self.config.get("name") or self.task,
            n_epochs=self.epochs,
            seed=self.config.get("seed"),
            device=self.device,
            base_dir=base_dir,
            loggers=loggers,
            resume=resume,
            checkpoint=checkpoint if self.save_freq else False,
            quiet=self._console_quiet or not self.is_main,
        )

    def _torch_objects(self) -> dict[str, Any]:
        """The model, optimizer(s), scheduler(s) and grad scaler under the attribute names the experiment's
        checkpoints keep them by (one optimizer: ``optimizer``/``scheduler``; several: the dicts
        ``optimizers``/``schedulers``)."""
        objects: dict[str, Any] = {"model": self.model}
        if list(self.optimizers) == [SINGLE]:
            objects["optimizer"] = self.optimizer
            if self.scheduler_callback is not None:
                objects["scheduler"] = self.scheduler_callback.scheduler
        else:
            objects["optimizers"] = dict(self.optimizers)
            objects["schedulers"] = {name: cb.scheduler for name, cb in self.scheduler_callbacks.items()}
        if self.scaler is not None:
            objects["scaler"] = self.scaler
        return objects

    @property
    def run_dir(self) -> Path | None:
        """The run folder (None on DDP ranks other than 0, which write nothing)."""
        return None if self.experiment is None else Path(self.experiment.run_dir)

    @property
    def log(self) -> Any:
        """The experiment's combined logger (None on ranks other than 0)."""
        return None if self.experiment is None else self.experiment.clog

    def progress_state(self) -> dict[str, Any]:
        """Counters, best value, history and callback states: what a resume needs besides torch objects."""
        return {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "best": self.best,
            "history": [dict(h) for h in self.history],
            "callbacks": [cb.state_dict() for cb in self.callbacks],
        }

    def load_progress_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`progress_state` returned."""
        saved = list(state.get("callbacks", []))
        if len(saved) != len(self.callbacks):
            raise ConfigError(
                f"the checkpoint holds the state of {len(saved)} callback(s) but 'trainer.callbacks' (with scheduler "
                f"and grad_clip) builds {len(self.callbacks)}; resume with the run's original trainer config"
            )
        for callback, cb_state in zip(self.callbacks, saved):
            callback.load_state_dict(cb_state)
        self.epoch = int(state.get("epoch", 0))
        self.global_step = int(state.get("global_step", 0))
        best = state.get("best")
        self.best = None if best is None else float(best)
        self.history = [{str(k): float(v) for k, v in h.items()} for h in state.get("history", [])]

    def state_dict(self) -> dict[str, Any]:
        """Model, optimizer, grad scaler and :meth:`progress_state` in one dict (RNG states and results aside)."""
        return {
            "model": self.model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "progress": self.progress_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.model.load_state_dict(state["model"])
        saved = state["optimizers"] if "optimizers" in state else {SINGLE: state["optimizer"]}
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(saved[name])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.load_progress_state(state["progress"])

    def _share_start(self, start_epoch: int) -> int:
        """Under DDP, rank 0 sends its (possibly resumed) state and start epoch to the other ranks."""
        if not distributed.is_distributed() or self._shared:
            return start_epoch
        self._shared = True
        payload = (self.state_dict() if self.history else None, start_epoch) if self.is_main else None
        state, start_epoch = distributed.broadcast_object(payload)
        if state is not None and not self.is_main:
            self.load_state_dict(state)
        return start_epoch

    # ------------------------------------------------------------------ per-task hooks

    def unpack(self, batch: Any) -> tuple[Any, Any]:
        """Split a batch into (input, target): a (input, target, ...) sequence or a dict with input/target keys."""
        if isinstance(batch, Mapping):
            try:
                return batch[self.input_key], batch[self.target_key]
            except KeyError as err:
                raise ConfigError(
                    f"a batch is a dict with keys {sorted(batch)}, without {err}; set 'trainer.input_key' and "
                    "'trainer.target_key' to the keys holding input and target"
                ) from err
        if isinstance(batch, (list, tuple)) and len(batch) >= 2:
            return batch[0], batch[1]
        raise ConfigError(
            f"{type(self).__name__} expects batches of (input, target) or dicts, got {_shape(batch)}; "
            "make the dataset return (input, target) pairs"
        )

    def forward(self, inputs: Any) -> Any:
        """Run the model: DDP-wrapped when training, bare without gradients.

        Evaluation reads shards of unequal length, so it must not start a collective (DDP's buffer
        broadcast) that a rank with fewer batches would never join.
        """
        return (self.net if torch.is_grad_enabled() else self.model)(inputs)

    def compute_loss(self, output: Any, target: Any) -> torch.Tensor:
        """The loss of one batch."""
        return self.loss_fn(output, target)

    def metric_pair(self, output: Any, target: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """What the metrics see (defaults to output and target)."""
        return output, target

    # ------------------------------------------------------------------ loop

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def _step_forward(self, inputs: Any, target: Any) -> tuple[Any, torch.Tensor]:
        with self._autocast():
            if self._checked_first_batch:
                output = self.forward(inputs)
                return output, self.compute_loss(output, target)
            return self._checked_forward(inputs, target)

    def _checked_forward(self, inputs: Any, target: Any) -> tuple[Any, torch.Tensor]:
        """The first batch, with errors that name the model or loss and the shapes involved."""
        try:
            output = self.forward(inputs)
        except (RuntimeError, ValueError, TypeError, IndexError) as err:
            raise ConfigError(
                f"model {_describe(self.model)} failed on the first batch, input of shape {_shape(inputs)}: {err}; "
                "check that the model's input layer matches the data"
            ) from err
        try:
            loss = self.compute_loss(output, target)
        except (RuntimeError, ValueError, TypeError, IndexError) as err:
            raise ConfigError(
                f"loss {_describe(self.loss_fn)} (config key 'trainer.optimization.loss') failed on the first batch: "
                f"model {_describe(self.model)} output of shape {_shape(output)} vs target of shape {_shape(target)}: "
                f"{err}"
            ) from err
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise ConfigError(
                f"loss {_describe(self.loss_fn)} (config key 'trainer.optimization.loss') must return a scalar "
                f"tensor, got {_shape(loss)}; use reduction='mean'"
            )
        try:
            for metric in self.eval_metrics:
                metric.update(*self.metric_pair(output.detach(), target))
                metric.reset()
        except (RuntimeError, ValueError, IndexError) as err:
            raise ConfigError(
                f"metric {type(metric).__name__} (config key 'trainer.metrics') cannot use model output of shape "
                f"{_shape(output)} with target of shape {_shape(target)}: {err}"
            ) from err
        self._checked_first_batch = True
        return output, loss

    def training_step(self, batch: Any) -> torch.Tensor | Mapping[str, torch.Tensor]:
        """One batch's loss(es): override it for a step of your own (a GAN, a multi-task loss...).

        Return a scalar tensor (for the only, or first, optimizer) or ``{optimizer name: loss}`` for the
        optimizers of ``trainer.optimization`` that step on this batch. The trainer runs it under AMP
        autocast and does the rest: zeroing, backward (each loss into its own optimizer's parameters
        only, so a generator loss leaves no gradient in the discriminator), GradScaler scaling,
        ``trainer.accumulate`` batches per step, gradient clipping per optimizer, the optimizer steps (in
        config order, after every backward) and the per-step schedulers. Call :meth:`record_outputs` to
        feed the training metrics. The default: ``unpack``, ``forward``, ``compute_loss``.
        """
        inputs, target = self.unpack(batch)
        inputs, target = _to_device(inputs, self.device), _to_device(target, self.device)
        output, loss = self._step_forward(inputs, target)
        self.record_outputs(output, target)
        return loss

    def record_outputs(self, output: Any, target: Any) -> None:
        """Give this training step's model output and target to the training metrics."""
        self._recorded = (output, target)

    def _named_losses(self, losses: Any) -> dict[str, torch.Tensor]:
        named = {next(iter(self.optimizers)): losses} if isinstance(losses, torch.Tensor) else losses
        if not isinstance(named, Mapping) or not named:
            raise ConfigError(
                f"{type(self).__name__}.training_step must return a scalar loss tensor or a mapping "
                f"{{optimizer name: loss}}, got {_shape(losses)}"
            )
        for name, loss in named.items():
            if name not in self.optimizers:
                raise ConfigError(
                    f"{type(self).__name__}.training_step returned a loss for {name!r}; the optimizers of "
                    f"'trainer.optimization' are {sorted(self.optimizers)}"
                )
            if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
                raise ConfigError(
                    f"{type(self).__name__}.training_step: the loss for {name!r} must be a scalar tensor, "
                    f"got {_shape(loss)}"
                )
        return dict(named)

    def _backward(self, losses: Mapping[str, torch.Tensor]) -> None:
        """Backward of each loss into its optimizer's parameters (scaled under AMP, divided when accumulating)."""
        if not self._pending:
            for optimizer in self.optimizers.values():
                optimizer.zero_grad(set_to_none=True)
        items = list(losses.items())
        for i, (name, loss) in enumerate(items):
            if self.accumulate > 1:
                loss = loss / self.accumulate
            if self.scaler is not None:
                loss = self.scaler.scale(loss)
            if len(self.optimizers) == 1:
                loss.backward()
            else:
                torch.autograd.backward(
                    loss, inputs=self.optimizer_params[name], retain_graph=i < len(items) - 1
                )
            self._pending.add(name)

    def _optimizer_step(self) -> None:
        """Step every optimizer that got a loss since the last step (clipping callbacks first), in config order."""
        for name, optimizer in self.optimizers.items():
            if name not in self._pending:
                continue
            self.stepping = name
            if self.scaler is not None:
                self.scaler.unscale_(optimizer)
            for callback in self.callbacks:
                callback.on_before_optimizer_step(self)
            if self.scaler is not None:
                self.scaler.step(optimizer)
            else:
                optimizer.step()
        if self.scaler is not None:
            self.scaler.update()
        self._pending.clear()
        self.global_step += 1
        for callback in self.callbacks:
            callback.on_batch_end(self, self.global_step)

    def _progress(self, loader: Any, desc: str) -> Any:
        if self.quiet or not self.is_main:
            return loader
        from tqdm.auto import tqdm

        total = len(loader) if hasattr(loader, "__len__") else None
        return tqdm(loader, desc=desc, total=total, leave=False, dynamic_ncols=True)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """Train one epoch; returns {"train/loss": ..., "train/<metric>": ...} reduced over ranks.

        With several optimizers ``train/loss`` is the sum of their losses and ``train/<name>_loss``,
        ``train/<name>_lr`` are each one's.
        """
        self.net.train()
        set_epoch = getattr(getattr(self.train_loader, "sampler", None), "set_epoch", None)
        if set_epoch is not None:
            set_epoch(epoch)
        acc = _EpochAccumulator(self.train_metrics, self.metric_pair)
        parts = {name: _EpochAccumulator([], self.metric_pair) for name in self.optimizers}
        single = list(self.optimizers) == [SINGLE]
        bar = self._progress(self.train_loader, f"epoch {epoch} train")
        micro = 0
        waited = computed = 0.0
        probed = (0.0, 0.0)  # waited, computed at the last step probe
        started = time.perf_counter()
        for batch in bar:
            fetched = time.perf_counter()
            waited += fetched - started
            self._recorded = None
            with self._autocast():
                losses = self._named_losses(self.training_step(batch))
            self._backward(losses)
            micro += 1
            output, target = self._recorded if self._recorded is not None else (None, None)
            size = _batch_size(target if self._recorded is not None else batch)
            detached = {name: loss.detach() for name, loss in losses.items()}
            total = (
                next(iter(detached.values()))
                if len(detached) == 1
                else torch.stack(list(detached.values())).sum()
            )
            acc.add(total, size, output, target)
            if not single:
                for name, loss in detached.items():
                    parts[name].add(loss, size, None, None)
            probe_now = False
            if micro % self.accumulate == 0:
                self._optimizer_step()
                self._log_step(total, bar)
                probe_now = bool(self.probe_every_steps) and self.global_step % self.probe_every_steps == 0
            started = time.perf_counter()
            computed += started - fetched
            if probe_now:  # what the steps since the last probe waited and computed; its own cost in neither
                self._record_step_probes(waited - probed[0], computed - probed[1])
                probed = (waited, computed)
                started = time.perf_counter()
        if self._pending:  # the last, shorter accumulation of the epoch
            self._optimizer_step()
        values = self._reduce("train", acc, self.train_metrics)
        if single:
            values["train/lr"] = float(self.optimizer.param_groups[0]["lr"])
        else:
            for name, part in parts.items():
                loss_value = self._reduce("train", part, []).get("train/loss")
                if loss_value is not None:
                    values[f"train/{name}_loss"] = loss_value
                values[f"train/{name}_lr"] = float(self.optimizers[name].param_groups[0]["lr"])
        if self.probes:
            values.update(probe_values(waited, computed))
        return values

    def _record_step_probes(self, data_wait_s: float, compute_s: float) -> None:
        """``trainer.probes.every_steps``: the ``sys/step_*`` probes of the steps since the last, at ``global_step``."""
        if self.experiment is None:
            return
        for key, value in probe_values(data_wait_s, compute_s).items():
            self.experiment.add_result(
                value, f"step_{key.split('/', 1)[1]}", counter=self.global_step, tag="sys"
            )

    def _log_step(self, loss: torch.Tensor, bar: Any) -> None:
        if not (self.log_every and self.global_step % self.log_every == 0):
            return
        value = loss.item()
        if self.log is not None:
            self.log.show_value(value, "train/step_loss", counter=self.global_step, tag="step_loss")
        if bar is not self.train_loader:
            bar.set_postfix(loss=f"{value:.4g}", refresh=False)

    @torch.no_grad()
    def evaluate(
        self, loader: Iterable[Any], phase: str = "val", predictions: Predictions | None = None
    ) -> dict[str, float]:
        """Loss and metrics over ``loader`` without gradients; keys are ``<phase>/<name>``.

        ``predictions`` collects one row per sample (see :meth:`prediction_rows`); write it afterwards.
        """
        self.net.eval()
        acc = _EpochAccumulator(self.eval_metrics, self.metric_pair)
        for batch in self._progress(loader, f"epoch {self.epoch} {phase}"):
            inputs, target = self.unpack(batch)
            inputs, target = _to_device(inputs, self.device), _to_device(target, self.device)
            output, loss = self._step_forward(inputs, target)
            acc.add(loss, _batch_size(target), output, target)
            if predictions is not None:
                predictions.add(self.prediction_rows(output, target), batch)
        return self._reduce(phase, acc, self.eval_metrics)

    def prediction_rows(self, output: Any, target: Any) -> dict[str, torch.Tensor]:
        """A batch's prediction columns, first dimension the samples: the model output and the target."""
        rows: dict[str, torch.Tensor] = {}
        if isinstance(target, torch.Tensor):
            rows["target"] = target
        if isinstance(output, torch.Tensor):
            rows["output"] = output
        return rows

    def load_weights(self, checkpoint: str | int = "best", run: str | Path | None = None) -> CheckpointEntry:
        """Load the model weights of checkpoint ``"best"``, ``"last"`` or a step, of this run or of the run folder
        ``run``; returns its manifest entry (``entry.epoch`` is the epoch it was saved at). Under DDP rank 0
        reads it and every rank gets the weights."""
        payload: Any = None
        if self.is_main:
            if run is None:
                if self.experiment is None or self.experiment.checkpoints is None:
                    raise CheckpointError("this run keeps no checkpoints (trainer.save_freq is 0)")
                self.experiment.wait_checkpoints()
                manager = self.experiment.checkpoints
            else:
                manager = _run_checkpoints(Path(run), self.monitor, self.mode)
            state, entry = manager.load(checkpoint, map_location="cpu")
            weights = (
                state.get("user", {}).get("model", {}).get("model") if isinstance(state, Mapping) else None
            )
            if weights is None:
                raise CheckpointError(f"checkpoint {entry.path} holds no weights of a trainer's 'model'")
            payload = (weights, entry)
        weights, entry = distributed.broadcast_object(payload)
        try:
            self.model.load_state_dict(weights)
        except RuntimeError as err:
            raise CheckpointError(
                f"checkpoint {entry.path} does not fit model {_describe(self.model)}: {err}"
            ) from err
        return entry

    def evaluate_run(
        self,
        run: str | Path,
        checkpoint: str | int = "best",
        split: str = "test",
        loader: Iterable[Any] | None = None,
    ) -> dict[str, float]:
        """Evaluate a checkpoint of the run folder ``run`` on ``split`` without training.

        This trainer's own run folder (a new one, never the evaluated run's) receives the metrics as
        results ``<split>/<metric>`` plus ``<split>/epoch`` (the checkpoint's epoch), and the predictions
        (``result/predictions/<split>.npz`` or ``.csv``). ``loader`` defaults to the trainer's loader of
        ``split``. Returns the metrics.
        """
        if split not in ("test", "val", "train"):
            raise ConfigError(f"the split to evaluate must be 'test', 'val' or 'train', got {split!r}")
        if loader is None:
            loader = {"test": self.test_loader, "val": self.val_loader, "train": self.train_loader}[split]
        if loader is None:
            raise ConfigError(f"config key 'data.{split}' is missing: evaluating split {split!r} needs it")
        if distributed.is_distributed():
            raise ConfigError("evaluating a run works in one process; run it without torchrun")
        exp = self.experiment
        exp.begin_run()
        try:
            entry = self.load_weights(checkpoint, run)
            self.epoch = _epoch(entry)
            exp.print(
                f"evaluating {run} checkpoint {checkpoint!r} (step {entry.step}, epoch {entry.epoch}) on {split}"
            )
            options = self.predictions or PredictionOptions()
            predictions = self._predictions(split, options, loader)
            values = self.evaluate(loader, split, predictions)
            predictions.write()
            values[f"{split}/epoch"] = float(self.epoch)
            self._record_final(values, split)
        except BaseException as exc:
            exp.fail_run(exc, "killed" if isinstance(exc, KeyboardInterrupt) else "error")
            raise
        else:
            exp.finish_run()
        finally:
            exp.close()
        return values

    def _predictions(self, split: str, options: PredictionOptions, loader: Any) -> Predictions:
        return Predictions(
            self.prediction_folder(),
            split,
            options,
            class_names=self.section.get("class_names"),
            dataset=getattr(loader, "dataset", None),
        )

    def prediction_folder(self) -> Path:
        """Where predictions are written: ``<run folder>/result/predictions``."""
        return Path(self.experiment.result_dir) / "predictions"

    def _reduce(self, phase: str, acc: _EpochAccumulator, metrics: list[Metric]) -> dict[str, float]:
        loss_sum, seen = acc.finish()
        totals = torch.stack(
            [loss_sum, torch.tensor(float(seen), dtype=torch.float64, device=loss_sum.device)]
        )
        totals = distributed.all_reduce_sum(totals)
        out: dict[str, float] = {}
        if float(totals[1]) > 0:
            out[f"{phase}/loss"] = float(totals[0]) / float(totals[1])
        for metric in metrics:
            metric.sync()
            for key, value in metric.compute().items():
                out[f"{phase}/{key}"] = value
        return out

    def _record(
        self, values: Mapping[str, float], epoch: int, metrics: list[Metric], phase: str | None
    ) -> None:
        """Results and plots on rank 0: add_result per value, then what the metrics draw.

        trialog's naming convention: ``"val/accuracy"`` is the metric ``accuracy`` tagged with its phase ``val``
        (the series key ``val/accuracy`` in every summary; :mod:`trialog.results.summaries`).
        """
        if self.experiment is None:
            return
        for key, value in values.items():
            name, tag = _metric_and_phase(key)
            self.experiment.add_result(value, name, counter=epoch, tag=tag)
        if phase is not None:
            for metric in metrics:
                metric.render(self.log, f"{phase}/", epoch)

    def _is_better(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def train_phase(self, epoch: int) -> None:
        """Train epoch ``epoch`` and record its results (the experiment's ``train``)."""
        self.epoch = epoch
        self._epoch_started = time.perf_counter()
        values = self.train_epoch(epoch)
        # measurements (sys/) are results, not metrics: kept out of history and the final values
        self._epoch_values = {k: v for k, v in values.items() if not k.startswith("sys/")}
        self._record(values, epoch, self.train_metrics, None)

    def validate_phase(self, epoch: int) -> None:
        """Validate, then let callbacks and the best-value tracking see the epoch (the experiment's ``validate``)."""
        values = self._epoch_values
        if self.val_loader is not None:
            val = self.evaluate(self.val_loader, "val")
            self._record(val, epoch, self.eval_metrics, "val")
            values.update(val)
        values["time/epoch_s"] = time.perf_counter() - self._epoch_started
        monitored = values.get(self.monitor)
        if monitored is None:
            raise ConfigError(
                f"config key 'trainer.monitor': metric '{self.monitor}' is not produced by this trainer; "
                f"available: {sorted(values)}"
            )
        for callback in self.callbacks:
            callback.on_epoch_end(self, epoch, values)
        if self._is_better(monitored):
            self.best = monitored
        self.history.append(values)
        if self.bar is not None:
            self.bar.update(1)
            shown = {
                k: values[k] for k in dict.fromkeys(("train/loss", "val/loss", self.monitor)) if k in values
            }
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items()}, refresh=False)

    def request_stop(self, reason: str) -> None:
        """Stop after the current epoch (early stopping calls this); every rank takes the same decision."""
        self.stop_reason = reason
        if self.experiment is not None:
            self.experiment.stop()

    def fit(self) -> dict[str, float]:
        """Train for ``trainer.epochs`` (resuming where a checkpoint left off); returns the final metrics.

        The final metrics are the last epoch's values, ``best/<monitor>`` and, with a test loader, ``test/...``.
        Every DDP rank runs this one loop; on rank 0 it drives the experiment's stages (run folder,
        lifecycle hooks, checkpoints, resume), and the experiment is closed at the end; the other ranks
        write nothing.
        """
        self.bar = None
        if not self.quiet and self.is_main:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.epochs, desc=f"{self.task}", unit="epoch", dynamic_ncols=True)
        exp = self.experiment
        try:
            drive_lifecycle(
                exp,
                start=self._fit_start,
                epoch=self._fit_epoch,
                n_epochs=self.epochs,
                stop=lambda: self.stop_reason is not None,
                end=self.end_phase,
            )
        finally:
            if exp is not None:
                exp.close()
            if self.bar is not None:
                self.bar.close()
        # rank 0 closes its run folder and loggers after the others finished; wait so all leave together
        distributed.barrier()
        return dict(self.final)

    def _fit_start(self, start: int) -> int:
        start = self._share_start(start)
        if self.bar is not None and start:
            self.bar.update(start)
        return start

    def _fit_epoch(self, epoch: int) -> None:
        self.train_phase(epoch)
        self.validate_phase(epoch)

    def _record_final(self, values: Mapping[str, float], phase: str) -> None:
        """Results without an epoch (what a test or an evaluation produced) and what the metrics draw."""
        if self.experiment is None:
            return
        for key, value in values.items():
            name, tag = _metric_and_phase(key)
            self.experiment.add_result_without_epoch(value, name, tag=tag)
        for metric in self.eval_metrics:
            metric.render(self.log, f"{phase}/", None)

    def _has_best(self) -> bool:
        """Whether a checkpoint has a value of the monitor (all NaN: no); warns when not. Same on every rank."""
        has_best = None
        if self.is_main and self.experiment is not None and self.experiment.checkpoints is not None:
            self.experiment.wait_checkpoints()
            has_best = self.experiment.checkpoints.best() is not None
        if distributed.broadcast_object(has_best):
            return True
        warnings.warn(
            f"trainer.test_on 'best': no checkpoint has a value of {self.monitor!r}; testing the last weights",
            TrialogWarning,
            stacklevel=3,
        )
        return False

    def end_phase(self) -> None:
        """After the last epoch: test metrics (when a test loader was given) and the final metrics."""
        final = dict(self.history[-1]) if self.history else {}
        if self.best is not None:
            final[f"best/{self.monitor}"] = self.best
        if self.test_loader is not None:
            tested = self.epoch
            if self.test_on == "best" and self._has_best():
                tested = _epoch(self.load_weights("best"))
            predictions = None
            if self.predictions is not None and self.experiment is not None:
                if distributed.is_distributed():
                    raise ConfigError("config key 'trainer.predictions' is not supported under torchrun yet")
                predictions = self._predictions("test", self.predictions, self.test_loader)
            test = self.evaluate(self.test_loader, "test", predictions)
            if predictions is not None:
                predictions.write()
            test["test/epoch"] = float(tested)
            self._record_final(test, "test")
            final.update(test)
        if self.stop_reason is not None and self.experiment is not None:
            self.experiment.print(f"{self.task} trainer stopped after epoch {self.epoch}: {self.stop_reason}")
        self.final = final


def trainer_class(name: Any, key: str = "trainer.type") -> type[Trainer]:
    """The Trainer subclass ``trainer.type`` names: an installed ``trialog.trainers`` entry point
    (``"classification"``) or an import path (``"my_pkg.gan:GANTrainer"``, ``"my_pkg.gan.GANTrainer"``).

    Either way it must be a subclass of :class:`Trainer`; anything else is a ConfigError naming ``key``.
    """
    from trialog.api import plugins
    from trialog.errors import TrialogError

    if not isinstance(name, str) or not name.strip():
        raise ConfigError(
            f'config key \'{key}\' must name a trainer, such as "classification" or "my_pkg.mod:MyTrainer", '
            f"got {name!r}"
        )
    if ":" in name or "." in name:
        found = import_object(name, key)
        where = f"import path {name!r}"
    else:
        try:
            found = plugins.load("trialog.trainers", name)
        except TrialogError as exc:
            raise ConfigError(
                f"config key '{key}': {exc} (a trainer of your own is named by import path, 'my_pkg.mod:MyTrainer')"
            ) from exc
        where = f"entry point {name!r}"
    if not (isinstance(found, type) and issubclass(found, Trainer)):
        raise ConfigError(
            f"config key '{key}': {where} is {found!r}, not a subclass of trialog_torch.trainers.Trainer; "
            "subclass Trainer (or ClassificationTrainer...) and override training_step"
        )
    return found


@dataclass(frozen=True)
class TrainerStages:
    """What a :class:`TrainerExperiment` runs and checkpoints of a trainer: its phases and its progress state
    (counters, best value, history, callback states)."""

    train: Callable[[int], None]
    validate: Callable[[int], None]
    end: Callable[[], None]
    progress_state: Callable[[], dict[str, Any]]
    load_progress_state: Callable[[Mapping[str, Any]], None]


class TrainerExperiment(TorchExperiment):
    """A TorchExperiment whose stages are a trainer's (what :meth:`Trainer.fit` drives on rank 0).

    The trainer owns it and hands it what it needs: ``stages`` (the phases and the progress state) and
    ``objects`` (attribute name -> the model, optimizer, scheduler and grad scaler; several named
    optimizers and their schedulers: the dicts ``optimizers`` and ``schedulers``), so TorchExperiment's
    discovery checkpoints them in its usual layout (``load_checkpoint``, partial loading and
    ``resume_save_types`` work as for any TorchExperiment); the trainer's progress rides along under
    ``"trainer"``. ``run()`` works too (train/validate/end are the trainer's phases); subclass it to
    change what a trainer's run stores or does between epochs.
    """

    #: Built again from the config on every start; not checkpoint state.
    not_checkpointed = ("stages",)

    def __init__(self, stages: TrainerStages, objects: Mapping[str, Any], **kwargs: Any) -> None:
        self.stages = stages
        super().__init__(**kwargs)
        for name, value in objects.items():
            setattr(self, name, value)

    def train(self, epoch: int) -> None:
        self.stages.train(epoch)

    def validate(self, epoch: int) -> None:
        self.stages.validate(epoch)

    def end(self) -> None:
        self.stages.end()

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state["trainer"] = self.stages.progress_state()
        return state

    def set_state(self, state: Mapping[str, Any], context: RestoreContext | None = None) -> None:
        super().set_state(state, context)
        if "trainer" in state:
            self.stages.load_progress_state(state["trainer"])


class ClassificationTrainer(Trainer):
    """Classification: (N, C) logits vs (N,) class indices; binary with one logit and BCEWithLogitsLoss."""

    task = "classification"
    default_loss = "cross_entropy"
    default_metrics: tuple[Any, ...] = ("accuracy",)
    default_monitor = "val/accuracy"

    def compute_loss(self, output: Any, target: Any) -> torch.Tensor:
        if isinstance(self.loss_fn, (nn.BCEWithLogitsLoss, nn.BCELoss)) and isinstance(output, torch.Tensor):
            if output.numel() == target.numel():
                target = target.to(output.dtype).reshape(output.shape)
        return self.loss_fn(output, target)

    def prediction_rows(self, output: Any, target: Any) -> dict[str, torch.Tensor]:
        """Output and target, plus the ``top_k`` classes and their softmax scores for (N, C) logits."""
        rows = super().prediction_rows(output, target)
        if isinstance(output, torch.Tensor) and output.dim() == 2 and output.shape[1] > 1:
            k = min((self.predictions or PredictionOptions()).top_k, int(output.shape[1]))
            if isinstance(self.loss_fn, nn.NLLLoss):  # the model outputs log-probabilities
                scores = output.float().exp()
            elif isinstance(self.loss_fn, (nn.BCELoss, nn.BCEWithLogitsLoss)):  # multi-label
                scores = output.float() if isinstance(self.loss_fn, nn.BCELoss) else output.float().sigmoid()
            else:
                scores = output.float().softmax(1)
            top = scores.topk(k, dim=1)
            rows["top_k_index"], rows["top_k_score"] = top.indices, top.values
        return rows


class SegmentationTrainer(ClassificationTrainer):
    """Per-pixel classification: (N, C, H, W) logits vs (N, H, W) class maps."""

    task = "segmentation"
    default_metrics: tuple[Any, ...] = ("accuracy", "iou", "dice")
    default_monitor = "val/iou"

    def prediction_rows(self, output: Any, target: Any) -> dict[str, torch.Tensor]:
        """The predicted class map of each sample (written as a coloured PNG), and target/output when small."""
        rows = Trainer.prediction_rows(self, output, target)
        if isinstance(output, torch.Tensor) and output.dim() >= 3:
            rows["map"] = output.argmax(1) if output.shape[1] > 1 else (output[:, 0] > 0).long()
        return rows


class RegressionTrainer(Trainer):
    """Regression: output and float target of one shape ((N, 1) output is matched to an (N,) target)."""

    task = "regression"
    default_loss = "mse"
    default_metrics: tuple[Any, ...] = ("mse", "mae", "r2")
    default_monitor = "val/loss"

    def compute_loss(self, output: Any, target: Any) -> torch.Tensor:
        # an (N, 1) output against an (N,) target would broadcast to (N, N) and train on nonsense
        if (
            isinstance(output, torch.Tensor)
            and output.shape != target.shape
            and output.numel() == target.numel()
        ):
            output = output.reshape(target.shape)
        return self.loss_fn(output, target.to(output.dtype) if target.is_floating_point() else target.float())


class AutoencoderTrainer(RegressionTrainer):
    """Reconstruction: the target is the input (a batch may be the input alone or (input, label))."""

    task = "autoencoder"
    default_metrics: tuple[Any, ...] = ("mse",)

    def unpack(self, batch: Any) -> tuple[Any, Any]:
        if isinstance(batch, torch.Tensor):
            return batch, batch
        if isinstance(batch, Mapping):
            inputs = batch[self.input_key]
        elif isinstance(batch, (list, tuple)) and batch:
            inputs = batch[0]
        else:
            raise ConfigError(f"AutoencoderTrainer expects batches of inputs, got {_shape(batch)}")
        return inputs, inputs
