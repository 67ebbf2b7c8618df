"""DistributedDataParallel helpers: process group from torchrun's environment, samplers, reductions.

Under ``torchrun --nproc_per_node N`` every process runs the same trainer; ``init_from_env`` joins the
process group (gloo on CPU, nccl on CUDA), loaders get a ``DistributedSampler``, metrics are summed across
ranks and only rank 0 writes results, logs and checkpoints. Outside torchrun everything here is a no-op.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, Sampler

__all__ = [
    "ShardSampler",
    "all_gather_object",
    "all_reduce_sum",
    "barrier",
    "broadcast_object",
    "distributed_loader",
    "init_from_env",
    "is_distributed",
    "is_main_process",
    "local_rank",
    "rank",
    "world_size",
]


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's global rank (0 outside a process group)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """Number of processes (1 outside a process group)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def local_rank() -> int:
    """Rank on this machine, from torchrun's ``LOCAL_RANK`` (0 when unset)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main_process() -> bool:
    """True on rank 0: the one process that writes results, logs and checkpoints."""
    return rank() == 0


def init_from_env(device: torch.device | None = None) -> bool:
    """Join the process group torchrun describes (``WORLD_SIZE`` > 1); True when this call created it.

    The backend is nccl for CUDA devices and gloo otherwise; ``TRIALOG_DIST_BACKEND`` overrides it.
    The ranks meet where torchrun says (``MASTER_ADDR``/``MASTER_PORT``), or, with
    ``TRIALOG_DIST_INIT_METHOD=file:///shared/path``, through a file every rank can reach (no port to
    agree on; ``RANK`` and ``WORLD_SIZE`` still come from the environment).
    """
    if not dist.is_available() or dist.is_initialized() or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    backend = os.environ.get("TRIALOG_DIST_BACKEND") or (
        "nccl" if device is not None and device.type == "cuda" else "gloo"
    )
    init_method = os.environ.get("TRIALOG_DIST_INIT_METHOD")
    if init_method:
        dist.init_process_group(
            backend=backend,
            init_method=init_method,
            rank=int(os.environ["RANK"]),
            world_size=int(os.environ["WORLD_SIZE"]),
        )
    else:
        dist.init_process_group(backend=backend)
    return True


def _backend_device() -> torch.device:
    """The device collective tensors must live on (CUDA for nccl, CPU otherwise)."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The sum of ``tensor`` over all ranks (a new tensor on the input's device)."""
    if not is_distributed():
        return tensor
    work = tensor.detach().to(_backend_device(), copy=True)
    dist.all_reduce(work, op=dist.ReduceOp.SUM)
    return work.to(tensor.device)


def all_gather_object(obj: Any) -> list[Any]:
    """Every rank's ``obj`` as a list indexed by rank (``[obj]`` outside a process group)."""
    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank (so all ranks take the same decision, e.g. early stopping)."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def barrier() -> None:
    """Wait for every rank; a no-op outside a process group."""
    if is_distributed():
        dist.barrier()


class ShardSampler(Sampler[int]):
    """Every ``world``-th index from ``rank`` on, in order and without padding (for evaluation).

    ``DistributedSampler`` repeats samples so every rank gets as many; summed metrics would count those
    twice. Evaluation needs no equal shards (no gradient synchronisation), so it reads each sample once.
    """

    def __init__(self, length: int, rank: int, world: int) -> None:
        self.indices = range(rank, length, world)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def distributed_loader(
    loader: DataLoader, *, shuffle: bool | None = None, seed: int = 0, evaluation: bool = False
) -> DataLoader:
    """A copy of ``loader`` that reads this rank's shard.

    Training loaders get a ``DistributedSampler`` (equal shards, reshuffled per epoch with ``set_epoch``;
    ``shuffle`` defaults to whether the original loader shuffled); ``evaluation`` loaders a
    :class:`ShardSampler`, so each sample is counted once. Loaders with a custom batch sampler, or with a
    sampler that already splits its draws across ranks (``num_replicas > 1``, like
    :class:`trialog_torch.data.ClassBalancedSampler` under ``trialog run``), are returned unchanged.
    """
    if not is_distributed() or isinstance(loader.sampler, (DistributedSampler, ShardSampler)):
        return loader
    if getattr(loader.sampler, "num_replicas", 1) > 1:  # a sampler that shards itself (ClassBalancedSampler)
        return loader
    if loader.batch_size is None:
        return loader
    if shuffle is None:
        shuffle = isinstance(loader.sampler, RandomSampler)
    sampler: Sampler[int]
    if evaluation:
        sampler = ShardSampler(len(loader.dataset), rank(), world_size())  # type: ignore[arg-type]
    else:
        sampler = DistributedSampler(
            loader.dataset,
            num_replicas=world_size(),
            rank=rank(),
            shuffle=shuffle,
            seed=seed,
            drop_last=False,
        )
    kwargs: dict[str, Any] = {
        "batch_size": loader.batch_size,
        "sampler": sampler,
        "num_workers": loader.num_workers,
        "collate_fn": loader.collate_fn,
        "pin_memory": loader.pin_memory,
        "drop_last": loader.drop_last,
        "timeout": loader.timeout,
        "worker_init_fn": loader.worker_init_fn,
        "generator": loader.generator,
    }
    if loader.num_workers > 0:
        kwargs["persistent_workers"] = loader.persistent_workers
        kwargs["prefetch_factor"] = loader.prefetch_factor
    return DataLoader(loader.dataset, **kwargs)
