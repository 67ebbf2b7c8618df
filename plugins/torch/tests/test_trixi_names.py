"""trixi's PytorchExperiment names on TorchExperiment: named checkpoints, pytorch models, simple vars
(``exp.elog``, trixi's PytorchExperimentLogger, is trialog-trixi's: plugins/trixi/tests/test_torch_elog.py)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from trialog_torch import TorchExperiment

from trialog.api import Run
from trialog.errors import CheckpointError, ConfigError, TrialogWarning


class Exp(TorchExperiment):
    def setup(self):
        torch.manual_seed(0)
        self.model = nn.Linear(3, 2)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)
        self.steps = 0

    def train(self, epoch):
        loss = self.model(torch.ones(4, 3)).pow(2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        self.add_result(loss.item(), "loss")


def test_run_writes_checkpoint_current_and_checkpoint_last(exp_kwargs):
    exp = Exp(n_epochs=3, seed=1, save_checkpoints_default=True, **exp_kwargs)
    exp.run()
    assert {"checkpoint_current", "checkpoint_last"} <= set(exp.named_checkpoints())
    weights = exp.model.weight.detach().clone()
    with torch.no_grad():
        exp.model.weight.zero_()
    exp.steps = 0
    exp.load_checkpoint("checkpoint_last")
    torch.testing.assert_close(exp.model.weight, weights)
    assert exp.steps == 3
    exp.load_checkpoint("checkpoint_current")
    assert exp.steps == 3


def test_named_checkpoints_are_off_by_default(exp_kwargs):
    exp = Exp(n_epochs=1, **exp_kwargs)
    exp.run()
    assert exp.named_checkpoints() == []
    with pytest.raises(CheckpointError, match="checkpoint_last"):
        exp.load_checkpoint("checkpoint_last")


def test_prepare_resume_restores_the_latest_checkpoint(exp_kwargs):
    first = Exp(n_epochs=2, seed=3, **exp_kwargs)
    first.run()
    again = Exp(n_epochs=4, resume=first.run_dir, **exp_kwargs)
    again.setup()
    assert again.prepare_resume() == 2
    assert again.steps == 2
    torch.testing.assert_close(again.model.weight, first.model.weight)
    again.close()


def test_save_and_load_pytorch_models_and_simple_vars(exp_kwargs):
    exp = Exp(n_epochs=0, **exp_kwargs)
    exp.setup()
    exp.steps = 5
    exp.shape = (2, 3)
    exp.save_pytorch_models()
    saved = exp.model.weight.detach().clone()
    path = exp.log_simple_vars()
    assert path == exp.log_dir / "simple_vars.json"
    assert json.loads(path.read_text())["steps"] == 5
    with torch.no_grad():
        exp.model.weight.zero_()
    exp.steps, exp.shape = 0, None
    exp.load_pytorch_models()
    torch.testing.assert_close(exp.model.weight, saved)
    assert exp.steps == 0  # models only
    assert exp.load_simple_vars()["steps"] == 5
    assert (exp.steps, exp.shape) == (5, (2, 3))
    exp.close()


def test_at_exit_func_saves_results_and_an_exit_checkpoint(exp_kwargs):
    exp = Exp(n_epochs=0, **exp_kwargs)
    exp.setup()
    exp.add_result(1.5, "loss")
    exp.begin_run()
    exp.at_exit_func()
    assert json.loads((exp.result_dir / "results.json").read_text())["loss"]["last"] == 1.5
    assert "checkpoint_exit" in exp.named_checkpoints()
    exp.close()


def test_update_attributes(exp_kwargs):
    exp = Exp(n_epochs=0, **exp_kwargs)
    exp.update_attributes({"a": 1, "b": 2, "_hidden": 3}, ignore=("b",))
    assert exp.a == 1 and not hasattr(exp, "b") and not hasattr(exp, "_hidden")
    exp.close()


def test_run_reads_back(exp_kwargs):
    exp = Exp(n_epochs=2, save_checkpoints_default=True, **exp_kwargs)
    exp.run()
    assert Run(exp.run_dir).status == "finished"


def test_default_save_types_and_checkpoint_to_cpu(exp_kwargs):
    exp = Exp(n_epochs=1, default_save_types=("model",), checkpoint_to_cpu=True, **exp_kwargs)
    exp.run()
    state = exp.load_checkpoint()
    assert set(state["user"]) == {"model"}
    assert all(t.device.type == "cpu" for t in state["user"]["model"]["model"].values())
