"""Trainers of your own: ``trainer.type`` by import path, ``training_step``, several named optimizers, accumulation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from trialog_torch.cli import run_config
from trialog_torch.trainers import ClassificationTrainer, Trainer, trainer_class

from trialog.api import CheckpointManager
from trialog.errors import ConfigError

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800

GAN_PY = '''
import os
import signal

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import Dataset

from trialog_torch.trainers import Trainer


class Reals(Dataset):
    """Samples of N(3, 0.5) in 2 dimensions; the label is unused."""

    def __init__(self, n=96, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.x = 3 + 0.5 * torch.randn(n, 2, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], 0


class GAN(nn.Module):
    def __init__(self, noise=4):
        super().__init__()
        self.noise = noise
        self.generator = nn.Sequential(nn.Linear(noise, 16), nn.ReLU(), nn.Linear(16, 2))
        self.discriminator = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))

    def forward(self, x):
        return self.discriminator(x)


class GANTrainer(Trainer):
    """The discriminator and the generator each get their loss; the trainer steps both optimizers."""

    def training_step(self, batch):
        real = batch[0].to(self.device)
        z = torch.randn(real.shape[0], self.model.noise, device=self.device)
        fake = self.model.generator(z)
        ones, zeros = torch.ones(real.shape[0], 1), torch.zeros(real.shape[0], 1)
        d_loss = F.binary_cross_entropy_with_logits(self.model.discriminator(real), ones)
        d_loss = d_loss + F.binary_cross_entropy_with_logits(self.model.discriminator(fake.detach()), zeros)
        g_loss = F.binary_cross_entropy_with_logits(self.model.discriminator(fake), ones)
        if self.global_step + 1 == int(os.environ.get("GAN_KILL_AT_STEP", "0")):
            os.kill(os.getpid(), signal.SIGKILL)
        return {"discriminator": d_loss, "generator": g_loss}
'''


def _gan_config(epochs: int = 4) -> dict:
    return {
        "name": "gan",
        "seed": 5,
        "model": {"type": "gan:GAN"},
        "data": {"train": {"type": "gan:Reals"}, "loader": {"batch_size": 16, "shuffle": True}},
        "trainer": {
            "type": "gan:GANTrainer",
            "epochs": epochs,
            "device": "cpu",
            "grad_clip": 5.0,
            "optimization": {
                "generator": {
                    "optimizer": {"type": "torch.optim.Adam", "params": {"lr": 0.01, "betas": [0.5, 0.9]}},
                    "modules": "generator",
                    "scheduler": {
                        "type": "StepLR",
                        "params": {"step_size": 5, "gamma": 0.5},
                        "step": "batch",
                    },
                },
                "discriminator": {
                    "optimizer": {"type": "torch.optim.SGD", "params": {"lr": 0.05, "momentum": 0.9}},
                    "modules": ["discriminator"],
                    "scheduler": {"type": "StepLR", "params": {"step_size": 1, "gamma": 0.8}},
                },
            },
        },
        "loggers": {},
    }


@pytest.fixture
def gan_project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "gan.py").write_text(GAN_PY)
    (folder / "config.json").write_text(json.dumps(_gan_config()))
    return folder / "config.json"


def _cli(config: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trialog.cli", "run", str(config), "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=HANG,
        env={**os.environ, **(env or {})},
    )


def _results(run_dir: Path) -> list[tuple]:
    lines = (run_dir / "result" / "results.jsonl").read_text().splitlines()
    return [
        (f"{r['tag']}/{r['name']}" if r.get("tag") else r["name"], r["value"], r["epoch"])  # the series key
        for r in map(json.loads, lines)
        if not r["name"].startswith("time/") and r.get("tag") not in ("sys", "time")
    ]


def _last_state(run_dir: Path) -> dict:
    state, _ = CheckpointManager(run_dir / "checkpoint", format="torch").load("last")
    return state["user"]


def _assert_equal(a, b, where: str = "") -> None:
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_equal(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_equal(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def test_a_two_optimizer_gan_by_import_path_is_killed_and_resumes_bitwise(
    gan_project: Path, tmp_path: Path
) -> None:
    whole = _cli(gan_project, "--base-dir", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    (whole_dir,) = (tmp_path / "whole").iterdir()

    # 6 batches per epoch: killed inside epoch 2, after the checkpoint of epoch 1
    killed = _cli(gan_project, "--base-dir", str(tmp_path / "killed"), env={"GAN_KILL_AT_STEP": "15"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (run_dir,) = (tmp_path / "killed").iterdir()
    assert [e.epoch for e in CheckpointManager(run_dir / "checkpoint").entries][-1] == 1
    resumed = _cli(gan_project, "--base-dir", str(tmp_path / "killed"), "--resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr

    assert _results(run_dir) == _results(whole_dir)
    names = {name for name, _, _ in _results(whole_dir)}
    assert {"train/generator_loss", "train/discriminator_loss", "train/generator_lr", "train/loss"} <= names
    state, reference = _last_state(run_dir), _last_state(whole_dir)
    assert set(state["optimizer"]) == {"optimizers.generator", "optimizers.discriminator"}
    assert set(state["scheduler"]) == {"schedulers.generator", "schedulers.discriminator"}
    _assert_equal(state["model"], reference["model"], "model")
    _assert_equal(state["optimizer"], reference["optimizer"], "optimizer")
    _assert_equal(state["scheduler"], reference["scheduler"], "scheduler")
    lrs = {name: value for name, value, epoch in _results(whole_dir) if epoch == 3 and name.endswith("_lr")}
    assert lrs["train/discriminator_lr"] == pytest.approx(0.05 * 0.8**3)
    assert lrs["train/generator_lr"] == pytest.approx(0.01 * 0.5 ** (24 // 5))


def _project_module(gan_project: Path):
    sys.path.insert(0, str(gan_project.parent))
    try:
        import gan  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(gan_project.parent))
    return gan


def test_each_loss_reaches_only_its_own_optimizers_parameters(gan_project: Path, tmp_path: Path) -> None:
    gan = _project_module(gan_project)
    config = _gan_config(epochs=1)
    torch.manual_seed(0)
    trainer = gan.GANTrainer(
        config,
        gan.GAN(),
        DataLoader(gan.Reals(), batch_size=16),
        base_dir=tmp_path / "runs",
        loggers={},
        quiet=True,
    )
    torch.manual_seed(1)
    losses = trainer._named_losses(trainer.training_step(next(iter(trainer.train_loader))))
    trainer._backward(losses)
    # what each optimizer steps on: the gradient of its own loss alone
    for name, loss_name in (("generator", "generator"), ("discriminator", "discriminator")):
        torch.manual_seed(1)
        fresh = trainer.training_step(next(iter(trainer.train_loader)))[loss_name]
        expected = torch.autograd.grad(fresh, trainer.optimizer_params[name])
        for param, grad in zip(trainer.optimizer_params[name], expected):
            assert torch.equal(param.grad, grad), name
    trainer.experiment.close()


def test_trainer_type_by_import_path_checks_the_class_before_any_run_folder(
    gan_project: Path, tmp_path: Path
) -> None:
    sys.path.insert(0, str(gan_project.parent))
    try:
        assert trainer_class("gan:GANTrainer").__name__ == "GANTrainer"
        assert trainer_class("classification") is ClassificationTrainer
        with pytest.raises(
            ConfigError, match=r"'trainer.type'.*'torch.nn:Linear'.*not a subclass of .*Trainer"
        ):
            trainer_class("torch.nn:Linear")
        with pytest.raises(ConfigError, match=r"'trainer.type'.*module 'gan' has no attribute 'Nope'"):
            trainer_class("gan:Nope")
        with pytest.raises(ConfigError, match=r"'trainer.type'.*no trainer named 'no_such'.*import path"):
            trainer_class("no_such")
    finally:
        sys.path.remove(str(gan_project.parent))
    for bad in ("gan:Nope", "torch.nn:Linear", "gan:GAN"):
        config = _gan_config()
        config["trainer"]["type"] = bad
        with pytest.raises(ConfigError, match=r"trainer\.type"):
            run_config(config, config_dir=gan_project.parent, base_dir=tmp_path / "runs")
        assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("optimization", "pattern"),
    [
        (
            {"generator": {"optimizer": "sgd"}, "optimizer": "adam"},
            r"mixes 'optimizer'/'scheduler' with named",
        ),
        (
            {"generator": {"optimizer": "adam", "modules": "nope"}},
            r"'trainer.optimization.generator.modules'.*no submodule 'nope'",
        ),
        ({"generator": {"modules": "generator"}}, r"'trainer.optimization.generator' must hold 'optimizer'"),
        (
            {"g": {"optimizer": "adam"}, "d": {"optimizer": "adam"}},
            r"'trainer.optimization.d.modules'.*already updated",
        ),
        ({"generator": 3}, r"unknown key 'generator'"),
    ],
)
def test_named_optimizer_errors_name_the_key(
    gan_project: Path, tmp_path: Path, optimization, pattern
) -> None:
    gan = _project_module(gan_project)
    config = _gan_config()
    config["trainer"]["optimization"] = optimization
    with pytest.raises(ConfigError, match=pattern):
        gan.GANTrainer(
            config, gan.GAN(), DataLoader(gan.Reals(), batch_size=16), base_dir=tmp_path / "runs", loggers={}
        )
    assert not (tmp_path / "runs").exists()


def test_a_step_returning_a_loss_for_an_unknown_optimizer_is_named(tmp_path: Path) -> None:
    class Wrong(ClassificationTrainer):
        def training_step(self, batch):
            return {"critic": super().training_step(batch)}

    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    trainer = Wrong(
        {"seed": 0, "trainer": {"device": "cpu", "epochs": 1}},
        nn.Linear(3, 2),
        DataLoader(TensorDataset(x, y), batch_size=4),
        base_dir=tmp_path,
        loggers={},
        quiet=True,
    )
    with pytest.raises(
        ConfigError, match=r"Wrong.training_step returned a loss for 'critic'.*\['optimizer'\]"
    ):
        trainer.fit()


def _linear_trainer(tmp_path: Path, name: str, batch_size: int, accumulate: int) -> Trainer:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 4, generator=g), torch.randn(32, generator=g)
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    config = {
        "seed": 0,
        "trainer": {
            "type": "regression",
            "epochs": 1,
            "device": "cpu",
            "accumulate": accumulate,
            "optimization": {"optimizer": {"type": "sgd", "params": {"lr": 0.1}}},
        },
    }
    from trialog_torch.trainers import RegressionTrainer

    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size)
    return RegressionTrainer(config, model, loader, base_dir=tmp_path / name, loggers={}, quiet=True)


def test_accumulating_gradients_equals_the_larger_batch(tmp_path: Path) -> None:
    big = _linear_trainer(tmp_path, "big", batch_size=16, accumulate=1)
    big.fit()
    small = _linear_trainer(tmp_path, "small", batch_size=8, accumulate=2)
    small.fit()
    assert small.global_step == big.global_step == 2
    for a, b in zip(big.model.parameters(), small.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    # an odd count: the last, shorter accumulation still steps
    odd = _linear_trainer(tmp_path, "odd", batch_size=8, accumulate=3)
    odd.fit()
    assert odd.global_step == 2


def test_a_single_optimizer_keeps_the_checkpoint_layout_of_before(tmp_path: Path) -> None:
    trainer = _linear_trainer(tmp_path, "single", batch_size=8, accumulate=1)
    assert list(trainer.optimizers) == ["optimizer"] and trainer.optimizers["optimizer"] is trainer.optimizer
    trainer.fit()
    state = _last_state(trainer.run_dir)
    assert set(state["optimizer"]) == {"optimizer"}  # what older runs hold, and what resume reads
    assert "train/lr" in trainer.history[-1] and not any(k.endswith("_lr") for k in trainer.history[-1])
