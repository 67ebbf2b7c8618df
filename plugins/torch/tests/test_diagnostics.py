"""trialog_torch.diagnostics: input gradients, model statistics, structure, embeddings, classification metrics."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn
from trialog_torch.diagnostics import (
    get_classification_metrics,
    get_guided_image_gradient,
    get_input_gradient,
    get_smooth_image_gradient,
    get_tensor_embedding,
    get_vanilla_image_gradient,
    gradient_flow,
    model_statistics,
    model_structure,
    set_seed,
)

from trialog.errors import ConfigError


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))


def test_vanilla_gradient_of_a_linear_model_is_its_weight():
    model = nn.Linear(3, 1, bias=False)
    x = torch.randn(2, 3)
    grads = get_vanilla_image_gradient(model, x, lambda out: out.sum())
    np.testing.assert_allclose(grads, model.weight.detach().expand(2, 3).numpy(), rtol=1e-6)
    assert x.grad is None  # the caller's tensor is untouched


def test_guided_gradient_only_passes_positive_gradients_through_relus():
    model = _net()
    x = torch.randn(5, 4)
    err = lambda out: out[:, 0].sum()  # noqa: E731
    guided = get_guided_image_gradient(model, x, err)
    # by hand: backward through the ReLU with negative gradients clamped
    xx = x.clone().requires_grad_(True)
    h = model[0](xx)
    mask = (h > 0).float()
    g_h = model[2].weight[0].detach().expand(5, 6) * mask
    expected = g_h.clamp(min=0) @ model[0].weight.detach()
    np.testing.assert_allclose(guided, expected.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(guided, get_vanilla_image_gradient(model, x, err))
    assert all(not m._backward_hooks for m in model.modules())  # hooks removed again


def test_guided_gradient_needs_relu_modules():
    with pytest.raises(ConfigError, match=r"nn\.ReLU"):
        get_guided_image_gradient(nn.Linear(2, 1), torch.randn(1, 2), lambda o: o.sum())


def test_smooth_gradient_averages_noisy_gradients():
    model = _net()
    x = torch.randn(3, 4)
    err = lambda out: out.sum()  # noqa: E731
    no_noise = get_smooth_image_gradient(model, x, err, abs=False, n_runs=4, eps=0.0)
    np.testing.assert_allclose(no_noise, get_vanilla_image_gradient(model, x, err), rtol=1e-5)
    torch.manual_seed(1)
    smooth = get_smooth_image_gradient(model, x, err, abs=True, n_runs=8, eps=0.5)
    assert smooth.shape == (3, 4) and (smooth >= 0).all()


@pytest.mark.parametrize("grad_type", ["vanilla", "vanilla-smooth", "guided", "guided-smooth"])
def test_get_input_gradient_types_and_results_fn(grad_type):
    seen = []
    grads = get_input_gradient(
        _net(), torch.randn(2, 4), lambda o: o.sum(), grad_type, n_runs=3, results_fn=seen.append
    )
    assert grads.shape == (2, 4) and seen[0] is grads


def test_get_input_gradient_unknown_type():
    with pytest.raises(ConfigError, match="grad_type"):
        get_input_gradient(_net(), torch.randn(1, 4), lambda o: o.sum(), grad_type="sideways")


def test_set_seed_seeds_python_numpy_torch():
    set_seed(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a


def test_model_statistics_and_gradient_flow():
    model = _net()
    stats = model_statistics(model, bins=5)
    assert list(stats) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    w = model[0].weight.detach()
    assert stats["0.weight"]["mean"] == pytest.approx(float(w.mean()))
    assert stats["0.weight"]["absmax"] == pytest.approx(float(w.abs().max()))
    assert stats["0.weight"]["histogram"].sum() == w.numel()
    assert model_statistics(model, plot_grad=True) == {}  # no gradients yet
    model(torch.randn(3, 4)).sum().backward()
    grads = model_statistics(model, plot_grad=True)
    assert grads["2.weight"]["std"] == pytest.approx(float(model[2].weight.grad.std()))
    flow = gradient_flow(model)
    assert list(flow) == ["0.weight", "2.weight"]
    assert flow["2.weight"]["max"] == pytest.approx(float(model[2].weight.grad.abs().max()))


def test_model_structure_is_a_text_graph_with_shapes():
    text = model_structure(_net(), input_size=(3, 4))
    lines = text.splitlines()
    assert lines[0] == "Sequential: Sequential -> (3, 2)"
    assert lines[1] == "  0: Linear [30 params] -> (3, 6)"
    assert lines[2] == "  1: ReLU -> (3, 6)"
    assert lines[-1] == "total parameters: 44"
    assert "->" not in model_structure(_net()).splitlines()[1]


def test_pca_embedding_keeps_the_main_direction():
    rng = np.random.default_rng(0)
    x = np.outer(rng.normal(size=50), [3.0, 0.0, 1.0]) + 0.01 * rng.normal(size=(50, 3))
    emb = get_tensor_embedding(torch.as_tensor(x), method="pca", n_dims=2)
    assert emb.shape == (50, 2)
    assert abs(np.corrcoef(emb[:, 0], x[:, 0])[0, 1]) > 0.99


def test_tsne_embedding_when_sklearn_is_installed():
    pytest.importorskip("sklearn")
    emb = get_tensor_embedding(np.random.default_rng(0).random((30, 5)), method="tsne", n_dims=2, n_neigh=5)
    assert emb.shape == (30, 2)


def test_embedding_bad_method():
    with pytest.raises(ConfigError, match="unknown"):
        get_tensor_embedding(np.zeros((4, 3)), method="magic")


def test_binary_classification_metrics_match_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = np.clip(labels * 0.3 + rng.random(200) * 0.7, 0, 1)
    out = get_classification_metrics(torch.as_tensor(scores), torch.as_tensor(labels))
    pred = (scores >= 0.5).astype(int)
    assert out["accuracy"] == pytest.approx(metrics.accuracy_score(labels, pred))
    assert out["roc-auc"] == pytest.approx(metrics.roc_auc_score(labels, scores))
    assert out["pr-auc"] == pytest.approx(metrics.average_precision_score(labels, scores))
    assert out["f1"] == pytest.approx(metrics.f1_score(labels, pred))
    assert out["mcc"] == pytest.approx(metrics.matthews_corrcoef(labels, pred))
    np.testing.assert_array_equal(out["confusion_matrix"], metrics.confusion_matrix(labels, pred))
    fpr, tpr, _ = metrics.roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(out["roc"][0], fpr)
    np.testing.assert_allclose(out["roc"][1], tpr)
    assert set(out["metric"]) == {"roc-auc", "pr-score"}


def test_multiclass_classification_metrics_match_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 90)
    scores = rng.random((90, 3)) + np.eye(3)[labels] * 0.5
    out = get_classification_metrics(scores, labels)
    pred = scores.argmax(1)
    p, r, f, _ = metrics.precision_recall_fscore_support(labels, pred, zero_division=0)
    np.testing.assert_allclose(out["precision"], p)
    np.testing.assert_allclose(out["recall"], r)
    np.testing.assert_allclose(out["f1_per_class"], f)
    one_vs_rest = [metrics.roc_auc_score(labels == k, scores[:, k]) for k in range(3)]
    assert out["roc-auc"] == pytest.approx(np.mean(one_vs_rest))


def test_swapped_scores_and_labels_are_an_error_not_a_wrong_curve():
    labels = np.array([0, 1, 1, 0])
    scores = np.array([0.1, 0.8, 0.6, 0.3])
    with pytest.raises(ConfigError, match="class indices"):
        get_classification_metrics(labels, scores)
    with pytest.raises(ConfigError, match="out of range"):
        get_classification_metrics(scores, np.array([0, 2, 1, 0]))
