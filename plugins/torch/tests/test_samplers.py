"""Samplers from the config: exact per-batch prevalence, weighted draws, lambda sampling, DDP shares, positions."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset
from trialog_torch.cli import _build_loader
from trialog_torch.samplers import (
    LambdaSampler,
    PrevalenceRandomSampler,
    PrevalenceSequentialSampler,
    SamplerPosition,
    StoppingPrevalenceRandomSampler,
    StoppingPrevalenceSequentialSampler,
    WeightedSampler,
    build_sampler,
)

from trialog.errors import ConfigError

#: 3 classes of 50, 10 and 6 samples, shuffled in the dataset
LABELS = np.random.default_rng(0).permutation(np.array([0] * 50 + [1] * 10 + [2] * 6))
PREVALENCE = [
    PrevalenceRandomSampler,
    PrevalenceSequentialSampler,
    StoppingPrevalenceRandomSampler,
    StoppingPrevalenceSequentialSampler,
]


def _batches(sampler, batch_size: int) -> list[list[int]]:
    indices = list(sampler)
    assert len(indices) == len(sampler) and len(indices) % batch_size == 0
    return [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]


@pytest.mark.parametrize("cls", PREVALENCE)
def test_every_prevalence_batch_has_equal_class_counts(cls) -> None:
    sampler = cls(LABELS, batch_size=6, seed=1)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        batches = _batches(sampler, 6)
        for batch in batches:
            assert Counter(LABELS[batch].tolist()) == {0: 2, 1: 2, 2: 2}, batch
        if (
            cls.stopping
        ):  # ends when the smallest class (6 samples, 2 per batch) is exhausted: nothing repeats
            assert len(batches) == 3
            flat = [i for b in batches for i in b]
            assert len(set(flat)) == len(flat)
        else:
            assert len(batches) == math.ceil(len(LABELS) / 6)


def test_sequential_prevalence_walks_each_class_in_dataset_order() -> None:
    sampler = PrevalenceSequentialSampler(LABELS, batch_size=6, shuffle_batch=False)
    order = list(sampler)
    for c in range(3):
        members = np.flatnonzero(LABELS == c).tolist()
        walked = [i for i in order if LABELS[i] == c]
        cycle = (members * 10)[: len(walked)]
        assert walked == cycle
    assert LABELS[order[:6]].tolist() == [0, 0, 1, 1, 2, 2]  # unshuffled batches are class blocks


def test_prevalence_order_depends_on_seed_and_epoch_only() -> None:
    a, b = PrevalenceRandomSampler(LABELS, 6, seed=5), PrevalenceRandomSampler(LABELS, 6, seed=5)
    assert list(a) == list(b)
    b.set_epoch(1)
    assert list(a) != list(b)
    assert list(PrevalenceRandomSampler(LABELS, 6, seed=6)) != list(a)


@pytest.mark.parametrize("cls", PREVALENCE)
def test_ddp_ranks_share_whole_exact_batches(cls) -> None:
    ranks = [cls(LABELS, batch_size=6, seed=2, num_replicas=2, rank=r) for r in range(2)]
    single = _batches(cls(LABELS, batch_size=6, seed=2, num_replicas=2, rank=0), 6)
    shares = [_batches(s, 6) for s in ranks]
    assert shares[0] == single
    assert len(shares[0]) == len(shares[1])  # every rank as many steps: DDP needs that
    for batch in shares[0] + shares[1]:
        assert Counter(LABELS[batch].tolist()) == {0: 2, 1: 2, 2: 2}
    if cls.stopping:
        flat = [i for share in shares for b in share for i in b]
        assert len(set(flat)) == len(flat)  # the ranks never see the same sample in a stopping epoch


def test_prevalence_batch_size_must_split_evenly_and_be_named() -> None:
    with pytest.raises(ConfigError, match="multiple of the 3 classes, got 4"):
        PrevalenceRandomSampler(LABELS, batch_size=4)
    with pytest.raises(ConfigError, match="smallest class has 6 samples"):
        StoppingPrevalenceRandomSampler(LABELS, batch_size=24)


def test_weighted_draws_match_the_weights() -> None:
    """Seeded, so deterministic; the bound is 5 binomial standard deviations per index (a 1-in-3-million miss)."""
    weights = np.array([1.0, 2.0, 3.0, 4.0, 0.0, 10.0])
    draws = 200_000
    sampler = WeightedSampler(weights, num_samples=draws, seed=11)
    counts = np.bincount(list(sampler), minlength=len(weights))
    p = weights / weights.sum()
    sd = np.sqrt(p * (1 - p) / draws)
    assert counts[4] == 0  # weight 0: never drawn
    assert np.all(np.abs(counts / draws - p) <= 5 * sd + 1e-12), (counts / draws, p)


def test_weighted_sources_from_the_config(tmp_path: Path) -> None:
    x = torch.randn(len(LABELS), 2)
    dataset = TensorDataset(x, torch.as_tensor(LABELS))
    dataset.targets = LABELS  # type: ignore[attr-defined]
    dataset.sample_weights = np.arange(len(LABELS), dtype=float)  # type: ignore[attr-defined]
    np.save(tmp_path / "w.npy", np.ones(len(LABELS)))
    (tmp_path / "w.txt").write_text("\n".join("2" for _ in LABELS))
    key = "data.loader.sampler"

    # inverse class frequency: every class equally likely, whatever its size
    sampler = build_sampler(
        "weighted", {"inverse_frequency": True, "num_samples": 60_000}, key, dataset, seed=0, batch_size=8
    )
    share = np.bincount(LABELS[list(sampler)], minlength=3) / 60_000
    assert np.all(np.abs(share - 1 / 3) <= 5 * math.sqrt(2 / 9 / 60_000)), share
    assert build_sampler(
        "weighted", {"weights_file": str(tmp_path / "w.npy")}, key, dataset, seed=0, batch_size=8
    ).weights.sum() == len(LABELS)
    assert build_sampler(
        "weighted", {"weights_file": str(tmp_path / "w.txt")}, key, dataset, seed=0, batch_size=8
    ).weights.sum() == 2 * len(LABELS)
    attribute = build_sampler(
        "weighted", {"weights_attribute": "sample_weights"}, key, dataset, seed=0, batch_size=8
    )
    assert 0 not in list(attribute)  # sample 0 has weight 0

    with pytest.raises(ConfigError, match="exactly one of"):
        build_sampler(
            "weighted",
            {"inverse_frequency": True, "weights": [1] * len(LABELS)},
            key,
            dataset,
            seed=0,
            batch_size=8,
        )
    with pytest.raises(ConfigError, match=r"params.weights.: 3 weight\(s\) for a dataset of 66"):
        build_sampler("weighted", {"weights": [1, 2, 3]}, key, dataset, seed=0, batch_size=8)
    with pytest.raises(ConfigError, match="has no attribute 'nope'"):
        build_sampler("weighted", {"weights_attribute": "nope"}, key, dataset, seed=0, batch_size=8)
    with pytest.raises(ConfigError, match="weights_file"):
        build_sampler(
            "weighted", {"weights_file": str(tmp_path / "missing.npy")}, key, dataset, seed=0, batch_size=8
        )
    with pytest.raises(ConfigError, match="not all zero"):
        WeightedSampler([0.0, 0.0])


def _every_other(n_items: int, num_samples: int, generator: torch.Generator) -> list[int]:
    return [(2 * i) % n_items for i in range(num_samples)]


def test_lambda_sampler_uses_the_function_and_checks_its_output() -> None:
    assert list(LambdaSampler(10, _every_other, 5)) == [0, 2, 4, 6, 8]
    assert list(LambdaSampler(10, _every_other, 5, num_replicas=2, rank=1)) == [2, 6, 0]
    with pytest.raises(ConfigError, match=r"must return 5 indices in \[0, 3\)"):
        list(LambdaSampler(3, lambda n, k, g: list(range(k)), 5))


def test_loader_config_builds_prevalence_batches_with_the_run_seed() -> None:
    dataset = TensorDataset(torch.randn(len(LABELS), 2), torch.as_tensor(LABELS))
    config = {
        "seed": 4,
        "data": {"train": {}, "loader": {"batch_size": 9, "sampler": {"type": "stopping_prevalence_random"}}},
    }
    loader = _build_loader(config, "train", dataset)
    assert loader.sampler.seed == 4
    assert [Counter(y.tolist()) for _, y in loader] == [{0: 3, 1: 3, 2: 3}] * 2
    config["data"]["loader"]["batch_size"] = 8
    with pytest.raises(ConfigError, match=r"'data\.loader\.sampler'.*multiple of the 3 classes, got 8"):
        _build_loader(config, "train", dataset)
    config["data"]["loader"]["sampler"] = {
        "type": "weighted",
        "params": {"weights": [1.0] * len(LABELS), "bogus": 1},
    }
    with pytest.raises(ConfigError, match=r"'data\.loader\.sampler'.*rejected the params"):
        _build_loader(config, "train", dataset)


def test_the_epoch_position_is_checkpointed_and_a_restored_sampler_skips_what_was_consumed() -> None:
    loader = DataLoader(
        TensorDataset(torch.as_tensor(LABELS)),
        batch_size=6,
        sampler=PrevalenceRandomSampler(LABELS, 6, seed=3),
    )
    position = SamplerPosition(loader.sampler, 6)
    loader.sampler.set_epoch(2)
    full = list(loader.sampler)
    for _ in range(4):  # the trainer consumed 4 batches of epoch 2, then checkpointed
        position.on_batch_end(None, 0)  # type: ignore[arg-type]
    state = position.state_dict()
    assert state == {"sampler": {"epoch": 2, "position": 24}}

    fresh = PrevalenceRandomSampler(LABELS, 6, seed=3)
    restored = SamplerPosition(fresh, 6)
    restored.load_state_dict(state)
    fresh.set_epoch(2)  # the trainer starts epoch 2 again: the rest of it, not all of it
    assert list(fresh) == full[24:]
    assert list(fresh) == full  # the next pass is a whole epoch again
    restored.on_epoch_end(None, 2, {})  # type: ignore[arg-type]
    assert restored.state_dict() == {"sampler": {"epoch": 3, "position": 0}}
