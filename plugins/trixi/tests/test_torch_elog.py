"""trixi's PytorchExperimentLogger on trialog-trixi's torch experiment: ``exp.elog`` (a
:class:`trialog_trixi.torchelog.TorchExperimentLogger`) and ``exp_name``."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from trialog_trixi.torchelog import TorchExperimentLogger, TrixiTorchExperiment, get_last_file

from trialog.errors import CheckpointError, ConfigError, TrialogWarning


class Exp(TrixiTorchExperiment):
    def setup(self):
        torch.manual_seed(0)
        self.model = nn.Linear(3, 2)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)


def test_update_attributes_and_exp_name(exp_kwargs):
    exp = Exp(exp_name="named", n_epochs=0, **exp_kwargs)
    assert exp.exp_name == "named"
    exp.update_attributes({"a": 1, "b": 2, "_hidden": 3}, ignore=("b",))
    assert exp.a == 1 and not hasattr(exp, "b") and not hasattr(exp, "_hidden")
    exp.close()


# ---------------------------------------------------------------------------------------------------------------
# PytorchExperimentLogger's methods (exp.elog)


@pytest.fixture
def elog(exp_kwargs):
    exp = Exp(n_epochs=0, **exp_kwargs)
    exp.setup()
    yield exp.elog
    exp.close()


def test_elog_is_a_torch_experiment_logger(elog):
    assert isinstance(elog, TorchExperimentLogger)


def test_save_model_load_model(elog):
    model = nn.Linear(3, 2)
    path = elog.save_model(model, "net", n_iter=12)
    assert path.name == "net_00012.pth"
    assert elog.save_model(model, "net", n_iter=3, prefix=True).name == "00003_net.pth"
    other = nn.Linear(3, 2)
    elog.save_model(model, "plain")
    elog.load_model(other, "plain")
    torch.testing.assert_close(other.weight, model.weight)
    fresh = nn.Linear(3, 2)
    bias = fresh.bias.detach().clone()
    elog.load_model(fresh, "plain", exclude_layers=("bias",))
    torch.testing.assert_close(fresh.weight, model.weight)
    torch.testing.assert_close(fresh.bias, bias)


def test_save_checkpoint_load_checkpoint_with_objects(elog):
    model, opt = elog.experiment.model, elog.experiment.optimizer
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    path = elog.save_checkpoint("ckpt", n_iter=1, model=model, optimizer=opt, epoch=7)
    assert path.name == "ckpt_00001.pth.tar" and not list(path.parent.glob(".*tmp*"))
    m2, o2 = nn.Linear(3, 2), None
    o2 = torch.optim.SGD(m2.parameters(), lr=0.5)
    out = elog.load_checkpoint("ckpt_00001", model=m2, optimizer=o2, epoch=0)
    torch.testing.assert_close(m2.weight, model.weight)
    assert o2.param_groups[0]["lr"] == 0.1
    assert out["epoch"] == 7
    with pytest.warns(TrialogWarning, match="no entry 'missing'"):
        out = TorchExperimentLogger.load_checkpoint_static(path, model=nn.Linear(3, 2), missing=1)
    assert out["missing"] == 1


def test_load_last_checkpoint_and_save_fn(elog):
    model = elog.experiment.model
    save = elog.get_save_checkpoint_fn("series", model=model, step=1)
    save(1)
    with torch.no_grad():
        model.weight.fill_(2.0)
    save(2)
    assert get_last_file(elog.checkpoint_dir, "series").endswith("series_00002.pth.tar")
    m2 = nn.Linear(3, 2)
    elog.load_last_checkpoint(model=m2)
    assert float(m2.weight.detach().mean()) == 2.0
    m3 = nn.Linear(3, 2)
    TorchExperimentLogger.load_last_checkpoint_static(elog.checkpoint_dir, "series_00001*", model=m3)
    assert float(m3.weight.detach().mean()) != 2.0


def test_save_at_exit_registers_a_save(elog, monkeypatch):
    registered = []
    monkeypatch.setattr("atexit.register", registered.append)
    fn = elog.save_at_exit(model=elog.experiment.model)
    assert registered == [fn]
    fn()
    assert (elog.experiment.checkpoint_dir / "checkpoint_end.pth.tar").is_file()


def test_checkpoint_names_stay_in_the_checkpoint_folder(elog):
    with pytest.raises(ConfigError):
        elog.save_checkpoint("../outside", model=elog.experiment.model)


def test_a_pickled_object_is_not_unpickled(elog, tmp_path):
    from fractions import Fraction  # any class the safe loader does not allow

    path = tmp_path / "evil.pth.tar"
    torch.save({"model": Fraction(1, 3)}, path)
    with pytest.raises(CheckpointError, match="weights_only"):
        TorchExperimentLogger.load_checkpoint_static(path, model=nn.Linear(3, 2))


def test_classification_and_curve_statics():
    seen = []
    out = TorchExperimentLogger.get_classification_metrics(
        torch.tensor([0.9, 0.2, 0.7, 0.1]),
        torch.tensor([1, 0, 1, 0]),
        name="val",
        results_fn=lambda v, n, t: seen.append((n, t)),
    )
    assert out["roc-auc"] == 1.0 and seen == [("roc-auc", "val"), ("pr-score", "val")]
    tpr, fpr = TorchExperimentLogger.get_roc_curve(
        torch.tensor([0.9, 0.2, 0.7, 0.1]), torch.tensor([1, 0, 1, 0])
    )
    assert tpr[-1] == 1.0 and fpr[-1] == 1.0
    precision, recall = TorchExperimentLogger.get_pr_curve(torch.tensor([0.9, 0.2]), torch.tensor([1, 0]))
    assert precision[1] == 1.0 and recall[-1] == 1.0
    grads = TorchExperimentLogger.get_input_gradient(nn.Linear(2, 1), torch.ones(1, 2), lambda o: o.sum())
    assert grads.shape == (1, 2)


def test_show_image_gradient_saves_a_saliency_grid(elog):
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 4), nn.ReLU(), nn.Linear(4, 2))
    path = elog.show_image_gradient(
        "saliency", model, torch.randn(3, 1, 4, 4), lambda o: o[:, 0].sum(), grad_type="guided"
    )
    assert path == elog.experiment.img_dir / "saliency.png"


def test_model_plots_as_files(elog):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert elog.plot_model_statistics_weights(model, model_name="net").name == "net_weights.png"
    with pytest.raises(CheckpointError, match="backward"):
        elog.plot_model_statistics_grads(model, model_name="net")
    model(torch.ones(2, 3)).sum().backward()
    assert elog.plot_model_statistics_grads(model, model_name="net").name == "net_grads.png"
    assert elog.plot_model_gradient_flow(model, name="net").name == "net_gradient_flow.png"
    path = elog.plot_model_structure(model, (2, 3), name="net_structure")
    assert path.read_text().splitlines()[1] == "  0: Linear [16 params] -> (2, 4)"
