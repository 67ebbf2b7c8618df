"""``TorchMonitor``: xmen's TorchMonitor — a ``trialog.Monitor`` (trialog-xmen) that also checkpoints torch objects.

::

    m = TorchMonitor(exp, ckpt=("model@1e", "opt@100s"), ckpt_keep=(2, None),
                     sca="^loss$@100s", img="^x$@1000s", hist="w@1e")   # loggers: TensorBoard, files...
    for epoch in m(range(10)):
        for x, y in m(loader):
            loss = ...
            m.log(loss=loss, model=model, opt=opt, x=x)
    m.load(model=model, opt=opt)       # the latest "model" and "opt" checkpoints; the counters follow

A ``ckpt`` spec saves the ``state_dict()`` of each value given to :meth:`trialog_xmen.Monitor.log` whose name
matches it (a module, an optimizer, a scheduler...) with the monitor's counters into the checkpoint series
``checkpoint/monitor-<name>/`` of the Experiment (torch format, checksummed manifest), keeping the last
``ckpt_keep`` (None: all). The TensorBoard specs (``sca img hist fig txt vid``) are the core Monitor's: they
reach every logger of the Experiment, TensorBoard with trialog-tensorboard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trialog.errors import ConfigError

try:
    from trialog_xmen import Monitor, MonitorHook
except ImportError as exc:  # pragma: no cover - the names say how to get it
    raise ImportError(
        "trialog_torch.TorchMonitor builds on trialog-xmen's Monitor: pip install trialog-xmen "
        "(or trialog-torch[xmen])"
    ) from exc

SERIES_PREFIX = "monitor-"


class Checkpointer(MonitorHook):
    """Saves the state_dict of each matching value into ``checkpoint/monitor-<name>/`` (xmen's Checkpointer)."""

    fresh_only = False  # a model given to log() once is saved at every firing

    def __init__(self, spec: str, keep: int | None = None):
        super().__init__(spec)
        if self.spec.regex is None or self.spec.trigger is None:
            raise ConfigError(f"monitor ckpt {spec!r}: give the objects' names and a period, like 'model@1e'")
        if keep is not None and (not isinstance(keep, int) or keep < 1):
            raise ConfigError(
                f"monitor ckpt {spec!r}: ckpt_keep must be a positive integer or None, not {keep!r}"
            )
        self.keep = keep

    def __call__(self, monitor: Monitor, values: Mapping[str, Any], trigger: str | None, count: int) -> None:
        exp = monitor.experiment
        for name, obj in values.items():
            if not hasattr(obj, "state_dict"):
                raise ConfigError(
                    f"monitor ckpt {self.spec.text!r}: {name!r} is a {type(obj).__name__}, which has no state_dict()"
                )
            series = exp.checkpoint_series(SERIES_PREFIX + name, format="torch", keep_last=self.keep)
            state = {"state_dict": obj.state_dict(), "monitor": monitor.state_dict()}
            series.save(state, step=count, epoch=monitor.counts["epoch"])


class TorchMonitor(Monitor):
    """A Monitor with ``ckpt`` specs (and ``ckpt_keep``, one per spec or one for all) and :meth:`load`."""

    def __init__(
        self,
        experiment: Any,
        *,
        ckpt: str | Sequence[str] = (),
        ckpt_keep: int | Sequence[int | None] | None = None,
        hooks: Sequence[MonitorHook] = (),
        **kw: Any,
    ):
        if experiment is None:
            raise ConfigError("TorchMonitor needs an Experiment (its checkpoints live in the run folder)")
        specs = [ckpt] if isinstance(ckpt, str) else list(ckpt)
        keeps: list[int | None] = (
            list(ckpt_keep) if isinstance(ckpt_keep, (list, tuple)) else [ckpt_keep] * len(specs)  # type: ignore[list-item]
        )
        if len(keeps) != len(specs):
            raise ConfigError(
                f"ckpt_keep has {len(keeps)} entries for {len(specs)} ckpt specs; give one per spec"
            )
        checkpointers = [Checkpointer(s, k) for s, k in zip(specs, keeps)]
        super().__init__(experiment, hooks=[*hooks, *checkpointers], **kw)

    def load(self, step: int | str = "last", update_triggers: bool = True, **modules: Any) -> None:
        """Load each ``name=object``'s state from its ``monitor-<name>`` series (``step``: a count or "last").

        ``update_triggers``: the counters become the checkpoint's (of the last object named).
        """
        if not modules:
            raise ConfigError("TorchMonitor.load: name the objects to load, like load(model=model)")
        known = set(self.experiment.checkpoint_series_names())
        for name, obj in modules.items():
            if SERIES_PREFIX + name not in known:
                raise ConfigError(
                    f"no monitor checkpoints of {name!r} in {self.experiment.checkpoint_dir}; "
                    f"saved: {sorted(n[len(SERIES_PREFIX) :] for n in known if n.startswith(SERIES_PREFIX))}"
                )
            state, _ = self.experiment.checkpoint_series(SERIES_PREFIX + name, format="torch").load(step)
            obj.load_state_dict(state["state_dict"])
            if update_triggers:
                self.load_state_dict(state["monitor"])


__all__ = ["Checkpointer", "TorchMonitor"]
