"""Sweeps: what a sweeper costs per trial, and what ``local --parallel 2`` gains on 2 cores.

The same 8 tiny digits trials (1 epoch, a 4-channel CNN, no loggers) run

* one after another in this process through ``run_config`` (what ``trialog run`` does): the baseline;
* by the ``local`` sweeper with ``--parallel 1`` and ``--parallel 2`` (a process per trial: a fresh
  interpreter importing torch, plus sweep.json bookkeeping);
* by the ``ray`` sweeper, one trial at a time on a local Ray instance (its start reported apart).

Several minutes on a busy 2-core machine: 8 trials x (baseline, local x2, ray).

Per-trial overhead = (sweeper wall time - baseline wall time) / 8. Ray's issue #11004 measured Tune's
scheduling overhead at ~0.2 s per trivial trial; a process per trial costs the interpreter and torch
import (~1-3 s on a busy 2-core machine).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import report

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits" / "config.json"
LR = "trainer.optimization.optimizer.params.lr"
RATES = [0.001 * (i + 1) for i in range(8)]
FIXED = {
    "trainer.epochs": 1,
    "trainer.save_freq": 1,
    "model.params.channels": 4,
    "model.params.hidden": 16,
    "loggers": {},
}


def sweep_file(folder: Path) -> Path:
    spec = {
        "sweep": {
            "config": str(DIGITS),
            "name": "bench",
            "grid": {LR: RATES},
            "set": FIXED,
            "metric": "val/accuracy",
            "mode": "max",
        }
    }
    path = folder / "sweep.json"
    path.write_text(json.dumps(spec))
    return path


def sequential(base: Path) -> float:
    from trialog_torch.cli import run_config

    def one(lr: float, name: str) -> None:
        overrides = [f"{key}={json.dumps(value)}" for key, value in FIXED.items()]
        run_config(DIGITS, overrides=[*overrides, f"{LR}={lr}", f"name={name}"], quiet=True, base_dir=base)

    one(RATES[0], "warmup")  # imports and first-touch costs, paid once by any long-lived process
    start = time.perf_counter()
    for i, lr in enumerate(RATES):
        one(lr, f"seq{i}")
    return time.perf_counter() - start


def swept(sweeper: object, sweep_path: Path, base: Path) -> float:
    from trialog.sweep import open_sweep, read_sweep

    start = time.perf_counter()
    sweep = open_sweep(sweep_path, sweeper.name, base_dir=base)  # type: ignore[attr-defined]
    sweeper.run(sweep)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - start
    statuses = {t["status"] for t in read_sweep(sweep.folder)["trials"]}
    if statuses != {"finished"}:
        raise SystemExit(f"bench_sweep: trials ended {statuses} in {sweep.folder}")
    return elapsed


def main() -> None:
    from trialog.sweep_local import LocalSweeper

    n = len(RATES)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        path = sweep_file(tmp_path)
        base = sequential(tmp_path / "seq")
        print(
            f"baseline: {n} trials one after another in one process: {base:.3g} s ({base / n:.3g} s per trial)"
        )
        local1 = swept(LocalSweeper(parallel=1), path, tmp_path / "l1")
        report(
            "local sweeper per-trial overhead",
            (local1 - base) / n,
            "s",
            "per-trial run time",
            base / n,
            "< 5 s",
        )
        local2 = swept(LocalSweeper(parallel=2), path, tmp_path / "l2")
        report("local --parallel 2 wall time", local2, "s", "local --parallel 1", local1, "speedup > 1.3x")
        print(
            f"local --parallel 2 speedup: {local1 / local2:.3g}x vs --parallel 1, {base / local2:.3g}x vs baseline"
        )

        import trialog_ray

        start = time.perf_counter()
        trialog_ray.init_local(num_cpus=2, object_store_memory=100 * 1024 * 1024, log_to_driver=False)
        ray_start = time.perf_counter() - start
        print(f"ray: local instance started in {ray_start:.3g} s (not counted below)")
        try:
            ray1 = swept(trialog_ray.RaySweeper(parallel=1), path, tmp_path / "r1")
            report(
                "ray sweeper per-trial overhead",
                (ray1 - base) / n,
                "s",
                "per-trial run time",
                base / n,
                "< 5 s",
            )
        finally:
            import ray

            ray.shutdown()


if __name__ == "__main__":
    main()
