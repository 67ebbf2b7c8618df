"""scikit-learn's bundled 8x8 digits (1797 images, no download) as a torch dataset with a seeded split."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

SPLITS = ("train", "val", "test")


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """``sklearn.datasets.load_digits()``'s ``images`` (n, 8, 8) and ``target``, read as it reads them.

    numpy reads scikit-learn's bundled ``digits.csv.gz``; scikit-learn itself (with scipy) is not imported:
    that costs seconds in every process that builds the dataset (a ``trialog run``, a sweep's trial server).
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the digits example reads scikit-learn's bundled digits: pip install scikit-learn"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(path, mode="rt", encoding="utf-8") as file:
        data = np.loadtxt(file, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int, copy=False)


class Digits(Dataset):
    """One split of ``sklearn.datasets.load_digits``: items are ((1, 8, 8) float32 in [0, 1], int64 label).

    The split is stratified by class and depends only on ``seed`` and the fractions, so the train, val
    and test datasets a config builds separately never overlap.
    """

    def __init__(
        self, split: str = "train", val_fraction: float = 0.2, test_fraction: float = 0.0, seed: int = 0
    ):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
            raise ValueError(f"val_fraction {val_fraction} + test_fraction {test_fraction} must be in [0, 1)")
        images, labels = load_digits()
        images = images.astype(np.float32) / 16.0
        labels = labels.astype(np.int64)

        rng = np.random.default_rng(seed)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            n_val = round(len(members) * val_fraction)
            n_test = round(len(members) * test_fraction)
            parts["val"].append(members[:n_val])
            parts["test"].append(members[n_val : n_val + n_test])
            parts["train"].append(members[n_val + n_test :])
        #: rows of ``load_digits()`` in this split
        self.indices = np.sort(np.concatenate(parts[split]))

        self.images = torch.from_numpy(images[self.indices]).unsqueeze(1)
        self.targets = torch.from_numpy(labels[self.indices])

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.targets[index]
