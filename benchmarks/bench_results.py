"""add_result throughput to disk: trialog's ResultLog and Experiment.add_result vs raw os.write of JSON lines vs trixi's ResultLogDict way.

Run: python benchmarks/bench_results.py  (about 15 s on 2 cores). Each variant writes N records of the form
name/tag/value/counter/epoch to a fresh file in a temporary folder; the best of several rounds counts, so a
busy machine disturbs the ratio less than the absolute numbers.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from trialog.results.log import ResultLog

N = 100_000
ROUNDS = 5
TARGET = 200_000


def trialog_log(folder: Path) -> None:
    log = ResultLog(folder)
    add = log.add
    for i in range(N):
        add("loss", i * 0.001, i, "train", i // 1000)
    log.close()


def experiment_add_result(folder: Path) -> float:
    """The user's call: Experiment.add_result with no logger; the run folder is made before the clock starts."""
    from trialog import Experiment

    exp = Experiment(name="bench", base_dir=folder, loggers={}, checkpoint=False, save_sources=False)
    add = exp.add_result
    t0 = time.perf_counter()
    for i in range(N):
        add(i * 0.001, "loss", i, "train")
    elapsed = time.perf_counter() - t0
    exp.close()
    return elapsed


def raw_json_lines(folder: Path) -> None:
    """The floor the issue quotes: json.dumps of the same record and one os.write per line."""
    fd = os.open(folder / "raw.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    dumps, write, now = json.dumps, os.write, time.time
    for i in range(N):
        rec = {
            "name": "loss",
            "tag": "train",
            "value": i * 0.001,
            "counter": i,
            "epoch": i // 1000,
            "time": now(),
        }
        write(fd, (dumps(rec) + "\n").encode())
    os.close(fd)


class TrixiResultLogDict(dict):
    """trixi's ResultLogDict approach: a dict of running values, each item json.dumps'ed, written, flushed."""

    def __init__(self, path: Path, running_mean_length: int = 10) -> None:
        super().__init__()
        self.running = collections.defaultdict(lambda: collections.deque(maxlen=running_mean_length))
        self.file = open(path, "w")  # closed in close(), like trixi
        self.file.write("[\n")
        self.file.flush()

    def __setitem__(self, key: str, item: dict) -> None:
        self.file.write(json.dumps({key: item}) + ",\n")
        self.file.flush()
        self.running[key].append(item["data"])
        super().__setitem__(key, item)

    def close(self) -> None:
        self.file.write("]\n")
        self.file.close()


def trixi_way(folder: Path) -> None:
    results = TrixiResultLogDict(folder / "results-log.json")
    for i in range(N):
        results["loss"] = {"data": i * 0.001, "label": "train", "epoch": i // 1000, "counter": i}
    results.close()


def main() -> None:
    variants = (trialog_log, experiment_add_result, raw_json_lines, trixi_way)
    best = dict.fromkeys(variants, float("inf"))
    root = Path(tempfile.mkdtemp(prefix="trialog-bench-results-"))
    try:
        # Interleaved rounds, so that load from other processes hits every variant alike.
        for r in range(ROUNDS):
            for fn in variants:
                folder = root / f"{fn.__name__}-{r}"
                folder.mkdir()
                t0 = time.perf_counter()
                timed = fn(folder)
                elapsed = time.perf_counter() - t0 if timed is None else timed
                best[fn] = min(best[fn], elapsed)
                shutil.rmtree(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ours, exp, raw, trixi = (N / best[fn] for fn in variants)
    print(
        f"add_result to disk: {ours:,.0f} records/s ({ours / raw:.2f}x vs raw os.write of JSON lines "
        f"{raw:,.0f} records/s, target >= {TARGET:,} records/s)"
    )
    print(
        f"Experiment.add_result (no logger) to disk: {exp:,.0f} records/s ({exp / raw:.2f}x vs raw os.write "
        f"of JSON lines {raw:,.0f} records/s, target >= {TARGET:,} records/s)"
    )
    print(
        f"add_result to disk: {ours:,.0f} records/s ({ours / trixi:.2f}x vs trixi ResultLogDict "
        f"(json.dumps + write + flush) {trixi:,.0f} records/s, target >= {TARGET:,} records/s)"
    )


if __name__ == "__main__":
    main()
