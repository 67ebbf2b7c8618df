"""Class-balanced sampling and (stratified) k-fold splits."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset
from trialog_torch.data import (
    ClassBalancedSampler,
    dataset_labels,
    kfold,
    run_kfold,
    stratified_kfold,
    summarize_folds,
)

from trialog.errors import ConfigError


def _imbalanced(n_major: int = 90, n_minor: int = 10) -> TensorDataset:
    x = torch.arange(n_major + n_minor, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor([0] * n_major + [1] * n_minor)
    return TensorDataset(x, y)


def test_balanced_sampler_draws_classes_equally_often():
    labels = [0] * 900 + [1] * 90 + [2] * 10
    sampler = ClassBalancedSampler(labels, num_samples=6000, generator=torch.Generator().manual_seed(0))
    indices = list(sampler)
    assert len(indices) == len(sampler) == 6000
    counts = Counter(labels[i] for i in indices)
    for c in (0, 1, 2):
        assert 1800 < counts[c] < 2200, counts  # 2000 expected each; plain sampling would give 5400/540/60


def test_balanced_sampler_cycles_through_a_class_before_repeating():
    labels = [0] * 50 + [1] * 5
    indices = list(ClassBalancedSampler(labels, num_samples=200, generator=torch.Generator().manual_seed(1)))
    majority = [i for i in indices if i < 50]
    assert len(majority) >= 50  # about 100 expected
    # The first 50 majority draws are one shuffled pass over its 50 samples: no repeats, none missed.
    assert sorted(majority[:50]) == list(range(50))
    assert majority[:50] != list(range(50))
    minority = [i for i in indices if i >= 50]
    assert set(minority) == set(range(50, 55))


def test_balanced_sampler_is_reproducible_under_manual_seed_and_varies_between_epochs():
    sampler = ClassBalancedSampler([0] * 30 + [1] * 3)
    torch.manual_seed(7)
    first, second = list(sampler), list(sampler)
    torch.manual_seed(7)
    assert list(sampler) == first
    assert first != second


def test_balanced_sampler_in_a_dataloader_balances_batches():
    dataset = _imbalanced()
    sampler = ClassBalancedSampler(dataset_labels(dataset), generator=torch.Generator().manual_seed(0))
    loader = DataLoader(dataset, batch_size=1000, sampler=ClassBalancedSampler(dataset.tensors[1], 1000))
    ((_, y),) = list(loader)
    assert 0.4 < y.float().mean().item() < 0.6
    assert len(list(sampler)) == len(dataset)


def test_balanced_sampler_rejects_bad_input():
    with pytest.raises(ConfigError, match="at least one label"):
        ClassBalancedSampler([])
    with pytest.raises(ConfigError, match="1-D"):
        ClassBalancedSampler(np.zeros((3, 2)))
    with pytest.raises(ConfigError, match="num_samples"):
        ClassBalancedSampler([0, 1], num_samples=0)


def test_kfold_partitions_the_dataset():
    dataset = _imbalanced(17, 6)
    pairs = kfold(dataset, 5, seed=3)
    assert len(pairs) == 5
    vals = [set(val.indices) for _, val in pairs]
    assert set().union(*vals) == set(range(23))
    assert sum(len(v) for v in vals) == 23  # disjoint
    assert {len(v) for v in vals} <= {4, 5}
    for train, val in pairs:
        assert set(train.indices) == set(range(23)) - set(val.indices)
        assert train.dataset is dataset


def test_kfold_is_deterministic_in_the_seed():
    dataset = _imbalanced()
    a = [v.indices for _, v in kfold(dataset, 4, seed=1)]
    b = [v.indices for _, v in kfold(dataset, 4, seed=1)]
    c = [v.indices for _, v in kfold(dataset, 4, seed=2)]
    assert a == b
    assert a != c


def test_stratified_kfold_keeps_class_proportions():
    dataset = _imbalanced(90, 10)
    pairs = stratified_kfold(dataset, dataset.tensors[1], 5, seed=0)
    for train, val in pairs:
        val_labels = Counter(dataset.tensors[1][val.indices].tolist())
        assert val_labels == {0: 18, 1: 2}
        assert len(train) == 80
    assert set().union(*(set(v.indices) for _, v in pairs)) == set(range(100))


def test_stratified_kfold_reads_labels_from_the_dataset_and_matches_given_labels():
    dataset = _imbalanced(40, 12)
    from_dataset = [v.indices for _, v in stratified_kfold(dataset, None, 4, seed=5)]
    given = [v.indices for _, v in stratified_kfold(dataset, dataset.tensors[1].numpy(), 4, seed=5)]
    assert from_dataset == given


def test_stratified_kfold_errors_name_the_problem():
    dataset = _imbalanced(20, 2)
    with pytest.raises(ConfigError, match=r"classes \[1\] have fewer than 3"):
        stratified_kfold(dataset, None, 3)
    with pytest.raises(ConfigError, match="labels for a dataset of 22"):
        stratified_kfold(dataset, [0, 1], 2)
    with pytest.raises(ConfigError, match="k >= 2"):
        kfold(dataset, 1)
    with pytest.raises(ConfigError, match="at least 50 samples"):
        kfold(dataset, 50)


def test_dataset_labels_uses_targets_items_and_subsets():
    class WithTargets(torch.utils.data.Dataset):
        targets = [3, 1, 2]

        def __len__(self):
            return 3

        def __getitem__(self, i):
            raise AssertionError("labels must come from .targets, not from loading items")

    assert dataset_labels(WithTargets()).tolist() == [3, 1, 2]
    dataset = _imbalanced(3, 2)
    assert dataset_labels(dataset).tolist() == [0, 0, 0, 1, 1]
    subset = torch.utils.data.Subset(WithTargets(), [2, 0])
    assert dataset_labels(subset).tolist() == [2, 3]


def test_run_kfold_runs_each_fold_under_its_own_name():
    dataset = _imbalanced(30, 10)
    seen = []

    def run_fold(i, name, train, val):
        seen.append((i, name, len(train), len(val)))
        return {"val/accuracy": 0.5 + 0.1 * i, "note": "text is not summarised"}

    results, summary = run_kfold(dataset, 4, run_fold, name="digits", stratified=True, seed=0)
    assert [s[1] for s in seen] == ["digits_fold0", "digits_fold1", "digits_fold2", "digits_fold3"]
    assert all(s[2] == 30 and s[3] == 10 for s in seen)
    assert len(results) == 4
    assert summary["val/accuracy"]["mean"] == pytest.approx(0.65)
    assert summary["val/accuracy"]["min"] == pytest.approx(0.5)
    assert summary["val/accuracy"]["max"] == pytest.approx(0.8)
    assert "note" not in summary


def test_summarize_folds_skips_metrics_missing_in_a_fold():
    summary = summarize_folds([{"a": 1.0, "b": 2}, {"a": 3.0}])
    assert summary == {"a": {"mean": 2.0, "std": 1.0, "min": 1.0, "max": 3.0}}
    assert summarize_folds([]) == {}


def test_balanced_sampler_with_a_seed_depends_only_on_seed_and_epoch():
    labels = [0] * 40 + [1] * 4
    sampler = ClassBalancedSampler(labels, seed=3)
    torch.manual_seed(0)
    epoch0 = list(sampler)
    torch.manual_seed(1)  # the global RNG plays no part
    assert list(sampler) == epoch0
    sampler.set_epoch(1)
    epoch1 = list(sampler)
    assert epoch1 != epoch0
    again = ClassBalancedSampler(labels, seed=3)
    again.set_epoch(1)
    assert list(again) == epoch1  # a resumed run at epoch 1 sees the same order


def test_balanced_sampler_shards_over_ranks_like_distributed_sampler():
    labels = [0] * 50 + [1] * 7 + [2] * 3
    shards = [ClassBalancedSampler(labels, num_samples=61, num_replicas=3, rank=r) for r in range(3)]
    for shard in shards:
        shard.set_epoch(2)
    parts = [list(s) for s in shards]
    assert [len(p) for p in parts] == [21, 21, 21] == [len(s) for s in shards]
    whole = ClassBalancedSampler(labels, num_samples=63, seed=0)
    whole.set_epoch(2)
    full = list(whole)
    assert [full[r::3] for r in range(3)] == parts  # the ranks split one common order
    with pytest.raises(ConfigError, match="rank < num_replicas"):
        ClassBalancedSampler(labels, num_replicas=2, rank=2)
