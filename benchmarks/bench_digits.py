"""The main job's cost: ``trialog run examples/digits/config.json`` (wall and CPU time, accuracy).

Run: python benchmarks/bench_digits.py. Baseline, measured in the same run: the same model, data and
epochs trained by a plain PyTorch loop (no run folder, logging, checkpoints). Target: the main job in
<= 60 s of wall time on 2 idle cores.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"_digits_{name}", EXAMPLE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main_job() -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cpu0, t0 = _children_cpu(), time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).with_name("trialog")), "run", str(EXAMPLE / "config.json"), "--quiet",
             "--base-dir", str(Path(tmp) / "runs")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    line = next(x for x in done.stdout.splitlines() if x.startswith("final metrics: "))
    metrics = dict(item.split("=", 1) for item in line.split()[2:])
    return wall, cpu, float(metrics["val/accuracy"])


def plain_loop() -> float:
    """The same training in a subprocess-free plain loop (after imports), seconds of wall time."""
    import torch

    config = json.loads((EXAMPLE / "config.json").read_text())
    data, model_mod = _module("data"), _module("model")
    torch.manual_seed(config.get("seed", 0))
    train_params = config["data"]["train"]["params"]
    train = data.Digits(**train_params)
    loader_opts = config["data"].get("loader", {})
    loader = torch.utils.data.DataLoader(train, batch_size=loader_opts.get("batch_size", 64), shuffle=True)
    model = model_mod.DigitsCNN(**config["model"].get("params", {}))
    opt_spec = config["trainer"]["optimization"]["optimizer"]
    optimizer = torch.optim.Adam(model.parameters(), **opt_spec.get("params", {}))
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for _ in range(config["trainer"]["epochs"]):
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
    return time.perf_counter() - t0


if __name__ == "__main__":
    wall, cpu, accuracy = main_job()
    baseline = plain_loop()
    print(
        f"digits main job: {wall:.1f} s wall, {cpu:.1f} s CPU, val/accuracy {accuracy:.3f} (target <= 60 s wall)"
    )
    print(f"digits plain PyTorch training loop (same epochs, no imports/startup): {baseline:.1f} s "
          f"(main job {wall / baseline:.1f}x, including interpreter start, data and imports)")  # fmt: skip
