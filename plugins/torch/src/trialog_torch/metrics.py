"""Metrics written on torch alone: accumulated on tensors per batch, reduced across DDP ranks, computed per epoch.

A metric keeps its running state in tensors on the model's device, so ``update`` never synchronises with the
host (no ``.item()``); ``compute`` is called once per epoch and returns plain floats. Additive state (counts,
sums, confusion matrices) is summed across ranks with one ``all_reduce`` per tensor; ``RocAuc`` gathers its
scores instead. Metrics with something to draw (a confusion matrix, curves, a report) do it in ``render``.

Output/target conventions:

* classification: ``output`` (N, C) logits or probabilities and ``target`` (N,) class indices; a single
  column (N,) or (N, 1) is a binary problem with 0/1 targets, positive above ``threshold`` (0 for logits;
  0.5 for probabilities, with ``RocAuc(probabilities=True)``; the trainers set both for ``BCELoss``);
* segmentation: the same with spatial dimensions, ``output`` (N, C, ...) and ``target`` (N, ...);
* regression and reconstruction: ``output`` and ``target`` of one shape, (N,) or (N, D, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from trialog.errors import ConfigError

from . import distributed

__all__ = [
    "METRICS",
    "R2",
    "Accuracy",
    "ClassificationReport",
    "ConfusionMatrix",
    "Dice",
    "IoU",
    "Mae",
    "Metric",
    "Mse",
    "RocAuc",
    "TopK",
    "average_precision",
    "build_metrics",
    "roc_auc",
]


class Metric:
    """Base class: additive tensor state registered with ``add_state``, summed across ranks by ``sync``."""

    #: The key under which ``compute`` reports the main value (``val/<name>``).
    name: str = "metric"
    #: The keys ``compute`` reports, declared so a trainer checks ``trainer.monitor`` before training:
    #: ``"{name}"`` stands for :attr:`name`, a trailing ``/*`` for per-class keys (``iou/cat``). None: not
    #: declared (a custom metric), and the monitor is checked once the first epoch produced its values.
    KEYS: tuple[str, ...] | None = None

    def __init__(self) -> None:
        self._states: dict[str, torch.Tensor | None] = {}

    def add_state(self, key: str) -> None:
        """Declare an additive state, created lazily by the first ``accumulate`` (device and shape unknown now)."""
        self._states[key] = None

    def accumulate(self, key: str, value: torch.Tensor) -> None:
        """Add ``value`` to state ``key`` (no host synchronisation)."""
        current = self._states[key]
        if current is None:
            self._states[key] = value.detach().clone()
        else:
            current += value.detach()

    def state(self, key: str) -> Any:
        """The accumulated state ``key``: a tensor, or None before the first update."""
        return self._states[key]

    def reset(self) -> None:
        """Forget everything accumulated (called at the start of each epoch)."""
        for key in self._states:
            self._states[key] = None

    def sync(self) -> None:
        """Sum the state across DDP ranks; a no-op outside a process group."""
        if not distributed.is_distributed():
            return
        for key, value in self._states.items():
            if value is not None:
                self._states[key] = distributed.all_reduce_sum(value)

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Accumulate one batch."""
        raise NotImplementedError

    def compute(self) -> dict[str, float]:
        """The epoch's values as {key: float}; the main one under ``self.name``. Empty when nothing was seen."""
        raise NotImplementedError

    def keys(self) -> tuple[str, ...] | None:
        """The keys :meth:`compute` reports (patterns: ``iou/*``), or None when the class does not declare them."""
        if self.KEYS is None:
            return None
        return tuple(key.replace("{name}", self.name) for key in self.KEYS)

    def render(self, log: Any, prefix: str, counter: int | None) -> None:
        """Draw non-scalar results through a dispatcher (``log.show_heatmap(...)``); default: nothing."""


def _class_labels(
    output: torch.Tensor, target: torch.Tensor, ignore_index: int | None, threshold: float = 0.0
) -> tuple:
    """Flatten a classification or segmentation batch into (predicted, target, valid mask, n classes).

    Ignored targets are masked rather than dropped: boolean indexing would synchronise with a GPU.
    """
    if output.dim() == target.dim() + 1 and output.shape[1] > 1:
        num_classes = output.shape[1]
        pred = output.argmax(dim=1).reshape(-1)
    elif output.numel() == target.numel():
        num_classes = 2
        pred = (output.reshape(target.shape) > threshold).long().reshape(-1)
    else:
        raise ValueError(
            f"cannot match model output of shape {tuple(output.shape)} with target of shape "
            f"{tuple(target.shape)}: expected (N, C, ...) logits with (N, ...) class indices, or one "
            "binary logit per target"
        )
    tgt = target.reshape(-1).long()
    if pred.numel() != tgt.numel():
        raise ValueError(
            f"model output of shape {tuple(output.shape)} gives {pred.numel()} predictions for target of shape "
            f"{tuple(target.shape)} ({tgt.numel()} labels)"
        )
    valid = tgt != ignore_index if ignore_index is not None else torch.ones_like(tgt, dtype=torch.bool)
    return pred, tgt, valid, num_classes


class Accuracy(Metric):
    """Fraction of correct class predictions (pixels for segmentation); targets equal to ``ignore_index`` skip."""

    name = "accuracy"
    KEYS = ("{name}",)

    def __init__(self, ignore_index: int | None = -100, threshold: float = 0.0) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.threshold = threshold
        self.add_state("correct")
        self.add_state("total")

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        pred, tgt, valid, _ = _class_labels(output, target, self.ignore_index, self.threshold)
        self.accumulate("correct", ((pred == tgt) & valid).sum())
        self.accumulate("total", valid.sum())

    def compute(self) -> dict[str, float]:
        total = self.state("total")
        if total is None or int(total) == 0:
            return {}
        return {self.name: float(self.state("correct")) / float(total)}


class TopK(Metric):
    """Fraction of samples whose target is among the ``k`` highest scores."""

    KEYS = ("{name}",)

    def __init__(self, k: int = 5, ignore_index: int | None = -100) -> None:
        super().__init__()
        if int(k) < 1:
            raise ValueError(f"top_k needs k >= 1, got {k}")
        self.k = int(k)
        self.name = f"top_{self.k}"
        self.ignore_index = ignore_index
        self.add_state("correct")
        self.add_state("total")

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        if output.dim() != target.dim() + 1:
            raise ValueError(
                f"top_k needs (N, C, ...) scores with (N, ...) targets, got output {tuple(output.shape)} "
                f"and target {tuple(target.shape)}"
            )
        scores = output.movedim(1, -1).reshape(-1, output.shape[1])
        tgt = target.reshape(-1).long()
        valid = (
            tgt != self.ignore_index
            if self.ignore_index is not None
            else torch.ones_like(tgt, dtype=torch.bool)
        )
        k = min(self.k, scores.shape[1])
        hits = (scores.topk(k, dim=1).indices == tgt.unsqueeze(1)).any(dim=1) & valid
        self.accumulate("correct", hits.sum())
        self.accumulate("total", valid.sum())

    def compute(self) -> dict[str, float]:
        total = self.state("total")
        if total is None or int(total) == 0:
            return {}
        return {self.name: float(self.state("correct")) / float(total)}


class ConfusionMatrix(Metric):
    """Counts of (target, predicted) class pairs; rendered as a heat map, reported as its trace fraction."""

    name = "confusion_matrix"
    KEYS: tuple[str, ...] | None = ()

    def __init__(
        self,
        num_classes: int | None = None,
        class_names: Sequence[str] | None = None,
        ignore_index: int | None = -100,
        threshold: float = 0.0,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.class_names = list(class_names) if class_names is not None else None
        self.ignore_index = ignore_index
        self.threshold = threshold
        self.add_state("matrix")

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        pred, tgt, valid, inferred = _class_labels(output, target, self.ignore_index, self.threshold)
        n = self.num_classes or inferred
        self.num_classes = n
        # ignored pixels land in one extra bin that is cut off; scatter_add (unlike bincount) never syncs
        cell = torch.where(valid, tgt * n + pred, torch.full_like(tgt, n * n))
        counts = torch.zeros(n * n + 1, dtype=torch.long, device=tgt.device)
        counts.scatter_add_(0, cell, torch.ones_like(cell))
        self.accumulate("matrix", counts[: n * n].reshape(n, n))

    def matrix(self) -> np.ndarray | None:
        """The (target, predicted) count matrix as int64 numpy, or None before the first update."""
        value = self.state("matrix")
        return None if value is None else value.cpu().numpy().astype(np.int64)

    def labels(self) -> list[str]:
        """Class names for rows/columns (the given ``class_names`` or the indices)."""
        n = self.num_classes or 0
        if self.class_names is not None and len(self.class_names) == n:
            return [str(c) for c in self.class_names]
        return [str(i) for i in range(n)]

    def compute(self) -> dict[str, float]:
        return {}

    def render(self, log: Any, prefix: str, counter: int | None) -> None:
        cm = self.matrix()
        if cm is not None:
            # every class named, the axes "true class" (rows) and "predicted class" (columns)
            log.show_heatmap(
                cm, name=f"{prefix}{self.name}", counter=counter, title=f"{prefix}confusion matrix",
                labels=self.labels(), xlabel="predicted class", ylabel="true class",
            )  # fmt: skip


def _per_class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1, IoU, Dice and support per class from a (target, predicted) count matrix."""
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
        iou = np.where(tp + fp + fn > 0, tp / (tp + fp + fn), np.nan)
        dice = np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1, "iou": iou, "dice": dice, "support": tp + fn}


class ClassificationReport(ConfusionMatrix):
    """Per-class precision, recall and F1 plus their macro averages (sklearn's zero_division=0 rule)."""

    name = "f1_macro"
    KEYS = ("precision_macro", "recall_macro", "f1_macro", "precision/*", "recall/*", "f1/*")

    def compute(self) -> dict[str, float]:
        cm = self.matrix()
        if cm is None:
            return {}
        scores = _per_class_scores(cm)
        out = {
            "precision_macro": float(scores["precision"].mean()),
            "recall_macro": float(scores["recall"].mean()),
            "f1_macro": float(scores["f1"].mean()),
        }
        for i, label in enumerate(self.labels()):
            for key in ("precision", "recall", "f1"):
                out[f"{key}/{label}"] = float(scores[key][i])
        return out

    def report(self) -> str:
        """The report as a fixed-width text table (one row per class, then the macro average)."""
        cm = self.matrix()
        if cm is None:
            return ""
        scores = _per_class_scores(cm)
        labels = self.labels()
        width = max(12, *(len(x) for x in labels))
        lines = [f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>9}"]
        for i, label in enumerate(labels):
            p, r, f, s = (scores[k][i] for k in ("precision", "recall", "f1", "support"))
            lines.append(f"{label:>{width}} {p:9.4f} {r:9.4f} {f:9.4f} {int(s):9d}")
        lines.append(
            f"{'macro avg':>{width}} {scores['precision'].mean():9.4f} {scores['recall'].mean():9.4f} "
            f"{scores['f1'].mean():9.4f} {int(scores['support'].sum()):9d}"
        )
        return "\n".join(lines)

    def render(self, log: Any, prefix: str, counter: int | None) -> None:
        text = self.report()
        if text:
            log.show_text(text, name=f"{prefix}classification_report", counter=counter)


class IoU(ConfusionMatrix):
    """Intersection over union per class and its mean over classes that occur (Jaccard index)."""

    name = "iou"
    KEYS = ("{name}", "{name}/*")
    _score = "iou"

    def compute(self) -> dict[str, float]:
        cm = self.matrix()
        if cm is None:
            return {}
        per_class = _per_class_scores(cm)[self._score]
        present = per_class[~np.isnan(per_class)]
        out = {self.name: float(present.mean()) if present.size else 0.0}
        for i, label in enumerate(self.labels()):
            if not np.isnan(per_class[i]):
                out[f"{self.name}/{label}"] = float(per_class[i])
        return out

    def render(self, log: Any, prefix: str, counter: int | None) -> None:
        """Nothing to draw beyond the scalars."""


class Dice(IoU):
    """Dice coefficient (F1 of pixels) per class and its mean over classes that occur."""

    name = "dice"
    _score = "dice"


def _binary_scores(
    output: torch.Tensor, target: torch.Tensor, probabilities: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Positive-class scores and 0/1 labels from a binary batch ((N,) / (N, 1) logits or (N, 2) scores)."""
    if output.dim() == target.dim() + 1 and output.shape[1] == 2:
        scores = torch.softmax(output.float(), dim=1)[:, 1]
    elif output.numel() == target.numel():
        scores = output.float().reshape(-1)
        if not probabilities:
            scores = torch.sigmoid(scores)
    else:
        raise ValueError(
            f"roc_auc is for binary problems: expected (N,) or (N, 1) logits or (N, 2) scores, got output "
            f"{tuple(output.shape)} for target {tuple(target.shape)}"
        )
    return scores.reshape(-1), target.reshape(-1)


def _curve_points(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positive counts at each distinct score threshold, highest threshold first."""
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order].astype(np.float64)
    last_of_run = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tps = np.cumsum(y)[last_of_run]
    fps = last_of_run + 1 - tps
    return tps, fps


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (ties handled like sklearn); NaN when one class is absent."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels) > 0
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    tps, fps = _curve_points(scores, labels)
    tpr = np.r_[0.0, tps / positives]
    fpr = np.r_[0.0, fps / negatives]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the precision-recall curve as sklearn's step sum; NaN without positives."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels) > 0
    positives = labels.sum()
    if positives == 0:
        return float("nan")
    tps, fps = _curve_points(scores, labels)
    precision = tps / (tps + fps)
    recall = np.r_[0.0, tps / positives]
    return float(np.sum(np.diff(recall) * precision))


class RocAuc(Metric):
    """ROC-AUC and average precision of a binary problem; renders the ROC and PR curves."""

    name = "roc_auc"
    KEYS = ("roc_auc", "average_precision")

    def __init__(self, probabilities: bool = False) -> None:
        super().__init__()
        self.probabilities = probabilities
        self._scores: list[torch.Tensor] = []
        self._labels: list[torch.Tensor] = []
        self._gathered: tuple[np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        self._scores, self._labels, self._gathered = [], [], None

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        scores, labels = _binary_scores(output.detach(), target.detach(), self.probabilities)
        self._scores.append(scores)
        self._labels.append(labels)

    def _local(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._scores:
            return np.zeros(0), np.zeros(0)
        scores = torch.cat(self._scores).cpu().numpy().astype(np.float64)
        labels = torch.cat(self._labels).cpu().numpy().astype(np.int64)
        return scores, labels

    def sync(self) -> None:
        scores, labels = self._local()
        if distributed.is_distributed():
            parts = distributed.all_gather_object((scores, labels))
            scores = np.concatenate([p[0] for p in parts])
            labels = np.concatenate([p[1] for p in parts])
        self._gathered = (scores, labels)

    def _data(self) -> tuple[np.ndarray, np.ndarray]:
        return self._gathered if self._gathered is not None else self._local()

    def compute(self) -> dict[str, float]:
        scores, labels = self._data()
        if scores.size == 0:
            return {}
        return {"roc_auc": roc_auc(scores, labels), "average_precision": average_precision(scores, labels)}

    def render(self, log: Any, prefix: str, counter: int | None) -> None:
        scores, labels = self._data()
        if scores.size:
            # Keywords: the hooks take trixi's (tensor, labels, name) order.
            log.show_roc_curve(
                tensor=scores, labels=labels, name=f"{prefix}roc_curve", counter=counter, title=f"{prefix}ROC"
            )
            log.show_pr_curve(
                tensor=scores, labels=labels, name=f"{prefix}pr_curve", counter=counter, title=f"{prefix}PR"
            )


def _paired(output: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Regression output and target as float64 (N, D) matrices, accepting (N, 1) output for (N,) target."""
    if output.shape != target.shape:
        if output.numel() != target.numel():
            raise ValueError(
                f"regression output of shape {tuple(output.shape)} does not match target of shape "
                f"{tuple(target.shape)}"
            )
        output = output.reshape(target.shape)
    n = target.shape[0] if target.dim() else 1
    return output.detach().double().reshape(n, -1), target.detach().double().reshape(n, -1)


class Mse(Metric):
    """Mean squared error over every element."""

    name = "mse"
    KEYS = ("{name}",)

    def __init__(self) -> None:
        super().__init__()
        self.add_state("sum")
        self.add_state("count")

    def _error(self, diff: torch.Tensor) -> torch.Tensor:
        return diff.square()

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        out, tgt = _paired(output, target)
        self.accumulate("sum", self._error(out - tgt).sum())
        self.accumulate("count", torch.tensor(float(tgt.numel()), dtype=torch.float64, device=tgt.device))

    def compute(self) -> dict[str, float]:
        count = self.state("count")
        if count is None or float(count) == 0:
            return {}
        return {self.name: float(self.state("sum")) / float(count)}


class Mae(Mse):
    """Mean absolute error over every element."""

    name = "mae"

    def _error(self, diff: torch.Tensor) -> torch.Tensor:
        return diff.abs()


class R2(Metric):
    """Coefficient of determination per output column, averaged uniformly (sklearn's default)."""

    name = "r2"
    KEYS = ("{name}",)

    def __init__(self) -> None:
        super().__init__()
        for key in ("n", "sum_y", "sum_y2", "sse"):
            self.add_state(key)

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        out, tgt = _paired(output, target)
        self.accumulate("n", torch.tensor(float(tgt.shape[0]), dtype=torch.float64, device=tgt.device))
        self.accumulate("sum_y", tgt.sum(dim=0))
        self.accumulate("sum_y2", tgt.square().sum(dim=0))
        self.accumulate("sse", (out - tgt).square().sum(dim=0))

    def compute(self) -> dict[str, float]:
        n = self.state("n")
        if n is None or float(n) < 2:
            return {}
        n = float(n)
        sum_y = self.state("sum_y").cpu().numpy()
        sst = self.state("sum_y2").cpu().numpy() - sum_y**2 / n
        sse = self.state("sse").cpu().numpy()
        # sklearn: a constant target scores 1 when predicted exactly, 0 otherwise
        with np.errstate(divide="ignore", invalid="ignore"):
            per_column = np.where(
                sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), np.where(sse == 0, 1.0, 0.0)
            )
        return {self.name: float(per_column.mean())}


#: Metric names usable in a trainer's ``metrics`` list.
METRICS: dict[str, type[Metric]] = {
    "accuracy": Accuracy,
    "top_k": TopK,
    "confusion_matrix": ConfusionMatrix,
    "classification_report": ClassificationReport,
    "roc_auc": RocAuc,
    "iou": IoU,
    "dice": Dice,
    "mse": Mse,
    "mae": Mae,
    "r2": R2,
}


def build_metrics(spec: Any, key: str = "trainer.metrics") -> list[Metric]:
    """Build metrics from config: a list of names / ``{"type": name, "params": {...}}``, or {name: params}.

    A type is a name from ``METRICS`` or the import path of a ``Metric`` subclass. Errors name the config key.
    """
    from .building import build_object

    if spec is None:
        return []
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, Mapping):
        items = [(f"{key}.{name}", {"type": name, "params": params or {}}) for name, params in spec.items()]
    elif isinstance(spec, Sequence):
        items = [(f"{key}.{i}", item) for i, item in enumerate(spec)]
    else:
        raise ConfigError(
            f"config key '{key}' must be a list of metric names or a mapping name -> params, "
            f"got {type(spec).__name__}"
        )
    metrics = [build_object(item, item_key, registry=METRICS, kind="metric") for item_key, item in items]
    for item_key, metric in zip((k for k, _ in items), metrics):
        if not isinstance(metric, Metric):
            raise ConfigError(
                f"config key '{item_key}' built a {type(metric).__name__}, not a trialog_torch.metrics.Metric; "
                "subclass Metric (update/compute) for custom metrics"
            )
    return metrics
