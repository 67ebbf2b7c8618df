"""Helpers for snapshots of checkpoint state: a copy of large arrays split over the cores."""

from __future__ import annotations

import itertools
import os
import threading
from typing import Any

__all__ = ["copyto"]

_PARALLEL_COPY_BYTES = 16 << 20


def copyto(dst: Any, src: Any, np: Any) -> None:
    """``np.copyto`` split over the cores for large arrays: numpy releases the GIL, one core's bandwidth
    is not the machine's, and this copy is all the time an asynchronous save blocks its caller."""
    workers = min(os.cpu_count() or 1, 8)
    if src.nbytes < _PARALLEL_COPY_BYTES or workers < 2 or not src.flags.c_contiguous:
        np.copyto(dst, src)
        return
    flat_dst, flat_src = dst.reshape(-1), src.reshape(-1)
    bounds = np.linspace(0, flat_src.size, workers + 1, dtype=np.int64)
    threads = [
        threading.Thread(target=np.copyto, args=(flat_dst[a:b], flat_src[a:b]))
        for a, b in itertools.pairwise(bounds[1:])
    ]
    for t in threads:
        t.start()
    np.copyto(flat_dst[: bounds[1]], flat_src[: bounds[1]])
    for t in threads:
        t.join()
