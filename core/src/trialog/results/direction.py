"""Which way a metric improves: the one rule every part of trialog uses (trainers, checkpoints, summaries).

``metric_mode("val/accuracy") == "max"``, ``metric_mode("val/nll") == "min"``. The last path component
is split into words (``val/top1_acc`` -> ``top1``, ``acc``); a word naming an error, a loss or a distance
means lower is better, a word naming a score means higher is better, and anything else is "min" (a
loss-like value is the safer guess: the trainers' default monitor is a loss).
"""

from __future__ import annotations

import re
from typing import overload

__all__ = ["HIGHER_IS_BETTER", "LOWER_IS_BETTER", "metric_mode"]

#: Words of metrics that are better when lower (checked first: "error_rate", "dice_loss" are "min").
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"loss", "error", "err", "mse", "mae", "rmse", "nll", "perplexity", "ppl", "wer", "cer", "distance",
     "dist", "kl", "divergence", "regret", "cost", "time", "latency", "hd", "hd95", "fpr", "fnr", "eer"}
)  # fmt: skip
#: Words of metrics that are better when higher.
HIGHER_IS_BETTER: frozenset[str] = frozenset(
    {"acc", "accuracy", "auc", "auroc", "auprc", "ap", "map", "f1", "fscore", "precision", "recall",
     "dice", "iou", "jaccard", "score", "bleu", "rouge", "psnr", "ssim", "r2", "kappa", "mcc",
     "sensitivity", "specificity", "tpr", "top1", "top5", "reward", "return", "balanced"}
)  # fmt: skip

_WORDS = re.compile(r"[a-z]+[0-9]*|[0-9]+")


@overload
def metric_mode(name: str) -> str: ...
@overload
def metric_mode(name: str, default: str | None) -> str | None: ...


def metric_mode(name: str, default: str | None = "min") -> str | None:
    """``"max"`` when higher values of the metric ``name`` are better, ``"min"`` when lower ones are.

    A name that says neither gets ``default`` ("min"; pass None to tell "unknown" apart).
    """
    leaf = str(name).rsplit("/", 1)[-1].lower()
    words = _WORDS.findall(leaf)
    if any(w in LOWER_IS_BETTER for w in words):
        return "min"
    if any(w in HIGHER_IS_BETTER for w in words):
        return "max"
    return default
