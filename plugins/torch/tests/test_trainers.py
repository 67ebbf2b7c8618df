"""Trainer types on tiny synthetic problems: falling losses, exact resume, named config errors, AMP, logging."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from trialog_torch.metrics import ConfusionMatrix, Metric
from trialog_torch.trainers import (
    AutoencoderTrainer,
    ClassificationTrainer,
    RegressionTrainer,
    SegmentationTrainer,
)

from trialog import hookimpl
from trialog.errors import ConfigError


class MemoryLogger:
    """An in-memory logger: what the trainer sent through the dispatcher."""

    def __init__(self) -> None:
        self.values: list[tuple[str, float, Any, Any]] = []
        self.heatmaps: list[str] = []
        self.texts: list[str] = []

    @hookimpl
    def show_value(self, value, name, counter, tag):
        self.values.append((name, float(value), counter, tag))

    @hookimpl
    def show_heatmap(self, array, name):
        self.heatmaps.append(name)

    @hookimpl
    def show_text(self, text, name):
        self.texts.append(name)


def _trainer_config(kind: str, epochs: int = 4, **extra: Any) -> dict[str, Any]:
    trainer = {
        "type": kind,
        "epochs": epochs,
        "device": "cpu",
        "optimization": {"optimizer": {"type": "torch.optim.Adam", "params": {"lr": 0.02}}},
    }
    trainer.update(extra)
    return {"name": f"test-{kind}", "seed": 3, "trainer": trainer}


def _classification_data(n: int = 192, features: int = 8, classes: int = 3):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, features, generator=g)
    w = torch.randn(features, classes, generator=g)
    y = (x @ w).argmax(dim=1)
    split = n * 3 // 4
    train = DataLoader(TensorDataset(x[:split], y[:split]), batch_size=16, shuffle=True)
    val = DataLoader(TensorDataset(x[split:], y[split:]), batch_size=32)
    return train, val


def _mlp(inp: int, out: int, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(inp, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, out))


def _falling(trainer: Any) -> list[float]:
    losses = [h["train/loss"] for h in trainer.history]
    assert losses[-1] < losses[0] * 0.9, losses
    return losses


def test_classification_trains_and_records(tmp_path: Path) -> None:
    train, val = _classification_data()
    log = MemoryLogger()
    config = _trainer_config(
        "classification",
        metrics=[
            "accuracy",
            {"type": "top_k", "params": {"k": 2}},
            "confusion_matrix",
            "classification_report",
        ],
        log_every=3,
    )
    trainer = ClassificationTrainer(
        config, _mlp(8, 3), train, val, base_dir=tmp_path, loggers={"mem": log}, quiet=True
    )
    final = trainer.fit()
    _falling(trainer)
    assert final["val/accuracy"] > 0.6
    assert final["best/val/accuracy"] == max(h["val/accuracy"] for h in trainer.history)
    assert {"val/top_2", "val/f1_macro", "val/precision/2", "train/loss"} <= set(final)

    results = [
        json.loads(line) for line in (trainer.run_dir / "result" / "results.jsonl").read_text().splitlines()
    ]
    accuracy = [r for r in results if (r["name"], r["tag"]) == ("accuracy", "val")]  # metric, phase
    assert [r["epoch"] for r in accuracy] == [0, 1, 2, 3]
    steps = [v for v in log.values if v[0] == "train/step_loss"]
    assert [v[2] for v in steps] == list(range(3, 4 * 9 + 1, 3))  # 9 batches per epoch, every 3rd step
    assert log.heatmaps.count("val/confusion_matrix") == 4
    assert "val/classification_report" in log.texts
    index = json.loads((trainer.run_dir / "checkpoint" / "index.json").read_text())
    assert index["monitor"] == "val/accuracy" and index["mode"] == "max"
    # keep_last 2 plus the best epoch by val/accuracy (keep_best 1), whichever epoch that was
    kept = {e["epoch"] for e in index["entries"]}
    best_epoch = max(range(4), key=lambda e: (trainer.history[e]["val/accuracy"], -e))
    assert {2, 3, best_epoch} == kept
    assert max(e["metric"] for e in index["entries"]) == final["best/val/accuracy"]


def test_binary_classification_with_bce_and_roc(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(160, 4, generator=g)
    y = (x[:, 0] - x[:, 1] > 0).long()
    train = DataLoader(TensorDataset(x[:128], y[:128]), batch_size=16, shuffle=True)
    val = DataLoader(TensorDataset(x[128:], y[128:]), batch_size=32)
    config = _trainer_config(
        "classification",
        epochs=3,
        metrics=["accuracy", "roc_auc"],
        monitor="val/roc_auc",
        optimization={"loss": "bce_with_logits", "optimizer": {"type": "adam", "params": {"lr": 0.05}}},
    )
    trainer = ClassificationTrainer(config, _mlp(4, 1), train, val, base_dir=tmp_path, loggers={}, quiet=True)
    final = trainer.fit()
    _falling(trainer)
    assert final["val/roc_auc"] > 0.9 and 0 < final["val/average_precision"] <= 1

    # the same problem with a sigmoid in the model and BCELoss: metrics read probabilities
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())
    config["trainer"]["optimization"]["loss"] = "bce"
    trainer = ClassificationTrainer(config, model, train, val, base_dir=tmp_path, loggers={}, quiet=True)
    assert [getattr(m, "threshold", None) for m in trainer.eval_metrics] == [0.5, None]
    assert trainer.eval_metrics[1].probabilities
    final = trainer.fit()
    assert final["val/accuracy"] > 0.8 and final["val/roc_auc"] > 0.9


def test_regression_trains(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(200, 5, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * torch.randn(200, generator=g)
    train = DataLoader(TensorDataset(x[:160], y[:160]), batch_size=20, shuffle=True)
    val = DataLoader(TensorDataset(x[160:], y[160:]), batch_size=40)
    trainer = RegressionTrainer(
        _trainer_config("regression", epochs=5),
        _mlp(5, 1),
        train,
        val,
        base_dir=tmp_path,
        loggers={},
        quiet=True,
    )
    final = trainer.fit()
    _falling(trainer)
    assert final["val/r2"] > 0.5 and final["val/mae"] > 0
    assert trainer.monitor == "val/loss" and trainer.mode == "min"


class TinySegNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def test_segmentation_trains(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(3)
    images = torch.randn(48, 1, 8, 8, generator=g)
    masks = (images[:, 0] > 0.3).long()  # pixel class from its own intensity
    masks[:, 0, :] = 255  # an unlabelled border row, skipped by the loss and (following it) the metrics
    train = DataLoader(TensorDataset(images[:32], masks[:32]), batch_size=8, shuffle=True)
    val = DataLoader(TensorDataset(images[32:], masks[32:]), batch_size=8)
    optimization = {
        "loss": {"type": "cross_entropy", "params": {"ignore_index": 255}},
        "optimizer": {"type": "adam", "params": {"lr": 0.02}},
    }
    trainer = SegmentationTrainer(
        _trainer_config("segmentation", epochs=4, optimization=optimization),
        TinySegNet(),
        train,
        val,
        base_dir=tmp_path,
        loggers={},
        quiet=True,
    )
    final = trainer.fit()
    _falling(trainer)
    assert {"val/accuracy", "val/iou", "val/dice", "val/iou/1"} <= set(final)
    assert final["val/iou"] > 0.5 and trainer.monitor == "val/iou"
    assert all(m.ignore_index == 255 for m in trainer.eval_metrics)
    matrix = ConfusionMatrix(ignore_index=255)
    matrix.update(trainer.model(images[32:]).detach(), masks[32:])
    assert matrix.matrix().sum() == 16 * 7 * 8  # the border row is not counted


def test_autoencoder_trains_on_bare_tensors(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(4)
    codes = torch.randn(128, 2, generator=g)
    data = codes @ torch.randn(2, 10, generator=g)  # 10-D points on a 2-D plane
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 4), nn.Tanh(), nn.Linear(4, 10))
    train = DataLoader(data[:96], batch_size=16, shuffle=True)  # batches are tensors, no labels
    val = DataLoader(
        TensorDataset(data[96:], torch.zeros(32)), batch_size=16
    )  # (input, label): label ignored
    trainer = AutoencoderTrainer(
        _trainer_config("autoencoder", epochs=5), model, train, val, base_dir=tmp_path, loggers={}, quiet=True
    )
    final = trainer.fit()
    _falling(trainer)
    assert final["val/mse"] == pytest.approx(final["val/loss"], rel=1e-5)


def test_amp_bf16_on_cpu_trains(tmp_path: Path) -> None:
    train, val = _classification_data()
    trainer = ClassificationTrainer(
        _trainer_config("classification", epochs=3, amp=True),
        _mlp(8, 3),
        train,
        val,
        base_dir=tmp_path,
        loggers={},
        quiet=True,
    )
    assert trainer.amp_dtype is torch.bfloat16 and trainer.scaler is None
    trainer.fit()
    _falling(trainer)


def _resume_config(epochs: int) -> dict[str, Any]:
    return _trainer_config(
        "classification",
        epochs=epochs,
        metrics=["accuracy", "confusion_matrix"],
        grad_clip=1.0,
        optimization={
            "optimizer": {"type": "sgd", "params": {"lr": 0.1, "momentum": 0.9}},
            "scheduler": {"type": "StepLR", "params": {"step_size": 3, "gamma": 0.5}, "step": "batch"},
        },
        callbacks={"early_stopping": {"patience": 10}},
    )


def _results(run_dir: Path) -> list[tuple[str, float, int]]:
    lines = (run_dir / "result" / "results.jsonl").read_text().splitlines()
    # sys/ holds measurements (times, memory peaks): no two runs share them
    return [
        (r["name"], r["value"], r["epoch"])
        for r in map(json.loads, lines)
        if not r["name"].startswith("sys/") and r.get("tag") not in ("sys", "time")
    ]


def test_resume_reproduces_an_uninterrupted_run_exactly(tmp_path: Path) -> None:
    train, val = _classification_data()
    full = ClassificationTrainer(
        _resume_config(4),
        _mlp(8, 3, dropout=0.3),
        train,
        val,
        base_dir=tmp_path / "a",
        loggers={},
        quiet=True,
    )
    full_final = full.fit()

    first = ClassificationTrainer(
        _resume_config(2),
        _mlp(8, 3, dropout=0.3),
        train,
        val,
        base_dir=tmp_path / "b",
        loggers={},
        quiet=True,
    )
    first.fit()
    torch.manual_seed(12345)  # whatever happened in between must not matter
    resumed = ClassificationTrainer(
        _resume_config(4),
        _mlp(8, 3, dropout=0.3),
        train,
        val,
        base_dir=tmp_path / "b",
        loggers={},
        resume=first.run_dir,
        quiet=True,
    )
    assert resumed.run_dir == first.run_dir
    resumed_final = resumed.fit()

    drop_time = lambda d: {k: v for k, v in d.items() if not k.startswith("time/")}  # noqa: E731
    assert drop_time(resumed_final) == drop_time(full_final)
    assert _results(resumed.run_dir) == _results(full.run_dir)
    for (name, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert resumed.optimizer.param_groups[0]["lr"] == full.optimizer.param_groups[0]["lr"]


def test_early_stopping_and_plateau_scheduler(tmp_path: Path) -> None:
    train, val = _classification_data()
    config = _trainer_config(
        "classification",
        epochs=20,
        monitor="val/loss",
        optimization={
            "optimizer": {"type": "sgd", "params": {"lr": 1e-6}},  # too small to move: a plateau at once
            "scheduler": {
                "type": "ReduceLROnPlateau",
                "params": {"patience": 0, "factor": 0.5, "threshold": 0.1},
            },
        },
        callbacks={"early_stopping": {"patience": 2, "min_delta": 0.1}},
    )
    trainer = ClassificationTrainer(config, _mlp(8, 3), train, val, base_dir=tmp_path, loggers={}, quiet=True)
    trainer.fit()
    assert len(trainer.history) == 4  # first epoch sets the best, three more without improvement
    assert "early stopping" in trainer.stop_reason
    assert trainer.optimizer.param_groups[0]["lr"] < 1e-6
    assert json.loads((trainer.run_dir / "run.json").read_text())["status"] == "stopped"


def test_batch_scheduler_steps_per_optimizer_step(tmp_path: Path) -> None:
    train, val = _classification_data()  # 9 batches per epoch
    config = _trainer_config(
        "classification",
        epochs=2,
        optimization={
            "optimizer": {"type": "sgd", "params": {"lr": 1.0}},
            "scheduler": {
                "type": "torch.optim.lr_scheduler.StepLR",
                "params": {"step_size": 1, "gamma": 0.5},
                "step": "batch",
            },
        },
    )
    trainer = ClassificationTrainer(config, _mlp(8, 3), train, val, base_dir=tmp_path, loggers={}, quiet=True)
    trainer.fit()
    assert trainer.global_step == 18
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.5**18)


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (
            {"optimization": {"optimizer": {"type": "torch.optim.Adamm"}}},
            r"trainer\.optimization\.optimizer\.type.*torch\.optim\.Adamm",
        ),
        (
            {"optimization": {"optimizer": {"type": "no_such_module.Optim"}}},
            r"trainer\.optimization\.optimizer\.type.*cannot import 'no_such_module\.Optim'",
        ),
        (
            {"optimization": {"optimizer": {"type": "torch.optim.SGD", "params": {"learning_rate": 0.1}}}},
            r"trainer\.optimization\.optimizer\.params.*learning_rate",
        ),
        ({"optimization": {"loss": "cross_entropyy"}}, r"trainer\.optimization\.loss.*unknown loss type"),
        (
            {"optimization": {"scheduler": {"type": "StepLR", "params": {}}}},
            r"trainer\.optimization\.scheduler\.params.*step_size",
        ),
        (
            {"optimization": {"scheduler": {"type": "StepLR", "step": "week"}}},
            r"trainer\.optimization\.scheduler",
        ),
        ({"epochs": "three"}, r"trainer\.epochs"),
        ({"device": "tpu:7"}, r"trainer\.device"),
        ({"amp": "fp8"}, r"trainer\.amp"),
        ({"amp": "fp16"}, r"trainer\.amp.*needs CUDA.*bf16"),
        ({"epochz": 3}, r"'trainer' has unknown key\(s\) \['epochz'\]"),
        ({"metrics": ["accuracy", "f2"]}, r"trainer\.metrics\.1.*unknown metric type 'f2'"),
        ({"callbacks": {"early_stoping": {}}}, r"trainer\.callbacks\.early_stoping.*unknown callback type"),
        (
            {"callbacks": {"early_stopping": {"patients": 3}}},
            r"trainer\.callbacks\.early_stopping\.params.*patients",
        ),
        ({"grad_clip": "big"}, r"trainer\.grad_clip"),
        ({"mode": "up"}, r"trainer\.mode"),
        ({"checkpoint": {"keep": 3}}, r"trainer\.checkpoint.*keep_last"),
    ],
)
def test_bad_configs_give_named_errors(tmp_path: Path, change: dict[str, Any], pattern: str) -> None:
    train, val = _classification_data()
    config = _trainer_config("classification", epochs=1)
    config["trainer"].update(change)
    with pytest.raises(ConfigError, match=pattern):
        ClassificationTrainer(config, _mlp(8, 3), train, val, base_dir=tmp_path, loggers={}, quiet=True)


@pytest.mark.filterwarnings("ignore:Using a target size")
def test_shape_mismatch_at_first_batch_names_loss_and_shapes(tmp_path: Path) -> None:
    train, val = _classification_data()
    model = _mlp(8, 3)
    trainer = ClassificationTrainer(
        _trainer_config("classification", epochs=1, optimization={"loss": "mse"}),
        model,
        train,
        val,
        base_dir=tmp_path,
        loggers={},
        quiet=True,
    )
    with pytest.raises(ConfigError, match=r"loss MSELoss.*trainer\.optimization\.loss.*\(16, 3\).*\(16,\)"):
        trainer.fit()


def test_model_input_mismatch_names_model_and_input_shape(tmp_path: Path) -> None:
    train, val = _classification_data()
    trainer = ClassificationTrainer(
        _trainer_config("classification", epochs=1),
        _mlp(5, 3),
        train,
        val,
        base_dir=tmp_path,
        loggers={},
        quiet=True,
    )
    with pytest.raises(
        ConfigError, match=r"model Sequential failed on the first batch, input of shape \(16, 8\)"
    ):
        trainer.fit()
    assert json.loads((trainer.run_dir / "run.json").read_text())["status"] == "error"


def test_unknown_monitor_is_named_before_the_run_folder(tmp_path: Path) -> None:
    train, val = _classification_data()
    with pytest.raises(
        ConfigError,
        match=r"trainer\.monitor.*'val/acc'.*available: .*'val/accuracy'.*did you mean 'val/accuracy'",
    ):
        ClassificationTrainer(
            _trainer_config("classification", epochs=1, monitor="val/acc"),
            _mlp(8, 3),
            train,
            val,
            base_dir=tmp_path,
            loggers={},
            quiet=True,
        )
    assert list(tmp_path.iterdir()) == []  # refused before training and before the folder was made
    with pytest.raises(ConfigError, match=r"'val/accuracy'.*no validation data"):
        ClassificationTrainer(
            _trainer_config("classification", epochs=1, monitor="val/accuracy"),
            _mlp(8, 3),
            train,
            base_dir=tmp_path,
            loggers={},
        )
    assert list(tmp_path.iterdir()) == []
    # what the metrics declare is accepted: per-class keys, every metric's own names, the training phase
    for monitor, metrics in [
        ("val/f1/1", ["classification_report"]),
        ("val/top_2", [{"type": "top_k", "params": {"k": 2}}]),
        ("train/accuracy", ["accuracy"]),
        ("time/epoch_s", []),
    ]:
        config = _trainer_config("classification", epochs=1, monitor=monitor, metrics=metrics)
        trainer = ClassificationTrainer(
            config, _mlp(8, 3), train, val, base_dir=tmp_path, loggers={}, quiet=True
        )
        assert monitor in trainer.fit() or monitor == "time/epoch_s"


def test_undeclared_metric_keys_leave_the_monitor_to_the_first_epoch(tmp_path: Path) -> None:
    train, val = _classification_data()
    config = _trainer_config(
        "classification", epochs=1, monitor="val/custom", metrics=["accuracy", "test_trainers:Custom"]
    )
    trainer = ClassificationTrainer(config, _mlp(8, 3), train, val, base_dir=tmp_path, loggers={}, quiet=True)
    assert trainer.produced_keys(True) is None  # Custom declares no KEYS
    assert trainer.fit()["val/custom"] == 1.0


class Custom(Metric):
    """A metric that declares no KEYS (what a user's metric looks like)."""

    name = "custom"

    def update(self, output, target):
        pass

    def compute(self):
        return {"custom": 1.0}


def test_trainers_are_registered_entry_points() -> None:
    from trialog.hooks import plugins

    for kind, cls in [
        ("classification", ClassificationTrainer),
        ("regression", RegressionTrainer),
        ("segmentation", SegmentationTrainer),
        ("autoencoder", AutoencoderTrainer),
    ]:
        assert plugins.load("trialog.trainers", kind) is cls


def test_config_is_not_mutated(tmp_path: Path) -> None:
    train, val = _classification_data()
    config = _resume_config(1)
    before = copy.deepcopy(config)
    ClassificationTrainer(config, _mlp(8, 3), train, val, base_dir=tmp_path, loggers={}, quiet=True).fit()
    assert config == before


def test_train_metrics_option_and_default_monitor_fallback(tmp_path: Path) -> None:
    train, val = _classification_data()
    config = _trainer_config("classification", epochs=1, metrics=[], train_metrics=False)
    trainer = ClassificationTrainer(config, _mlp(8, 3), train, val, base_dir=tmp_path, loggers={}, quiet=True)
    assert (trainer.monitor, trainer.mode) == ("val/loss", "min")  # no accuracy metric configured
    final = trainer.fit()
    assert not any(k.endswith("accuracy") for k in final)

    config = _trainer_config(
        "classification", epochs=1, metrics=["accuracy", "top_k"], train_metrics=["accuracy"]
    )
    trainer = ClassificationTrainer(config, _mlp(8, 3), train, val, base_dir=tmp_path, loggers={}, quiet=True)
    final = trainer.fit()
    assert trainer.monitor == "val/accuracy"
    assert {"train/accuracy", "val/accuracy", "val/top_5"} <= set(final) and "train/top_5" not in final


def test_dict_batches_test_loader_and_progress_bars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class DictData(torch.utils.data.Dataset):
        def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
            self.x, self.y = x, y

        def __len__(self) -> int:
            return len(self.x)

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            return {"image": self.x[i], "label": self.y[i]}

    g = torch.Generator().manual_seed(5)
    x = torch.randn(96, 8, generator=g)
    y = (x[:, 0] > 0).long()
    train = DataLoader(DictData(x[:64], y[:64]), batch_size=16, shuffle=True)
    test = DataLoader(DictData(x[64:], y[64:]), batch_size=16)
    config = _trainer_config("classification", epochs=2, input_key="image", target_key="label")
    trainer = ClassificationTrainer(
        config, _mlp(8, 2), train, test_loader=test, base_dir=tmp_path, loggers={}, quiet=False
    )
    final = trainer.fit()
    assert trainer.monitor == "train/accuracy"  # no validation data: the training metric is watched
    assert {"test/accuracy", "test/loss"} <= set(final)
    records = [
        json.loads(line) for line in (trainer.run_dir / "result" / "results.jsonl").read_text().splitlines()
    ]
    assert [r["epoch"] for r in records if (r["name"], r["tag"]) == ("accuracy", "test")] == [None]
    err = capsys.readouterr().err
    assert "classification" in err and "epoch 1 train" in err  # the epoch bar and the batch bars

    config["trainer"]["target_key"] = "target"
    trainer = ClassificationTrainer(config, _mlp(8, 2), train, base_dir=tmp_path, loggers={}, quiet=True)
    with pytest.raises(ConfigError, match=r"keys \['image', 'label'\].*trainer\.target_key"):
        trainer.fit()


@pytest.mark.parametrize("flag", ["checkpoint_to_cpu", "deterministic", "save_checkpoints_default"])
def test_torch_experiment_flags_are_bools(tmp_path: Path, flag: str) -> None:
    from trialog_torch import TorchExperiment

    with pytest.raises(ConfigError, match=f"TorchExperiment option '{flag}' must be true or false, got 'no'"):
        TorchExperiment(name="x", base_dir=tmp_path / "runs", loggers={}, **{flag: "no"})
    assert not (tmp_path / "runs").exists()
