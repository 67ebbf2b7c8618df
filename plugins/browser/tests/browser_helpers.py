"""Run folders for the browser's tests and benchmarks, made through trialog's public API."""

from __future__ import annotations

import math
from pathlib import Path

from trialog_runs import registry

from trialog.api import Experiment


class _Quiet(Experiment):
    def __init__(self, *args, steps=100, **kwargs):
        self.steps = steps
        super().__init__(*args, **kwargs)

    def train(self, epoch):
        lr = self.config["lr"]
        for i in range(self.steps):
            step = epoch * self.steps + i
            # seeds differ by a wobble, so combining them shows a band
            wobble = 1 + 0.12 * (self.seed - 1.5) * math.sin(step / 9)
            self.add_result(
                math.exp(-lr * step) * wobble + 0.01 * self.seed, "loss", tag="train", counter=step
            )
        self.add_result(0.5 + 0.1 * epoch + lr, "acc", tag="val", counter=(epoch + 1) * self.steps)


def make_run(
    base: Path, name: str, lr: float, seed: int = 0, epochs: int = 3, steps: int = 100, tags=(), **kw
):
    run_dir = run_experiment(
        _Quiet,
        base,
        name,
        {"lr": lr, "model": {"depth": 18}, "seed": seed},
        epochs,
        seed=seed,
        steps=steps,
        **kw,
    )
    if tags:
        registry.update_tags(run_dir, list(tags))
    return run_dir


def run_experiment(cls, base: Path, name: str, config: dict, epochs: int, **kw) -> Path:
    """Train ``cls`` (an Experiment) for ``epochs`` with no loggers and no sources: its run folder."""
    exp = cls(
        config=config,
        name=name,
        n_epochs=epochs,
        base_dir=base,
        loggers={},
        save_sources=False,
        heartbeat_interval=0,
        **kw,
    )
    exp.run()
    exp.close()
    return exp.run_dir
