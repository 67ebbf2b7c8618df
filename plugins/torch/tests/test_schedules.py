"""``trainer.schedules``: any hyperparameter by step or epoch, recorded, checkpointed, exact across SIGKILL + resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from trialog_torch.callbacks import Callback
from trialog_torch.schedules import Schedule
from trialog_torch.trainers import ClassificationTrainer

from trialog.errors import ConfigError
from trialog.results.log import read_results

#: subprocess timeout in seconds: it bounds only a hang
HANG = 1800
TESTS = Path(__file__).resolve().parent
STEPS_PER_EPOCH = 4

SCHEDULES = {
    "momentum": {"target": "optimizer.momentum", "updates": [[3, 0.5], [9, 0.2], [12, 0.7]]},
    "weight_decay": {"target": "optimizer.weight_decay", "lindec": [10, 0.01]},
    "dropout": {"target": "model[Dropout].p", "dec": 0.5, "per": "epoch"},
}


def expected(step: int, epoch: int) -> tuple[float, float, float]:
    """What the schedules above say once ``step`` optimizer steps and ``epoch`` epochs are done."""
    momentum = 0.9 if step < 3 else 0.5 if step < 9 else 0.2 if step < 12 else 0.7
    return momentum, 0.01 * (1 - min(step, 10) / 10), 0.3 * 0.5**epoch


class Probe(Callback):
    """Reads the scheduled values after every step and epoch; optionally SIGKILLs its process at a step."""

    def __init__(self, kill_at: int | None = None) -> None:
        self.kill_at = kill_at
        self.seen: list[tuple[int, int, float, float, float]] = []

    def _read(self, trainer: Any, step: int, epoch: int) -> None:
        group = trainer.optimizer.param_groups[0]
        self.seen.append((step, epoch, group["momentum"], group["weight_decay"], trainer.model[2].p))

    def on_batch_end(self, trainer: Any, step: int) -> None:
        self._read(trainer, step, trainer.epoch)
        if step == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: Any) -> None:
        self._read(trainer, trainer.global_step, epoch + 1)


def build(
    base: Path,
    probe: Callback,
    resume: Any = None,
    schedules: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
) -> ClassificationTrainer:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(48, 6, generator=g), torch.randint(0, 3, (48,), generator=g)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    config = {
        "name": "sched",
        "seed": 5,
        "trainer": {
            "type": "classification",
            "epochs": 4,
            "device": "cpu",
            "optimization": {
                "optimizer": optimizer or {"type": "sgd", "params": {"lr": 0.05, "momentum": 0.9}}
            },
            "schedules": SCHEDULES if schedules is None else schedules,
        },
    }
    loader = DataLoader(TensorDataset(x, y), batch_size=12, shuffle=True)
    if scheduler is not None:
        config["trainer"]["optimization"]["scheduler"] = scheduler  # type: ignore[index]
    trainer = ClassificationTrainer(
        config, model, loader, name="sched", base_dir=base, loggers={}, resume=resume, quiet=True
    )
    trainer.callbacks.append(probe)
    return trainer


def _schedule_records(run_dir: Path) -> list[tuple[str, float, Any, Any]]:
    return [
        (r["name"], r["value"], r["counter"], r["epoch"])
        for r in read_results(run_dir)
        if r["name"].startswith("schedule/")
    ]


def _check(seen: list[tuple[int, int, float, float, float]]) -> None:
    assert seen
    for step, epoch, momentum, weight_decay, p in seen:
        want = expected(step, epoch)
        assert momentum == pytest.approx(want[0], abs=1e-12), step
        assert weight_decay == pytest.approx(want[1], abs=1e-12), step
        assert p == pytest.approx(want[2], abs=1e-12), epoch


def test_values_at_the_listed_steps_and_epochs_match_and_are_recorded(tmp_path: Path) -> None:
    probe = Probe()
    trainer = build(tmp_path, probe)
    assert trainer.optimizer.param_groups[0]["weight_decay"] == 0.01  # the step-0 value, set before training
    trainer.fit()
    _check(probe.seen)
    assert len(probe.seen) == 4 * STEPS_PER_EPOCH + 4
    records = _schedule_records(trainer.run_dir)
    momentum = [(value, counter) for name, value, counter, _ in records if name == "schedule/momentum"]
    assert momentum == [(0.5, 3), (0.2, 9), (0.7, 12)]
    dropout = [(value, counter) for name, value, counter, _ in records if name == "schedule/dropout"]
    assert dropout == [(0.15, 1), (0.075, 2), (0.0375, 3), (0.01875, 4)]
    assert [c for n, _, c, _ in records if n == "schedule/weight_decay"] == list(range(1, 11))


def test_a_sigkilled_run_resumes_with_the_same_values_at_the_same_steps(tmp_path: Path) -> None:
    full_probe = Probe()
    full = build(tmp_path / "full", full_probe)
    full.fit()

    base = tmp_path / "killed"
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(TESTS)!r})
        from test_schedules import Probe, build
        build(Path({str(base)!r}), Probe(kill_at=10)).fit()  # killed inside epoch 2; the last checkpoint is epoch 1's
        """
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG)
    assert child.returncode == -signal.SIGKILL, child.stderr
    (run_dir,) = [p for p in base.iterdir() if p.is_dir()]

    probe = Probe()
    resumed = build(base, probe, resume=run_dir)
    resumed.fit()
    # it went on after epoch 1's checkpoint, with the dropout rate (in no state_dict) of epoch 2 restored
    assert probe.seen[0][:2] == (2 * STEPS_PER_EPOCH + 1, 2)
    _check(probe.seen)
    assert probe.seen == full_probe.seen[-len(probe.seen) :]
    assert _schedule_records(run_dir) == _schedule_records(full.run_dir)
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_betas_and_per_epoch_updates_on_adam(tmp_path: Path) -> None:
    schedules = {
        "betas": {"target": "optimizer.betas", "lindec": [4, [0.9, 0.999], [0.5, 0.899]]},
        "dropout": {"target": "model.2.p", "updates": [[2, 0.0]], "per": "epoch"},
    }
    seen: list[tuple[int, Any, float]] = []

    class Betas(Callback):
        def on_batch_end(self, trainer: Any, step: int) -> None:
            seen.append((step, trainer.optimizer.param_groups[0]["betas"], trainer.model[2].p))

    trainer = build(
        tmp_path, Betas(), schedules=schedules, optimizer={"type": "adam", "params": {"lr": 0.01}}
    )
    trainer.fit()
    assert seen[1] == (2, pytest.approx((0.7, 0.949)), 0.3)
    assert seen[-1] == (16, pytest.approx((0.5, 0.899)), 0.0)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"target": "optimizer.momentum"},
            r"schedules\.s' needs exactly one of \['dec', 'lindec', 'updates'\]",
        ),
        (
            {"target": "optimizer.nesterov_x", "dec": 0.5},
            r"schedules\.s\.target': SGD parameter groups have no key 'nesterov_x'",
        ),
        ({"target": "model[BatchNorm1d].momentum", "dec": 0.5}, r"no submodule of class 'BatchNorm1d'"),
        ({"target": "model.7.p", "dec": 0.5}, r"schedules\.s\.target': the model has no submodule '7'"),
        ({"target": "model.2.q", "dec": 0.5}, r"Dropout has no attribute 'q'"),
        ({"target": "optimizers.gen.lr", "dec": 0.5}, r"no optimizer named 'gen'"),
        ({"target": "lr", "dec": 0.5}, r"schedules\.s\.target' must be 'optimizer"),
        ({"target": "optimizer.momentum", "updates": [[5, 0.1], [2, 0.3]]}, r"strictly increasing"),
        (
            {"target": "optimizer.momentum", "updates": [[1, "x"]]},
            r"schedules\.s\.updates\[0\]' must be a finite number",
        ),
        ({"target": "optimizer.momentum", "lindec": [0, 0.1]}, r"integer n >= 1"),
        (
            {"target": "optimizer.momentum", "dec": 0.5, "per": "batch"},
            r"schedules\.s\.per' must be 'step' or 'epoch'",
        ),
        ({"target": "optimizer.momentum", "dec": 0.5, "every": 3}, r"unknown key\(s\) \['every'\]"),
    ],
)
def test_bad_entries_are_named_before_the_run_folder_exists(tmp_path: Path, entry: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build(tmp_path, Probe(), schedules={"s": entry})
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_the_learning_rate_takes_a_schedule_or_a_scheduler_not_both(tmp_path: Path) -> None:
    lr = {"s": {"target": "optimizer.lr", "updates": [[2, 0.01]]}}
    with pytest.raises(ConfigError, match=r"schedules\.s\.target': the learning rate already has"):
        build(
            tmp_path / "both", Probe(), schedules=lr, scheduler={"type": "StepLR", "params": {"step_size": 1}}
        )
    assert not (tmp_path / "both").exists()
    trainer = build(tmp_path / "one", Probe(), schedules=lr)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.05


def test_schedule_forms() -> None:
    dec = Schedule("lr", {"target": "optimizer.lr", "dec": 0.95}, "k")
    assert dec.value(999, 1.0) == 1.0 and dec.value(1000, 1.0) == pytest.approx(
        0.95
    )  # elektronn2: per 1000 steps
    lindec = Schedule("wd", {"target": "optimizer.weight_decay", "lindec": [4000, 0.001]}, "k")
    assert lindec.value(2000, 0.5) == pytest.approx(0.0005) and lindec.value(5000, 0.5) == 0.0
    updates = Schedule(
        "m", {"target": "optimizer.momentum", "updates": [[500, 0.8], [1000, 0.7]], "initial": 0.95}, "k"
    )
    assert [updates.value(t, 0.1) for t in (0, 499, 500, 999, 1000, 10**6)] == [
        0.95,
        0.95,
        0.8,
        0.8,
        0.7,
        0.7,
    ]
