"""trixi usage from its documentation that ran into trialog-trixi's last gaps (issue 22): the metrics module,
trixi's files in the run folder, resuming a finished run in the same process, ``update_attributes`` with
results, a Config holding a class, ``show_image_gradient`` as trixi computes it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from trialog.errors import CheckpointError, RunFolderError
from trialog.results.log import read_trixi_results

HANG = 600.0


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(2 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.relu(self.conv(x)).flatten(1))


def _experiment_class():
    from trixi.experiment.pytorchexperiment import PytorchExperiment

    class MyExperiment(PytorchExperiment):
        def setup(self):
            self.model = nn.Linear(2, 1)
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)
            self.steps = 0

        def train(self, epoch):
            for _i in range(3):
                self.steps += 1
                self.add_result(value=1.0 / self.steps, name="loss", counter=self.steps, tag="train")

        def validate(self, epoch):
            self.add_result(value=0.5 + epoch, name="acc", counter=epoch, tag="val")

    return MyExperiment


# ----------------------------------------------------------------------------------- 1. trixi.util.metrics
def test_metrics_module_has_trixis_curve_helpers():
    from trixi.logger.experiment import PytorchExperimentLogger
    from trixi.util.metrics import get_classification_metrics, get_pr_curve, get_roc_curve

    scores = torch.tensor([0.9, 0.2, 0.7, 0.1, 0.6, 0.4])
    labels = torch.tensor([1, 0, 1, 0, 0, 1])
    seen = []
    tpr, fpr = get_roc_curve(
        scores,
        labels,
        reduce_to_n_samples=None,
        use_sub_process=False,
        results_fn=lambda t, f: seen.append("roc"),
    )
    assert (tpr[0], fpr[0], tpr[-1], fpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    precision, recall = get_pr_curve(scores, labels, results_fn=lambda p, r: seen.append("pr"))
    assert precision[1] == 1.0 and recall[-1] == 1.0
    assert len(get_roc_curve(scores, labels, reduce_to_n_samples=3)[0]) == 3
    out = get_classification_metrics(
        scores, labels, name="val", metric=("roc-auc", "pr-score"), tag_name="clf",
        results_fn=lambda value, name, tag: seen.append((name, tag, value)),
    )  # fmt: skip
    assert out["roc-auc"] == pytest.approx(8 / 9)  # 8 of the 9 (positive, negative) pairs are ordered
    assert seen[:2] == ["roc", "pr"] and [s[:2] for s in seen[2:]] == [
        ("roc-auc", "clf"),
        ("pr-score", "clf"),
    ]
    # one implementation: the documented statics are these functions
    assert PytorchExperimentLogger.get_roc_curve is get_roc_curve
    assert PytorchExperimentLogger.get_pr_curve is get_pr_curve
    assert PytorchExperimentLogger.get_classification_metrics is get_classification_metrics


# ------------------------------------------------------------------------------------ 3. trixi's files
def test_trixi_files_where_trixi_writes_them(tmp_path):
    from trixi.experiment_browser import ExperimentReader

    exp = _experiment_class()(name="files", n_epochs=2, seed=1, base_dir=tmp_path)
    exp.add_result(name="test", value=1)
    log = exp.run_dir / "result" / "results-log.json"
    assert json.loads(log.read_text()) == [{"test": {"data": 1, "label": None, "epoch": 0, "counter": 0}}]
    exp.save_temp_checkpoint()
    current = exp.run_dir / "checkpoint" / "checkpoint_current.pth.tar"
    assert current.is_file()
    exp.run()

    elements = json.loads(log.read_text())
    assert len(elements) == 1 + 2 * 4 and elements[-1] == {
        "acc": {"data": 1.5, "label": "val", "epoch": 1, "counter": 1}
    }
    state = json.loads((exp.run_dir / "config" / "exp.json").read_text())
    assert (state["name"], state["state"], state["epoch"]) == ("files", "Ended", 1)
    last = exp.run_dir / "checkpoint" / "checkpoint_last.pth.tar"
    flat = torch.load(last, weights_only=True)  # trixi's flat {attribute: state} layout
    torch.testing.assert_close(flat["model"]["weight"], exp.model.weight)
    assert flat["steps"] == 6 and "state" in flat["optimizer"] and flat["results"]["acc"] == 1.5
    # readers of trixi's format take the file as trixi's own
    records = read_trixi_results(log)
    assert not records.truncated and [r["value"] for r in records if r["name"] == "acc"] == [0.5, 1.5]
    reader = ExperimentReader(str(exp.run_dir.parent), exp.run_dir.name)
    assert reader.get_results_log()["val"]["acc"]["data"] == [0.5, 1.5]

    # checkpoints verify like trialog's: a changed file is refused, not loaded
    again = _experiment_class()(name="files2", n_epochs=0, base_dir=tmp_path)
    again.setup()
    again.load_checkpoint(path=str(last))
    torch.testing.assert_close(again.model.weight, exp.model.weight)
    data = bytearray(last.read_bytes())
    data[-30] ^= 0xFF
    last.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"checkpoint_last\.pth\.tar is corrupt"):
        again.load_checkpoint(path=str(last))
    again.close()


def test_native_trialog_runs_keep_their_layout(tmp_path):
    from trialog_torch import TorchExperiment

    class Native(TorchExperiment):
        def setup(self):
            self.model = nn.Linear(2, 1)

        def train(self, epoch):
            self.add_result(1.0, "loss")

    exp = Native(n_epochs=1, base_dir=tmp_path, loggers={}, save_checkpoints_default=True)
    exp.run()
    assert not (exp.run_dir / "result" / "results-log.json").exists()
    assert not (exp.run_dir / "config" / "exp.json").exists()
    assert not list((exp.run_dir / "checkpoint").glob("*.pth.tar"))


def test_results_log_is_a_valid_array_whenever_a_reader_looks(tmp_path):
    """A reader polling results-log.json while the experiment adds results always parses a whole array,
    and its length never goes down."""
    exp = _experiment_class()(name="poll", n_epochs=0, base_dir=tmp_path)
    log = exp.run_dir / "result" / "results-log.json"
    exp.add_result_without_epoch(0.0, "x")
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append(len(json.loads(log.read_bytes())))
            except BaseException as exc:
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(1, 3000):
        exp.add_result_without_epoch(float(i), "x")
    stop.set()
    reader.join(HANG)
    exp.save_results()
    assert not errors and seen and seen == sorted(seen)
    assert len(json.loads(log.read_bytes())) == 3000
    exp.close()


# --------------------------------------------------------------------- 4. a finished run's lock is released
def test_resume_a_finished_experiment_in_the_same_process(tmp_path):
    cls = _experiment_class()
    first = cls(name="first", n_epochs=2, seed=1, base_dir=tmp_path)
    first.run()
    second = cls(n_epochs=3, base_dir=tmp_path, resume=first.run_dir, resume_reset_epochs=False)
    second.run()
    assert second.run_dir == first.run_dir and second.steps == 9
    # a second live writer is still refused
    live = cls(name="live", n_epochs=1, base_dir=tmp_path)
    with pytest.raises(RunFolderError, match=r"in use by pid \d+"):
        cls(n_epochs=1, base_dir=tmp_path, resume=live.run_dir)
    live.close()


def test_a_failure_while_finishing_still_releases_the_lock(tmp_path):
    class Failing(_experiment_class()):
        def save_end_checkpoint(self):
            raise OSError("disk gone")

    first = Failing(name="fails", n_epochs=1, base_dir=tmp_path)
    with pytest.raises(OSError, match="disk gone"):
        first.run()
    again = _experiment_class()(n_epochs=1, base_dir=tmp_path, resume=first.run_dir)
    again.close()


# ------------------------------------------------------------------------------- 5. update_attributes
def test_update_attributes_sets_results_and_members(tmp_path):
    exp = _experiment_class()(name="attrs", n_epochs=0, base_dir=tmp_path)
    exp.update_attributes(
        {"results": {"loss": {"data": 0.25, "label": "train", "epoch": 3, "counter": 7}, "acc": 0.9},
         "steps": 4, "ignored": 1},
        ignore=("ignored",),
    )  # fmt: skip
    assert exp.results["loss"] == 0.25 and exp.results["acc"] == 0.9 and exp.steps == 4
    assert not hasattr(exp, "ignored")
    exp.close()
    assert json.loads((exp.run_dir / "result" / "results-log.json").read_text())[0] == {
        "loss": {"data": 0.25, "label": "train", "epoch": 3, "counter": 7}
    }


def test_resume_path_sets_results_through_update_attributes(tmp_path):
    """trixi's resume loads a checkpoint dict with ``update_attributes``; its ``results`` go to the results."""
    cls = _experiment_class()
    first = cls(name="src", n_epochs=1, base_dir=tmp_path)
    first.run()
    checkpoint = torch.load(first.run_dir / "checkpoint" / "checkpoint_last.pth.tar", weights_only=True)
    other = cls(name="dst", n_epochs=0, base_dir=tmp_path)
    other.setup()
    other.update_attributes(checkpoint, ignore=("model", "optimizer"))
    assert other.results["acc"] == 0.5 and other.steps == 3
    other.close()


# ------------------------------------------------------------------------------------ 6. a class in a Config
def test_config_with_a_class_round_trips(tmp_path):
    from trixi.util import Config

    from trialog.config.config import allow_config_types

    c = Config()
    c.cls = str
    c.model = {"type": Net, "loss": nn.CrossEntropyLoss}
    c.dump(str(tmp_path / "c.json"))
    loaded = Config(file_=str(tmp_path / "c.json"))
    assert loaded.cls is str  # builtins come back
    assert str(loaded.model.type) == f"__type__({__name__}.Net)"  # not imported on load
    allow_config_types(Net, nn.CrossEntropyLoss)
    loaded = Config(file_=str(tmp_path / "c.json"))
    assert loaded.model.type is Net and loaded.model.loss is nn.CrossEntropyLoss
    assert json.loads(loaded.dumps())["model"]["type"] == f"__type__({__name__}.Net)"
    # anything else stays a tag: loading imports nothing
    (tmp_path / "evil.json").write_text(
        json.dumps({"cls": "__type__(subprocess.Popen)", "f": "__function__(builtins.eval)"})
    )
    evil = Config(file_=str(tmp_path / "evil.json"))
    assert str(evil.cls) == "__type__(subprocess.Popen)" and str(evil.f) == "__function__(builtins.eval)"


# ---------------------------------------------------------------------------------- 7. show_image_gradient
def test_show_image_gradient_as_trixi_computes_it(tmp_path):
    """trixi's err_fn gets the input (detached, requires_grad) and calls the model itself."""
    from PIL import Image
    from trixi.logger.experiment import PytorchExperimentLogger
    from trixi.util.pytorchutils import get_input_gradient

    torch.manual_seed(0)
    model, inpt = Net(), torch.rand(1, 1, 6, 6)
    err_fn = lambda x: model(x)[0, 3]  # noqa: E731 - trixi's style
    x = inpt.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(model(x)[0, 3], x)
    grads = get_input_gradient(model, inpt, err_fn)
    assert isinstance(grads, torch.Tensor) and not inpt.requires_grad
    torch.testing.assert_close(grads, expected)
    guided = get_input_gradient(model, inpt, err_fn, grad_type="guided")
    assert guided.shape == inpt.shape
    smooth = get_input_gradient(model, inpt, err_fn, grad_type="smooth-vanilla", n_runs=2)  # trixi's spelling
    assert smooth.shape == inpt.shape

    elog = PytorchExperimentLogger("grads", tmp_path)
    elog.show_image_gradient("saliency", model, inpt, err_fn)
    elog.close()
    assert Image.open(Path(elog.img_dir) / "saliency.png").size == (6, 6)

    exp = _experiment_class()(name="elog", n_epochs=0, base_dir=tmp_path)
    assert isinstance(exp.elog, PytorchExperimentLogger)
    exp.elog.show_image_gradient("saliency", model, inpt, err_fn, grad_type="vanilla")
    assert (exp.img_dir / "saliency.png").is_file()
    assert np.isfinite(np.asarray(Image.open(exp.img_dir / "saliency.png"))).all()
    exp.close()
