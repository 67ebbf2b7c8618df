"""Metrics against hand-computed values (and sklearn where the formula has subtle tie rules)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from trialog_torch.metrics import (
    R2,
    Accuracy,
    ClassificationReport,
    ConfusionMatrix,
    Dice,
    IoU,
    Mae,
    Mse,
    RocAuc,
    TopK,
    average_precision,
    build_metrics,
    roc_auc,
)

from trialog.errors import ConfigError

LOGITS = torch.tensor(
    [
        [2.0, 1.0, 0.0],  # pred 0, target 0
        [0.0, 3.0, 1.0],  # pred 1, target 1
        [1.0, 0.0, 2.0],  # pred 2, target 0  (0 is second best)
        [0.0, 1.0, 2.0],  # pred 2, target 1  (1 is second best)
        [5.0, 0.0, 1.0],  # pred 0, target 2  (2 is second best)
    ]
)
TARGET = torch.tensor([0, 1, 0, 1, 2])


def test_accuracy_over_batches_and_ignore_index() -> None:
    metric = Accuracy()
    metric.update(LOGITS[:2], TARGET[:2])
    metric.update(LOGITS[2:], TARGET[2:])
    assert metric.compute() == {"accuracy": pytest.approx(2 / 5)}
    metric.reset()
    assert metric.compute() == {}
    metric.update(LOGITS, torch.tensor([0, 1, -100, -100, -100]))
    assert metric.compute() == {"accuracy": 1.0}


def test_binary_accuracy_from_single_logit_or_probability() -> None:
    metric = Accuracy()
    metric.update(torch.tensor([[1.5], [-0.5], [0.2], [-2.0]]), torch.tensor([1, 0, 0, 0]))
    assert metric.compute()["accuracy"] == pytest.approx(3 / 4)
    probabilities = Accuracy(threshold=0.5)
    probabilities.update(torch.tensor([0.9, 0.4, 0.6, 0.1]), torch.tensor([1, 0, 0, 0]))
    assert probabilities.compute()["accuracy"] == pytest.approx(3 / 4)
    roc = RocAuc(probabilities=True)
    roc.update(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]))
    np.testing.assert_allclose(roc._data()[0], [0.1, 0.4, 0.35, 0.8], rtol=1e-6)  # not squashed again
    assert roc.compute()["roc_auc"] == pytest.approx(0.75)


def test_top_k() -> None:
    top2 = TopK(k=2)
    top2.update(LOGITS, TARGET)
    assert top2.compute() == {"top_2": pytest.approx(5 / 5)}
    top1 = TopK(k=1)
    top1.update(LOGITS, TARGET)
    assert top1.compute() == {"top_1": pytest.approx(2 / 5)}


def test_confusion_matrix_and_heatmap() -> None:
    metric = ConfusionMatrix()
    metric.update(LOGITS, TARGET)
    expected = np.array([[1, 0, 1], [0, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(metric.matrix(), expected)

    calls = []

    class Log:
        def show_heatmap(self, array, name, counter, title, labels, xlabel, ylabel):
            calls.append((array, name, counter, labels, xlabel, ylabel))

    metric.render(Log(), "val/", 3)
    assert calls[0][1:] == ("val/confusion_matrix", 3, ["0", "1", "2"], "predicted class", "true class")
    np.testing.assert_array_equal(calls[0][0], expected)


def test_classification_report_per_class_values() -> None:
    metric = ClassificationReport(class_names=["a", "b", "c"])
    metric.update(LOGITS, TARGET)
    values = metric.compute()
    # class a: tp 1, fp 1 (row c predicted a), fn 1 -> p 0.5 r 0.5; b: tp 1 fp 0 fn 1 -> p 1 r 0.5;
    # c: tp 0 fp 2 fn 1 -> p 0 r 0
    assert values["precision/a"] == pytest.approx(0.5)
    assert values["recall/b"] == pytest.approx(0.5)
    assert values["precision/b"] == pytest.approx(1.0)
    assert values["f1/b"] == pytest.approx(2 / 3)
    assert values["f1/c"] == 0.0
    assert values["f1_macro"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    assert values["precision_macro"] == pytest.approx(0.5)
    texts = []

    class Log:
        def show_text(self, text, name, counter):
            texts.append((text, name))

    metric.render(Log(), "val/", 1)
    assert texts[0][1] == "val/classification_report"
    assert "macro avg" in texts[0][0] and "0.6667" in texts[0][0]


def test_iou_and_dice_on_segmentation_maps() -> None:
    # 1 image 2x2, 2 classes; pred [[0,1],[1,1]], target [[0,0],[1,1]]
    logits = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 1.0]]]])
    target = torch.tensor([[[0, 0], [1, 1]]])
    iou, dice = IoU(), Dice()
    for metric in (iou, dice):
        metric.update(logits, target)
    # class 0: tp 1 fp 0 fn 1 -> iou 1/2, dice 2/3 ; class 1: tp 2 fp 1 fn 0 -> iou 2/3, dice 4/5
    assert iou.compute()["iou"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert iou.compute()["iou/1"] == pytest.approx(2 / 3)
    assert dice.compute()["dice"] == pytest.approx((2 / 3 + 4 / 5) / 2)


def test_regression_metrics() -> None:
    pred = torch.tensor([[2.5], [0.0], [2.0], [8.0]])  # (N, 1) against (N,) targets
    target = torch.tensor([3.0, -0.5, 2.0, 7.0])
    mse, mae, r2 = Mse(), Mae(), R2()
    for metric in (mse, mae, r2):
        metric.update(pred[:2], target[:2])
        metric.update(pred[2:], target[2:])
    assert mse.compute()["mse"] == pytest.approx((0.25 + 0.25 + 0 + 1) / 4)
    assert mae.compute()["mae"] == pytest.approx((0.5 + 0.5 + 0 + 1) / 4)
    mean = target.mean().item()
    sst = float(((target - mean) ** 2).sum())
    assert r2.compute()["r2"] == pytest.approx(1 - 1.5 / sst)  # 0.9486 as in sklearn's docs


def test_r2_multi_output_averages_columns() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.normal(size=(50, 3))
    p = y + rng.normal(scale=[0.1, 0.5, 1.0], size=(50, 3))
    metric = R2()
    metric.update(torch.tensor(p), torch.tensor(y))
    assert metric.compute()["r2"] == pytest.approx(sklearn_metrics.r2_score(y, p))


def test_roc_auc_and_average_precision_by_hand() -> None:
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    labels = np.array([0, 0, 1, 1])
    assert roc_auc(scores, labels) == pytest.approx(0.75)  # 3 of 4 positive/negative pairs ordered right
    # ranked: 0.8(+) 0.4(-) 0.35(+) 0.1(-): precision at recalls 0.5, 1.0 = 1, 2/3
    assert average_precision(scores, labels) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert math.isnan(roc_auc(scores, np.zeros(4)))


def test_roc_auc_ties_match_sklearn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 5, size=200) / 4  # many ties
    labels = (rng.random(200) < 0.3 + 0.4 * scores).astype(int)
    assert roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores))
    assert average_precision(scores, labels) == pytest.approx(
        sklearn_metrics.average_precision_score(labels, scores)
    )


def test_roc_metric_from_logits_renders_curves() -> None:
    metric = RocAuc()
    logits = torch.tensor([-2.0, 0.4, -0.6, 1.4])
    metric.update(logits[:2], torch.tensor([0, 0]))
    metric.update(logits[2:], torch.tensor([1, 1]))
    metric.sync()
    assert metric.compute()["roc_auc"] == pytest.approx(0.75)
    seen = []

    class Log:
        def show_roc_curve(self, tensor, labels, name, counter, title):
            seen.append(name)

        def show_pr_curve(self, tensor, labels, name, counter, title):
            seen.append(name)
            np.testing.assert_allclose(tensor, torch.sigmoid(logits).numpy(), rtol=1e-6)
            np.testing.assert_array_equal(labels, [0, 0, 1, 1])

    metric.render(Log(), "val/", 0)
    assert seen == ["val/roc_curve", "val/pr_curve"]


def test_shape_mismatch_is_named() -> None:
    with pytest.raises(ValueError, match=r"output of shape \(5, 3\).*target of shape \(4,\)"):
        Accuracy().update(LOGITS, torch.tensor([0, 1, 2, 0]))


def test_build_metrics_specs_and_errors() -> None:
    metrics = build_metrics(["accuracy", {"type": "top_k", "params": {"k": 3}}, "trialog_torch.metrics:Mse"])
    assert [m.name for m in metrics] == ["accuracy", "top_3", "mse"]
    assert [m.name for m in build_metrics({"top_k": {"k": 2}})] == ["top_2"]
    with pytest.raises(ConfigError, match=r"'trainer\.metrics\.1'.*unknown metric type 'acuracy'"):
        build_metrics(["accuracy", "acuracy"])
    with pytest.raises(ConfigError, match=r"trainer\.metrics\.0\.params.*kk"):
        build_metrics([{"type": "top_k", "params": {"kk": 3}}])
    with pytest.raises(ConfigError, match=r"not a trialog_torch\.metrics\.Metric"):
        build_metrics(["collections:OrderedDict"])
