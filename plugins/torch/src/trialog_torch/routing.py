"""Diagnostics sent to every configured logger through the existing logger hooks.

trixi drew these on its Visdom logger only; here they are compositions of the hooks every logger
implements, so the file logger, TensorBoard and Visdom all show them without code of their own.
``target`` is a :class:`trialog.CombinedLogger` (``exp.clog``; wrap one logger as
``CombinedLogger({"vis": logger})``)::

    show_classification_metrics(exp.clog, scores, labels, "val", metric=("roc-auc", "confusion-matrix"))
    show_model_statistics(exp.clog, model, "net_weights")            # bars + one histogram per parameter
    show_gradient_flow(exp.clog, model, "net_gradient_flow")          # after backward()
    show_heatmap_grid(exp.clog, saliency, images, "saliency")         # coloured maps over the images
    show_model_structure(exp.clog, model, (1, 3, 32, 32), "net")      # the structure as a text

What each hook becomes: a metric value -> ``show_value(value, metric, tag=tag_name or name)`` (the
file and TensorBoard loggers draw a chart per metric with a line ``name``; with ``group_by="tag"``, as
trialog-trixi's loggers, one chart ``name`` with one line per metric, as trixi drew it);
``"confusion-matrix"`` -> ``show_heatmap``; ``"per-class"`` -> ``show_barplot`` of precision, recall and
F1 per class; model statistics -> ``show_barplot`` (mean, std, abs max per parameter) and
``show_histogram`` per parameter (``<name>/<parameter>``); gradient flow -> ``show_barplot`` (mean and max
|grad| per weight, in forward order); a heat-map grid -> ``show_image_grid``; the model structure ->
``show_text``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from torch import nn

from trialog.errors import ConfigError, TrialogWarning

from .diagnostics import (
    get_classification_metrics,
    gradient_flow,
    heatmap_overlay,
    model_statistics,
    model_structure,
)

#: Metrics shown as one value each (``show_value``); the last three need binary scores.
VALUE_METRICS = ("roc-auc", "f1", "accuracy", "pr-auc", "pr-score", "mcc")
#: Metrics shown as a plot: the confusion matrix (``show_heatmap``), per-class scores (``show_barplot``).
PLOT_METRICS = ("confusion-matrix", "per-class")
_BINARY_ONLY = ("pr-auc", "pr-score", "mcc")
#: Values per parameter sent to ``show_histogram`` (larger tensors are thinned evenly).
MAX_HISTOGRAM_VALUES = 100_000


def _check_metrics(metric: Iterable[str] | str) -> list[str]:
    names = [metric] if isinstance(metric, str) else list(metric)
    unknown = [m for m in names if m not in VALUE_METRICS + PLOT_METRICS]
    if unknown:
        raise ConfigError(
            f"show_classification_metrics: unknown metric(s) {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join(VALUE_METRICS + PLOT_METRICS)}"
        )
    return names


def show_classification_metrics(
    target: Any,
    tensor: Any,
    labels: Any,
    name: str,
    metric: Iterable[str] | str = ("roc-auc", "pr-score"),
    tag_name: str | None = None,
    counter: int | None = None,
) -> dict[str, Any]:
    """Compute the metrics of scores ``tensor`` against ``labels`` and show each on every logger of ``target``.

    Returns :func:`trialog_torch.diagnostics.get_classification_metrics`'s dict. A metric a binary
    problem defines but ``tensor`` is (N, C) class scores for (``pr-auc``, ``pr-score``, ``mcc``) is a
    ConfigError; a value that is undefined (ROC AUC with one class only) is not shown, with a warning.
    """
    names = _check_metrics(metric)
    out = get_classification_metrics(tensor, labels, name)
    binary = "roc" in out
    missing = [m for m in names if m in _BINARY_ONLY and not binary]
    if missing:
        raise ConfigError(
            f"show_classification_metrics({name!r}): {', '.join(missing)} need binary scores (N,); "
            f"for (N, C) class scores use {', '.join(m for m in VALUE_METRICS if m not in _BINARY_ONLY)}"
        )
    tag = tag_name or name
    for m in names:
        if m == "confusion-matrix":
            target.show_heatmap(
                out["confusion_matrix"], f"{name}_confusion_matrix", counter=counter,
                title=f"{name}: confusion matrix (rows: true class, columns: predicted)",
                labels=[str(k) for k in range(len(out["confusion_matrix"]))],
                xlabel="predicted class", ylabel="true class",
            )  # fmt: skip
        elif m == "per-class":
            table = np.stack([out["precision"], out["recall"], out["f1_per_class"]], axis=1)
            target.show_barplot(
                table, f"{name}_per_class", counter=counter,
                labels=[str(k) for k in range(table.shape[0])],
                title=f"{name}: precision / recall / F1 per class",
            )  # fmt: skip
        else:
            value = float(out[m])
            if math.isnan(value):
                warnings.warn(
                    f"show_classification_metrics({name!r}): {m} is undefined for these labels "
                    "(one class only?); not shown",
                    TrialogWarning,
                    stacklevel=2,
                )
                continue
            target.show_value(value, m, counter=counter, tag=tag)
    out["metric"] = {m: out[m] for m in names if m in VALUE_METRICS and m in out}
    return out


def _values(t: Any) -> np.ndarray:
    flat = t.detach().flatten()
    step = -(-flat.numel() // MAX_HISTOGRAM_VALUES)
    if step > 1:
        flat = flat[::step]  # thinned where it lives: only the kept values are copied to the host
    return flat.float().cpu().numpy()


def show_model_statistics(
    target: Any,
    model: nn.Module,
    name: str,
    plot_grad: bool = False,
    bins: int = 30,
    counter: int | None = None,
    histograms: bool = True,
) -> dict[str, dict[str, Any]]:
    """Show mean, std and abs max per parameter of the weights (or gradients) as bars ``name``, and (with
    ``histograms``) each parameter's values as a histogram ``name/<parameter>``; returns the statistics."""
    stats = model_statistics(model, plot_grad=plot_grad, bins=bins)
    if not stats:
        raise ConfigError(
            "no gradients to show yet: call backward() first" if plot_grad else "the model has no parameters"
        )
    table = np.array([[s["mean"], s["std"], s["absmax"]] for s in stats.values()])
    target.show_barplot(
        table, name, counter=counter, labels=list(stats), title=f"{name}: mean / std / abs max"
    )
    params = dict(model.named_parameters())
    for param in stats if histograms else ():
        values = params[param].grad if plot_grad else params[param]
        target.show_histogram(_values(values), f"{name}/{param}", counter=counter, bins=bins)
    return stats


def show_gradient_flow(
    target: Any, model: nn.Module, name: str, title: str | None = None, counter: int | None = None
) -> dict[str, dict[str, float]]:
    """Show mean and max |grad| per weight tensor (forward order) as bars ``name``; returns them."""
    flow = gradient_flow(model)
    if not flow:
        raise ConfigError("no gradients to show yet: call backward() first")
    table = np.array([[f["mean"], f["max"]] for f in flow.values()])
    target.show_barplot(
        table, name, counter=counter, labels=list(flow),
        title=title or f"{name}: mean / max |grad| per layer",
    )  # fmt: skip
    return flow


def show_heatmap_grid(
    target: Any,
    heatmap: Any,
    background: Any = None,
    name: str = "heatmap",
    ratio: float = 0.3,
    normalize: bool = True,
    colormap: Any = "jet",
    nrow: int = 8,
    counter: int | None = None,
    title: str | None = None,
) -> np.ndarray:
    """Show :func:`trialog_torch.diagnostics.heatmap_overlay` as the image grid ``name`` (titled ``title``);
    returns the overlay."""
    overlay = heatmap_overlay(heatmap, background, ratio, normalize, colormap)
    target.show_image_grid(overlay, name, counter=counter, nrow=nrow, normalize=False, title=title)
    return overlay


def _one_input_size(input_size: Any) -> tuple[int, ...] | None:
    """trixi's ``input_size``: one size with the batch dimension, or a list of one such size per input."""
    if input_size is None:
        return None
    sizes = list(input_size)
    if sizes and all(isinstance(s, Iterable) for s in sizes):
        if len(sizes) != 1:
            raise ConfigError(
                f"show_model_structure: {len(sizes)} input sizes given; the text graph runs the model on one "
                "input (give one size with the batch dimension, e.g. (1, 3, 32, 32))"
            )
        sizes = list(sizes[0])
    return tuple(int(s) for s in sizes)


def show_model_structure(
    target: Any,
    model: nn.Module,
    input_size: Any = None,
    name: str = "model_structure",
    forward_kwargs: Mapping[str, Any] | None = None,
    counter: int | None = None,
) -> str:
    """Show :func:`trialog_torch.diagnostics.model_structure` (a text graph, output shapes from one forward
    pass on zeros of ``input_size``) as the text ``name``; returns the text.

    ``input_size`` is one size with the batch dimension, or trixi's list holding one such size.
    """
    text = model_structure(model, _one_input_size(input_size), forward_kwargs)
    target.show_text(text, name, counter=counter)
    return text


__all__ = [
    "MAX_HISTOGRAM_VALUES",
    "PLOT_METRICS",
    "VALUE_METRICS",
    "show_classification_metrics",
    "show_gradient_flow",
    "show_heatmap_grid",
    "show_model_statistics",
    "show_model_structure",
]
