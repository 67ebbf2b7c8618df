"""Memory and loss bounds of the loggers that write files (issue 13).

- RSS growth over 1,000,000 ``show_value`` calls to the file logger, against a logger that keeps every
  value in memory (what trialog 0.1.0's file logger did: ~220 MB).
- RSS growth over 1,000,000 ``Experiment.add_result`` calls with the default loggers, against the same
  loop with a keep-every-value logger (0.1.0: ~245 MB); the loop with no logger at all (the results log
  alone) is printed too.
- The TensorBoard logger behind the dispatcher's default queue in a tight loop: values written vs sent
  and close time, against the same loop with the queue's old drop-oldest policy.
- Over time (issue 18): RSS growth of a run logging 10 metrics at 50 steps/s with the default loggers
  (the file logger, redrawing its curves every ``plot_every_s`` = 10 s) for ``TRIALOG_BENCH_MEMORY_S``
  seconds (default 600: ten minutes), measured from just after the first redraw, against the same loop
  with ``plot_every_s=None`` (no periodic redraw); both loops run at once, each in its own interpreter.

Each measurement runs in a fresh interpreter (``python bench_memory.py --one NAME``), so one's
allocations cannot hide another's. RSS is read from /proc/self/statm after a warm-up of the same code
path (and a flush, which draws the first curve and so imports matplotlib), so imports and first-use
caches are not counted as growth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from _common import report

CALLS = 1_000_000
RESULTS = 1_000_000
TB_VALUES = 100_000
WARMUP = 20_000
TARGET_MB = 20.0
#: The timed run: its length (seconds), metrics and steps per second.
TIMED_S = float(os.environ.get("TRIALOG_BENCH_MEMORY_S", "600"))
TIMED_METRICS = 10
TIMED_RATE = 50


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class KeepEverything:
    """trialog 0.1.0's file logger's memory behaviour: every value kept in lists, rows queued unbounded."""

    def __init__(self) -> None:
        self.series: dict[tuple[str, str | None], tuple[list, list]] = {}
        self.rows: list[tuple] = []

    def show_value(self, value: float, name: str, counter: int | None, tag: str | None) -> None:
        counters, values = self.series.setdefault((name, tag), ([], []))
        counter = len(values) + 1 if counter is None else counter
        counters.append(counter)
        values.append(float(value))
        self.rows.append((counters, counter, float(value), time.time()))


def _values(show_value, n: int) -> float:
    start = rss_mb()
    for i in range(n):
        show_value(i * 1e-6, "loss", None, "train")
    return rss_mb() - start


def one_file(folder: Path) -> dict:
    from trialog_file import FileLogger

    logger = FileLogger(folder=folder)
    _values(logger.show_value, WARMUP)
    logger.flush()  # the first curve drawn imports matplotlib: a one-time cost, not growth
    growth = _values(logger.show_value, CALLS)
    start = time.perf_counter()
    logger.close()
    close_s = time.perf_counter() - start
    rows = sum(1 for _ in open(folder / "log" / "values.csv")) - 1
    return {"growth": growth, "rows": rows, "close_s": close_s, "stats": logger.stats}


def one_keep(folder: Path) -> dict:
    logger = KeepEverything()
    _values(logger.show_value, WARMUP)
    return {"growth": _values(logger.show_value, CALLS)}


def _results(folder: Path, loggers) -> dict:
    from trialog import Experiment

    exp = Experiment({"lr": 0.1}, name="mem", base_dir=folder, loggers=loggers, save_sources=False)
    for i in range(WARMUP):
        exp.add_result(i * 1e-6, "loss", counter=i)
    exp.clog.flush()  # the first curve drawn imports matplotlib: a one-time cost, not growth
    start = rss_mb()
    for i in range(RESULTS):
        exp.add_result(i * 1e-6, "loss", counter=WARMUP + i)
    growth = rss_mb() - start
    exp.clog.close()
    return {"growth": growth}


def one_results_default(folder: Path) -> dict:
    return _results(folder, None)


def one_results_keep(folder: Path) -> dict:
    from trialog import hookimpl

    class KeepEverythingLogger(KeepEverything):
        show_value = hookimpl(KeepEverything.show_value)

    return _results(folder, {"file": KeepEverythingLogger()})


def one_results_none(folder: Path) -> dict:
    return _results(folder, {})


def _tensorboard(folder: Path, policy: str | None) -> dict:
    from trialog.api import CombinedLogger

    declaration: dict = {"type": "tensorboard"}
    if policy is not None:
        declaration["dispatch"] = {"queue_policy": policy}
    clog = CombinedLogger({"tb": declaration}, run_dir=folder)
    start = time.perf_counter()
    for i in range(TB_VALUES):
        clog.show_value(i * 1e-6, "loss", counter=i)
    loop_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = clog.close()["tb"]
    close_s = time.perf_counter() - start
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder / "save" / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    written = len(acc.Scalars("loss"))
    return {"written": written, "loop_s": loop_s, "close_s": close_s, "summary": summary}


def _timed(folder: Path, loggers) -> dict:
    """10 metrics at 50 steps/s for TIMED_S seconds through add_result; RSS from the first redraw on."""
    from trialog import Experiment

    exp = Experiment({"lr": 0.1}, name="mem", base_dir=folder, loggers=loggers, save_sources=False)
    file = exp.loggers["file"]
    names = [f"metric{i}" for i in range(TIMED_METRICS)]
    start = time.monotonic()
    step = 0
    base = None
    peak = 0.0
    while time.monotonic() - start < TIMED_S:
        for i, name in enumerate(names):
            exp.add_result(step * 1e-3 + i, name, tag="train" if i < 2 else None)
        step += 1
        if step % TIMED_RATE == 0:
            if base is None and (
                file.renders or (file.plot_every_s is None and time.monotonic() - start > 10)
            ):
                base = rss_mb()  # just after the first redraw (or, without redraws, at the same time)
            elif base is not None:
                peak = max(peak, rss_mb() - base)
        time.sleep(max(0.0, start + step / TIMED_RATE - time.monotonic()))
    growth = rss_mb() - (base if base is not None else rss_mb())
    renders = file.renders
    exp.close()
    return {"growth": growth, "peak": peak, "renders": renders, "calls": step * TIMED_METRICS}


def one_timed_default(folder: Path) -> dict:
    return _timed(folder, None)  # the default loggers: the file logger, plot_every_s=10


def one_timed_no_redraw(folder: Path) -> dict:
    return _timed(folder, {"file": {"type": "file", "plot_every_s": None}})


def one_tb_block(folder: Path) -> dict:
    return _tensorboard(folder, None)  # the logger's own policy: block


def one_tb_drop(folder: Path) -> dict:
    return _tensorboard(folder, "drop_oldest")  # the 0.1.0 behaviour


def run(name: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", name], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def timed() -> None:
    children = {
        name: subprocess.Popen([sys.executable, __file__, "--one", name], stdout=subprocess.PIPE, text=True)
        for name in ("timed_default", "timed_no_redraw")
    }
    data = {
        name: json.loads(child.communicate()[0].strip().splitlines()[-1]) for name, child in children.items()
    }
    default, bare = data["timed_default"], data["timed_no_redraw"]
    report(
        f"RSS growth after the first redraw, {TIMED_S / 60:g} min at {TIMED_METRICS} metrics x {TIMED_RATE} steps/s "
        f"through add_result, default loggers ({default['calls']:,} calls, {default['renders']} curve PNGs drawn, "
        f"peak {default['peak']:.1f} MB)",
        default["growth"],
        "MB",
        "the same loop without periodic redraws (plot_every_s=None)",
        bare["growth"],
        f"<= {TARGET_MB:g} MB",
    )


def main() -> None:
    if "timed" in sys.argv[1:]:
        timed()
        return
    file, keep = run("file"), run("keep")
    report(
        f"file logger RSS growth over {CALLS:,} show_value ({file['rows']:,} CSV rows, close {file['close_s']:.2f} s)",
        file["growth"],
        "MB",
        "keep-every-value logger (0.1.0)",
        keep["growth"],
        f"<= {TARGET_MB:g} MB",
    )
    assert file["rows"] == CALLS + WARMUP, file
    default, keep_results, bare = run("results_default"), run("results_keep"), run("results_none")
    report(
        f"Experiment.add_result RSS growth over {RESULTS:,} calls, default loggers "
        f"(the results log alone: {bare['growth']:.1f} MB)",
        default["growth"],
        "MB",
        "the same with a keep-every-value logger (0.1.0)",
        keep_results["growth"],
        f"<= {TARGET_MB:g} MB",
    )
    block, drop = run("tb_block"), run("tb_drop")
    for label, data in (("block (now)", block), ("drop_oldest (0.1.0)", drop)):
        print(
            f"# tensorboard {TB_VALUES:,} values, queue {label}: {data['written']:,} written, "
            f"dropped {data['summary']['dropped']:,}, loop {data['loop_s']:.2f} s, close {data['close_s']:.2f} s, "
            f"caller waited {data['summary'].get('blocked_s', 0.0):.2f} s"
        )
    report(
        f"tensorboard tight loop, values written of {TB_VALUES:,} sent",
        100.0 * block["written"] / TB_VALUES,
        "%",
        "the same loop with the old drop-oldest queue",
        100.0 * drop["written"] / TB_VALUES,
        "100 %",
    )
    report(
        "tensorboard tight loop, close() after the loop",
        block["close_s"],
        "s",
        "the same loop with the old drop-oldest queue",
        drop["close_s"],
        "<= 1 s",
    )
    timed()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        warnings.simplefilter("ignore")
        with tempfile.TemporaryDirectory() as tmp:
            result = globals()[f"one_{sys.argv[2]}"](Path(tmp))
        print(json.dumps(result, default=str))
    else:
        main()
