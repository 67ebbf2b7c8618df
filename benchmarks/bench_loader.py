"""Background batch preparation: batches per second with 0, 1 and 2 workers for a deliberately slow augmentation.

Rows, each against the plain ``DataLoader`` with 0 workers measured in the same run (the baseline), and the
worker rows also against the plain ``DataLoader`` with as many workers:

* plain ``DataLoader(num_workers=N)``;
* trialog's training loader: the same loader after the trainer's ``loader_callbacks`` (workers seeded from
  (run seed, epoch, rank, worker id), the iterator stops its workers on an error);
* an elektronn2-style shared-memory prefetcher (``BackgroundProc``/``SharedQ``): ``N`` processes fill
  preallocated shared numpy arrays that the consumer reads in place, batches in completion order. It lives
  here, not in trialog-torch: it ships only if it beats ``DataLoader`` with the same worker count, and the
  ``DataLoader`` already moves each worker's batch through shared memory (tensors travel as file descriptors,
  not as pickled bytes), so the two do the same work; the difference printed is the answer.

Figures: batches per second of a whole epoch, best of ``REPEAT`` rounds over all rows after a warm-up round; every
epoch starts its worker processes and ends them (the trainer's loaders do: ``persistent_workers`` is off for
exact resumes; the prefetcher is built per epoch likewise); one torch thread per process. On a machine shared
with other jobs the worker rows are bounded by the free cores, not by the loaders.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from collections.abc import Callable, Iterator
from multiprocessing import shared_memory
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, str(Path(__file__).parent))
from _common import report
from trialog_torch.workers import loader_callbacks

SAMPLES = 480
BATCH = 16
SIZE = 48
BLUR_PASSES = 20
REPEAT = 4


def augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Deliberately slow: noise, a random flip and repeated 3x3 box blurs in numpy (a few ms per sample)."""
    out = image + rng.normal(0.0, 0.1, image.shape).astype(np.float32)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    for _ in range(BLUR_PASSES):
        padded = np.pad(out, 1, mode="edge")
        out = sum(padded[i : i + SIZE, j : j + SIZE] for i in range(3) for j in range(3)) / 9.0
    return np.ascontiguousarray(out, dtype=np.float32)


IMAGES = np.random.default_rng(0).standard_normal((SAMPLES, SIZE, SIZE)).astype(np.float32)
LABELS = np.arange(SAMPLES) % 10


class Augmented(Dataset):
    def __len__(self) -> int:
        return SAMPLES

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return augment(IMAGES[index], np.random.default_rng(np.random.randint(2**31))), int(LABELS[index])


def _worker(tasks: Any, free: Any, ready: Any, names: list[list[str]]) -> None:
    torch.set_num_threads(1)
    memories = [[shared_memory.SharedMemory(name=n) for n in slot] for slot in names]
    while (batch := tasks.get()) is not None:
        slot = free.get()
        images = np.ndarray((BATCH, SIZE, SIZE), np.float32, buffer=memories[slot][0].buf)
        labels = np.ndarray((BATCH,), np.int64, buffer=memories[slot][1].buf)
        rng = np.random.default_rng([batch, 7])
        for k, index in enumerate(range(batch * BATCH, (batch + 1) * BATCH)):
            images[k] = augment(IMAGES[index % SAMPLES], rng)
            labels[k] = LABELS[index % SAMPLES]
        del images, labels
        ready.put(slot)
    for slot in memories:
        for memory in slot:
            memory.close()


class SharedPrefetcher:
    """elektronn2's idea: ``n_proc`` processes fill preallocated shared arrays; the consumer reads them in place."""

    def __init__(self, n_proc: int, n_batches: int) -> None:
        ctx = mp.get_context("fork")
        self.n_batches = n_batches
        sizes = (BATCH * SIZE * SIZE * 4, BATCH * 8)
        self.memories = [
            [shared_memory.SharedMemory(create=True, size=s) for s in sizes] for _ in range(2 * n_proc)
        ]
        self.tasks, self.free, self.ready = ctx.Queue(), ctx.Queue(), ctx.Queue()
        for slot in range(len(self.memories)):
            self.free.put(slot)
        names = [[m.name for m in slot] for slot in self.memories]
        self.procs = [
            ctx.Process(target=_worker, args=(self.tasks, self.free, self.ready, names), daemon=True)
            for _ in range(n_proc)
        ]
        for proc in self.procs:
            proc.start()

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for batch in range(self.n_batches):
            self.tasks.put(batch)
        for _ in range(self.n_batches):
            slot = self.ready.get()
            images = np.ndarray((BATCH, SIZE, SIZE), np.float32, buffer=self.memories[slot][0].buf)
            labels = np.ndarray((BATCH,), np.int64, buffer=self.memories[slot][1].buf)
            yield torch.from_numpy(images), torch.from_numpy(labels)
            del images, labels
            self.free.put(slot)

    def close(self) -> None:
        for _ in self.procs:
            self.tasks.put(None)
        for proc in self.procs:
            proc.join()
        for slot in self.memories:
            for memory in slot:
                memory.close()
                memory.unlink()


def touched(batches: Any) -> Iterator[float]:
    """Each batch read once, as a training step would read it."""
    for images, _ in batches:
        yield float(images.sum())


def epoch(make: Callable[[], Any], close: Callable[[Any], None] = lambda _: None) -> float:
    """Batches per second of one epoch, starting its workers (as a training epoch does) and ending them."""
    start = time.perf_counter()
    source = make()
    try:
        count = sum(1 for _ in touched(source))
    finally:
        close(source)
    return count / (time.perf_counter() - start)


def main() -> None:
    torch.set_num_threads(1)
    n_batches = SAMPLES // BATCH

    def plain(workers: int) -> DataLoader:
        return DataLoader(Augmented(), batch_size=BATCH, shuffle=True, num_workers=workers)

    def trialog(workers: int) -> DataLoader:
        loader = plain(workers)
        loader_callbacks(
            SimpleNamespace(train_loader=loader, val_loader=None, test_loader=None, seed=0, epoch=0)
        )
        return loader

    def shared(workers: int) -> Callable[[], float]:
        return lambda: epoch(lambda: SharedPrefetcher(workers, n_batches), SharedPrefetcher.close)

    rows: dict[tuple[str, int], Callable[[], float]] = {}
    for workers in (0, 1, 2):
        rows["plain", workers] = lambda w=workers: epoch(lambda: plain(w))
        rows["trialog", workers] = lambda w=workers: epoch(lambda: trialog(w))
        if workers:
            rows["shared", workers] = shared(workers)
    # rounds of every row, best per row: load that drifts during the run hits every row alike
    figures = {row: [] for row in rows}
    for _ in range(REPEAT + 1):
        for row, measure in rows.items():
            figures[row].append(measure())
    rate = {row: max(values[1:]) for row, values in figures.items()}  # round 0 warms up
    baseline = rate["plain", 0]
    print(
        f"# {n_batches} batches of {BATCH} {SIZE}x{SIZE} images per epoch, {BLUR_PASSES} blur passes per sample"
    )
    for workers in (0, 1, 2):
        same = rate["plain", workers]
        report(
            f"plain DataLoader, {workers} workers",
            same,
            "batches/s",
            "plain DataLoader, 0 workers",
            baseline,
            "baseline" if not workers else "informational",
        )
        report(
            f"trialog training loader, {workers} workers",
            rate["trialog", workers],
            "batches/s",
            f"plain DataLoader, {workers} workers",
            same,
            ">= 0.95x",
        )
        if workers:
            report(
                f"shared-memory prefetcher (elektronn2 style), {workers} workers",
                rate["shared", workers],
                "batches/s",
                f"plain DataLoader, {workers} workers",
                same,
                "> 1.1x to ship it",
            )


if __name__ == "__main__":
    main()
