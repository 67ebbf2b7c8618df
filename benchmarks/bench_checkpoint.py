"""Checkpoint save+load of ~300 MB of numpy state vs plain np.savez/np.load; async save's caller-blocked time.

Run: python benchmarks/bench_checkpoint.py (about 30-50 s on 2 cores, writes about 4 GB to a temporary folder
it deletes). trialog's save is crash-safe (temp file, fsync, rename, manifest), the np.savez baseline is not:
it does not fsync. The first row keeps the 0.1.0 note's baseline (np.savez + np.load, which do not fsync;
trialog's save fsynced in 0.1.0 too); the second compares like with like: a durable np.savez (fsync) +
np.load. Rounds are interleaved and the best of each variant counts, so load from other processes disturbs the
ratios less than the absolute times.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from trialog.checkpoint.manager import CheckpointManager

ROUNDS = 3
N_ARRAYS = 30
ARRAY_ELEMENTS = 2_500_000  # float32: 10 MB each, 300 MB in all


def make_state() -> dict:
    rng = np.random.default_rng(0)
    layers = {f"layer{i}": rng.standard_normal(ARRAY_ELEMENTS, dtype=np.float32) for i in range(N_ARRAYS)}
    return {"model": layers, "optimizer": {"lr": 0.1, "step": 1000}, "epoch": 3}


def plain_npz(state: dict, folder: Path) -> tuple[float, float]:
    path = folder / "plain.npz"
    t0 = time.perf_counter()
    np.savez(path, **state["model"])
    t1 = time.perf_counter()
    with np.load(path) as npz:
        loaded = {name: npz[name] for name in npz.files}
    t2 = time.perf_counter()
    assert len(loaded) == N_ARRAYS
    path.unlink()
    return t1 - t0, t2 - t1


def durable_npz(state: dict, folder: Path) -> tuple[float, float]:
    """Baselines for a durable save: (np.savez + fsync, Ignite-style temp file + fsync + rename)."""
    path = folder / "fsynced.npz"
    t0 = time.perf_counter()
    with open(path, "wb") as f:
        np.savez(f, **state["model"])
        f.flush()
        os.fsync(f.fileno())
    t1 = time.perf_counter()
    path.unlink()
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    t2 = time.perf_counter()
    with os.fdopen(fd, "wb") as f:
        np.savez(f, **state["model"])
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    t3 = time.perf_counter()
    path.unlink()
    return t1 - t0, t3 - t2


def trialog_sync(state: dict, folder: Path, step: int) -> tuple[float, float]:
    mgr = CheckpointManager(folder / "sync", keep_last=1)
    t0 = time.perf_counter()
    mgr.save(state, step=step)
    t1 = time.perf_counter()
    loaded, _ = mgr.load()
    t2 = time.perf_counter()
    assert len(loaded["model"]) == N_ARRAYS
    return t1 - t0, t2 - t1


def trialog_async(mgr: CheckpointManager, state: dict, step: int) -> float:
    t0 = time.perf_counter()
    mgr.save(state, step=step)
    blocked = time.perf_counter() - t0
    mgr.wait()
    return blocked


def main() -> None:
    state = make_state()
    mb = sum(a.nbytes for a in state["model"].values()) / 1e6
    folder = Path(tempfile.mkdtemp(prefix="trialog-bench-checkpoint-"))
    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)

    # One manager for the whole "run", as in training: from the second save on it copies into kept buffers.
    async_mgr = CheckpointManager(folder / "async", keep_last=1, async_save=True)
    try:
        # Round 0 warms the allocator and the page cache and is not counted.
        for r in range(ROUNDS + 1):
            plain = plain_npz(state, folder)
            durable = durable_npz(state, folder)
            ours = trialog_sync(state, folder, step=r)
            blocked = trialog_async(async_mgr, state, step=r)
            if r:
                keep("plain_save", plain[0])
                keep("plain_load", plain[1])
                keep("plain_total", sum(plain))
                keep("fsync_save", durable[0])
                keep("durable_total", durable[0] + plain[1])
                keep("disk_saver", durable[1])
                keep("ours_save", ours[0])
                keep("ours_load", ours[1])
                keep("ours_total", sum(ours))
                keep("async_blocked", blocked)
        async_mgr.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def line(measure: str, ours: float, base_name: str, base: float, target: str) -> None:
        print(f"{measure}: {ours:.3f} s ({ours / base:.2f}x vs {base_name} {base:.3f} s, target {target})")

    line(
        f"checkpoint save+load {mb:.0f} MB",
        best["ours_total"],
        "np.savez+np.load",
        best["plain_total"],
        "- (the baseline is not durable: next row)",
    )
    line(
        f"checkpoint save+load {mb:.0f} MB",
        best["ours_total"],
        "a durable np.savez (fsync) + np.load",
        best["durable_total"],
        "<= 1.0x",
    )
    line(
        f"checkpoint save {mb:.0f} MB (fsynced)",
        best["ours_save"],
        "np.savez (no fsync)",
        best["plain_save"],
        "-",
    )
    line(
        f"durable checkpoint save {mb:.0f} MB (checksummed)",
        best["ours_save"],
        "np.savez+fsync",
        best["fsync_save"],
        "<= 1.05x",
    )
    line(
        f"durable checkpoint save {mb:.0f} MB (checksummed)",
        best["ours_save"],
        "Ignite-style DiskSaver (temp, fsync, rename)",
        best["disk_saver"],
        "-",
    )
    line(f"checkpoint load+verify {mb:.0f} MB", best["ours_load"], "np.load", best["plain_load"], "-")
    line(
        f"async checkpoint caller blocked {mb:.0f} MB",
        best["async_blocked"],
        "synchronous save",
        best["ours_save"],
        "<= 0.10x",
    )


if __name__ == "__main__":
    main()
