"""TorchExperiment: discovery, checkpoints through the manager, partial loading, and exact resume."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from trialog_torch import TorchExperiment
from trialog_torch.checkpoint import TorchFormat

from trialog.errors import CheckpointError, ConfigError, TrialogWarning
from trialog.results.log import read_results

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


TESTS = Path(__file__).resolve().parent


class TinyExperiment(TorchExperiment):
    """Synthetic 3-class problem; dropout, noise, flips (numpy) and scaling (python) make every RNG matter."""

    kill_at_step: int | None = None  # class attribute: the SIGKILL test sets it in the child process
    crash_in_epoch: int | None = None

    def setup(self) -> None:
        g = torch.Generator().manual_seed(0)
        self._loader = DataLoader(
            TensorDataset(torch.randn(48, 8, generator=g), torch.randint(0, 3, (48,), generator=g)),
            batch_size=12,
            shuffle=True,
        )
        self.model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.02)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=2, gamma=0.5)
        self.step_count = 0
        self.ema = torch.zeros(())

    def train(self, epoch: int) -> None:
        if self.crash_in_epoch == epoch:
            raise RuntimeError("simulated crash")
        self.model.train()
        for x, y in self._loader:
            x = x + 0.1 * torch.randn_like(x)
            if np.random.rand() < 0.5:
                x = x.flip(1)
            if random.random() < 0.5:
                x = x * 1.1
            loss = F.cross_entropy(self.model(x), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.step_count += 1
            self.add_result(loss.item(), "loss", counter=self.step_count, tag="train")
            if self.kill_at_step == self.step_count:
                os.kill(os.getpid(), signal.SIGKILL)
        self.scheduler.step()

    def validate(self, epoch: int) -> None:
        self.model.eval()
        with torch.no_grad():
            x, y = self._loader.dataset.tensors
            loss = F.cross_entropy(self.model(x), y)
        self.ema = 0.9 * self.ema + 0.1 * loss
        self.add_result(loss.item(), "val_loss", tag="val")
        self.add_result(self.ema.item(), "ema")


def _records(run_dir: Path) -> list[tuple]:
    return [(r["name"], r["tag"], r["value"], r["counter"], r["epoch"]) for r in read_results(run_dir)]


def _assert_same_state(a: TorchExperiment, b: TorchExperiment) -> None:
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    for index, inner in sa["state"].items():
        for key, value in inner.items():
            assert torch.equal(value, sb["state"][index][key]), (index, key)
    assert a.scheduler.state_dict() == b.scheduler.state_dict()
    assert a.step_count == b.step_count and torch.equal(a.ema, b.ema)


@pytest.fixture
def uninterrupted(exp_kwargs):
    exp = TinyExperiment(n_epochs=4, seed=3, **exp_kwargs)
    exp.run()
    exp.close()
    return exp


@pytest.mark.parametrize("async_save", [False, True])
def test_crash_and_resume_reproduces_the_uninterrupted_run(uninterrupted, exp_kwargs, async_save):
    crashing = type("Crashing", (TinyExperiment,), {"crash_in_epoch": 2})
    first = crashing(n_epochs=4, seed=3, checkpoint={"async_save": async_save}, **exp_kwargs)
    with pytest.raises(RuntimeError, match="simulated crash"):
        first.run()
    first.close()
    assert [e.epoch for e in first.checkpoints.entries] == [0, 1]

    resumed = TinyExperiment(n_epochs=4, resume=first.run_dir, **exp_kwargs)
    resumed.run()
    resumed.close()
    assert resumed.run_dir == first.run_dir
    assert _records(resumed.run_dir) == _records(uninterrupted.run_dir)
    _assert_same_state(resumed, uninterrupted)


def test_sigkill_mid_epoch_then_resume_reproduces_the_uninterrupted_run(uninterrupted, exp_kwargs):
    base = exp_kwargs["base_dir"] / "killed"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        from test_experiment import TinyExperiment
        TinyExperiment.kill_at_step = 10  # 4 steps per epoch: killed inside epoch 2
        TinyExperiment(n_epochs=4, seed=3, base_dir={str(base)!r}, loggers={{}}, save_sources=False).run()
        """
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG)
    assert child.returncode == -signal.SIGKILL, child.stderr
    (run_dir,) = [p for p in base.iterdir() if p.is_dir()]
    assert max(r["counter"] or 0 for r in read_results(run_dir)) == 10  # records after the checkpoint exist

    resumed = TinyExperiment(n_epochs=4, base_dir=base, resume="last", loggers={}, save_sources=False)
    resumed.run()
    resumed.close()
    assert _records(run_dir) == _records(uninterrupted.run_dir)
    _assert_same_state(resumed, uninterrupted)


def test_sigkill_while_writing_a_torch_checkpoint_keeps_the_previous_one(uninterrupted, exp_kwargs):
    base = exp_kwargs["base_dir"] / "killed_in_write"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(TESTS)!r})
        from trialog_torch import checkpoint
        from test_experiment import TinyExperiment

        saves = []
        original_save, original_write = checkpoint.TorchFormat.save, checkpoint.WritebackFile.write

        def save(self, state, path):
            saves.append(path)
            original_save(self, state, path)

        def write(self, data):
            if len(saves) == 3 and self.written > 0:  # the checkpoint of epoch 2, half written
                os.kill(os.getpid(), signal.SIGKILL)
            return original_write(self, data)

        checkpoint.TorchFormat.save, checkpoint.WritebackFile.write = save, write
        TinyExperiment(n_epochs=4, seed=3, base_dir={str(base)!r}, loggers={{}}, save_sources=False).run()
        """
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG)
    assert child.returncode == -signal.SIGKILL, child.stderr
    (run_dir,) = [p for p in base.iterdir() if p.is_dir()]
    assert [p.name for p in (run_dir / "checkpoint").iterdir() if p.name.startswith(".trialog-tmp-")]

    resumed = TinyExperiment(n_epochs=4, base_dir=base, resume="last", loggers={}, save_sources=False)
    assert [e.epoch for e in resumed.checkpoints.entries] == [0, 1]
    resumed.run()
    resumed.close()
    assert _records(run_dir) == _records(uninterrupted.run_dir)
    _assert_same_state(resumed, uninterrupted)


def test_stop_early_then_resume_with_more_epochs_continues_exactly(uninterrupted, exp_kwargs):
    short = TinyExperiment(n_epochs=2, seed=3, **exp_kwargs)
    short.run()
    short.close()
    longer = TinyExperiment(n_epochs=4, resume=short, **exp_kwargs)  # an experiment object works too
    assert longer.n_epochs == 4
    longer.run()
    longer.close()
    assert _records(longer.run_dir) == _records(uninterrupted.run_dir)
    _assert_same_state(longer, uninterrupted)


def test_checkpoints_use_the_torch_format_and_hold_every_part(uninterrupted):
    entry = uninterrupted.checkpoints.latest()
    assert entry.format == "torch" and entry.path.suffix == ".pt" and entry.epoch == 3
    state = TorchFormat().load(entry.path)
    user = state["user"]
    assert set(user) == {"model", "optimizer", "scheduler", "th_vars"}
    assert set(user["model"]) == {"model"} and set(user["optimizer"]) == {"optimizer"}
    assert state["simple"] == {"step_count": 16}  # where the core keeps them (one definition, one key)
    assert torch.equal(user["th_vars"]["ema"], uninterrupted.ema)
    assert {"torch", "python", "numpy"} <= set(state["rng"])


def test_a_checkpoint_with_the_old_simple_key_still_resumes(uninterrupted, exp_kwargs):
    """Checkpoints written before the simple attributes moved to ``state["simple"]`` kept them in
    ``state["user"]["simple"]``: a resume from one restores them all the same."""
    short = TinyExperiment(n_epochs=2, seed=3, **exp_kwargs)
    short.run()
    short.close()
    manager = short.checkpoints
    state, entry = manager.load("last")
    state["user"]["simple"] = state.pop("simple")  # the layout of trialog-torch 0.1
    manager.save(state, step=entry.step + 1, epoch=entry.epoch)
    longer = TinyExperiment(n_epochs=4, resume=short.run_dir, **exp_kwargs)
    longer.run()
    longer.close()
    assert _records(longer.run_dir) == _records(uninterrupted.run_dir)
    _assert_same_state(longer, uninterrupted)


def test_sets_are_simple_for_the_torch_format(exp_kwargs):
    exp = TorchExperiment(n_epochs=1, **exp_kwargs)
    exp.seen = {1, 2}
    exp.run()
    exp.close()
    state, _ = exp.checkpoints.load("last")  # torch's safe loader (weights_only=True) reads it back
    assert state["simple"] == {"seen": {1, 2}}
    exp.seen = set()
    exp.load_checkpoint(save_types=("simple",))
    assert exp.seen == {1, 2}
    exp.seen = set()
    exp.load_checkpoint(save_types=("model",))  # "simple" not asked for: left alone
    assert exp.seen == set()


def test_discovery_finds_attributes_and_skips_private_and_reserved(exp_kwargs):
    exp = TorchExperiment(n_epochs=1, **exp_kwargs)
    exp.nets = {"encoder": nn.Linear(2, 2), "decoder": nn.Linear(2, 2), "note": "x"}
    exp._hidden = nn.Linear(2, 2)
    exp.opt = torch.optim.SGD(exp.nets["encoder"].parameters(), lr=0.1)
    exp.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(exp.opt)
    exp.scaler = torch.amp.GradScaler("cpu")
    exp.counts = {"a": [1, 2.5, None], "b": (np.float32(1), "s")}
    exp.loader = DataLoader(TensorDataset(torch.zeros(2)))
    exp.mixed = [1, object()]
    exp.weights = torch.ones(3)
    assert set(exp.get_pytorch_modules()) == {"nets.encoder", "nets.decoder"}
    assert set(exp.get_pytorch_optimizers()) == {"opt"}
    assert set(exp.get_pytorch_schedulers()) == {"plateau", "scaler"}
    assert set(exp.get_simple_variables()) == {"counts"}  # name, n_epochs, seed, epoch... are reserved
    assert set(exp.get_pytorch_tensors()) == {"weights"}
    assert exp.get_pytorch_variables(ignore=["weights"]) == {}
    exp.close()


def test_modules_built_from_the_config_are_found(exp_kwargs):
    exp = TorchExperiment(config={"lr": 0.1}, n_epochs=1, **exp_kwargs)
    exp.config["net"] = nn.Linear(2, 2)
    assert set(exp.get_pytorch_modules()) == {"config.net"}
    assert set(exp.get_pytorch_modules(from_config=False)) == set()
    exp.close()


def test_device_handling(exp_kwargs):
    exp = TorchExperiment(n_epochs=1, device="cpu", **exp_kwargs)
    assert exp.device == torch.device("cpu")
    moved = exp.to_device({"a": [torch.ones(1)], "b": 2})
    assert moved["a"][0].device.type == "cpu" and moved["b"] == 2
    exp.close()
    auto = TorchExperiment(n_epochs=1, **exp_kwargs)
    assert auto.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    auto.close()
    with pytest.raises(ConfigError, match=r"'gpu0' is not a device name"):
        TorchExperiment(n_epochs=1, device="gpu0", **exp_kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error of a machine without CUDA")
def test_cuda_device_without_cuda_is_a_named_error(exp_kwargs):
    with pytest.raises(ConfigError, match=r"'cuda:1' asks for CUDA"):
        TorchExperiment(n_epochs=1, device="cuda:1", **exp_kwargs)


def test_named_checkpoints_with_iteration_format_and_reserved_names(uninterrupted):
    exp = uninterrupted
    exp.save_checkpoint(name="model", n_iter=7, iter_format="{:03d}", prefix=True)
    exp.save_checkpoint(name="best_model", save_types=("model",))
    exp.save_end_checkpoint()
    assert exp.named_checkpoints() == ["007_model", "best_model", "checkpoint_last"]
    assert [e.step for e in exp.checkpoints.entries] == [2, 3]  # the series is untouched
    with pytest.raises(CheckpointError, match=r"'best' is not usable"):
        exp.save_checkpoint(name="best")
    with pytest.raises(CheckpointError, match=r"no checkpoint named 'nope'.*007_model, best_model"):
        exp.load_checkpoint("nope")

    saved = {k: v.clone() for k, v in exp.model.state_dict().items()}
    with torch.no_grad():
        for p in exp.model.parameters():
            p.zero_()
    state = exp.load_checkpoint("model", n_iter=7, iter_format="{:03d}", prefix=True)
    assert "user" in state
    for key, value in exp.model.state_dict().items():
        assert torch.equal(value, saved[key])
    only_model = TorchFormat().load(exp.checkpoint_dir / "best_model" / "step-00000003.pt")["user"]
    assert set(only_model) == {"model"}


def test_load_checkpoint_selects_from_the_series_and_rewinds_results_only_when_asked(uninterrupted):
    exp = uninterrupted
    before = _records(exp.run_dir)
    exp.load_checkpoint(2, save_types=("model", "optimizer"))
    assert exp.epoch == 2 and _records(exp.run_dir) == before
    exp.load_checkpoint("last")  # trixi's default save types include "results": rewind to that checkpoint
    assert _records(exp.run_dir) == before  # the last checkpoint was taken after the last record
    exp.load_checkpoint(2)
    assert len(_records(exp.run_dir)) < len(before)
    assert all(r[4] <= 2 for r in _records(exp.run_dir))


def test_partial_loading_warns_with_names_and_excludes_layers(uninterrupted, exp_kwargs):
    class Other(TinyExperiment):
        def setup(self):
            super().setup()
            self.model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 5))
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.02)
            self.head = nn.Linear(5, 1)

    other = Other(n_epochs=1, **exp_kwargs)
    other.setup()
    with pytest.warns(TrialogWarning) as caught:
        other.load_checkpoint(path=uninterrupted.run_dir, save_types=("model", "optimizer"))
    text = "\n".join(str(w.message) for w in caught)
    assert "3.weight (checkpoint [3, 16] vs model [5, 16])" in text and "3.bias" in text
    assert "module(s) 'head'" in text and str(uninterrupted.run_dir) in text
    assert "optimizer 'optimizer' not loaded" in text
    assert torch.equal(other.model[0].weight, uninterrupted.model[0].weight)
    assert not _records(other.run_dir)  # another run's checkpoint never touches this run's results

    fresh = Other(n_epochs=1, **exp_kwargs)
    fresh.setup()
    head = fresh.model[3].weight.clone()
    with pytest.warns(TrialogWarning) as caught:
        fresh.load_checkpoint(path=uninterrupted.run_dir, save_types=("model",), exclude_layers=["3"])
    assert not any("shape" in str(w.message) for w in caught)
    assert torch.equal(fresh.model[3].weight, head)
    with pytest.raises(CheckpointError, match=r"no saved state for the experiment's module\(s\) 'head'"):
        fresh.load_checkpoint(path=uninterrupted.run_dir, save_types=("model",), strict=True)
    del fresh.head
    with pytest.raises(CheckpointError, match=r"shape mismatches.*3\.weight"):
        fresh.load_checkpoint(path=uninterrupted.run_dir, save_types=("model",), strict=True)
    other.close()
    fresh.close()


def test_load_a_trixi_style_flat_checkpoint_file(tmp_path, exp_kwargs):
    source = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    path = tmp_path / "checkpoint_last.pth.tar"
    torch.save({"model": source.state_dict(), "step_count": 42, "ema": torch.tensor(0.5)}, path)
    exp = TinyExperiment(n_epochs=1, **exp_kwargs)
    exp.setup()
    exp.load_checkpoint(path=path, save_types=("model", "simple", "th_vars"))
    assert torch.equal(exp.model[3].weight, source[3].weight)
    assert exp.step_count == 42 and exp.ema.item() == 0.5
    exp.close()


def test_load_checkpoint_refuses_pickled_objects_unless_asked(tmp_path, exp_kwargs):
    path = tmp_path / "unsafe.pt"
    torch.save({"model": nn.Linear(8, 3)}, path)  # a whole pickled module, not a state dict
    exp = TinyExperiment(n_epochs=1, **exp_kwargs)
    exp.setup()
    with pytest.raises(CheckpointError, match=r"unsafe\.pt holds an object of type torch\.nn\.modules"):
        exp.load_checkpoint(path=path)
    with pytest.raises(CheckpointError, match=r"does not exist"):
        exp.load_checkpoint(path=tmp_path / "missing.pt")
    exp.close()


def test_resume_save_types_and_reset_epochs(uninterrupted, exp_kwargs):
    fine_tune = TinyExperiment(
        n_epochs=1,
        resume=uninterrupted.run_dir,
        resume_new_folder=True,
        resume_save_types=("model",),
        resume_reset_epochs=True,
        **exp_kwargs,
    )
    restored = {}

    def capture(epoch, original=fine_tune.train):
        restored.setdefault("weight", fine_tune.model[0].weight.clone())
        restored.setdefault("state", dict(fine_tune.optimizer.state))
        restored.setdefault("epoch", epoch)
        original(epoch)

    fine_tune.train = capture
    fine_tune.run()
    fine_tune.close()
    assert restored["epoch"] == 0
    assert torch.equal(restored["weight"], uninterrupted.model[0].weight)
    assert restored["state"] == {}  # optimizer not restored: fresh Adam state
    assert fine_tune.step_count == 4  # simple variables not restored either


def test_deterministic_and_unknown_save_types(exp_kwargs, monkeypatch):
    with pytest.raises(CheckpointError, match=r"save_types \['weights'\] unknown"):
        TorchExperiment(n_epochs=1, resume_save_types=("weights",), **exp_kwargs)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", torch.backends.cudnn.deterministic)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", torch.backends.cudnn.benchmark)
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", os.environ.get("CUBLAS_WORKSPACE_CONFIG", ":4096:8"))
    exp = TorchExperiment(n_epochs=1, deterministic=True, **exp_kwargs)
    try:
        assert torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
    finally:
        torch.use_deterministic_algorithms(False)
        exp.close()


def test_save_checkpoint_every_epoch_and_checkpoint_off(exp_kwargs):
    every2 = TinyExperiment(n_epochs=4, seed=1, save_checkpoint_every_epoch=2, **exp_kwargs)
    every2.run()
    every2.close()
    assert [e.epoch for e in every2.checkpoints.entries] == [1, 3]
    off = TinyExperiment(n_epochs=1, seed=1, checkpoint=False, **exp_kwargs)
    off.run()
    off.close()
    assert off.checkpoints.entries == ()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_experiment_checkpoints_to_cpu_and_loads_back_to_the_device(exp_kwargs):
    class OnGpu(TinyExperiment):
        def setup(self):
            super().setup()
            self.model = self.model.to(self.device)
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.02)
            self.ema = self.ema.to(self.device)

        def train(self, epoch):
            self.model.train()
            x = torch.randn(4, 8, device=self.device)
            loss = F.dropout(self.model(x), 0.5).pow(2).mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.add_result(loss.item(), "loss")

        def validate(self, epoch):
            pass

    exp = OnGpu(n_epochs=2, seed=1, device="cuda", **exp_kwargs)
    exp.run()
    state = TorchFormat().load(exp.checkpoints.latest().path)
    assert state["user"]["model"]["model"]["0.weight"].device.type == "cpu"
    assert "torch_cuda" in state["rng"]["plugins"]
    exp.load_checkpoint("last")
    assert exp.model[0].weight.device.type == "cuda" and exp.ema.device.type == "cuda"
    exp.close()
