"""The file logger's caller cost per show_value vs a trixi-style logger that redraws the full PNG per call.

The caller cost is timed in bursts of ``BURST`` calls (fewer than the rows the writer thread may have
waiting, so the caller never waits for it), with ``flush()`` between bursts untimed, as in 0.1.0's
figure. The sustained figure is a tight loop of ``CALLS`` calls with nothing between them: once the
bounded queue is full the caller waits for the writer (it never drops a value), so it shows the
writer's cost too; ``close`` then has at most the bounded queue left to write.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from trialog_file import FileLogger

from trialog.loggers.dispatch import CombinedLogger

CALLS = 200_000
BURST = 20_000
TRIXI_CALLS = 30


class TrixiStyleFileLogger:
    """trixi's NumpyPlotFileLogger.show_value: append, redraw every line of the tag, save the PNG, each call."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.values: dict[str, dict[str, list[tuple[float, int]]]] = {}

    def show_value(self, value: float, name: str, counter: int | None = None, tag: str | None = None) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        tag = tag or name
        lines = self.values.setdefault(tag, {}).setdefault(name, [])
        lines.append((value, counter if counter is not None else len(lines) + 1))
        fig = Figure(figsize=(6.4, 4.8), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for label, points in self.values[tag].items():
            ys, xs = zip(*points)
            ax.plot(xs, ys, label=label)
        ax.legend()
        ax.set_ylabel(name)
        fig.savefig(self.folder / f"{tag}.png")


def report(measure: str, value: float, unit: str, baseline: str, base_value: float, target: str) -> None:
    # Three significant digits for the ratio: against a 50 ms redraw, two decimals would read 0.00x.
    print(
        f"{measure}: {value:.3g} {unit} ({value / base_value:.3g}x vs {baseline} {base_value:.3g} {unit}, target {target})"
    )


def seconds_per_call(show_value, calls: int) -> float:
    start = time.perf_counter()
    for i in range(calls):
        show_value(i * 1e-3, "loss", None, "train")
    return (time.perf_counter() - start) / calls


def seconds_per_call_in_bursts(show_value, flush, calls: int) -> float:
    elapsed = 0.0
    for burst in range(calls // BURST):
        start = time.perf_counter()
        for i in range(burst * BURST, (burst + 1) * BURST):
            show_value(i * 1e-3, "loss", None, "train")
        elapsed += time.perf_counter() - start
        flush()  # the writer's share, untimed: what the training loop pays is the call
    return elapsed / (calls // BURST * BURST)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        trixi = TrixiStyleFileLogger(root)
        trixi.show_value(0.0, "warm-up", None, None)  # matplotlib import and font cache, not per call
        trixi_s = seconds_per_call(trixi.show_value, TRIXI_CALLS)

        direct = FileLogger(folder=root / "direct")
        direct_s = seconds_per_call_in_bursts(direct.show_value, direct.flush, CALLS)
        direct.close()

        sustained = FileLogger(folder=root / "sustained")
        sustained_s = seconds_per_call(sustained.show_value, CALLS)
        start = time.perf_counter()
        sustained.close()
        close_s = time.perf_counter() - start
        waited = sustained.stats["blocked_s"]

        # Curves redrawn in the helper thread every 0.1 s while the caller logs: the GIL is shared.
        busy = FileLogger(folder=root / "busy", plot_every_s=0.1, flush_every_s=0.1)
        busy_s = seconds_per_call(busy.show_value, CALLS * 2)
        busy_renders = busy.renders
        busy.close()

        clog = CombinedLogger({"f": "file"}, run_dir=root / "combined")
        clog_s = seconds_per_call_in_bursts(lambda v, n, c, t: clog.show_value(v, n, c, t), clog.flush, CALLS)
        clog.close()

    base = ("trixi-style full redraw", trixi_s * 1e6)
    report("file logger show_value caller cost", direct_s * 1e6, "us", *base, "<= 20 us")
    report(
        f"file logger show_value sustained tight loop, writer included (waited {waited:.2f} s for it)",
        sustained_s * 1e6,
        "us",
        *base,
        "<= 20 us",
    )
    report("file logger show_value via CombinedLogger", clog_s * 1e6, "us", *base, "<= 20 us")
    report(
        f"file logger show_value while redrawing every 0.1 s ({busy_renders} redraws)",
        busy_s * 1e6,
        "us",
        *base,
        "<= 20 us",
    )
    print(
        f"# close after {CALLS} values in a tight loop (bounded queue + one final curve): {close_s * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
