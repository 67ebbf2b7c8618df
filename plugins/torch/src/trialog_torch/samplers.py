"""Samplers a config can name: exact per-batch prevalence, weighted and user-function sampling, after delira.

``data.loader.sampler`` (train split) takes a name from :data:`SAMPLERS` with its ``params`` (``balanced`` is
:class:`~trialog_torch.data.ClassBalancedSampler`)::

    "loader": {"batch_size": 12, "sampler": {"type": "prevalence_random", "params": {"shuffle_batch": true}}}

* ``prevalence_random`` / ``prevalence_sequential`` (delira's ``PrevalenceRandomSampler`` /
  ``PrevalenceSequentialSampler``): every batch holds ``batch_size / n_classes`` samples of each class,
  exactly (the batch size must be a multiple of the number of classes). The random variant walks a reshuffled
  cycle per class, the sequential one each class in dataset order; a class that runs out starts over.
* ``stopping_prevalence_random`` / ``stopping_prevalence_sequential`` (delira's ``Stopping...`` variants): the
  same, but the epoch ends when the smallest class is exhausted, so no sample repeats within an epoch.
* ``weighted`` (delira's ``WeightedRandomSampler``): index ``i`` is drawn with probability proportional to its
  weight; weights from exactly one of ``weights`` (a list), ``weights_file`` (``.npy``, or text with one number
  per line or comma-separated), ``weights_attribute`` (a dataset attribute) or ``inverse_frequency: true``
  (``1 / count(class)``: every class equally likely).
* ``lambda`` (delira's ``LambdaSampler``): ``fn`` names ``fn(n_items, num_samples, generator) -> indices``.

Every sampler here draws epoch ``e``'s order from ``seed + e`` only (the run's seed under ``trialog run``;
the trainer calls ``set_epoch``), so a resumed run and every DDP rank see the same order; under DDP each
rank keeps its share (whole batches for the prevalence samplers, so every rank's batches stay exact).
``state_dict``/``load_state_dict`` carry the epoch and the position inside it; the trainer stores them with
its checkpoints (:class:`SamplerPosition`), and a sampler restored mid-epoch skips what was already consumed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler

from trialog.errors import ConfigError

from .callbacks import Callback, TrainerView
from .data import ClassBalancedSampler, as_labels, dataset_labels

__all__ = [
    "SAMPLERS",
    "LambdaSampler",
    "PrevalenceRandomSampler",
    "PrevalenceSequentialSampler",
    "SamplerPosition",
    "SeededSampler",
    "StoppingPrevalenceRandomSampler",
    "StoppingPrevalenceSequentialSampler",
    "WeightedSampler",
    "build_sampler",
]


class SeededSampler(Sampler[int]):
    """Base: a full epoch order drawn from ``seed + epoch``, this rank's share of it, and a resumable position.

    Subclasses implement :meth:`order` (the whole epoch over all ranks, a multiple of ``unit * num_replicas``
    long) and may set ``unit`` (the indices kept together on one rank: the batch size for prevalence samplers).
    """

    unit = 1

    def __init__(
        self, *, seed: int | None = None, num_replicas: int | None = None, rank: int | None = None
    ) -> None:
        self.num_replicas = 1 if num_replicas is None else int(num_replicas)
        self.rank = 0 if rank is None else int(rank)
        if self.num_replicas < 1 or not 0 <= self.rank < self.num_replicas:
            raise ConfigError(
                f"{type(self).__name__} needs 0 <= rank < num_replicas, got rank={rank}, num_replicas={num_replicas}"
            )
        self.seed = 0 if seed is None else int(seed)
        self.epoch = 0
        self.position = 0  # indices of this epoch (on this rank) already consumed: skipped by the next iter

    def order(self, generator: torch.Generator) -> torch.Tensor:
        """Every index of the epoch, all ranks together."""
        raise NotImplementedError

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order; a new epoch starts at its beginning."""
        if int(epoch) != self.epoch:
            self.position = 0
        self.epoch = int(epoch)

    def _share(self) -> torch.Tensor:
        order = self.order(torch.Generator().manual_seed(self.seed + self.epoch))
        units = order.reshape(-1, self.unit)
        return units[self.rank :: self.num_replicas].reshape(-1)

    def __iter__(self) -> Iterator[int]:
        share = self._share()
        start, self.position = self.position, 0
        return iter(share[start:].tolist())

    def state_dict(self, consumed: int | None = None) -> dict[str, int]:
        """The epoch and the position in it (``consumed`` indices, when the caller counts them)."""
        return {"epoch": self.epoch, "position": self.position if consumed is None else int(consumed)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue epoch ``state["epoch"]`` after its first ``state["position"]`` indices."""
        self.epoch = int(state.get("epoch", 0))
        self.position = int(state.get("position", 0))


def _rounded_up(n: int, multiple: int) -> int:
    return math.ceil(n / multiple) * multiple


class _Prevalence(SeededSampler):
    """Exact per-batch prevalence; subclasses choose the per-class walk and whether a short class ends the epoch."""

    random = True
    stopping = False

    def __init__(
        self,
        labels: Sequence[Any] | np.ndarray | torch.Tensor,
        batch_size: int,
        num_batches: int | None = None,
        shuffle_batch: bool = True,
        *,
        seed: int | None = None,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(seed=seed, num_replicas=num_replicas, rank=rank)
        name = type(self).__name__
        array = as_labels(labels, "labels")
        if array.size == 0:
            raise ConfigError(f"{name} needs at least one label, got an empty sequence")
        self.classes, inverse = np.unique(array, return_inverse=True)
        self._members = [torch.from_numpy(np.flatnonzero(inverse == c)) for c in range(len(self.classes))]
        n_classes = len(self.classes)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size % n_classes:
            raise ConfigError(
                f"{name} gives every class the same count per batch: batch_size must be a multiple of the "
                f"{n_classes} classes, got {batch_size!r}"
            )
        self.batch_size = self.unit = batch_size
        self.per_class = batch_size // n_classes
        self.shuffle_batch = bool(shuffle_batch)
        smallest = min(len(m) for m in self._members)
        if self.stopping:
            batches = smallest // self.per_class
            if num_batches is not None:
                batches = min(batches, int(num_batches))
            # every rank the same number of whole batches: the remainder is left out, never repeated
            self.num_batches = batches - batches % self.num_replicas
            if self.num_batches == 0:
                raise ConfigError(
                    f"{name}: the smallest class has {smallest} samples, fewer than one batch's share "
                    f"({self.per_class}) on each of {self.num_replicas} rank(s); lower batch_size"
                )
        else:
            batches = math.ceil(len(array) / batch_size) if num_batches is None else int(num_batches)
            if batches <= 0:
                raise ConfigError(f"{name} num_batches must be positive, got {num_batches}")
            self.num_batches = _rounded_up(batches, self.num_replicas)

    def __len__(self) -> int:
        return self.num_batches // self.num_replicas * self.batch_size

    def _walk(self, members: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
        """``count`` members: a (reshuffled, when random) cycle over them, repeated as needed."""
        cycles = math.ceil(count / len(members))
        if self.random:
            walk = [members[torch.randperm(len(members), generator=generator)] for _ in range(cycles)]
        else:
            walk = [members] * cycles
        return torch.cat(walk)[:count]

    def order(self, generator: torch.Generator) -> torch.Tensor:
        count = self.num_batches * self.per_class
        # (batches, classes, per_class): batch b holds walk[c][b * per_class: (b + 1) * per_class] of class c
        picks = torch.stack([self._walk(m, count, generator) for m in self._members])
        batches = picks.reshape(len(self._members), self.num_batches, self.per_class).transpose(0, 1)
        batches = batches.reshape(self.num_batches, self.batch_size)
        if self.shuffle_batch:
            mix = torch.argsort(torch.rand(batches.shape, generator=generator), dim=1)
            batches = torch.gather(batches, 1, mix)
        return batches.reshape(-1)


class PrevalenceRandomSampler(_Prevalence):
    """Every batch: ``batch_size / n_classes`` random samples of each class (a class that runs out restarts)."""


class StoppingPrevalenceRandomSampler(_Prevalence):
    """Like :class:`PrevalenceRandomSampler`; the epoch ends when the smallest class is exhausted."""

    stopping = True


class PrevalenceSequentialSampler(_Prevalence):
    """Every batch: the next ``batch_size / n_classes`` samples of each class in dataset order (restarting)."""

    random = False


class StoppingPrevalenceSequentialSampler(_Prevalence):
    """Like :class:`PrevalenceSequentialSampler`; the epoch ends when the smallest class is exhausted."""

    random = False
    stopping = True


class WeightedSampler(SeededSampler):
    """Index ``i`` drawn with probability ``weights[i] / sum(weights)``, ``num_samples`` draws per epoch."""

    def __init__(
        self,
        weights: Sequence[float] | np.ndarray | torch.Tensor,
        num_samples: int | None = None,
        replacement: bool = True,
        *,
        seed: int | None = None,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(seed=seed, num_replicas=num_replicas, rank=rank)
        array = np.asarray(weights.detach().cpu().numpy() if isinstance(weights, torch.Tensor) else weights)
        if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.number):
            raise ConfigError(
                f"WeightedSampler weights must be one number per sample, got shape {array.shape}"
            )
        if not np.all(np.isfinite(array)) or (array < 0).any() or array.sum() <= 0:
            raise ConfigError("WeightedSampler weights must be finite, non-negative and not all zero")
        self.weights = torch.as_tensor(array, dtype=torch.float64)
        self.num_samples = len(array) if num_samples is None else int(num_samples)
        self.replacement = bool(replacement)
        if self.num_samples <= 0:
            raise ConfigError(f"WeightedSampler num_samples must be positive, got {num_samples}")
        if not self.replacement and self.num_samples > int((self.weights > 0).sum()):
            raise ConfigError(
                f"WeightedSampler without replacement cannot draw {self.num_samples} of "
                f"{int((self.weights > 0).sum())} samples with a positive weight"
            )

    def __len__(self) -> int:
        return math.ceil(self.num_samples / self.num_replicas)

    def order(self, generator: torch.Generator) -> torch.Tensor:
        drawn = torch.multinomial(self.weights, self.num_samples, self.replacement, generator=generator)
        total = len(self) * self.num_replicas
        return torch.cat([drawn, drawn[: total - len(drawn)]])  # pad like DistributedSampler


class LambdaSampler(SeededSampler):
    """The indices ``fn(n_items, num_samples, generator)`` returns (any sequence of ints in ``[0, n_items)``)."""

    def __init__(
        self,
        n_items: int,
        fn: Callable[[int, int, torch.Generator], Any],
        num_samples: int | None = None,
        *,
        seed: int | None = None,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(seed=seed, num_replicas=num_replicas, rank=rank)
        if not callable(fn):
            raise ConfigError(f"LambdaSampler fn must be callable, got {fn!r}")
        self.n_items, self.fn = int(n_items), fn
        self.num_samples = self.n_items if num_samples is None else int(num_samples)

    def __len__(self) -> int:
        return math.ceil(self.num_samples / self.num_replicas)

    def order(self, generator: torch.Generator) -> torch.Tensor:
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        drawn = torch.as_tensor(
            np.asarray(self.fn(self.n_items, self.num_samples, generator)), dtype=torch.int64
        )
        if drawn.shape != (self.num_samples,) or (drawn < 0).any() or (drawn >= self.n_items).any():
            raise ConfigError(
                f"LambdaSampler fn {name} must return {self.num_samples} indices in [0, {self.n_items}), "
                f"got shape {tuple(drawn.shape)}"
            )
        total = len(self) * self.num_replicas
        return torch.cat([drawn, drawn[: total - len(drawn)]])


def _file_weights(path: str, key: str) -> np.ndarray:
    file = Path(path)
    try:
        if file.suffix == ".npy":
            return np.asarray(np.load(file, allow_pickle=False), dtype=np.float64)
        return np.asarray([float(v) for v in file.read_text().replace(",", "\n").split()], dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"config key '{key}.weights_file': cannot read weights from {file}: {exc}") from exc


def _weights(dataset: Any, params: dict[str, Any], key: str) -> np.ndarray:
    """The one weight source a ``weighted`` spec names, checked against the dataset's length."""
    sources = [
        k for k in ("weights", "weights_file", "weights_attribute", "inverse_frequency") if params.get(k)
    ]
    if len(sources) != 1:
        raise ConfigError(
            f"config key '{key}.params' must name exactly one of weights, weights_file, weights_attribute, "
            f"inverse_frequency, got {sources or 'none'}"
        )
    source = sources[0]
    value = params.pop(source)
    if source == "weights_file":
        weights = _file_weights(value, key)
    elif source == "weights_attribute":
        if not hasattr(dataset, value):
            raise ConfigError(
                f"config key '{key}.weights_attribute': {type(dataset).__name__} has no attribute {value!r}"
            )
        found = getattr(dataset, value)
        weights = np.asarray(
            found.detach().cpu().numpy() if isinstance(found, torch.Tensor) else found, dtype=np.float64
        )
    elif source == "inverse_frequency":
        _, inverse, counts = np.unique(dataset_labels(dataset), return_inverse=True, return_counts=True)
        weights = 1.0 / counts[inverse]
    else:
        weights = np.asarray(value, dtype=np.float64)
    if weights.shape != (len(dataset),):
        raise ConfigError(
            f"config key '{key}.params.{source}': {weights.size} weight(s) for a dataset of {len(dataset)} samples"
        )
    return weights


def _build_prevalence(cls: type[_Prevalence]) -> Callable[..., SeededSampler]:
    def build(dataset: Any, params: dict[str, Any], key: str) -> SeededSampler:
        return cls(dataset_labels(dataset), **params)

    return build


def _build_weighted(dataset: Any, params: dict[str, Any], key: str) -> SeededSampler:
    return WeightedSampler(_weights(dataset, params, key), **params)


def _build_balanced(dataset: Any, params: dict[str, Any], key: str) -> Sampler[int]:
    return ClassBalancedSampler(dataset_labels(dataset), **params)


def _build_lambda(dataset: Any, params: dict[str, Any], key: str) -> SeededSampler:
    from .building import import_object

    if "fn" not in params:
        raise ConfigError(
            f"config key '{key}.params.fn' is missing: name the sampling function by import path"
        )
    fn = params.pop("fn")
    return LambdaSampler(
        len(dataset), import_object(fn, f"{key}.params.fn") if isinstance(fn, str) else fn, **params
    )


#: Sampler names usable in ``data.loader.sampler``.
SAMPLERS: dict[str, Callable[[Any, dict[str, Any], str], Sampler[int]]] = {
    "balanced": _build_balanced,
    "prevalence_random": _build_prevalence(PrevalenceRandomSampler),
    "prevalence_sequential": _build_prevalence(PrevalenceSequentialSampler),
    "stopping_prevalence_random": _build_prevalence(StoppingPrevalenceRandomSampler),
    "stopping_prevalence_sequential": _build_prevalence(StoppingPrevalenceSequentialSampler),
    "weighted": _build_weighted,
    "lambda": _build_lambda,
}
_NEEDS_BATCH_SIZE = {name for name in SAMPLERS if "prevalence" in name}


def build_sampler(
    name: str, params: Mapping[str, Any], key: str, dataset: Any, *, seed: int | None, batch_size: Any
) -> Sampler[int]:
    """Build sampler ``name`` of :data:`SAMPLERS` for ``dataset``; the run's seed and the DDP rank are defaults."""
    options = dict(params)
    if seed is not None:
        options.setdefault("seed", seed)
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world > 1:  # under torchrun: each rank draws its share
        options.setdefault("num_replicas", world)
        options.setdefault("rank", int(os.environ.get("RANK", "0") or 0))
    if name in _NEEDS_BATCH_SIZE:
        options.setdefault("batch_size", batch_size)
    try:
        return SAMPLERS[name](dataset, options, key)
    except TypeError as exc:
        raise ConfigError(
            f"config key '{key}': sampler '{name}' rejected the params {sorted(options)}: {exc}"
        ) from exc
    except ConfigError as exc:
        if f"'{key}" in str(exc):
            raise
        raise ConfigError(f"config key '{key}': {exc}") from exc


class SamplerPosition(Callback):
    """Checkpoints a :class:`SeededSampler`'s epoch and the batches consumed in it (the trainer adds it).

    The trainer counts consumed batches itself: with ``num_workers > 0`` the loader reads the sampler ahead of
    training, so only the consumer knows how far an epoch got.
    """

    def __init__(self, sampler: SeededSampler, batch_size: int) -> None:
        self.sampler = sampler
        self.batch_size = batch_size
        self.batches = 0

    def on_batch_end(self, trainer: TrainerView, step: int) -> None:
        self.batches += 1

    def on_epoch_end(self, trainer: TrainerView, epoch: int, metrics: Mapping[str, float]) -> None:
        self.batches = 0
        self.sampler.set_epoch(epoch + 1)

    def state_dict(self) -> dict[str, Any]:
        return {"sampler": self.sampler.state_dict(consumed=self.batches * self.batch_size)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if "sampler" in state:
            self.sampler.load_state_dict(state["sampler"])
            self.batches = int(state["sampler"].get("position", 0)) // self.batch_size


def position_callbacks(loader: Any) -> list[Callback]:
    """A :class:`SamplerPosition` for ``loader`` when its sampler is one of ours, else nothing."""
    sampler = getattr(loader, "sampler", None)
    batch_size = getattr(loader, "batch_size", None)
    if isinstance(sampler, SeededSampler) and batch_size:
        return [SamplerPosition(sampler, int(batch_size))]
    return []
