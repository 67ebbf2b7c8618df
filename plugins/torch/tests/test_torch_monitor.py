"""trialog_torch.TorchMonitor: ckpt specs save state_dicts into checkpoint/monitor-<name>/, load() restores them."""

from __future__ import annotations

import pytest
import torch
from trialog_torch import TorchMonitor

import trialog
from trialog.errors import ConfigError


def _exp(tmp_path):
    return trialog.Experiment(name="t", base_dir=tmp_path, loggers={}, capture_output=False)


def test_ckpt_specs_save_and_load_restores_weights_and_counters(tmp_path):
    exp = _exp(tmp_path)
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    m = TorchMonitor(exp, ckpt=("model@1e", "opt@3s"), ckpt_keep=(2, None))
    m.log(model=model, opt=opt)  # given once: saved at every firing all the same
    weights = {}
    for _ in m(range(3)):
        for _ in m(range(2)):
            opt.zero_grad()
            model(torch.ones(1, 2)).sum().backward()
            opt.step()
        weights[m.epoch + 1] = model.weight.detach().clone()
    assert exp.checkpoint_series_names() == ["monitor-model", "monitor-opt"]
    model_steps = [e.step for e in exp.checkpoint_series("monitor-model").entries]
    opt_steps = [e.step for e in exp.checkpoint_series("monitor-opt").entries]
    assert model_steps == [2, 3] and opt_steps == [3, 6]  # keep 2 epochs' models; every optimizer state

    fresh = torch.nn.Linear(2, 1)
    m2 = TorchMonitor(exp, ckpt="model@1e", name="monitor2")
    m2.load(step=2, model=fresh)
    assert torch.equal(fresh.weight, weights[2]) and (m2.step, m2.epoch) == (4, 2)
    m2.load(model=fresh)
    assert torch.equal(fresh.weight, model.weight) and m2.epoch == 3
    with pytest.raises(ConfigError, match=r"no monitor checkpoints of 'net'.*saved: \['model', 'opt'\]"):
        m2.load(net=fresh)
    exp.close()


def test_bad_ckpt_specs_are_named(tmp_path):
    exp = _exp(tmp_path)
    with pytest.raises(ConfigError, match="'@1e': give the objects' names and a period"):
        TorchMonitor(exp, ckpt="@1e")
    with pytest.raises(ConfigError, match="ckpt_keep has 1 entries for 2 ckpt specs"):
        TorchMonitor(exp, ckpt=("a@1e", "b@1e"), ckpt_keep=[1])
    with pytest.raises(ConfigError, match="ckpt_keep must be a positive integer"):
        TorchMonitor(exp, ckpt="a@1e", ckpt_keep=0)
    m = TorchMonitor(exp, ckpt="loss@1s")
    m.log(loss=1.0)
    with pytest.raises(ConfigError, match="'loss' is a float, which has no state_dict"):
        m.inc("s")
    exp.close()
