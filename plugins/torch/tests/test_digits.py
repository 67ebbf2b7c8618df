"""The main job: ``trialog run examples/digits/config.json`` finishes and reaches >= 95 % validation accuracy.

How long it takes is a benchmark figure (``benchmarks/bench_digits.py`` in ``nox -s bench``), not a test.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

#: subprocess timeout in seconds: it bounds only a hang (a machine under full load needs far less)
HANG = 1800


EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "digits"

pytest.importorskip("sklearn", reason="the digits example needs scikit-learn (trialog-torch[test])")


def _example_module(name: str):
    # Loaded under a private name: the example's "data" / "model" modules must not shadow anything here.
    spec = importlib.util.spec_from_file_location(f"_digits_example_{name}", EXAMPLE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_splits_are_disjoint_stratified_and_seeded():
    data = _example_module("data")
    train, val, test = (
        data.Digits(s, val_fraction=0.2, test_fraction=0.1, seed=0) for s in ("train", "val", "test")
    )
    assert len(train) + len(val) + len(test) == 1797
    rows = [set(ds.indices.tolist()) for ds in (train, val, test)]
    assert set.union(*rows) == set(range(1797))
    assert not rows[0] & rows[1] and not rows[0] & rows[2] and not rows[1] & rows[2]
    for split in (val, test):
        counts = split.targets.bincount(minlength=10)
        assert counts.min() >= counts.max() - 2  # every class, about equally often
    x, y = train[0]
    assert tuple(x.shape) == (1, 8, 8) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert int(y) in range(10)
    again = data.Digits("val", val_fraction=0.2, test_fraction=0.1, seed=0)
    assert again.targets.tolist() == val.targets.tolist()
    other = data.Digits("val", val_fraction=0.2, test_fraction=0.1, seed=1)
    assert not (other.images == val.images).all()
    with pytest.raises(ValueError, match="split"):
        data.Digits("holdout")


def test_digits_model_maps_8x8_images_to_10_logits():
    import torch

    model = _example_module("model").DigitsCNN()
    assert tuple(model(torch.zeros(3, 1, 8, 8)).shape) == (3, 10)


def test_config_is_what_the_readme_describes():
    config = json.loads((EXAMPLE / "config.json").read_text())
    assert config["model"]["type"] == "model:DigitsCNN"
    assert config["trainer"]["type"] == "classification"
    assert "file" in {v if isinstance(v, str) else v["type"] for v in config["loggers"].values()}


@pytest.mark.slow
def test_main_job_finishes_and_reaches_95_percent(tmp_path):
    pytest.importorskip("trialog_file", reason="the main job logs to `file` (pip install ./plugins/file)")
    script = Path(sys.executable).with_name("trialog")
    result = subprocess.run(
        [str(script), "run", str(EXAMPLE / "config.json"), "--quiet", "--base-dir", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    run_dir = Path(
        next(line for line in lines if line.startswith("run folder: ")).removeprefix("run folder: ")
    )
    metrics = dict(
        item.split("=", 1)
        for item in next(line for line in lines if line.startswith("final metrics: ")).split()[2:]
    )
    assert float(metrics["val/accuracy"]) >= 0.95, result.stdout
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    assert run_dir.parent == tmp_path / "runs"
    assert (run_dir / "result" / "results.jsonl").is_file()
    assert any((run_dir / "checkpoint").iterdir())
    assert (run_dir / "log").is_dir()
