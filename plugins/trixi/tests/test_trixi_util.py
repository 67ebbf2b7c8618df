"""trixi's ResultLogDict, LogDict, monkey_patch_fn_args_as_config, experimentify, float counters,
CombiExperimentReader.save, resolve_format and the *_static model helpers, called as trixi's docs show."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from trialog.api import Run
from trialog.errors import CheckpointError, CorruptFileError

FIXTURE = Path(__file__).with_name("trixi-run-example")


def test_result_log_dict_and_log_dict_from_trixi_util(tmp_path):
    from trixi.util import LogDict, ResultLogDict
    from trixi.util.util import LogDict as LogDict2
    from trixi.util.util import ResultLogDict as ResultLogDict2

    assert LogDict is LogDict2 and ResultLogDict is ResultLogDict2
    results = ResultLogDict("results-log.json", base_dir=str(tmp_path), running_mean_length=2)
    for epoch in range(3):
        results["loss"] = {
            "data": 1.0 / (epoch + 1),
            "label": "train",
            "epoch": epoch,
            "counter": epoch + 0.5,
        }
    assert results["loss"] == pytest.approx(1 / 3)
    assert list(results.running_mean_dict["loss"]) == pytest.approx([0.5, 1 / 3])
    results.print_to_file('{"note": {"data": 1}},')
    results.load({"acc": 0.9})
    assert results["acc"] == 0.9
    results.close()
    elements = json.loads((tmp_path / "results-log.json").read_text())
    assert [e["loss"]["counter"] for e in elements if "loss" in e] == [0.5, 1.5, 2.5]

    log = LogDict("log.txt", base_dir=str(tmp_path), to_console=False, mode="a")
    log["lr"] = 0.1
    log.log_complete_content()
    log.close()
    assert (tmp_path / "log.txt").read_text() == "{'lr': 0.1}\n"

    (tmp_path / "bad.json").write_text("[\n{nope\n{}\n")
    with pytest.raises(CorruptFileError, match=r"bad\.json"):
        ResultLogDict("bad.json", base_dir=str(tmp_path))


def test_monkey_patch_fn_args_as_config():
    from trixi.util.config import monkey_patch_fn_args_as_config

    @monkey_patch_fn_args_as_config
    def train(lr=0.1, batch_size=32, **kwargs):
        return dict(fn_args_as_config)  # noqa: F821 -- the decorator adds it to this module's globals

    assert train(batch_size=8, extra=1) == {"lr": 0.1, "batch_size": 8, "kwargs": {"extra": 1}}
    assert "fn_args_as_config" not in globals()


def test_experimentify_makes_a_pytorch_experiment(tmp_path):
    from trixi.experiment import PytorchExperiment, experimentify
    from trixi.experiment.pytorchexperiment import experimentify as experimentify2

    assert experimentify is experimentify2

    @experimentify(setup_fn="my_setup", train_fn="my_train", n_epochs=2, base_dir=str(tmp_path), loggers={})
    class Net:
        def my_setup(self):
            self.model = nn.Linear(2, 1)

        def my_train(self, epoch):
            for i in range(4):
                self.add_result(float(epoch * 4 + i), "loss", counter=epoch + i / 4)

    exp = Net()
    assert isinstance(exp, PytorchExperiment)
    exp.run()
    run = Run(exp.run_dir)
    assert run.status == "finished"
    assert run.results["loss"]["counter"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    assert "checkpoint_last" in exp.named_checkpoints()  # trixi's default end checkpoint


def test_pytorch_experiment_add_result_with_a_float_counter(tmp_path):
    from trixi.experiment import PytorchExperiment

    exp = PytorchExperiment(name="fc", base_dir=str(tmp_path), loggers={})
    n_batches = 5
    for epoch in range(2):
        for i in range(n_batches):
            exp.add_result(0.1 * i, "loss", counter=epoch + i / n_batches, tag="train")
        exp.add_result(0.5, "acc", counter=epoch, label="val")
    exp.close()
    results = Run(exp.run_dir).results
    assert results["loss"]["counter"].dtype == np.float64
    assert results["loss"]["counter"].tolist() == pytest.approx(
        [e + i / 5 for e in range(2) for i in range(5)]
    )
    assert results["acc"]["counter"].dtype == np.int64 and results["acc"]["counter"].tolist() == [0, 1]
    from trixi.experiment_browser import ExperimentReader

    log = ExperimentReader(str(tmp_path), exp.run_dir.name).get_results_log()
    assert log["train"]["loss"]["counter"][:2] == [0.0, 0.2]


def test_combi_experiment_reader_save_writes_a_run_folder(tmp_path):
    from trixi.experiment_browser import CombiExperimentReader, ExperimentReader

    base = tmp_path / "base"
    for name in ("a", "b"):
        shutil.copytree(FIXTURE, base / name)
    combi = CombiExperimentReader(str(base), ["a", "b"], name="both")
    expected = combi.get_results_log()
    saved = Path(combi.save(str(tmp_path / "combined")))
    assert saved.parent == tmp_path / "combined" and saved.name.endswith("_both")
    assert combi.work_dir == str(saved) and combi.result_dir == str(saved / "result")
    run = Run(saved)
    assert run.kind == "trialog" and run.status == "finished" and run.name == "both"
    assert run.meta["combined_from"] == [str((base / n).resolve()) for n in ("a", "b")]
    assert run.config.lr == 0.01
    assert run.results["acc"]["value"].tolist() == pytest.approx(expected["val"]["acc"]["data"])
    assert run.results["acc"]["tag"] == ["val"] * 3
    combined = json.loads((saved / "result" / "combined.json").read_text())
    assert combined["results_log"]["val"]["acc"]["max"] == pytest.approx(expected["val"]["acc"]["max"])
    again = ExperimentReader(str(saved.parent), saved.name)
    assert again.get_results_log()["val"]["acc"]["data"] == pytest.approx(expected["val"]["acc"]["data"])
    # without a target: next to the combined runs
    default = Path(CombiExperimentReader(str(base), ["a", "b"]).save())
    assert default.parent == base.resolve()


def test_resolve_format(tmp_path):
    from trixi.logger import ExperimentLogger

    elog = ExperimentLogger(
        exp_name="fmt", base_dir=str(tmp_path), folder_format="{experiment_name}_{run_number}"
    )
    try:
        assert Path(elog.work_dir).name == "fmt_1"
        assert elog.resolve_format("{experiment_name}_{run_number}", resume=False) == "fmt_2"
        assert elog.resolve_format("{experiment_name}_{run_number}", resume=True) == "fmt_1"
        (tmp_path / "fmt_7").mkdir()
        assert elog.resolve_format("{experiment_name}_{run_number}", resume=False) == "fmt_8"
        assert elog.resolve_format("{run_number:03d}-{experiment_name}", resume=False) == "001-fmt"
        assert elog.resolve_format("%Y_{experiment_name}_{other}", resume=False).endswith("_fmt_{other}")
        assert elog.resolve_format(None, resume=False) is None
    finally:
        elog.close()


def test_static_model_and_checkpoint_helpers(tmp_path):
    from trixi.logger import PytorchExperimentLogger

    model = nn.Linear(3, 2)
    path = PytorchExperimentLogger.save_model_static(model, str(tmp_path / "m.pth"))
    other = nn.Linear(3, 2)
    PytorchExperimentLogger.load_model_static(other, str(path))
    torch.testing.assert_close(other.weight, model.weight)
    torch.save(model.state_dict(), tmp_path / "trixi.pth")  # what trixi's save_model_static wrote
    third = nn.Linear(3, 2)
    PytorchExperimentLogger.load_model_static(third, str(tmp_path / "trixi.pth"), exclude_layers=["bias"])
    torch.testing.assert_close(third.weight, model.weight)
    assert not torch.equal(third.bias, model.bias)
    PytorchExperimentLogger.save_checkpoint_static(str(tmp_path / "ck.pth.tar"), model=model, step=4)
    loaded = PytorchExperimentLogger.load_checkpoint_static(
        str(tmp_path / "ck.pth.tar"), model=nn.Linear(3, 2), step=0
    )
    assert loaded["step"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ck.pth.tar",
        "m.pth",
        "trixi.pth",
    ]  # no temp file left
    (tmp_path / "junk.pth").write_bytes(b"\x00not a checkpoint")
    with pytest.raises(CheckpointError, match=r"junk\.pth"):
        PytorchExperimentLogger.load_model_static(nn.Linear(3, 2), str(tmp_path / "junk.pth"))
