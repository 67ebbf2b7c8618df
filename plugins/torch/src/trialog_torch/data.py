"""Data helpers torch lacks: class-balanced sampling and (stratified) k-fold runs, after delira.

``ClassBalancedSampler`` is delira's prevalence sampling: every draw picks a class with equal
probability, then the next sample of that class, so rare classes are seen as often as common ones.
``kfold`` / ``stratified_kfold`` split a dataset into (train, val) ``Subset`` pairs, and ``run_kfold``
runs one function per fold (one run folder each, name suffix ``_fold{i}``) and summarises the folds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, Subset

from trialog.errors import ConfigError

__all__ = [
    "ClassBalancedSampler",
    "dataset_labels",
    "kfold",
    "run_kfold",
    "stratified_kfold",
    "summarize_folds",
]


def as_labels(labels: Any, what: str) -> np.ndarray:
    """Labels as a 1-D numpy array (from a list, an array or a tensor)."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ConfigError(f"{what} must be one label per sample (1-D), got shape {array.shape}")
    return array


def dataset_labels(dataset: Dataset) -> np.ndarray:
    """The class label of every sample: ``dataset.targets`` / ``.labels`` if present, else item ``[1]``.

    A ``Subset`` is resolved through its parent's labels, so no sample is loaded twice.
    """
    if isinstance(dataset, Subset):
        return dataset_labels(dataset.dataset)[np.asarray(dataset.indices)]
    for attribute in ("targets", "labels"):
        labels = getattr(dataset, attribute, None)
        if labels is not None and not callable(labels):
            return as_labels(labels, f"{type(dataset).__name__}.{attribute}")
    try:
        items = [dataset[i] for i in range(len(dataset))]  # type: ignore[arg-type]
        labels = [item[1] for item in items]
    except (TypeError, IndexError, KeyError) as exc:
        raise ConfigError(
            f"cannot find the labels of {type(dataset).__name__}: give it a `targets` attribute "
            f"or return (input, label) items ({exc})"
        ) from exc
    plain = [label.item() if isinstance(label, (torch.Tensor, np.ndarray)) else label for label in labels]
    return as_labels(plain, f"labels of {type(dataset).__name__}")


class ClassBalancedSampler(Sampler[int]):
    """Yields dataset indices so that every class is drawn with equal probability (prevalence sampling).

    Each draw picks a class uniformly at random, then the next sample of that class from a reshuffled
    cycle over its members: rare classes are repeated, common ones are not repeated within a cycle.

    Args:
        labels: one class label per dataset sample.
        num_samples: indices per epoch over all ranks (default: the dataset's length).
        generator: torch generator for the draws. Without it and without ``seed``, one is seeded from
            torch's global RNG at each ``iter``, so ``torch.manual_seed`` makes the order reproducible.
        seed: draw epoch ``e``'s order from ``seed + e`` (call :meth:`set_epoch`, as trainers do): the
            order then depends on nothing else, which DDP ranks need to agree on it.
        num_replicas, rank: shard each epoch's draws over DDP ranks like ``DistributedSampler``
            (``seed`` defaults to 0 then); rank ``r`` gets draws ``r, r + num_replicas, ...``.
    """

    def __init__(
        self,
        labels: Sequence[Any] | np.ndarray | torch.Tensor,
        num_samples: int | None = None,
        generator: torch.Generator | None = None,
        *,
        seed: int | None = None,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        array = as_labels(labels, "labels")
        if array.size == 0:
            raise ConfigError("ClassBalancedSampler needs at least one label, got an empty sequence")
        self.classes, inverse = np.unique(array, return_inverse=True)
        self._members = [torch.from_numpy(np.flatnonzero(inverse == c)) for c in range(len(self.classes))]
        self.num_samples = len(array) if num_samples is None else int(num_samples)
        if self.num_samples <= 0:
            raise ConfigError(f"ClassBalancedSampler num_samples must be positive, got {num_samples}")
        self.num_replicas = 1 if num_replicas is None else int(num_replicas)
        self.rank = 0 if rank is None else int(rank)
        if self.num_replicas < 1 or not 0 <= self.rank < self.num_replicas:
            raise ConfigError(
                f"ClassBalancedSampler needs 0 <= rank < num_replicas, got rank={rank}, num_replicas={num_replicas}"
            )
        if seed is None and num_replicas is not None and generator is None:
            seed = 0
        self.seed = seed
        self.epoch = 0
        self.generator = generator

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order (with ``seed``; otherwise the generator just moves on)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return math.ceil(self.num_samples / self.num_replicas)

    def __iter__(self) -> Iterator[int]:
        generator = self.generator
        if generator is None:
            if self.seed is not None:
                seed = self.seed + self.epoch
            else:
                seed = int(torch.empty((), dtype=torch.int64).random_().item())
            generator = torch.Generator().manual_seed(seed)
        # every rank draws the same full order, padded to a multiple of the rank count, and keeps its share
        total = len(self) * self.num_replicas
        drawn = torch.randint(len(self._members), (total,), generator=generator)
        order = torch.empty(total, dtype=torch.int64)
        for c, members in enumerate(self._members):
            slots = torch.nonzero(drawn == c).flatten()
            if slots.numel() == 0:
                continue
            cycles = math.ceil(slots.numel() / members.numel())
            picks = torch.cat(
                [members[torch.randperm(members.numel(), generator=generator)] for _ in range(cycles)]
            )
            order[slots] = picks[: slots.numel()]
        return iter(order[self.rank :: self.num_replicas].tolist())


def _check_k(k: int, n: int) -> None:
    if not isinstance(k, int) or k < 2:
        raise ConfigError(f"k-fold needs an integer k >= 2, got k={k!r}")
    if k > n:
        raise ConfigError(f"k-fold with k={k} needs at least {k} samples, the dataset has {n}")


def _pairs(dataset: Dataset, folds: np.ndarray, k: int) -> list[tuple[Subset, Subset]]:
    """(train, val) subsets where fold ``i``'s samples are the validation set of pair ``i``."""
    return [
        (
            Subset(dataset, np.flatnonzero(folds != i).tolist()),
            Subset(dataset, np.flatnonzero(folds == i).tolist()),
        )
        for i in range(k)
    ]


def kfold(dataset: Dataset, k: int, seed: int = 0) -> list[tuple[Subset, Subset]]:
    """Split ``dataset`` into ``k`` shuffled folds; pair ``i`` validates on fold ``i``, trains on the rest.

    Fold sizes differ by at most one; the split depends only on ``len(dataset)``, ``k`` and ``seed``.
    """
    n = len(dataset)  # type: ignore[arg-type]
    _check_k(k, n)
    permutation = np.random.default_rng(seed).permutation(n)
    folds = np.empty(n, dtype=np.int64)
    folds[permutation] = np.arange(n) % k
    return _pairs(dataset, folds, k)


def stratified_kfold(
    dataset: Dataset, labels: Sequence[Any] | np.ndarray | torch.Tensor | None, k: int, seed: int = 0
) -> list[tuple[Subset, Subset]]:
    """Like ``kfold``, but every fold keeps the class proportions of ``labels`` (per class ±1 sample).

    ``labels=None`` reads them from the dataset (see ``dataset_labels``).
    """
    n = len(dataset)  # type: ignore[arg-type]
    _check_k(k, n)
    array = dataset_labels(dataset) if labels is None else as_labels(labels, "labels")
    if len(array) != n:
        raise ConfigError(f"stratified_kfold got {len(array)} labels for a dataset of {n} samples")
    classes, counts = np.unique(array, return_counts=True)
    if counts.min() < k:
        rare = classes[counts < k].tolist()
        raise ConfigError(
            f"stratified k-fold with k={k}: classes {rare} have fewer than {k} samples; lower k"
        )
    rng = np.random.default_rng(seed)
    # Sorting by (class, random key) and dealing positions round-robin gives every fold the same number of
    # each class (±1); continuing the deal across classes keeps total fold sizes within one as well.
    order = np.lexsort((rng.random(n), array))
    folds = np.empty(n, dtype=np.int64)
    folds[order] = np.arange(n) % k
    return _pairs(dataset, folds, k)


def summarize_folds(results: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean, standard deviation, min and max over folds of every numeric metric all folds report."""
    if not results:
        return {}
    names = [n for n in results[0] if all(_is_number(r.get(n)) for r in results)]
    summary = {}
    for name in names:
        values = [float(r[name]) for r in results]
        summary[name] = {
            "mean": statistics.fmean(values),
            "std": statistics.pstdev(values),
            "min": min(values),
            "max": max(values),
        }
    return summary


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def run_kfold(
    dataset: Dataset,
    k: int,
    run_fold: Callable[[int, str, Subset, Subset], Mapping[str, Any]],
    *,
    name: str = "run",
    stratified: bool = False,
    labels: Sequence[Any] | np.ndarray | torch.Tensor | None = None,
    seed: int = 0,
) -> tuple[list[Mapping[str, Any]], dict[str, dict[str, float]]]:
    """Run ``run_fold(i, f"{name}_fold{i}", train, val)`` for each fold, each as a run of its own.

    ``run_fold`` builds a fresh model and trainer named after its second argument and returns the fold's
    final metrics. Returns the per-fold metrics and their ``summarize_folds`` summary.
    """
    if stratified:
        pairs = stratified_kfold(dataset, labels, k, seed)
    else:
        pairs = kfold(dataset, k, seed)
    results = [run_fold(i, f"{name}_fold{i}", train, val) for i, (train, val) in enumerate(pairs)]
    return results, summarize_folds(results)
