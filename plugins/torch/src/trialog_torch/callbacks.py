"""Trainer callbacks: early stopping, learning-rate schedulers, gradient clipping.

A callback overrides the hooks it needs; the trainer calls them in config order. State that must survive a
resume (patience counters, scheduler state) goes through ``state_dict``/``load_state_dict`` and is stored in
the trainer's checkpoints, so a resumed run takes the same decisions as an uninterrupted one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import torch
from torch import nn

from trialog.errors import ConfigError

__all__ = [
    "CALLBACKS",
    "Callback",
    "EarlyStopping",
    "GradientClipping",
    "LRSchedulerCallback",
    "TrainerView",
    "build_callbacks",
]


class TrainerView(Protocol):
    """What a callback reads and calls on the trainer it is attached to.

    :class:`trialog_torch.trainers.Trainer` is one; callbacks (and the schedules, samplers and worker
    seeding built on them) depend on this view, not on the trainers module, which imports them.
    """

    @property
    def model(self) -> nn.Module: ...
    @property
    def optimizer(self) -> torch.optim.Optimizer: ...
    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...
    @property
    def optimizer_params(self) -> dict[str, list[nn.Parameter]]: ...
    @property
    def callbacks(self) -> list[Callback]: ...
    @property
    def monitor(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def stepping(self) -> str: ...
    @property
    def experiment(self) -> Any: ...
    @property
    def epoch(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def train_loader(self) -> Any: ...
    @property
    def val_loader(self) -> Any: ...
    @property
    def test_loader(self) -> Any: ...

    def request_stop(self, reason: str) -> None: ...


class Callback:
    """Base class; every hook is optional."""

    #: Config key this callback was built from (for error messages).
    key: str = "trainer.callbacks"

    def setup(self, trainer: TrainerView) -> None:
        """Bind to a trainer whose model and optimizer exist (before any state is restored)."""

    def on_epoch_start(self, trainer: TrainerView, epoch: int) -> None:
        """An epoch starts."""

    def on_before_optimizer_step(self, trainer: TrainerView) -> None:
        """Gradients are ready (unscaled under AMP) and an optimizer is about to step: once per stepping
        optimizer, named by ``trainer.stepping`` (its parameters: ``trainer.optimizer_params[trainer.stepping]``)."""

    def on_batch_end(self, trainer: TrainerView, step: int) -> None:
        """The optimizer stepped; ``step`` counts optimizer steps since the run began."""

    def on_epoch_end(self, trainer: TrainerView, epoch: int, metrics: Mapping[str, float]) -> None:
        """An epoch's training and validation ended; ``metrics`` maps "val/accuracy"-style names to floats."""

    def state_dict(self) -> dict[str, Any]:
        """State to checkpoint."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""


def _monitored(
    callback: Callback, trainer: TrainerView, monitor: str | None, metrics: Mapping[str, float]
) -> float:
    name = monitor or trainer.monitor
    if name is None:
        raise ConfigError(
            f"config key '{callback.key}' needs a metric to watch: set 'monitor' there or in 'trainer.monitor'"
        )
    if name not in metrics:
        raise ConfigError(
            f"config key '{callback.key}': monitored metric '{name}' is not produced by this trainer; "
            f"available: {sorted(metrics)}"
        )
    return float(metrics[name])


class EarlyStopping(Callback):
    """Stop when the monitored metric has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(
        self, patience: int = 5, min_delta: float = 0.0, monitor: str | None = None, mode: str | None = None
    ) -> None:
        if int(patience) < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        if mode not in (None, "min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.monitor = monitor
        self.mode = mode
        self.best: float | None = None
        self.bad_epochs = 0
        self.stopped_epoch: int | None = None

    def setup(self, trainer: TrainerView) -> None:
        self.mode = self.mode or trainer.mode

    def _improved(self, value: float) -> bool:
        if self.best is None or math.isnan(self.best):
            return not math.isnan(value)
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_epoch_end(self, trainer: TrainerView, epoch: int, metrics: Mapping[str, float]) -> None:
        value = _monitored(self, trainer, self.monitor, metrics)
        if self._improved(value):
            self.best, self.bad_epochs = value, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            self.stopped_epoch = epoch
            trainer.request_stop(
                f"early stopping: {self.monitor or trainer.monitor} did not improve for {self.bad_epochs} epochs"
            )

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad_epochs": self.bad_epochs, "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best = state.get("best")
        self.bad_epochs = int(state.get("bad_epochs", 0))
        self.stopped_epoch = state.get("stopped_epoch")


class LRSchedulerCallback(Callback):
    """Steps a learning-rate scheduler per ``"epoch"`` or per ``"batch"``.

    ``ReduceLROnPlateau`` is fed the monitored metric at each epoch end. ``scheduler`` is a built scheduler
    or a spec ``{"type": ..., "params": ...}`` built in ``setup`` on the trainer's optimizer, or on the
    one named ``optimizer`` of ``trainer.optimizers``.
    """

    def __init__(
        self, scheduler: Any, step: str = "epoch", monitor: str | None = None, optimizer: str | None = None
    ) -> None:
        if step not in ("epoch", "batch"):
            raise ValueError(f"step must be 'epoch' or 'batch', got {step!r}")
        self.optimizer = optimizer
        self.spec = scheduler
        self.scheduler: Any = None if _is_spec(scheduler) else scheduler
        self.step = step
        self.monitor = monitor

    def setup(self, trainer: TrainerView) -> None:
        if self.scheduler is None:
            from .building import build_object, resolve_type, split_spec

            key = self.key if self.key.endswith("scheduler") else f"{self.key}.scheduler"
            type_name, params, _ = split_spec(self.spec, key)
            factory = resolve_type(
                type_name,
                key if isinstance(self.spec, str) else f"{key}.type",
                modules=("torch.optim.lr_scheduler",),
                kind="scheduler",
            )
            if isinstance(factory, type) and issubclass(factory, torch.optim.lr_scheduler.ReduceLROnPlateau):
                # a plateau on accuracy must be a maximum: follow the trainer's mode unless told otherwise
                params.setdefault("mode", trainer.mode)
            if self.optimizer is not None and self.optimizer not in trainer.optimizers:
                raise ConfigError(
                    f"config key '{self.key}': no optimizer named {self.optimizer!r}; the trainer's optimizers "
                    f"are {sorted(trainer.optimizers)}"
                )
            optimizer = trainer.optimizer if self.optimizer is None else trainer.optimizers[self.optimizer]
            self.scheduler = build_object({"type": factory, "params": params}, key, optimizer)

    @property
    def _plateau(self) -> bool:
        return isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)

    def on_batch_end(self, trainer: TrainerView, step: int) -> None:
        if self.step == "batch" and not self._plateau:
            self.scheduler.step()

    def on_epoch_end(self, trainer: TrainerView, epoch: int, metrics: Mapping[str, float]) -> None:
        if self._plateau:
            self.scheduler.step(_monitored(self, trainer, self.monitor, metrics))
        elif self.step == "epoch":
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])


class GradientClipping(Callback):
    """Clip gradients by total norm (``max_norm``, ``norm_type``) and/or by value (``value``).

    With several optimizers each one's parameters are clipped on their own, before its step.
    """

    def __init__(
        self, max_norm: float | None = None, norm_type: float = 2.0, value: float | None = None
    ) -> None:
        if max_norm is None and value is None:
            raise ValueError("gradient clipping needs 'max_norm' or 'value'")
        self.max_norm = None if max_norm is None else float(max_norm)
        self.norm_type = float(norm_type)
        self.value = None if value is None else float(value)
        self._params: list[torch.nn.Parameter] = []

    def setup(self, trainer: TrainerView) -> None:
        self._params = [p for p in trainer.model.parameters() if p.requires_grad]

    def on_before_optimizer_step(self, trainer: TrainerView) -> None:
        # a trainer-like object without named optimizers clips what setup found
        params = getattr(trainer, "optimizer_params", {}).get(
            getattr(trainer, "stepping", None), self._params
        )
        if self.value is not None:
            torch.nn.utils.clip_grad_value_(params, self.value)
        if self.max_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, self.max_norm, norm_type=self.norm_type)


def _is_spec(value: Any) -> bool:
    return isinstance(value, (str, Mapping))


#: Callback names usable in ``trainer.callbacks``.
CALLBACKS: dict[str, type[Callback]] = {
    "early_stopping": EarlyStopping,
    "lr_scheduler": LRSchedulerCallback,
    "grad_clip": GradientClipping,
    "gradient_clipping": GradientClipping,
}


def build_callbacks(spec: Any, key: str = "trainer.callbacks") -> list[Callback]:
    """Build callbacks from ``{name: params}`` or a list of names / ``{"type": ..., "params": ...}``."""
    from .building import build_object

    if spec is None:
        return []
    if isinstance(spec, Mapping):
        items = [(f"{key}.{name}", {"type": name, "params": params or {}}) for name, params in spec.items()]
    elif isinstance(spec, Sequence) and not isinstance(spec, str):
        items = [(f"{key}.{i}", item) for i, item in enumerate(spec)]
    else:
        raise ConfigError(
            f"config key '{key}' must be a mapping name -> params or a list of callbacks, got {type(spec).__name__}"
        )
    callbacks = []
    for item_key, item in items:
        callback = build_object(item, item_key, registry=CALLBACKS, kind="callback")
        if not isinstance(callback, Callback):
            raise ConfigError(
                f"config key '{item_key}' built a {type(callback).__name__}, not a trialog_torch.callbacks.Callback"
            )
        callback.key = item_key
        callbacks.append(callback)
    return callbacks
