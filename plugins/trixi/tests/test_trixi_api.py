"""trialog-trixi: trixi's module paths and names, called as trixi's documentation shows."""

from __future__ import annotations

import importlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from trialog.api import Run
from trialog.errors import ConfigError

FIXTURE = Path(__file__).with_name("trixi-run-example")

MODULES = {
    "trixi.experiment": ["Experiment", "PytorchExperiment"],
    "trixi.experiment.experiment": ["Experiment"],
    "trixi.experiment.pytorchexperiment": ["PytorchExperiment", "get_last_file", "get_vars_from_sys_argv"],
    "trixi.experiment_browser": ["ExperimentReader", "CombiExperimentReader"],
    "trixi.experiment_browser.experimentreader": ["ExperimentReader", "CombiExperimentReader", "group_experiments_by"],
    "trixi.logger": ["ExperimentLogger", "PytorchExperimentLogger", "CombinedLogger"],
    "trixi.logger.combinedlogger": ["CombinedLogger"],
    "trixi.logger.experiment": ["ExperimentLogger", "PytorchExperimentLogger"],
    "trixi.logger.experiment.experimentlogger": ["ExperimentLogger"],
    "trixi.logger.experiment.pytorchexperimentlogger": ["PytorchExperimentLogger"],
    "trixi.util": ["Config", "GridSearch", "ResultElement", "SafeDict", "np_make_grid", "chw_to_hwc"],
    "trixi.util.util": ["figure_to_image", "get_tensor_embedding", "name_and_iter_to_filename"],
    "trixi.util.config": ["Config", "update_from_sys_argv"],
    "trixi.util.gridsearch": ["GridSearch"],
    "trixi.util.pytorchutils": [
        "get_input_gradient", "get_vanilla_image_gradient", "get_guided_image_gradient",
        "get_smooth_image_gradient", "set_seed", "update_model",
    ],
    "trixi.util.metrics": ["get_classification_metrics"],
    "trixi.util.sourcepacker": ["SourcePacker"],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(MODULES))
def test_trixi_module_paths_import(module):
    mod = importlib.import_module(module)
    for name in MODULES[module]:
        assert callable(getattr(mod, name)), (module, name)


def test_the_package_imports_only_the_public_core_api():
    root = Path(importlib.import_module("trixi").__file__).parent
    for path in root.rglob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("from trialog", "import trialog")):
                assert line.startswith(
                    ("from trialog.api import", "from trialog.errors import", "from trialog_")
                ), (path, line)


# ---------------------------------------------------------------------------------------------------------------
# ExperimentLogger / PytorchExperimentLogger used on their own


def test_experiment_logger_makes_a_run_folder(tmp_path):
    from trixi.logger import ExperimentLogger

    elog = ExperimentLogger(exp_name="standalone", base_dir=str(tmp_path))
    try:
        work = Path(elog.work_dir)
        assert work.parent == tmp_path and work.name.endswith("_standalone")
        for sub in ("checkpoint", "config", "img", "log", "plot", "result", "save"):
            assert (work / sub).is_dir()
        elog.show_text("hello")
        elog.save_result({"a": 1}, "res")
        elog.save_dict({"t": (1, 2)}, "d")
        assert elog.load_dict("d") == {"t": (1, 2)}
    finally:
        elog.close()
    assert Run(work).status == "finished"
    assert (work / "log" / "default.log").read_text().rstrip().endswith("- INFO - hello")


def test_experiment_logger_refuses_unknown_keywords(tmp_path):
    from trixi.logger import ExperimentLogger

    with pytest.raises(ConfigError, match="unknown keyword"):
        ExperimentLogger("x", str(tmp_path), colour="red")
    assert list(tmp_path.iterdir()) == []


def test_pytorch_experiment_logger_checkpoints(tmp_path):
    from trixi.logger.experiment.pytorchexperimentlogger import PytorchExperimentLogger

    elog = PytorchExperimentLogger("torchy", str(tmp_path))
    try:
        model = nn.Linear(2, 2)
        elog.save_checkpoint("ck", model=model, n=3)
        other = nn.Linear(2, 2)
        assert elog.load_checkpoint("ck", model=other, n=0)["n"] == 3
        torch.testing.assert_close(other.weight, model.weight)
        elog.save_model(model, "m")
        elog.load_model(nn.Linear(2, 2), "m")
    finally:
        elog.close()


# ---------------------------------------------------------------------------------------------------------------
# PytorchExperiment's trixi arguments


def test_pytorch_experiment_trixi_arguments(tmp_path, monkeypatch):
    from trixi.experiment import PytorchExperiment

    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"lr": 0.5, "n_epochs": 2}))
    monkeypatch.setattr("sys.argv", ["script.py", "--config_path", str(cfg)])
    exp = PytorchExperiment(
        name="args",
        base_dir=str(tmp_path / "runs"),
        parse_sys_argv=True,
        explogger_kwargs={"folder_format": "{experiment_name}_fixed"},
        loggers={},
    )
    try:
        assert exp.config.lr == 0.5 and exp.n_epochs == 2
        assert exp.run_dir.name == "args_fixed"
        assert exp.resume_reset_epochs is True and exp.save_checkpoints_default is True
        assert exp.tblog is None and exp.vlog is None
        assert "file" in exp.loggers
        exp.add_result(1.0, "loss", label="train")
        exp.add_result_without_epoch(2.0, "final")
        assert exp.get_result("loss") == 1.0 and exp.results["final"] == 2.0
        with pytest.raises(ConfigError, match="plot_running_mean"):
            exp.add_result("text", "loss", plot_running_mean=True)
    finally:
        exp.close()
    records = Run(exp.run_dir).records
    assert records[0]["tag"] == "train" and records[1]["epoch"] is None


def test_explogger_kwargs_unknown_key(tmp_path):
    from trixi.experiment import PytorchExperiment

    with pytest.raises(ConfigError, match="explogger_kwargs"):
        PytorchExperiment(base_dir=str(tmp_path), explogger_kwargs={"nope": 1})


def test_trixi_logger_frequency_default_is_ten():
    from trixi.experiment.pytorchexperiment import _trixi_loggers

    out = _trixi_loggers({"tb": "tensorboard", "v": ("visdom", {"port": 1}), "s": ("slack", {}, 2)}, 1)
    assert out == {
        "file": ("file", {"group_by": "tag"}, 1),  # trixi's layout: a plot / card per tag
        "tb": ("tensorboard", {"group_by": "tag"}, 10),
        "v": ("visdom", {"port": 1}, 10),
        "s": ("slack", {}, 2),
    }


def test_experiment_base_class_lifecycle(tmp_path):
    from trixi.experiment import Experiment

    calls = []

    class E(Experiment):
        def setup(self):
            calls.append("setup")

        def train(self, epoch):
            calls.append(("train", epoch))

        def validate(self, epoch):
            calls.append(("validate", epoch))
            if epoch == 1:
                self.stop()

        def end(self):
            calls.append("end")

    E(n_epochs=5, base_dir=tmp_path, save_sources=False).run()
    assert calls == ["setup", ("train", 0), ("validate", 0), ("train", 1), ("validate", 1), "end"]


def test_get_vars_from_sys_argv_and_get_last_file(tmp_path):
    from trixi.experiment.pytorchexperiment import get_last_file, get_vars_from_sys_argv

    assert get_vars_from_sys_argv(["--resume_path", "r", "--other", "1"]) == (None, "r")
    assert get_vars_from_sys_argv(["--config_path", "c"]) == ("c", None)
    (tmp_path / "a_checkpoint.pth.tar").write_text("1")
    (tmp_path / "sub").mkdir()
    newest = tmp_path / "sub" / "b_checkpoint.pth.tar"
    newest.write_text("2")
    import os

    os.utime(tmp_path / "a_checkpoint.pth.tar", ns=(1, 1))
    assert get_last_file(str(tmp_path), "checkpoint") == str(newest)


# ---------------------------------------------------------------------------------------------------------------
# util


def test_np_make_grid_and_chw_to_hwc():
    from trixi.util import chw_to_hwc, np_make_grid

    batch = np.random.default_rng(0).random((6, 3, 4, 5))
    grid = np_make_grid(batch, nrow=3, padding=1)
    assert grid.shape == (3, 2 * 4 + 3, 3 * 5 + 4)
    assert grid.dtype == np.float32 and 0.0 <= grid.min() and grid.max() <= 1.0
    assert np_make_grid(batch, nrow=3, padding=1, to_int=True).dtype == np.uint8
    np.testing.assert_allclose(grid[:, 1:5, 1:6], batch[0], atol=1 / 255)
    assert chw_to_hwc(grid).shape == (11, 19, 3)
    assert chw_to_hwc(batch).shape == (6, 4, 5, 3)
    ranged = np_make_grid(batch * 10, nrow=6, padding=0, range=(0, 10))
    np.testing.assert_allclose(ranged[:, :, :5], batch[0], atol=1 / 255)


def test_figure_to_image():
    from trialog_figures import render
    from trixi.util.util import figure_to_image

    img = figure_to_image(render.barplot([1, 2, 3]))
    assert img.shape[0] == 3 and img.dtype == np.uint8
    assert figure_to_image([render.barplot([1]), render.barplot([2])]).shape[:2] == (2, 3)


def test_name_and_iter_to_filename_safe_dict_result_element():
    from trixi.util import ResultElement, SafeDict
    from trixi.util.util import name_and_iter_to_filename

    assert name_and_iter_to_filename("model", 12, ".pth") == "model_00012.pth"
    assert name_and_iter_to_filename("model", 3, ".pth", prefix=True) == "00003_model.pth"
    assert "{a}-{b}".format_map(SafeDict(a=1)) == "1-{b}"
    assert ResultElement(data=1.0, label="x", epoch=2, counter=3) == {
        "data": 1.0,
        "label": "x",
        "epoch": 2,
        "counter": 3,
    }


def test_get_tensor_embedding_pca():
    from trixi.util.util import get_tensor_embedding

    assert get_tensor_embedding(np.random.default_rng(0).random((10, 4)), method="pca").shape == (10, 2)


def test_config_and_update_from_sys_argv(tmp_path, monkeypatch):
    from trixi.util.config import Config, update_from_sys_argv

    c = Config(lr=0.1, model={"depth": 2})
    c.dump(tmp_path / "c.json")
    assert Config(file_=str(tmp_path / "c.json")).model.depth == 2
    monkeypatch.setattr("sys.argv", ["s.py", "--model.depth", "5"])
    update_from_sys_argv(c)
    assert c.model.depth == 5


def test_gridsearch_all_combinations_and_read(tmp_path):
    from trixi.util import GridSearch

    grid = GridSearch({"lr": [0.1, 0.01], "bs": [8, 16]})
    assert grid.all_combinations() == [
        {"bs": 8, "lr": 0.1}, {"bs": 8, "lr": 0.01}, {"bs": 16, "lr": 0.1}, {"bs": 16, "lr": 0.01},
    ]  # fmt: skip
    (tmp_path / "g.json").write_text(json.dumps({"a": [1, 2]}))
    assert GridSearch().read(str(tmp_path / "g.json")).all_combinations() == [{"a": 1}, {"a": 2}]


def test_pytorchutils_update_model_and_metrics():
    from trixi.util.metrics import get_classification_metrics
    from trixi.util.pytorchutils import get_input_gradient, set_seed, update_model

    set_seed(1)
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    assert update_model(b, a.state_dict(), exclude_layers=("bias",)) is b
    torch.testing.assert_close(b.weight, a.weight)
    assert not torch.equal(b.bias, a.bias)
    out = get_classification_metrics(torch.tensor([0.9, 0.1]), torch.tensor([1, 0]))
    assert out["accuracy"] == 1.0
    assert get_input_gradient(a, torch.ones(1, 2), lambda o: o.sum()).shape == (1, 2)


def test_source_packer_zips_sources(tmp_path, monkeypatch):
    from trixi.util.sourcepacker import SourcePacker

    (tmp_path / "script.py").write_text("print(1)\n")
    monkeypatch.chdir(tmp_path)
    names = SourcePacker.zip_sources(globals(), str(tmp_path / "src.zip"))
    with zipfile.ZipFile(tmp_path / "src.zip") as zf:
        assert sorted(zf.namelist()) == sorted(names)


# ---------------------------------------------------------------------------------------------------------------
# reading old trixi run folders


def test_experiment_reader_reads_the_trixi_fixture(tmp_path):
    from trixi.experiment_browser import ExperimentReader

    base = tmp_path / "base"
    shutil.copytree(FIXTURE, base / "trixi-run-example")
    reader = ExperimentReader(str(base), "trixi-run-example")
    assert reader.exp_name == "trixi_example"
    assert reader.config.lr == 0.01 and reader.config.model.depth == 3
    assert reader.exp_info["state"] == "Trained"
    assert reader.get_results() == pytest.approx({"loss": 0.06948345122280154, "acc": 0.7})
    log = reader.get_results_log()
    assert set(log) == {"train", "val"}
    assert log["val"]["acc"]["data"] == pytest.approx([0.5, 0.6, 0.7])
    assert log["train"]["loss"]["counter"][:3] == [0, 1, 2]
    assert reader.get_logs() == ["default.log"]
    assert "Experiment ended" in reader.get_log_file_content("default.log")
    with pytest.raises(ConfigError):
        reader.get_log_file_content("../config/config.json")
    reader.update_meta_info(name="renamed", star=True)
    again = ExperimentReader(str(base), "trixi-run-example")
    assert again.exp_name == "renamed" and again.meta_star
    again.ignore_experiment()
    assert ExperimentReader(str(base), "trixi-run-example").ignore


def test_experiment_reader_accepts_a_killed_trixi_run(tmp_path):
    from trixi.experiment_browser import ExperimentReader

    run = tmp_path / "killed"
    shutil.copytree(FIXTURE, run)
    log = run / "result" / "results-log.json"
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:5]).rstrip(",") + ",\n")  # no closing bracket, trailing comma
    reader = ExperimentReader(str(tmp_path), "killed")
    assert len(reader.get_results_log()["train"]["loss"]["data"]) == 3


def test_combi_experiment_reader(tmp_path):
    from trixi.experiment_browser import CombiExperimentReader

    for name in ("a", "b"):
        shutil.copytree(FIXTURE, tmp_path / name)
    combi = CombiExperimentReader(str(tmp_path), ["a", "b"])
    assert combi.get_results()["acc"] == pytest.approx(0.7)
    merged = combi.get_results_log()
    assert merged["val"]["acc"]["data"] == pytest.approx([0.5, 0.6, 0.7])
    assert combi.get_config().lr == 0.01
    with pytest.raises(ConfigError):
        CombiExperimentReader(str(tmp_path), [])


def test_group_experiments_by(tmp_path):
    from trixi.experiment_browser.experimentreader import ExperimentReader, group_experiments_by

    for name in ("a", "b"):
        shutil.copytree(FIXTURE, tmp_path / name)
    readers = [ExperimentReader(str(tmp_path), n) for n in ("a", "b")]
    groups = group_experiments_by(readers, ["model.depth"])
    assert list(groups) == [("3",)] and len(groups[("3",)]) == 2
