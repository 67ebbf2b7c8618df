"""Callbacks and import-path building, driven by a stand-in trainer (no run folder needed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn
from trialog_torch.building import build_object, import_object
from trialog_torch.callbacks import (
    EarlyStopping,
    GradientClipping,
    LRSchedulerCallback,
    build_callbacks,
)

from trialog.errors import ConfigError


def _trainer(monitor: str = "val/loss", mode: str = "min", lr: float = 1.0) -> SimpleNamespace:
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    trainer = SimpleNamespace(model=model, optimizer=optimizer, monitor=monitor, mode=mode, stops=[])
    trainer.request_stop = trainer.stops.append
    return trainer


def test_early_stopping_counts_epochs_without_improvement() -> None:
    trainer = _trainer()
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    stopper.setup(trainer)
    for epoch, loss in enumerate([1.0, 0.95, 0.85, 0.84, 0.83]):
        stopper.on_epoch_end(trainer, epoch, {"val/loss": loss})
    # 0.95 is within min_delta of 1.0, 0.85 improves, then 0.84 and 0.83 do not: bad_epochs 2 <= patience
    assert trainer.stops == [] and stopper.bad_epochs == 2 and stopper.best == 0.85
    stopper.on_epoch_end(trainer, 5, {"val/loss": 0.8})
    assert len(trainer.stops) == 1 and "did not improve for 3 epochs" in trainer.stops[0]
    assert stopper.stopped_epoch == 5


def test_early_stopping_max_mode_and_state_round_trip() -> None:
    trainer = _trainer(monitor="val/accuracy", mode="max")
    stopper = EarlyStopping(patience=0)
    stopper.setup(trainer)
    stopper.on_epoch_end(trainer, 0, {"val/accuracy": 0.5})
    stopper.on_epoch_end(trainer, 1, {"val/accuracy": 0.6})
    state = stopper.state_dict()
    fresh = EarlyStopping(patience=0)
    fresh.setup(trainer)
    fresh.load_state_dict(state)
    fresh.on_epoch_end(trainer, 2, {"val/accuracy": 0.6})
    assert len(trainer.stops) == 1 and fresh.best == 0.6


def test_early_stopping_names_a_missing_metric() -> None:
    trainer = _trainer(monitor="val/acc")
    stopper = build_callbacks({"early_stopping": {"patience": 1}})[0]
    stopper.setup(trainer)
    with pytest.raises(ConfigError, match=r"trainer\.callbacks\.early_stopping.*'val/acc'.*\['val/loss'\]"):
        stopper.on_epoch_end(trainer, 0, {"val/loss": 1.0})


def test_lr_scheduler_per_epoch_and_per_batch() -> None:
    trainer = _trainer()
    per_epoch = LRSchedulerCallback({"type": "StepLR", "params": {"step_size": 1, "gamma": 0.1}})
    per_epoch.setup(trainer)
    trainer.optimizer.step()  # a scheduler warns when it steps before its optimizer ever did
    per_epoch.on_batch_end(trainer, 1)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1.0)
    per_epoch.on_epoch_end(trainer, 0, {})
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)

    trainer = _trainer()
    per_batch = LRSchedulerCallback(
        {"type": "StepLR", "params": {"step_size": 1, "gamma": 0.5}}, step="batch"
    )
    per_batch.setup(trainer)
    trainer.optimizer.step()
    for step in range(3):
        per_batch.on_batch_end(trainer, step)
    per_batch.on_epoch_end(trainer, 0, {})
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.125)
    restored = LRSchedulerCallback({"type": "StepLR", "params": {"step_size": 1, "gamma": 0.5}}, step="batch")
    restored.setup(_trainer())
    restored.load_state_dict(per_batch.state_dict())
    assert restored.scheduler.last_epoch == 3


def test_plateau_scheduler_is_fed_the_monitored_metric() -> None:
    trainer = _trainer(monitor="val/accuracy", mode="max")
    callback = LRSchedulerCallback(
        {"type": "ReduceLROnPlateau", "params": {"mode": "max", "patience": 0, "factor": 0.5}}, step="batch"
    )
    callback.setup(trainer)
    callback.on_batch_end(trainer, 1)  # a plateau scheduler never steps per batch
    for epoch, accuracy in enumerate([0.5, 0.6, 0.6]):
        callback.on_epoch_end(trainer, epoch, {"val/accuracy": accuracy, "val/loss": 9.0})
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.5)


def test_gradient_clipping_by_norm_and_value() -> None:
    trainer = _trainer()
    for p in trainer.model.parameters():
        p.grad = torch.full_like(p, 10.0)
    clip = GradientClipping(max_norm=1.0)
    clip.setup(trainer)
    clip.on_before_optimizer_step(trainer)
    norm = torch.linalg.vector_norm(torch.cat([p.grad.reshape(-1) for p in trainer.model.parameters()]))
    assert norm == pytest.approx(1.0, rel=1e-4)

    by_value = GradientClipping(value=0.3)
    by_value.setup(trainer)
    for p in trainer.model.parameters():
        p.grad = torch.full_like(p, -5.0)
    by_value.on_before_optimizer_step(trainer)
    assert all(float(p.grad.min()) == pytest.approx(-0.3) for p in trainer.model.parameters())
    with pytest.raises(ValueError, match="max_norm"):
        GradientClipping()


def test_build_callbacks_specs_and_errors() -> None:
    built = build_callbacks(
        [
            {"type": "early_stopping", "params": {"patience": 4}},
            {"type": "grad_clip", "params": {"max_norm": 2}},
        ]
    )
    assert (
        isinstance(built[0], EarlyStopping)
        and built[0].patience == 4
        and built[0].key == "trainer.callbacks.0"
    )
    assert isinstance(built[1], GradientClipping) and built[1].max_norm == 2.0
    with pytest.raises(ConfigError, match=r"trainer\.callbacks\.0.*unknown callback type 'stop_early'"):
        build_callbacks(["stop_early"])
    with pytest.raises(
        ConfigError, match=r"trainer\.callbacks\.early_stopping\.params.*patience must be >= 0"
    ):
        build_callbacks({"early_stopping": {"patience": -1}})
    with pytest.raises(ConfigError, match=r"not a trialog_torch\.callbacks\.Callback"):
        build_callbacks(["collections.OrderedDict"])
    with pytest.raises(ConfigError, match=r"mapping name -> params or a list"):
        build_callbacks("early_stopping")


def test_import_object_forms_and_errors() -> None:
    assert import_object("torch.optim.Adam", "k") is torch.optim.Adam
    assert import_object("torch.optim:lr_scheduler.StepLR", "k") is torch.optim.lr_scheduler.StepLR
    with pytest.raises(
        ConfigError, match=r"config key 'a\.b\.type': module 'torch\.optim' has no attribute 'Adamm'"
    ):
        import_object("torch.optim:Adamm", "a.b.type")
    with pytest.raises(ConfigError, match=r"config key 'x': cannot import 'nonexistent_pkg_xyz\.Thing'"):
        import_object("nonexistent_pkg_xyz.Thing", "x")


def test_build_object_names_key_and_message() -> None:
    net = nn.Linear(2, 2)
    opt = build_object(
        {"type": "adamw", "params": {"lr": 0.5}}, "o", net.parameters(), modules=("torch.optim",)
    )
    assert isinstance(opt, torch.optim.AdamW) and opt.param_groups[0]["lr"] == 0.5
    with pytest.raises(
        ConfigError, match=r"config key 'o\.params'.*SGD.*\['lrr'\].*unexpected keyword argument 'lrr'"
    ):
        build_object({"type": "torch.optim.SGD", "params": {"lrr": 1}}, "o", net.parameters())
    with pytest.raises(
        ConfigError, match=r"config key 'o\.params': building SGD failed: ValueError: Invalid learning rate"
    ):
        build_object({"type": "torch.optim.SGD", "params": {"lr": -1}}, "o", net.parameters())
    with pytest.raises(ConfigError, match=r"config key 'o' has unknown key\(s\) \['lr'\]"):
        build_object({"type": "torch.optim.SGD", "lr": 1}, "o", net.parameters())
    with pytest.raises(ConfigError, match=r"config key 'o\.type' is missing"):
        build_object({"params": {}}, "o")
