"""Evaluation after training: ``--eval`` and ``evaluate_run``, predictions, and testing on the best checkpoint."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from trialog_figures import decode_png
from trialog_torch.cli import run_config
from trialog_torch.predictions import palette
from trialog_torch.trainers import ClassificationTrainer, SegmentationTrainer

from trialog.api import CheckpointManager
from trialog.cli import main
from trialog.errors import ConfigError, TrialogWarning

MODEL_PY = """
from torch import nn


class Net(nn.Sequential):
    def __init__(self, in_features=4, num_classes=3):
        super().__init__(nn.Linear(in_features, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, num_classes))
"""

DATA_PY = """
import torch
from torch.utils.data import Dataset


class Blobs(Dataset):
    '''Three overlapping Gaussian blobs; ``ids`` names every sample.'''

    def __init__(self, n=60, dim=4, seed=0, flip=False):
        g = torch.Generator().manual_seed(seed)
        self.targets = torch.arange(n) % 3
        self.x = torch.eye(3, dim)[self.targets] * 1.5 + torch.randn(n, dim, generator=g)
        if flip:  # labels that disagree with training: validation gets worse while training improves
            self.targets = (self.targets + 1) % 3
        self.ids = [f"s{seed}-{i}" for i in range(n)]

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return self.x[i], self.targets[i]
"""


def _config(**trainer) -> dict:
    return {
        "name": "blobs",
        "seed": 3,
        "model": {"type": "model:Net", "params": {"in_features": 4, "num_classes": 3}},
        "data": {
            "train": {"type": "data:Blobs", "params": {"n": 90, "seed": 0}},
            "val": {"type": "data:Blobs", "params": {"n": 30, "seed": 1}},
            "test": {"type": "data:Blobs", "params": {"n": 45, "seed": 2}},
            "loader": {"batch_size": 16},
        },
        "trainer": {
            "type": "classification",
            "epochs": 3,
            "device": "cpu",
            "predictions": True,
            "optimization": {"optimizer": {"type": "torch.optim.SGD", "params": {"lr": 0.1}}},
            **trainer,
        },
        "loggers": {},
    }


@pytest.fixture
def project(tmp_path: Path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "model.py").write_text(MODEL_PY)
    (folder / "data.py").write_text(DATA_PY)

    def write(config: dict) -> Path:
        path = folder / "config.json"
        path.write_text(json.dumps(config))
        return path

    return write


def _results(run_dir: Path) -> dict[str, float]:
    lines = (run_dir / "result" / "results.jsonl").read_text().splitlines()
    return {  # by series key: the name "loss" tagged "test" is test/loss
        f"{r['tag']}/{r['name']}" if r.get("tag") else r["name"]: r["value"]
        for r in map(json.loads, lines)
        if r["epoch"] is None
    }


def _run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["run", *map(str, argv), "--quiet"])
    out, err = capsys.readouterr()
    return rc, out, err


def _run_folder(out: str) -> Path:
    (line,) = [line for line in out.splitlines() if line.startswith("run folder: ")]
    return Path(line.removeprefix("run folder: "))


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _project(folder: Path, module: str):
    """The project's own module (not one of that name another test imported)."""
    spec = importlib.util.spec_from_file_location(f"_eval_{module}", folder / f"{module}.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def _best_model(run_dir: Path, monitor: str = "val/accuracy", mode: str = "max") -> nn.Module:
    state, _ = CheckpointManager(run_dir / "checkpoint", monitor=monitor, mode=mode).load("best")
    model = _project(run_dir.parent.parent / "project", "model").Net(4, 3)
    model.load_state_dict(state["user"]["model"]["model"])
    return model.eval()


def test_eval_of_a_finished_run_reproduces_its_test_metrics_and_writes_prediction_rows(
    project, tmp_path: Path, capsys
) -> None:
    config = project(_config())
    rc, out, err = _run(capsys, config, "--base-dir", tmp_path / "runs")
    assert rc == 0, err
    run_dir = _run_folder(out)
    logged = _results(run_dir)
    assert {"test/loss", "test/accuracy", "test/epoch"} <= set(logged)
    before = _digest(run_dir)

    rc, out, err = _run(capsys, config, "--eval", run_dir, "--checkpoint", "best", "--split", "test")
    assert rc == 0, err
    eval_dir = _run_folder(out)
    assert eval_dir != run_dir and eval_dir.parent == run_dir.parent and eval_dir.name.endswith("_blobs-eval")
    evaluated = _results(eval_dir)
    for name in ("test/loss", "test/accuracy", "test/epoch"):
        assert evaluated[name] == logged[name], name  # exactly
    assert _digest(run_dir) == before  # the evaluated run is only read
    recorded = json.loads((eval_dir / "config" / "config.json").read_text())["evaluated"]
    assert recorded == {"run": str(run_dir.resolve()), "checkpoint": "best", "split": "test"}

    rows = np.load(eval_dir / "result" / "predictions" / "test.npz")
    assert rows["index"].tolist() == list(range(45))
    assert rows["id"].tolist() == [f"s2-{i}" for i in range(45)]
    assert rows["target"].tolist() == (torch.arange(45) % 3).tolist()
    model = _best_model(run_dir)
    x = _project(tmp_path / "project", "data").Blobs(n=45, seed=2).x
    for i in (0, 7, 44):
        expected = model(x[i : i + 1])[0].detach()
        torch.testing.assert_close(torch.from_numpy(rows["output"][i]), expected, rtol=1e-6, atol=1e-6)
        scores = expected.softmax(0)
        assert rows["top_k_index"][i].tolist() == scores.argsort(descending=True).tolist()
        torch.testing.assert_close(
            torch.from_numpy(rows["top_k_score"][i]), scores.sort(descending=True).values
        )
    accuracy = float(
        (torch.from_numpy(rows["output"]).argmax(1) == torch.from_numpy(rows["target"])).double().mean()
    )
    assert accuracy == pytest.approx(logged["test/accuracy"])
    # the training run's own end-of-training predictions are the same rows
    own = np.load(run_dir / "result" / "predictions" / "test.npz")
    for key in rows.files:
        assert np.array_equal(own[key], rows[key]), key

    rc, out, err = _run(capsys, config, "--eval", run_dir, "--checkpoint", "last", "--split", "val")
    assert rc == 0, err
    again = _run_folder(out)
    assert again not in (eval_dir, run_dir)  # a new folder each time: nothing is overwritten
    assert (again / "result" / "predictions" / "val.npz").is_file()
    assert _results(again)["val/epoch"] == 2.0


def test_eval_errors_are_named_before_any_folder_is_made(project, tmp_path: Path, capsys) -> None:
    config = project(_config())
    rc, _, err = _run(capsys, config, "--eval", tmp_path / "nowhere", "--base-dir", tmp_path / "runs")
    assert rc == 1 and "--eval" in err and "not a run folder with checkpoints" in err
    assert not (tmp_path / "runs").exists()
    rc, _, err = _run(capsys, config, "--eval", tmp_path, "--checkpoint", "newest")
    assert rc == 1 and "--checkpoint must be 'best', 'last' or a step number, got 'newest'" in err
    rc, _, err = _run(capsys, config, "--split", "val")
    assert rc == 1 and "--checkpoint and --split go with --eval RUN" in err


def test_csv_predictions_from_the_python_api(project, tmp_path: Path) -> None:
    config = _config(predictions={"format": "csv", "top_k": 2}, test_on="last")
    outcome = run_config(project(config), base_dir=tmp_path / "runs")
    (run_dir,) = outcome.run_dirs
    assert outcome.metrics[0]["test/epoch"] == 2.0
    evaluated = run_config(project(config), evaluate=run_dir, checkpoint="last")
    assert evaluated.metrics[0]["test/accuracy"] == outcome.metrics[0]["test/accuracy"]
    with open(evaluated.run_dirs[0] / "result" / "predictions" / "test.csv") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [
        "index", "id", "target", "output_0", "output_1", "output_2",
        "top_k_index_0", "top_k_index_1", "top_k_score_0", "top_k_score_1",
    ]  # fmt: skip
    assert len(rows) == 46 and rows[1][:3] == ["0", "s2-0", "0"]


def test_testing_uses_the_best_checkpoint_and_records_its_epoch(project, tmp_path: Path) -> None:
    # validation labels disagree with training: the best validation epoch is an early one
    config = _config(monitor="val/loss", predictions=False)
    config["trainer"]["epochs"] = 4
    config["data"]["val"]["params"]["flip"] = True
    outcome = run_config(project(config), base_dir=tmp_path / "runs")
    (run_dir,) = outcome.run_dirs
    final = outcome.metrics[0]
    best = CheckpointManager(run_dir / "checkpoint", monitor="val/loss", mode="min").best()
    assert best is not None and best.epoch < 3, "the setup must make the best epoch an early one"
    assert final["test/epoch"] == best.epoch

    # a manual evaluation of the best checkpoint's weights
    model = _best_model(run_dir, "val/loss", "min")
    test = _project(tmp_path / "project", "data").Blobs(n=45, seed=2)
    with torch.no_grad():
        logits = model(test.x)
    accuracy = float((logits.argmax(1) == test.targets).double().mean())
    assert final["test/accuracy"] == accuracy
    assert final["test/loss"] == pytest.approx(
        float(nn.functional.cross_entropy(logits, test.targets)), rel=1e-6
    )

    # with test_on "last" the same run tests the last epoch's weights instead
    config["trainer"]["test_on"] = "last"
    last = run_config(project(config), base_dir=tmp_path / "last").metrics[0]
    assert last["test/epoch"] == 3.0
    assert last["test/loss"] != final["test/loss"]


def test_test_on_best_needs_checkpoints(tmp_path: Path) -> None:
    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    config = {"seed": 0, "trainer": {"device": "cpu", "save_freq": 0, "test_on": "best"}}
    with pytest.raises(ConfigError, match=r"'trainer.test_on'.*save_freq is 0"):
        ClassificationTrainer(config, nn.Linear(3, 2), loader, base_dir=tmp_path, loggers={})
    config["trainer"].pop("test_on")
    trainer = ClassificationTrainer(config, nn.Linear(3, 2), loader, base_dir=tmp_path, loggers={})
    assert trainer.test_on == "last"
    trainer.experiment.close()


class _Maps(Dataset):
    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(6, 1, 5, 7, generator=g)
        self.y = (self.x[:, 0] > 0).long() + (self.x[:, 0] > 1).long()

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return {"input": self.x[i], "target": self.y[i], "id": f"tile{i}"}


def test_segmentation_writes_coloured_prediction_maps(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = nn.Conv2d(1, 3, 3, padding=1)
    data = DataLoader(_Maps(), batch_size=4)
    config = {
        "seed": 0,
        "trainer": {
            "type": "segmentation",
            "device": "cpu",
            "epochs": 1,
            "class_names": ["ground", "water", "roof"],
            "predictions": {"color_map": {"2": [255, 255, 0]}},
        },
    }
    trainer = SegmentationTrainer(config, model, data, data, data, base_dir=tmp_path, loggers={}, quiet=True)
    trainer.fit()
    folder = trainer.run_dir / "result" / "predictions"
    rows = np.load(folder / "test.npz")
    assert rows["id"].tolist() == [f"tile{i}" for i in range(6)]
    assert rows["image"].tolist() == [f"test/{i:06d}.png" for i in range(6)]
    legend = json.loads((folder / "test_classes.json").read_text())
    assert [c["name"] for c in legend] == ["ground", "water", "roof"] and legend[2]["color"] == [255, 255, 0]
    colors = palette(3, {2: (255, 255, 0)})
    with torch.no_grad():
        maps = trainer.model(_Maps().x).argmax(1).numpy()
    for i in (0, 5):
        image = decode_png((folder / rows["image"][i]).read_bytes())
        assert image.shape == (5, 7, 3)
        assert np.array_equal(image, colors[maps[i]])


class _NanWhenEvaluated(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x) if self.training else self.layer(x) * float("nan")


def test_without_a_best_checkpoint_the_last_weights_are_tested_with_a_warning(tmp_path: Path) -> None:
    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    config = {"seed": 0, "trainer": {"device": "cpu", "epochs": 2, "monitor": "val/loss"}}
    trainer = ClassificationTrainer(
        config, _NanWhenEvaluated(), loader, loader, loader, base_dir=tmp_path, loggers={}
    )
    with pytest.warns(
        TrialogWarning, match=r"no checkpoint has a value of 'val/loss'; testing the last weights"
    ):
        final = trainer.fit()
    assert final["test/epoch"] == 1.0
