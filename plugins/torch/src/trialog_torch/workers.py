"""Background batch preparation with ``DataLoader`` workers, seeded from the run seed and the epoch.

``data.loader.num_workers: N`` prepares batches in ``N`` worker processes. The trainer makes every training
worker seed ``random``, numpy's global RNG and torch from ``(run seed, epoch, DDP rank, worker id)`` alone
(:class:`WorkerSeeder`, installed as the loader's ``worker_init_fn``, wrapping any of the user's own), so the
random augmentation of epoch ``e`` is the same in an uninterrupted and in a resumed run and differs between
epochs, ranks and workers. The seeder reads the trainer's epoch when an epoch's workers start, and a resumed
trainer restores its epoch, so nothing else needs checkpointing.

Workers are recreated every epoch; ``persistent_workers: true`` gets a warning, as a persistent worker's RNG
streams run on across epochs and a resumed run would start them over. Workers end with their
epoch's iterator; a worker's exception reaches the trainer as ``Caught <Error> in DataLoader worker process
<i>`` with the worker's traceback; Ctrl-C in the trainer shuts the workers down; when the trainer process is
SIGKILLed, torch's worker watchdog notices the parent is gone and every worker exits by itself.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from trialog.errors import TrialogWarning

from . import distributed
from .callbacks import Callback, TrainerView
from .samplers import position_callbacks

__all__ = ["WorkerSeeder", "loader_callbacks", "worker_seed"]


def worker_seed(seed: int, epoch: int, rank: int, worker_id: int) -> int:
    """The 63-bit seed of worker ``worker_id`` on DDP rank ``rank`` in epoch ``epoch`` of a run seeded ``seed``."""
    state = np.random.SeedSequence([seed, epoch, rank, worker_id]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


class WorkerSeeder:
    """A ``worker_init_fn`` seeding each worker from (seed, epoch, rank, worker id), then calling ``user_fn``.

    Pickled into the workers when an epoch's iterator starts, so ``set_epoch`` before iterating is enough.
    """

    def __init__(self, seed: int, user_fn: Callable[[int], Any] | None = None, rank: int = 0) -> None:
        self.seed, self.user_fn, self.rank = int(seed), user_fn, int(rank)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Seed the workers of epoch ``epoch``."""
        self.epoch = int(epoch)

    def __call__(self, worker_id: int) -> None:
        seed = worker_seed(self.seed, self.epoch, self.rank, worker_id)
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        if self.user_fn is not None:
            self.user_fn(worker_id)


class _ShutdownOnError:
    """A worker-backed loader iterator that stops its workers as soon as ``next`` raises.

    Otherwise the workers live as long as the iterator, and a traceback kept for debugging keeps the
    iterator: a failed run in a notebook would leave its workers running.
    """

    def __init__(self, iterator: Any) -> None:
        self._iterator = iterator

    def __iter__(self) -> _ShutdownOnError:
        return self

    def __len__(self) -> int:
        return len(self._iterator)

    def __next__(self) -> Any:
        try:
            return next(self._iterator)
        except StopIteration:
            raise
        except BaseException:  # a worker's exception, Ctrl-C while waiting for a batch
            shutdown = getattr(self._iterator, "_shutdown_workers", None)
            if shutdown is not None:
                shutdown()
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._iterator, name)


def _wrap_iterator(loader: Any, before: Callable[[], None] | None = None) -> None:
    """Make ``loader``'s epochs stop their workers when a batch fails, calling ``before`` as each one starts."""
    if getattr(loader, "num_workers", 0) <= 0 or not hasattr(loader, "_get_iterator"):
        return
    make = getattr(loader._get_iterator, "unwrapped", loader._get_iterator)

    def guarded() -> Any:
        if before is not None:
            before()
        return _ShutdownOnError(make())

    guarded.unwrapped = make  # type: ignore[attr-defined]
    loader._get_iterator = guarded


def loader_callbacks(trainer: TrainerView) -> list[Callback]:
    """Prepare a trainer's loaders; return what its checkpoints must carry for them (a sampler's position).

    Every loader with workers stops them as soon as a batch fails; the training loader's workers are
    seeded by a :class:`WorkerSeeder` from the trainer's seed and the epoch it is in.
    """
    for loader in (trainer.val_loader, trainer.test_loader):
        _wrap_iterator(loader)
    loader = trainer.train_loader
    if getattr(loader, "num_workers", 0) > 0:
        if getattr(loader, "persistent_workers", False):
            warnings.warn(
                "data.loader.persistent_workers: persistent workers carry their RNG streams across epochs, so a "
                "resumed run will not draw the same batches; set it false for exact resumes",
                TrialogWarning,
                stacklevel=3,
            )
        seeder = loader.worker_init_fn
        if not isinstance(seeder, WorkerSeeder):
            seeder = WorkerSeeder(trainer.seed, loader.worker_init_fn, rank=distributed.rank())
            loader.worker_init_fn = seeder
        _wrap_iterator(loader, lambda: seeder.set_epoch(trainer.epoch))
    else:
        _wrap_iterator(loader)
    return position_callbacks(loader)
