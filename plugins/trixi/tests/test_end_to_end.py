"""An unchanged trixi-style script through trialog-trixi in a subprocess: train, SIGKILL, resume, read, reload."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from trialog.api import Run

SCRIPT = Path(__file__).with_name("trixi_script.py")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _only_run(base: Path) -> Path:
    runs = [p for p in base.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_train_kill_resume_read_reload(tmp_path: Path) -> None:
    ref = _run(str(tmp_path / "ref"), cwd=tmp_path)
    assert ref.returncode == 0, ref.stderr
    ref_dir = _only_run(tmp_path / "ref")

    # Train until epoch 2 is under way, then SIGKILL (synchronised on the script's marker line).
    base = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(base), "--kill_at", "2"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "KILLME":
                break
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=600)
    assert proc.returncode == -signal.SIGKILL
    run_dir = _only_run(base)
    assert Run(run_dir).status == "killed"
    # trixi's named per-epoch checkpoint was written for the epochs before the kill
    assert (run_dir / "checkpoint" / "checkpoint_current").is_dir()
    assert not (run_dir / "checkpoint" / "checkpoint_last").exists()

    resumed = _run(str(base), "--resume_path", str(run_dir), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert Run(run_dir).status == "finished"

    # Read the results back (trialog.Run and trixi's ExperimentReader): the same as the uninterrupted run.
    from trixi.experiment_browser.experimentreader import ExperimentReader

    got, want = Run(run_dir).results, Run(ref_dir).results
    np.testing.assert_allclose(got["Train_Loss"]["value"], want["Train_Loss"]["value"], rtol=1e-6)
    np.testing.assert_allclose(got["Val_Acc"]["value"], want["Val_Acc"]["value"])
    reader = ExperimentReader(str(base), run_dir.name)
    log = reader.get_results_log()
    assert len(log["Loss"]["Train_Loss"]["data"]) == 4 * 6
    assert reader.get_results()["Val_Acc"] == pytest.approx(want["Val_Acc"]["value"][-1])
    assert (run_dir / "result" / "final_results.json").is_file()
    assert (run_dir / "plot" / "predictions.png").is_file()
    # elog's bar plot, and the file logger's value plots grouped by tag (trixi's show_value plots)
    assert {Path(p).name for p in reader.get_plots()} >= {"predictions.png", "Loss.png", "Acc.png"}
    assert reader.get_images() == []
    assert any(p.endswith("final_model.pth") for p in reader.get_checkpoints())
    assert (run_dir / "save" / "sources.zip").is_file()  # globs: the script's sources are packed
    assert "learning_rate" in (run_dir / "log" / "default.log").read_text()  # elog.print(self.config)

    # Reload checkpoint_last into a fresh experiment: the weights saved by elog.save_model at the end.
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import trixi_script
    finally:
        sys.path.remove(str(SCRIPT.parent))
    exp = trixi_script.MNIST_experiment(
        config=dict(batch_size=16, learning_rate=0.1), n_epochs=0, base_dir=tmp_path / "reload", loggers={}
    )
    exp.setup()
    exp.load_checkpoint(name="checkpoint_last", path=run_dir)
    final = torch.load(run_dir / "checkpoint" / "final_model.pth", weights_only=True)["model"]
    for key, value in exp.model.state_dict().items():
        torch.testing.assert_close(value, final[key])
    assert exp.seen == 4 * 96  # a simple attribute restored from the checkpoint
    exp.close()


def test_gridsearch_script(tmp_path: Path) -> None:
    out = _run(str(tmp_path), "--grid", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    results = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
    assert len(results) == 2
    runs = [Run(p) for p in tmp_path.iterdir() if p.is_dir() and (p / "run.json").is_file()]
    assert sorted(r.config.learning_rate for r in runs) == [0.01, 0.1]
    assert all(r.config.batch_size == 32 for r in runs)
