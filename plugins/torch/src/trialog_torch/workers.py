"""Background batch preparation with ``DataLoader`` workers, seeded from the run seed and the epoch.

``data.loader.num_workers: N`` prepares batches in ``N`` worker processes. The trainer makes every training
worker seed ``random``, numpy's global RNG and torch from ``(run seed, epoch, DDP rank, worker id)`` alone
(:class:`WorkerSeeder`, installed as the loader's ``worker_init_fn``, wrapping any of the user's own), so the
random augmentation of epoch ``e`` is the same in an uninterrupted and in a resumed run and differs between
epochs, ranks and workers. A callback (:class:`WorkerEpoch`) tells the seeder the epoch and checkpoints it.

Workers are recreated every epoch; ``persistent_workers: true`` gets a warning, as a persistent worker's RNG
streams run on across epochs and a resumed run would start them over. Workers end with their
epoch's iterator; a worker's exception reaches the trainer as ``Caught <Error> in DataLoader worker process
<i>`` with the worker's traceback; Ctrl-C in the trainer shuts the workers down; when the trainer process is
SIGKILLed, torch's worker watchdog notices the parent is gone and every worker exits by itself.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from trialog.api import TrialogWarning

from . import distributed
from .callbacks import Callback
from .samplers import position_callbacks

if TYPE_CHECKING:  # pragma: no cover
    from .trainers import Trainer

__all__ = ["WorkerEpoch", "WorkerSeeder", "loader_callbacks", "worker_seed"]


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


class WorkerEpoch(Callback):
    """Keeps a :class:`WorkerSeeder` on the trainer's epoch, through resumes (its state is the epoch)."""

    def __init__(self, seeder: WorkerSeeder) -> None:
        self.seeder = seeder

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: Mapping[str, float]) -> None:
        self.seeder.set_epoch(epoch + 1)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.seeder.epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.seeder.set_epoch(int(state.get("epoch", 0)))


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


def stop_workers_on_error(loader: Any) -> None:
    """Make ``loader``'s worker processes stop when fetching a batch fails (a no-op without workers)."""
    if getattr(loader, "num_workers", 0) <= 0 or not hasattr(loader, "_get_iterator"):
        return
    make = loader._get_iterator
    if not getattr(make, "stops_workers_on_error", False):

        def guarded() -> Any:
            return _ShutdownOnError(make())

        guarded.stops_workers_on_error = True  # type: ignore[attr-defined]
        loader._get_iterator = guarded


def loader_callbacks(loader: Any, seed: int, *others: Any) -> list[Callback]:
    """What a training loader needs checkpointed: its sampler's position, its workers' epoch (seeding them).

    Every loader given (``others``: validation, test) also stops its workers when a batch fails.
    """
    for each in (loader, *others):
        stop_workers_on_error(each)
    callbacks = position_callbacks(loader)
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
            seeder = WorkerSeeder(seed, loader.worker_init_fn, rank=distributed.rank())
            loader.worker_init_fn = seeder
        callbacks.append(WorkerEpoch(seeder))
    return callbacks
