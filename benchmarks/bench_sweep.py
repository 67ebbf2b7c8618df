"""Sweeps: what each sweeper costs per trial, beside what the same trials cost without a sweeper.

Two workloads, each swept as a grid:

* 20 trivial trials (an Experiment of one epoch that records one number), and
* 8 tiny digits trials (1 epoch, a 4-channel CNN, no loggers; the ``trialog run`` trainer).

Baselines, measured in the same run:

* **in process**: the trials one after another in this process (``Experiment.run`` / ``run_config``,
  what ``trialog run`` does), after one warm-up trial;
* **bare Ray Tune**: a plain Tune function trainable doing the same work (the trial in the Ray worker,
  ``tune.report`` at the end), on the same local Ray instance; it and the ray sweeper take turns twice, and
  each figure is the faster of its two runs;
* **Optuna in process**: ``study.optimize`` over the same trials.

Swept by ``local --parallel 1`` and ``--parallel 2`` (trials forked from the warm trial server: one the
sweep starts, and one a sweep before kept warm with ``--option keep_warm``),
``ray`` (reused workers) and ``submitit`` (its local executor: a process per trial). Per-trial overhead =
(wall time - in-process wall time) / trials; the Ray sweeper's beside the bare trainable's. Every trial
computes with one thread (the sweep's ``resources.cpu``), the in-process baseline too.

Several minutes on a busy 2-core machine. ``python benchmarks/bench_sweep.py [trivial] [digits] [--local]``:
only the named workloads; ``--local``: only the local sweeper (beside in process and Optuna; no Ray, no submitit).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
TRIVIAL = """
from trialog import Experiment


class Trivial(Experiment):
    def train(self, epoch):
        self.add_result(float(self.config["x"]) * 2.0, "y", tag="train")
"""
N_TRIVIAL = 20


class Workload:
    """A grid of trials, its sweep file and how to run one of its trials in this process."""

    def __init__(
        self, name: str, sweep: dict[str, Any], values: list[Any], one: Callable[[Any, str, Path], None]
    ):
        self.name, self.sweep, self.values, self.one = name, sweep, values, one

    def sweep_file(self, folder: Path) -> Path:
        path = folder / f"{self.name}.json"
        path.write_text(json.dumps(self.sweep))
        return path


def trivial(folder: Path) -> Workload:
    (folder / "trivialexp.py").write_text(TRIVIAL)
    sys.path.insert(0, str(folder))
    values = list(range(N_TRIVIAL))
    sweep = {
        "name": "trivial",
        "n_epochs": 1,
        "x": 0,
        "sweep": {"experiment": "trivialexp:Trivial", "grid": {"x": values}, "metric": "y", "mode": "max"},
    }

    def one(x: Any, name: str, base: Path) -> None:
        if str(folder) not in sys.path:  # a Ray worker
            sys.path.insert(0, str(folder))
        from trivialexp import Trivial

        exp = Trivial(config={"x": x}, name=name, n_epochs=1, base_dir=base)
        try:
            exp.run()
        finally:
            exp.close()

    return Workload("trivial", sweep, values, one)


def digits() -> Workload:
    sweep = {
        "sweep": {
            "config": str(DIGITS),
            "name": "digits",
            "grid": {LR: RATES},
            "set": FIXED,
            "metric": "val/accuracy",
            "mode": "max",
        }
    }

    def one(lr: Any, name: str, base: Path) -> None:
        from trialog_torch.cli import run_config

        overrides = [f"{key}={json.dumps(value)}" for key, value in FIXED.items()]
        run_config(DIGITS, overrides=[*overrides, f"{LR}={lr}", f"name={name}"], quiet=True, base_dir=base)

    return Workload("digits", sweep, RATES, one)


def in_process(work: Workload, base: Path) -> float:
    work.one(
        work.values[0], "warmup", base
    )  # imports and first-touch costs, paid once by any long-lived process
    start = time.perf_counter()
    for i, value in enumerate(work.values):
        work.one(value, f"seq{i}", base)
    return time.perf_counter() - start


def optuna_in_process(work: Workload, base: Path) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.GridSampler({"v": work.values}))

    def objective(trial: Any) -> float:
        work.one(trial.suggest_categorical("v", work.values), f"optuna{trial.number}", base)
        return 0.0

    start = time.perf_counter()
    study.optimize(objective, n_trials=len(work.values))
    return time.perf_counter() - start


def bare_tune(work: Workload, base: Path) -> float:
    from ray import tune

    def trainable(config: dict[str, Any]) -> None:
        work.one(config["v"], f"tune{config['v']}", base)
        tune.report({"done": 1})

    start = time.perf_counter()
    tuner = tune.Tuner(
        trainable,
        param_space={"v": tune.grid_search(work.values)},
        tune_config=tune.TuneConfig(max_concurrent_trials=1, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(base / "ray"), verbose=0),
    )
    results = tuner.fit()
    elapsed = time.perf_counter() - start
    if results.errors or len(results) != len(work.values):
        raise SystemExit(f"bench_sweep: bare Tune trials failed: {results.errors}")
    return elapsed


def swept(sweeper: Any, sweep_path: Path, base: Path) -> float:
    from trialog_sweep import open_sweep, read_sweep

    start = time.perf_counter()
    sweep = open_sweep(sweep_path, sweeper.name, base_dir=base)
    sweeper.run(sweep)
    elapsed = time.perf_counter() - start
    statuses = {t["status"] for t in read_sweep(sweep.folder)["trials"]}
    if statuses != {"finished"}:
        raise SystemExit(f"bench_sweep: trials ended {statuses} in {sweep.folder}")
    return elapsed


def measure(work: Workload, tmp: Path, local_only: bool = False) -> None:
    from trialog_sweep.sweep_local import LocalSweeper

    n = len(work.values)
    path = work.sweep_file(tmp)
    base = in_process(work, tmp / f"{work.name}-seq")
    print(
        f"{work.name}: {n} trials one after another in one process: {base:.3g} s ({base / n:.3g} s per trial)"
    )

    def overhead(label: str, wall: float, baseline: str, base_value: float, target: str) -> None:
        report(
            f"{work.name} {label} per-trial overhead", (wall - base) / n, "s", baseline, base_value, target
        )

    optuna = optuna_in_process(work, tmp / f"{work.name}-optuna")
    optuna_overhead = (optuna - base) / n
    print(f"{work.name} optuna in process per-trial overhead: {optuna_overhead:.3g} s")
    for parallel in (1, 2):
        wall = swept(LocalSweeper(parallel=parallel), path, tmp / f"{work.name}-local{parallel}")
        # --parallel 2: the wall time of both slots (2 x wall), so the figure is the cost per trial
        overhead(
            f"local --parallel {parallel} (wall x {parallel} slots; the sweep starts its server)",
            wall * parallel,
            "optuna in process",
            optuna_overhead,
            "<= 0.5 s",
        )
    # keep_warm: a server a previous sweep left warm (that sweep, like the in-process warm-up, uncounted)
    kept = {"keep_warm": "600"}
    swept(LocalSweeper(parallel=1, options=kept), path, tmp / f"{work.name}-keptwarmup")
    for parallel in (1, 2):
        wall = swept(LocalSweeper(parallel=parallel, options=kept), path, tmp / f"{work.name}-kept{parallel}")
        overhead(
            f"local --parallel {parallel} keep_warm (wall x {parallel} slots; server kept from a sweep before)",
            wall * parallel,
            "optuna in process",
            optuna_overhead,
            "<= 0.5 s",
        )
    if local_only:
        return
    import trialog_ray
    from trialog_submitit import SubmititSweeper

    wall = swept(SubmititSweeper(options={"cluster": "local", "poll": "0.1"}), path, tmp / f"{work.name}-sub")
    overhead(
        "submitit (local executor)", wall, "optuna in process", optuna_overhead, "none (a job per trial)"
    )
    # Ray's scheduling is the noisiest part: the bare trainable and the sweeper take turns, twice, and each
    # keeps its faster run (the same for both)
    bares, walls = [], []
    for turn in range(2):
        bares.append(bare_tune(work, tmp / f"{work.name}-tune{turn}"))
        walls.append(swept(trialog_ray.RaySweeper(parallel=1), path, tmp / f"{work.name}-ray{turn}"))
    bare_overhead = (min(bares) - base) / n
    print(
        f"{work.name} bare Ray Tune function trainable per-trial overhead: {bare_overhead:.3g} s "
        f"(best of {', '.join(f'{(b - base) / n:.3g}' for b in bares)})"
    )
    print(f"{work.name} ray sweeper runs: {', '.join(f'{(w - base) / n:.3g}' for w in walls)} s per trial")
    overhead("ray sweeper (best of 2)", min(walls), "bare Ray Tune trainable", bare_overhead, "<= 1.5x")


def main() -> None:
    local_only = "--local" in sys.argv[1:]
    wanted = [arg for arg in sys.argv[1:] if not arg.startswith("--")] or ["trivial", "digits"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        from trialog_sweep.testing import wait_exit
        from trialog_sweep.trialserver import RUNTIME_ENV, kept_servers

        (tmp_path / "rt").mkdir(mode=0o700)
        os.environ[RUNTIME_ENV] = str(tmp_path / "rt")  # the kept-warm servers of this run only
        import torch

        torch.set_num_threads(1)  # as every trial of the sweeps (resources.cpu 1)
        if not local_only:
            import trialog_ray

            start = time.perf_counter()
            trialog_ray.init_local(num_cpus=2, object_store_memory=100 * 1024 * 1024, log_to_driver=False)
            print(f"ray: local instance started in {time.perf_counter() - start:.3g} s (not counted below)")
        try:
            for name in wanted:
                measure(trivial(tmp_path) if name == "trivial" else digits(), tmp_path, local_only)
        finally:
            for server in kept_servers(stop=True):
                if server.get("pid"):
                    wait_exit(int(server["pid"]))
            if not local_only:
                import ray

                ray.shutdown()


if __name__ == "__main__":
    main()
