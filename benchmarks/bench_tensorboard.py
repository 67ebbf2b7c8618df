"""Caller cost of ``show_value`` through trialog to TensorBoard vs tensorboardX's own ``add_scalar``.

Both are timed on the training thread in bursts of ``BURST`` calls (below the dispatcher's queue size,
so nothing is dropped); between bursts the background writer drains, untimed for the caller cost. The
end-to-end rate (events on disk per second, bursts and drains together) is printed too, so the work
moved off the training thread stays visible.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

BURST = 500
BURSTS = 40
TARGET_US = 10.0


def direct_add_scalar(folder: Path) -> float:
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(str(folder))
    elapsed = 0.0
    for burst in range(BURSTS):
        start = time.perf_counter()
        for i in range(BURST):
            writer.add_scalar("loss", 0.5, burst * BURST + i)
        elapsed += time.perf_counter() - start
    writer.close()
    return elapsed / (BURST * BURSTS) * 1e6


def through_trialog(folder: Path) -> tuple[float, float, dict]:
    from trialog.loggers.dispatch import CombinedLogger

    clog = CombinedLogger({"tb": {"type": "tensorboard"}}, run_dir=folder)
    elapsed = drained = 0.0
    for burst in range(BURSTS):
        start = time.perf_counter()
        for i in range(BURST):
            clog.show_value(0.5, "loss", counter=burst * BURST + i)
        elapsed += time.perf_counter() - start
        start = time.perf_counter()
        clog.wait_idle()
        drained += time.perf_counter() - start
    summary = clog.close()
    count = BURST * BURSTS
    return elapsed / count * 1e6, count / (elapsed + drained), summary["tb"]


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        through_trialog(Path(tmp) / "warmup")
        direct = direct_add_scalar(Path(tmp) / "direct")
        caller, rate, summary = through_trialog(Path(tmp) / "trialog")
    assert summary["dropped"] == 0 and summary["failures"] == 0, summary
    print(
        f"tensorboard show_value caller cost: {caller:.2f} us "
        f"({direct / caller:.1f}x vs tensorboardX add_scalar {direct:.2f} us, target <= {TARGET_US:g} us)"
    )
    print(
        f"tensorboard end-to-end write rate: {rate:,.0f} events/s "
        f"({rate * direct / 1e6:.1f}x vs tensorboardX add_scalar {1e6 / direct:,.0f} events/s, target n/a)"
    )


if __name__ == "__main__":
    main()
