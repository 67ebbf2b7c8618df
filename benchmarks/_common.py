"""Shared helpers of the benchmark scripts: timing loops and the one output format."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def per_call(fn: Callable[[], object], number: int, repeat: int = 5) -> float:
    """Best-of-``repeat`` seconds per call of ``fn`` over ``number`` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def command_seconds(argv: Sequence[str], repeat: int = 15) -> float:
    """Median wall time of running a command (after one warm-up run)."""
    subprocess.run(argv, check=True, capture_output=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(measure: str, value: float, unit: str, baseline: str, base_value: float, target: str) -> None:
    """Print ``measure: value unit (ratio x vs baseline value unit, target ...)``."""
    ratio = value / base_value if base_value else float("nan")
    print(
        f"{measure}: {value:.3g} {unit} ({ratio:.3g}x vs {baseline} {base_value:.3g} {unit}, target {target})"
    )
    sys.stdout.flush()
