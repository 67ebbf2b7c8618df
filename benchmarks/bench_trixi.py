"""trialog-trixi's cost: add_result through trixi's PytorchExperiment adapter and ``exp.results[name] = v``
(trixi's ResultLogDict write, trialog_trixi.torchelog.TrixiTorchExperiment) vs the native TorchExperiment.add_result, all without loggers.

The adapter also keeps trixi's ``result/results-log.json`` (derived from ``results.jsonl``, replaced
atomically whenever the results have grown by a quarter); the last row times the adapter's add_result
including the final rewrite (``save_results()``), so the whole cost of trixi's file is in it.

Run: python benchmarks/bench_trixi.py  (a few seconds). Best of several rounds, each into a fresh run folder.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

N = 50_000
ROUNDS = 5


def _time(make, call, finish=None) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as tmp:
            exp = make(Path(tmp))
            fn = call(exp)
            t0 = time.perf_counter()
            for i in range(N):
                fn(i * 0.001, i)
            if finish is not None:
                finish(exp)
            best = min(best, time.perf_counter() - t0)
            exp.close()
    return best


def main() -> None:
    from trialog_torch import TorchExperiment
    from trialog_trixi.torchelog import TrixiTorchExperiment
    from trixi.experiment.pytorchexperiment import PytorchExperiment

    kwargs = {"checkpoint": False, "save_sources": False}

    def native(folder: Path):
        return TorchExperiment(name="native", base_dir=folder, loggers={}, **kwargs)

    def trixi_names(folder: Path):  # the native class with trixi's names (exp.results: ResultLogDict)
        return TrixiTorchExperiment(name="names", base_dir=folder, loggers={}, **kwargs)

    def trixi(folder: Path):
        # trixi's adapter always adds the experiment logger (trialog's file logger); plot_result=False below
        return PytorchExperiment(name="trixi", base_dir=str(folder), **kwargs)

    def trixi_without_file(folder: Path):
        exp = trixi(folder)
        exp.trixi_results_log.note = lambda: None  # the adapter as it was before results-log.json
        return exp

    without_file = _time(
        trixi_without_file, lambda e: lambda v, i: e.add_result(v, "loss", i, "train", plot_result=False)
    )
    base = _time(native, lambda e: lambda v, i: e.add_result(v, "loss", i, "train", plot_result=False))
    adapter = _time(trixi, lambda e: lambda v, i: e.add_result(v, "loss", i, "train", plot_result=False))

    def results_setter(e):
        results = e.results

        def set_value(v, i):
            results["loss"] = v

        return set_value

    results = _time(trixi_names, results_setter)
    with_file = _time(
        trixi,
        lambda e: lambda v, i: e.add_result(v, "loss", i, "train", plot_result=False),
        lambda e: e.save_results(),
    )
    us = 1e6 / N
    print(f"native add_result: {base * us:.2f} us/call (baseline)")
    print(f"trixi adapter add_result: {adapter * us:.2f} us/call (ratio x vs baseline: {adapter / base:.2f})")
    print(f"results[name] = value: {results * us:.2f} us/call (ratio x vs baseline: {results / base:.2f})")
    print(
        f"trixi adapter add_result without results-log.json: {without_file * us:.2f} us/call "
        f"(ratio x vs baseline: {without_file / base:.2f})"
    )
    print(
        f"trixi adapter add_result + final results-log.json: {with_file * us:.2f} us/call "
        f"(ratio x vs baseline: {with_file / base:.2f})"
    )


if __name__ == "__main__":
    main()
