"""Matplotlib figures for each plot hook's data, rendered off-screen (Figure + Agg, never pyplot).

matplotlib is imported inside the functions, so ``import trialog_figures.render`` stays cheap and
works without it until a plot is drawn. Figures are small (6.4 x 4.8 in at 100 dpi) because every
logger that draws them pays the rendering time.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trialog.api import optional_import
from trialog.errors import TrialogError

from .imaging import encode_png

__all__ = [
    "barplot",
    "binary_labels",
    "boxplot",
    "confusion_matrix",
    "embedding",
    "figure_to_array",
    "figure_to_png",
    "heatmap",
    "histogram",
    "lineplot",
    "pca_2d",
    "piechart",
    "pr_curve",
    "precision_recall",
    "roc",
    "roc_curve",
    "scatterplot",
    "value_curves",
]

#: Held while a figure is drawn: matplotlib shares font objects between figures, so two threads must
#: not draw at once. Take it when drawing from a helper thread outside these functions.
LOCK = threading.RLock()
FIGSIZE = (6.4, 4.8)
DPI = 100
# Above this many cells a heat map's numbers would be unreadable (and slow to draw).
_ANNOTATE_MAX_CELLS = 100
# Up to this many rows / columns a heat map names each one; beyond, the labels would overlap.
_ALL_TICKS_MAX = 30


def _agg() -> tuple[Any, Any]:
    """matplotlib's (Figure, FigureCanvasAgg), or a TrialogError saying which extra installs it."""
    backend = optional_import("matplotlib.backends.backend_agg", "drawing plots", "trialog-figures[plots]")
    figure = optional_import("matplotlib.figure", "drawing plots", "trialog-figures[plots]")
    return figure.Figure, backend.FigureCanvasAgg


def new_figure(title: str | None = None, figsize: tuple[float, float] = FIGSIZE, dpi: int = DPI) -> Any:
    """A blank ``Figure`` with an Agg canvas attached (no pyplot, no global backend)."""
    Figure, FigureCanvasAgg = _agg()
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    if title:
        fig.suptitle(title)
    return fig


def _axes(title: str | None) -> tuple[Any, Any]:
    fig = new_figure()
    ax = fig.add_subplot(1, 1, 1)
    if title:
        ax.set_title(title)
    return fig, ax


def _array(value: Any, what: str, ndims: Sequence[int]) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim not in ndims:
        dims = " or ".join(f"{n}-D" for n in ndims)
        raise TrialogError(f"{what} must be {dims}, got shape {tuple(array.shape)}")
    if array.size == 0:
        raise TrialogError(f"{what} is empty (shape {tuple(array.shape)}); nothing to plot")
    return array


def _labels(labels: Sequence[Any] | None, count: int, what: str) -> list[str] | None:
    if labels is None:
        return None
    labels = [str(label) for label in labels]
    if len(labels) != count:
        raise TrialogError(f"{what}: got {len(labels)} labels for {count} items; pass one label per item")
    return labels


def value_curves(
    series: Mapping[Any, tuple[Any, Any]],
    name: str,
    figure: Any = None,
    *,
    ylabel: str | None = None,
    xlabel: str = "counter",
    title: str | None = None,
) -> Any:
    """One line per key of ``series`` ({label: (counters, values)}) on one axis; trixi's value plot.

    ``name`` titles the plot unless ``title`` is given; ``ylabel`` names the quantity on the y axis (one
    quantity per axis: the lines are its phases or tags, as Keras and Lightning draw them), ``xlabel``
    what the counters count (``"epoch"``, ``"step"``). Every line is in the legend, even a single one, so
    the picture says which phase it shows.

    ``figure``: draw into this figure (from :func:`new_figure`), cleared first, instead of a new one: a
    logger that redraws its curves every few seconds reuses one figure and its canvas' pixel buffer, so
    its memory stays flat (a new figure each time leaves garbage only the cyclic collector frees).
    """
    heading = title if title is not None else name
    if figure is None:
        fig, ax = _axes(heading)
    else:
        fig = figure
        fig.clear()
        ax = fig.add_subplot(1, 1, 1)
        ax.set_title(heading)
    for label, (counters, values) in series.items():
        counters, values = np.asarray(counters), np.asarray(values, dtype=float)
        # a lone point has no line to draw: a marker keeps it visible
        ax.plot(counters, values, label=str(label), marker="o" if values.size == 1 else None)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if xlabel in ("epoch", "step"):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 0.5
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(loc="best")
    return fig


def barplot(array: Any, labels: Sequence[str] | None = None, title: str | None = None) -> Any:
    """Bars of a 1-D array, or for 2-D one group per row (one colour per column); ``labels`` name bars/groups."""
    array = _array(array, "barplot array", (1, 2)).astype(float)
    fig, ax = _axes(title)
    groups = array if array.ndim == 2 else array[:, None]
    positions = np.arange(groups.shape[0])
    width = 0.8 / groups.shape[1]
    for col in range(groups.shape[1]):
        offset = (col - (groups.shape[1] - 1) / 2) * width
        ax.bar(positions + offset, groups[:, col], width=width)
    names = _labels(labels, groups.shape[0], "barplot")
    ax.set_xticks(positions)
    ax.set_xticklabels(names if names is not None else [str(i) for i in positions])
    return fig


def lineplot(
    y: Any, x: Any | None = None, labels: Sequence[str] | None = None, title: str | None = None
) -> Any:
    """Lines of ``y`` (1-D, or 2-D: one line per row) over ``x`` (shared 1-D or same shape; default 0..N-1)."""
    ys = _array(y, "lineplot y_vals", (1, 2)).astype(float)
    ys = ys[None] if ys.ndim == 1 else ys
    if x is None:
        xs = np.broadcast_to(np.arange(ys.shape[1]), ys.shape)
    else:
        xs = np.asarray(x, dtype=float)
        try:
            xs = np.broadcast_to(xs, ys.shape)
        except ValueError:
            raise TrialogError(
                f"lineplot x_vals of shape {xs.shape} do not match y_vals of shape {ys.shape}; "
                "pass one x per point (1-D shared by all lines, or the shape of y_vals)"
            ) from None
    names = _labels(labels, ys.shape[0], "lineplot")
    fig, ax = _axes(title)
    for i in range(ys.shape[0]):
        ax.plot(xs[i], ys[i], label=names[i] if names else None)
    if names:
        ax.legend(loc="best")
    ax.grid(True, alpha=0.3)
    return fig


def _grouped_scatter(ax: Any, points: np.ndarray, labels: Sequence[Any] | None) -> None:
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=12)
        return
    groups = np.asarray(labels)
    if groups.shape != (points.shape[0],):
        raise TrialogError(
            f"got {groups.shape} labels for {points.shape[0]} points; pass one label per point"
        )
    for value in np.unique(groups):
        mask = groups == value
        ax.scatter(points[mask, 0], points[mask, 1], s=12, label=str(value))
    ax.legend(loc="best", fontsize="small")


def scatterplot(array: Any, labels: Sequence[Any] | None = None, title: str | None = None) -> Any:
    """Points of an (N, 2) array; ``labels`` (one per point) colour the points by class."""
    points = _array(array, "scatterplot array", (2,)).astype(float)
    if points.shape[1] != 2:
        raise TrialogError(f"scatterplot array must be (N, 2), got shape {points.shape}")
    fig, ax = _axes(title)
    _grouped_scatter(ax, points, labels)
    return fig


def piechart(array: Any, labels: Sequence[str] | None = None, title: str | None = None) -> Any:
    """A pie of a 1-D array of non-negative parts."""
    parts = _array(array, "piechart array", (1,)).astype(float)
    if (parts < 0).any() or not np.isfinite(parts).all() or parts.sum() <= 0:
        raise TrialogError(
            f"piechart parts must be finite, non-negative and not all zero, got {parts.tolist()}"
        )
    fig, ax = _axes(title)
    ax.pie(parts, labels=_labels(labels, parts.size, "piechart"), autopct="%1.1f%%")
    ax.set_aspect("equal")
    return fig


def boxplot(array: Any, labels: Sequence[str] | None = None, title: str | None = None) -> Any:
    """A box of a 1-D array, or for 2-D one box per column."""
    data = _array(array, "boxplot array", (1, 2)).astype(float)
    data = data[:, None] if data.ndim == 1 else data
    names = _labels(labels, data.shape[1], "boxplot")
    fig, ax = _axes(title)
    ax.boxplot(data)
    ax.set_xticks(np.arange(1, data.shape[1] + 1))
    ax.set_xticklabels(names if names is not None else [str(i) for i in range(data.shape[1])])
    return fig


def histogram(array: Any, bins: int = 30, title: str | None = None) -> Any:
    """The histogram of all values of ``array`` (finite ones), in ``bins`` bins."""
    values = np.asarray(array, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise TrialogError("histogram array has no finite values; nothing to plot")
    if int(bins) < 1:
        raise TrialogError(f"histogram bins must be >= 1, got {bins}")
    fig, ax = _axes(title)
    counts, edges = np.histogram(values, bins=int(bins))
    ax.stairs(counts, edges, fill=True)
    return fig


def heatmap(
    array: Any,
    title: str | None = None,
    *,
    xlabel: str | None = None,
    ylabel: str | None = None,
    labels: Sequence[Any] | None = None,
) -> Any:
    """A 2-D array as an image with a colour bar; small arrays (confusion matrices) get their numbers.

    ``xlabel``/``ylabel`` name the axes (a confusion matrix: ``"predicted class"``, ``"true class"``);
    ``labels`` name the rows and columns of a square array (the class names), each one shown (up to
    ``_ALL_TICKS_MAX`` of them; beyond, matplotlib picks the ticks).
    """
    data = _array(array, "heatmap array", (2,)).astype(float)
    rows, cols = data.shape
    names = None
    if labels is not None:
        if rows != cols:
            raise TrialogError(
                f"heatmap labels name the rows and columns of a square array, got shape {data.shape}"
            )
        names = _labels(labels, rows, "heatmap")
    fig, ax = _axes(title)
    fig.set_layout_engine("constrained")  # long, rotated class names and the axis labels stay inside
    mesh = ax.imshow(data, aspect="auto", interpolation="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax)
    # every row and column gets its tick (matplotlib's default shows every second one)
    if cols <= _ALL_TICKS_MAX:
        ax.set_xticks(np.arange(cols))
        ax.set_xticklabels(names if names is not None else [str(i) for i in range(cols)],
                           rotation=90 if names is not None and max(map(len, names)) > 3 else 0)  # fmt: skip
    if rows <= _ALL_TICKS_MAX:
        ax.set_yticks(np.arange(rows))
        ax.set_yticklabels(names if names is not None else [str(i) for i in range(rows)])
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if data.size <= _ANNOTATE_MAX_CELLS:
        middle = np.nanmin(data) + (np.nanmax(data) - np.nanmin(data)) / 2
        for (row, col), value in np.ndenumerate(data):
            ax.text(col, row, f"{value:.3g}", ha="center", va="center", fontsize=8,
                    color="black" if value > middle else "white")  # fmt: skip
    return fig


def confusion_matrix(matrix: Any, labels: Sequence[Any] | None = None, title: str | None = None) -> Any:
    """A (true, predicted) count matrix as a :func:`heatmap`: rows the true class, columns the predicted
    one, both axes labelled so, every class named (``labels``, default the indices)."""
    return heatmap(matrix, title, xlabel="predicted class", ylabel="true class", labels=labels)


def binary_labels(labels: Any, scores: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(labels as bool, scores as float)`` for a ROC or PR curve; a TrialogError unless labels are 0/1.

    Every logger that draws such a curve calls it, so arguments in the wrong order (scores where the
    labels go) are an error, never a wrong curve (unless the scores are 0/1 too: hard predictions look like labels, so check the order there). ``what`` names the curve in the message: the hook and
    the logger, e.g. ``"TensorBoardLogger.show_pr_curve('pr')"``.
    """
    labels = np.asarray(labels).ravel()
    scores = np.asarray(scores, dtype=float).ravel()
    if labels.shape != scores.shape or labels.size == 0:
        raise TrialogError(
            f"{what}: labels {labels.shape} and predictions {scores.shape} must be non-empty and of one length"
        )
    if not np.isin(labels, (0, 1)).all():
        raise TrialogError(
            f"{what}: labels must be 0 or 1, got values {np.unique(labels)[:10].tolist()} (are the scores and "
            "the labels swapped? show_roc_curve and show_pr_curve take (tensor, labels, name): the scores "
            "first, as trixi; trialog_figures.render's curve helpers take (labels, scores), as scikit-learn)"
        )
    return labels.astype(bool), scores


def _cumulative_counts(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives at each distinct threshold, highest score first (as scikit-learn)."""
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), labels.size - 1]
    tps = np.cumsum(labels)[last_of_tie]
    fps = 1 + last_of_tie - tps
    return tps.astype(float), fps.astype(float), scores[last_of_tie]


def precision_recall(
    labels: Any, scores: Any, what: str = "precision-recall"
) -> tuple[np.ndarray, np.ndarray, float]:
    """Precision, recall (ending at recall 0, precision 1, as scikit-learn) and average precision."""
    positives, scores = binary_labels(labels, scores, what)
    tps, fps, _ = _cumulative_counts(positives, scores)
    if tps[-1] == 0:
        raise TrialogError(f"{what}: the labels hold no positive (1); the curve is undefined")
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    precision = np.r_[precision[::-1], 1.0]
    recall = np.r_[recall[::-1], 0.0]
    average_precision = float(-np.sum(np.diff(recall) * precision[:-1]))
    return precision, recall, average_precision


def roc(labels: Any, scores: Any, what: str = "ROC") -> tuple[np.ndarray, np.ndarray, float]:
    """False and true positive rates (from (0, 0)) and the area under the ROC curve."""
    positives, scores = binary_labels(labels, scores, what)
    tps, fps, _ = _cumulative_counts(positives, scores)
    if tps[-1] == 0 or fps[-1] == 0:
        raise TrialogError(f"{what}: the labels need both classes (0 and 1); the curve is undefined")
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    trapezoid = getattr(np, "trapezoid", None) or getattr(np, "trapz")  # noqa: B009 (numpy < 2 has only trapz)
    return fpr, tpr, float(trapezoid(tpr, fpr))


def pr_curve(labels: Any, scores: Any, title: str | None = None, what: str = "precision-recall") -> Any:
    """The precision-recall curve of binary ``labels`` (0/1) against ``scores``, with average precision."""
    precision, recall, ap = precision_recall(labels, scores, what)
    fig, ax = _axes(title)
    ax.step(recall, precision, where="post", label=f"AP = {ap:.3f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower left")
    return fig


def roc_curve(labels: Any, scores: Any, title: str | None = None, what: str = "ROC") -> Any:
    """The ROC curve of binary ``labels`` (0/1) against ``scores``, with its AUC."""
    fpr, tpr, auc = roc(labels, scores, what)
    fig, ax = _axes(title)
    ax.plot(fpr, tpr, label=f"AUC = {auc:.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")
    return fig


def pca_2d(features: Any) -> np.ndarray:
    """Project (N, D) features on their two main principal axes: (N, 2) (zeros pad D < 2)."""
    data = _array(features, "embedding features", (2,)).astype(float)
    centered = data - data.mean(axis=0)
    if data.shape[1] > 2:
        _, _, vt = np.linalg.svd(centered, full_matrices=False)
        return centered @ vt[:2].T
    return np.pad(centered, ((0, 0), (0, 2 - data.shape[1])))


def embedding(features: Any, labels: Sequence[Any] | None = None, title: str | None = None) -> Any:
    """An (N, D) embedding projected to 2-D by PCA, coloured by ``labels`` when given."""
    fig, ax = _axes(title)
    _grouped_scatter(ax, pca_2d(features), labels)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    return fig


def _rgba(fig: Any) -> np.ndarray:
    """Draw ``fig`` and return its pixels as uint8 (H, W, 4), without touching a GUI canvas it may have."""
    _, FigureCanvasAgg = _agg()

    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        if type(canvas).__name__ != "FigureCanvasBase":
            # A pyplot / GUI figure: savefig renders through Agg temporarily and leaves its canvas alone.
            buffer = io.BytesIO()
            with LOCK:
                fig.savefig(buffer, format="rgba", dpi=fig.dpi)
            width = int(fig.bbox.width)
            raw = np.frombuffer(buffer.getvalue(), np.uint8)
            return raw.reshape(-1, width, 4)
        canvas = FigureCanvasAgg(fig)
    with LOCK:
        canvas.draw()
        return np.array(canvas.buffer_rgba())


def figure_to_array(fig: Any) -> np.ndarray:
    """Render a matplotlib figure to uint8 (H, W, 3) RGB."""
    return np.ascontiguousarray(_rgba(fig)[:, :, :3])


def figure_to_png(fig: Any, compress_level: int = 6, text: Mapping[str, str] | None = None) -> bytes:
    """Render a matplotlib figure to PNG bytes (RGB, or RGBA when the figure has transparency);
    ``text``: tEXt chunks, as :func:`trialog_figures.imaging.encode_png` writes them."""
    rgba = _rgba(fig)
    if rgba[:, :, 3].min() == 255:
        return encode_png(np.ascontiguousarray(rgba[:, :, :3]), compress_level, text)
    return encode_png(np.ascontiguousarray(rgba), compress_level, text)
