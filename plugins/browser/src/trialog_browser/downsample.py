"""Server-side downsampling of curves: the min and the max of each bucket, so spikes survive."""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_POINTS = 2000
MAX_POINTS = 20_000


def minmax(x: np.ndarray, y: np.ndarray, points: int = DEFAULT_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``points`` of (x, y): per bucket of consecutive samples its min and max, in order.

    The first and last sample are always kept; NaN samples never win a bucket.
    """
    n = int(y.size)
    if n <= points or points < 4:
        return x, y
    buckets = max(1, points // 2)
    k = -(-n // buckets)
    pad = buckets * k - n
    yf = y.astype(np.float64, copy=False)
    lo = np.concatenate([np.where(np.isnan(yf), np.inf, yf), np.full(pad, np.inf)]).reshape(buckets, k)
    hi = np.concatenate([np.where(np.isnan(yf), -np.inf, yf), np.full(pad, -np.inf)]).reshape(buckets, k)
    base = np.arange(buckets) * k
    picks = np.concatenate([base + lo.argmin(axis=1), base + hi.argmax(axis=1), [0, n - 1]])
    picks = np.unique(picks[picks < n])
    return x[picks], y[picks]


def window(x: np.ndarray, lo: float | None, hi: float | None) -> slice:
    """The index range of samples with ``lo <= x <= hi`` (x ascending, as counters are)."""
    start = 0 if lo is None else int(np.searchsorted(x, lo, side="left"))
    stop = x.size if hi is None else int(np.searchsorted(x, hi, side="right"))
    # one sample beyond each edge, so a zoomed line runs to the border of the plot
    return slice(max(0, start - 1), min(x.size, stop + 1))


def x_axis(cols: dict[str, Any]) -> np.ndarray:
    """The counter where every record has one, else the record number."""
    counter = cols["counter"]
    if counter.dtype.kind in "iu":
        return counter.astype(np.float64)
    if counter.size and not np.isnan(counter).any():
        return counter
    return np.arange(counter.size, dtype=np.float64)


def json_floats(a: np.ndarray) -> list[float | None]:
    """A float array as a JSON-ready list (NaN and infinities as null)."""
    out = a.astype(np.float64).tolist()
    if not np.isfinite(a).all():
        out = [v if v == v and v not in (float("inf"), float("-inf")) else None for v in out]
    return out
