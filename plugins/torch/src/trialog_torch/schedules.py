"""Schedules for any hyperparameter (elektronn2's ``Schedule``): optimizer group keys and module attributes.

``trainer.schedules`` maps a name to one schedule::

    "schedules": {
        "momentum": {"target": "optimizer.momentum", "updates": [[100, 0.8], [200, 0.5]]},
        "weight_decay": {"target": "optimizer.weight_decay", "lindec": [1000, 0.01]},
        "betas": {"target": "optimizer.betas", "dec": 0.9, "interval": 2, "per": "epoch"},
        "dropout": {"target": "model[Dropout].p", "updates": [[3, 0.0]], "per": "epoch"}
    }

``target`` is ``optimizer.<key>`` (that key of every parameter group: momentum, weight_decay, betas, ...),
``optimizers.<name>.<key>`` (a named optimizer of a trainer with several), ``model.<path>.<attr>`` (an
attribute of the submodule at ``path``, e.g. ``model.2.p``) or ``model[<Class>].<attr>`` (of every submodule
of that class). Exactly one form:

* ``dec``: ``initial * dec ** (t // interval)`` (``interval`` defaults to 1000 steps as in elektronn2, 1 epoch);
* ``lindec: [n, start]`` or ``[n, start, end]``: linearly from ``start`` to ``end`` (default 0) over ``n``,
  then ``end``;
* ``updates: [[t, value], ...]``: ``value`` from ``t`` on (before the first, the configured value).

``t`` counts optimizer steps (``per: "step"``, the default) or finished epochs (``per: "epoch"``): the value
for ``t`` is in force once ``t`` steps (epochs) are done. ``initial`` is the target's value when the trainer
is built (override with ``initial``). A value may be a list (``betas``: one number per component).
Every change is recorded as the result ``schedule/<name>`` (counter: the step or epoch), and the schedule's
position is checkpointed, so a resumed run sets the same values at the same steps. A bad entry is a
:class:`~trialog.errors.ConfigError` naming ``trainer.schedules.<name>`` before the run folder exists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from trialog.errors import ConfigError

from .callbacks import Callback, TrainerView

__all__ = ["Schedule", "ScheduleCallback", "build_schedules"]

_FORMS = ("dec", "lindec", "updates")
_KEYS = frozenset({"target", "per", "interval", "initial", *_FORMS})
_CLASS_TARGET = re.compile(r"^model\[(?P<cls>\w+)\]\.(?P<attr>\w+)$")

Value = float | tuple[float, ...]


def _value(raw: Any, key: str) -> Value:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw)
    if (
        isinstance(raw, (list, tuple))
        and raw
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)
    ):
        return tuple(float(v) for v in raw)
    raise ConfigError(f"config key '{key}' must be a finite number or a list of numbers, got {raw!r}")


def _map(value: Value, fn: Any) -> Value:
    return tuple(fn(v) for v in value) if isinstance(value, tuple) else fn(value)


class Schedule:
    """One hyperparameter's value as a function of ``t`` (steps or epochs); parsed and checked from a config entry."""

    def __init__(self, name: str, spec: Any, key: str) -> None:
        if not isinstance(spec, Mapping):
            raise ConfigError(f"config key '{key}' must be a mapping with 'target' and one of {list(_FORMS)}")
        unknown = sorted(set(spec) - _KEYS)
        if unknown:
            raise ConfigError(f"config key '{key}' has unknown key(s) {unknown}; allowed: {sorted(_KEYS)}")
        forms = [form for form in _FORMS if form in spec]
        if len(forms) != 1:
            raise ConfigError(
                f"config key '{key}' needs exactly one of {list(_FORMS)}, got {forms or 'none'}"
            )
        self.name, self.key, self.form = name, key, forms[0]
        target = spec.get("target")
        if not isinstance(target, str) or not target.startswith(
            ("optimizer.", "optimizers.", "model.", "model[")
        ):
            raise ConfigError(
                f"config key '{key}.target' must be 'optimizer.<key>', 'optimizers.<name>.<key>', "
                f"'model.<path>.<attribute>' or 'model[<Class>].<attribute>', got {target!r}"
            )
        self.target = target
        self.per = spec.get("per", "step")
        if self.per not in ("step", "epoch"):
            raise ConfigError(f"config key '{key}.per' must be 'step' or 'epoch', got {self.per!r}")
        interval = spec.get("interval", 1000 if self.per == "step" else 1)
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ConfigError(f"config key '{key}.interval' must be an integer >= 1, got {interval!r}")
        self.interval = interval
        self.initial: Value | None = (
            None if spec.get("initial") is None else _value(spec["initial"], f"{key}.initial")
        )
        raw = spec[self.form]
        if self.form == "dec":
            factor = _value(raw, f"{key}.dec")
            if isinstance(factor, tuple):
                raise ConfigError(f"config key '{key}.dec' must be one number (the factor), got {raw!r}")
            self.factor = factor
        elif self.form == "lindec":
            if not isinstance(raw, (list, tuple)) or len(raw) not in (2, 3):
                raise ConfigError(
                    f"config key '{key}.lindec' must be [n, start] or [n, start, end], got {raw!r}"
                )
            if isinstance(raw[0], bool) or not isinstance(raw[0], int) or raw[0] < 1:
                raise ConfigError(f"config key '{key}.lindec' needs an integer n >= 1 first, got {raw[0]!r}")
            self.span = raw[0]
            self.start = _value(raw[1], f"{key}.lindec[1]")
            self.end = (
                _value(raw[2], f"{key}.lindec[2]") if len(raw) == 3 else _map(self.start, lambda _: 0.0)
            )
        else:
            if not isinstance(raw, (list, tuple)) or not raw:
                raise ConfigError(
                    f"config key '{key}.updates' must be a non-empty list of [t, value] pairs, got {raw!r}"
                )
            updates = []
            for i, pair in enumerate(raw):
                if (
                    not isinstance(pair, (list, tuple))
                    or len(pair) != 2
                    or isinstance(pair[0], bool)
                    or not isinstance(pair[0], int)
                    or pair[0] < 0
                ):
                    raise ConfigError(
                        f"config key '{key}.updates[{i}]' must be [t, value] with an integer t >= 0, got {pair!r}"
                    )
                updates.append((pair[0], _value(pair[1], f"{key}.updates[{i}]")))
            if [t for t, _ in updates] != sorted({t for t, _ in updates}):
                raise ConfigError(
                    f"config key '{key}.updates' must list strictly increasing t, got {[t for t, _ in updates]}"
                )
            self.updates = updates

    def value(self, t: int, initial: Value) -> Value:
        """The value in force once ``t`` steps (epochs) are done."""
        base = self.initial if self.initial is not None else initial
        if self.form == "dec":
            return _map(base, lambda v: v * self.factor ** (t // self.interval))
        if self.form == "lindec":
            frac = min(t, self.span) / self.span
            if isinstance(self.start, tuple):
                return tuple(s + (e - s) * frac for s, e in zip(self.start, self.end))  # type: ignore[arg-type]
            return self.start + (self.end - self.start) * frac  # type: ignore[operator]
        current = base
        for when, value in self.updates:
            if when <= t:
                current = value
        return current


class _Target:
    """Reads and writes one schedule's target on a trainer's optimizer(s) or model."""

    def __init__(self, schedule: Schedule, trainer: TrainerView) -> None:
        key, target = f"{schedule.key}.target", schedule.target
        self.optimizer: Any = (
            None  # its param_groups, read each time: load_state_dict replaces the group dicts
        )
        self.owners: list[Any] = []
        if target.startswith("optimizer"):
            *path, self.attr = target.split(".")
            if path == ["optimizer"]:
                optimizer = trainer.optimizer
            elif len(path) == 2:
                named = getattr(trainer, "optimizers", None)
                if not isinstance(named, Mapping) or path[1] not in named:
                    known = sorted(named) if isinstance(named, Mapping) else []
                    raise ConfigError(
                        f"config key '{key}': this trainer has no optimizer named {path[1]!r}; named: {known}"
                    )
                optimizer = named[path[1]]
            else:
                raise ConfigError(
                    f"config key '{key}': expected 'optimizer.<key>' or 'optimizers.<name>.<key>', got {target!r}"
                )
            self.optimizer = optimizer
            missing = [i for i, group in enumerate(optimizer.param_groups) if self.attr not in group]
            if missing:
                raise ConfigError(
                    f"config key '{key}': {type(optimizer).__name__} parameter groups have no key {self.attr!r}; "
                    f"they have {sorted(k for k in optimizer.param_groups[0] if k != 'params')}"
                )
        else:
            match = _CLASS_TARGET.match(target)
            if match:
                self.attr = match["attr"]
                self.owners = [m for m in trainer.model.modules() if type(m).__name__ == match["cls"]]
                if not self.owners:
                    raise ConfigError(
                        f"config key '{key}': the model has no submodule of class {match['cls']!r}"
                    )
            else:
                module_path, _, self.attr = target.removeprefix("model.").rpartition(".")
                try:
                    self.owners = [trainer.model.get_submodule(module_path)]
                except AttributeError as err:
                    raise ConfigError(
                        f"config key '{key}': the model has no submodule {module_path!r} ({err})"
                    ) from err
            lacking = [type(o).__name__ for o in self.owners if not hasattr(o, self.attr)]
            if lacking:
                raise ConfigError(f"config key '{key}': {lacking[0]} has no attribute {self.attr!r}")
        self.initial = _value(self.read(), key)

    def read(self) -> Any:
        if self.optimizer is not None:
            return self.optimizer.param_groups[0][self.attr]
        return getattr(self.owners[0], self.attr)

    def write(self, value: Value) -> None:
        for group in self.optimizer.param_groups if self.optimizer is not None else ():
            group[self.attr] = value
        for owner in self.owners:
            setattr(owner, self.attr, value)


class ScheduleCallback(Callback):
    """Applies the trainer's schedules after each optimizer step / epoch, records changes, checkpoints its place."""

    def __init__(self, schedules: Sequence[Schedule]) -> None:
        self.schedules = list(schedules)
        self.key = "trainer.schedules"
        self.targets: list[_Target] = []
        self.steps = 0
        self.epochs = 0
        self.current: list[Value] = []

    def setup(self, trainer: TrainerView) -> None:
        for schedule in self.schedules:
            if schedule.target == "optimizer.lr" and getattr(trainer, "scheduler_callback", None) is not None:
                raise ConfigError(
                    f"config key '{schedule.key}.target': the learning rate already has "
                    "'trainer.optimization.scheduler'; schedule it with one of the two"
                )
        self.targets = [_Target(s, trainer) for s in self.schedules]
        self.current = [t.initial for t in self.targets]
        self._apply(trainer, record=False, force=True)

    def _apply(self, trainer: TrainerView, record: bool, force: bool = False) -> None:
        for i, (schedule, target) in enumerate(zip(self.schedules, self.targets)):
            t = self.steps if schedule.per == "step" else self.epochs
            value = schedule.value(t, target.initial)
            if value == self.current[i] and not force:
                continue
            target.write(value)
            self.current[i] = value
            if record and trainer.experiment is not None:
                values = value if isinstance(value, tuple) else (value,)
                for j, v in enumerate(values):
                    name = f"schedule/{schedule.name}" + (f"/{j}" if isinstance(value, tuple) else "")
                    trainer.experiment.add_result(v, name, counter=t, tag=name.removeprefix("schedule/"))

    def on_batch_end(self, trainer: TrainerView, step: int) -> None:
        self.steps = step
        self._apply(trainer, record=True)

    def on_epoch_end(self, trainer: TrainerView, epoch: int, metrics: Mapping[str, float]) -> None:
        self.epochs = epoch + 1
        self._apply(trainer, record=True)

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "epochs": self.epochs}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.steps = int(state.get("steps", 0))
        self.epochs = int(state.get("epochs", 0))
        for i, (schedule, target) in enumerate(zip(self.schedules, self.targets)):
            t = self.steps if schedule.per == "step" else self.epochs
            self.current[i] = schedule.value(t, target.initial)
            target.write(self.current[i])


def build_schedules(spec: Any, key: str = "trainer.schedules") -> list[Callback]:
    """The callback applying ``trainer.schedules`` (none when the key is absent); bad entries name their key."""
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        raise ConfigError(f"config key '{key}' must be a mapping name -> schedule, got {type(spec).__name__}")
    return [ScheduleCallback([Schedule(str(name), entry, f"{key}.{name}") for name, entry in spec.items()])]
