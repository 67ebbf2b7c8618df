"""Torch checkpoint save+load of a 25M-parameter model + Adam state (300 MB) through trialog vs plain torch.

Run: python benchmarks/bench_torch_checkpoint.py (about 30-40 s on 2 cores; writes about 3 GB to a temporary
folder it deletes). Each round restores the loaded state into the model and optimizer, as a resume does.
trialog's save is crash-safe (temporary file, fsync, rename, manifest), plain torch.save is not (trialog's
keep_last=1 deletes the previous file inside save; the baseline overwrites its file in place). The first row
keeps the 0.1.0 note's baseline (torch.save + torch.load, which do not fsync; trialog's save fsynced in 0.1.0
too); the second compares like with like: a durable torch.save (fsync) + torch.load. Rounds are interleaved
and the best of each variant counts, so other processes' load disturbs the ratios less than the absolute
times.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from trialog.checkpoint.manager import CheckpointManager

ROUNDS = 4
WIDTH = 2236  # 5 square linear layers of 2236: 25.0M parameters


def make_model() -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(WIDTH, WIDTH) for _ in range(5)])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(2, WIDTH)).square().mean().backward()
    optimizer.step()  # creates exp_avg and exp_avg_sq: model + Adam = 3 x 100 MB
    return model, optimizer


def state_of(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}


def restore(model: nn.Module, optimizer: torch.optim.Optimizer, state: dict) -> None:
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])


def plain(model: nn.Module, optimizer: torch.optim.Optimizer, folder: Path) -> tuple[float, float]:
    path = folder / "plain.pt"  # overwritten every round, as a training script's checkpoint.pt is
    t0 = time.perf_counter()
    torch.save(state_of(model, optimizer), path)
    t1 = time.perf_counter()
    restore(model, optimizer, torch.load(path))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def plain_fresh(model: nn.Module, optimizer: torch.optim.Optimizer, folder: Path) -> float:
    path = folder / "fresh.pt"  # a new file each time: no truncation of an old one in the timing
    t0 = time.perf_counter()
    torch.save(state_of(model, optimizer), path)
    seconds = time.perf_counter() - t0
    path.unlink()
    return seconds


def plain_fsync(model: nn.Module, optimizer: torch.optim.Optimizer, folder: Path) -> float:
    """The durable baseline: torch.save to a new file, then fsync it."""
    path = folder / "fsynced.pt"
    t0 = time.perf_counter()
    with open(path, "wb") as f:
        torch.save(state_of(model, optimizer), f)
        f.flush()
        os.fsync(f.fileno())
    seconds = time.perf_counter() - t0
    path.unlink()
    return seconds


def disk_saver(model: nn.Module, optimizer: torch.optim.Optimizer, folder: Path) -> float:
    """Ignite's atomic DiskSaver, written out: torch.save to a temporary file, fsync, rename over the target."""
    path = folder / "ignite.pt"
    t0 = time.perf_counter()
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        torch.save(state_of(model, optimizer), f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    seconds = time.perf_counter() - t0
    path.unlink()
    return seconds


def plain_load(model: nn.Module, optimizer: torch.optim.Optimizer, folder: Path) -> float:
    """torch.load + load_state_dict of a file written (and fsynced) beforehand: the load baseline."""
    path = folder / "to-load.pt"
    if not path.exists():
        torch.save(state_of(model, optimizer), path)
    t0 = time.perf_counter()
    restore(model, optimizer, torch.load(path))
    return time.perf_counter() - t0


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    optimizer.zero_grad()
    model(torch.randn(2, WIDTH)).square().mean().backward()
    optimizer.step()


def managed(
    model: nn.Module, optimizer: torch.optim.Optimizer, manager: CheckpointManager, step: int
) -> tuple[float, float]:
    t0 = time.perf_counter()
    manager.save(state_of(model, optimizer), step=step)
    t1 = time.perf_counter()
    state, _ = manager.load("last")
    restore(model, optimizer, state)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def blocked(
    model: nn.Module, optimizer: torch.optim.Optimizer, manager: CheckpointManager, step: int
) -> float:
    t0 = time.perf_counter()
    manager.save(state_of(model, optimizer), step=step)
    seconds = time.perf_counter() - t0
    manager.wait()
    return seconds


def main() -> None:
    model, optimizer = make_model()
    n_params = sum(p.numel() for p in model.parameters()) / 1e6
    folder = Path(tempfile.mkdtemp(prefix="trialog-bench-torch-checkpoint-"))
    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)

    # One manager per mode for the whole "run", as in training.
    sync_mgr = CheckpointManager(folder / "sync", format="torch", keep_last=1)
    async_mgr = CheckpointManager(folder / "async", format="torch", keep_last=1, async_save=True)
    try:
        # Round 0 warms the allocator, the page cache and the snapshot buffers; it is not counted.
        for r in range(ROUNDS + 1):
            base = plain(model, optimizer, folder)
            fresh = plain_fresh(model, optimizer, folder)
            fsynced = plain_fsync(model, optimizer, folder)
            ignite = disk_saver(model, optimizer, folder)
            loaded = plain_load(model, optimizer, folder)
            ours = managed(model, optimizer, sync_mgr, step=r)
            train_step(model, optimizer)  # the loop trains between a resume and the next checkpoint
            waited = blocked(model, optimizer, async_mgr, step=r)
            if r:
                keep("plain_save", base[0])
                keep("plain_load", base[1])
                keep("plain_total", sum(base))
                keep("plain_fresh", fresh)
                keep("plain_fsync", fsynced)
                keep("disk_saver", ignite)
                keep("plain_load_only", loaded)
                keep("durable_total", fsynced + loaded)
                keep("ours_save", ours[0])
                keep("ours_load", ours[1])
                keep("ours_total", sum(ours))
                keep("async_blocked", waited)
        async_mgr.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def line(measure: str, ours: float, base_name: str, base: float, target: str) -> None:
        print(f"{measure}: {ours:.3f} s ({ours / base:.2f}x vs {base_name} {base:.3f} s, target {target})")

    size = f"{n_params:.0f}M params + Adam"
    line(
        f"torch checkpoint save+load {size}",
        best["ours_total"],
        "torch.save+torch.load",
        best["plain_total"],
        "- (the baseline is not durable: next row)",
    )
    line(
        f"torch checkpoint save+load {size}",
        best["ours_total"],
        "a durable torch.save (fsync) + torch.load+restore",
        best["durable_total"],
        "<= 1.0x",
    )
    line(
        f"torch checkpoint save {size} (fsynced)",
        best["ours_save"],
        "torch.save overwriting its file (no fsync)",
        best["plain_save"],
        "-",
    )
    line(
        f"torch checkpoint save {size} (fsynced)",
        best["ours_save"],
        "torch.save to a new file (no fsync)",
        best["plain_fresh"],
        "-",
    )
    line(
        f"durable torch checkpoint save {size} (checksummed)",
        best["ours_save"],
        "torch.save+fsync",
        best["plain_fsync"],
        "<= 1.05x",
    )
    line(
        f"durable torch checkpoint save {size} (checksummed)",
        best["ours_save"],
        "Ignite-style DiskSaver (temp, fsync, rename)",
        best["disk_saver"],
        "-",
    )
    line(
        f"torch checkpoint load+verify+restore {size}",
        best["ours_load"],
        "torch.load+load_state_dict",
        best["plain_load_only"],
        "<= 1.0x",
    )
    line(
        f"torch checkpoint load+restore {size}",
        best["ours_load"],
        "torch.load+restore",
        best["plain_load"],
        "-",
    )
    line(
        f"async torch checkpoint caller blocked {size}",
        best["async_blocked"],
        "synchronous save",
        best["ours_save"],
        "<= 0.1 s",
    )


if __name__ == "__main__":
    main()
