"""trialog_figures.render: each plot function draws off-screen, metrics match scikit-learn, no pyplot."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from trialog_figures import decode_png, render

from trialog.errors import TrialogError

RNG = np.random.default_rng(0)
LABELS = RNG.integers(0, 2, 300)
SCORES = np.round(np.clip(LABELS * 0.3 + RNG.random(300) * 0.7, 0, 1), 2)  # ties on purpose

CASES = {
    "value_curves": lambda: render.value_curves(
        {"train": ([1, 2, 3], [3.0, 2.0, 1.0]), "val": ([2], [2.5])}, "loss"
    ),
    "barplot": lambda: render.barplot(np.arange(4), labels=list("abcd"), title="bars"),
    "barplot_2d": lambda: render.barplot(np.ones((3, 2)), labels=["x", "y", "z"]),
    "lineplot": lambda: render.lineplot(RNG.random((2, 10)), np.arange(10), labels=["a", "b"], title="t"),
    "scatterplot": lambda: render.scatterplot(RNG.random((20, 2)), labels=np.arange(20) % 3),
    "piechart": lambda: render.piechart([1, 2, 3], labels=["a", "b", "c"]),
    "boxplot": lambda: render.boxplot(RNG.random((20, 3)), labels=["a", "b", "c"]),
    "histogram": lambda: render.histogram(RNG.normal(size=500), bins=20),
    "heatmap": lambda: render.heatmap(RNG.random((4, 4))),
    "confusion_matrix": lambda: render.confusion_matrix(
        RNG.integers(0, 9, (10, 10)), [f"c{i}" for i in range(10)]
    ),
    "pr_curve": lambda: render.pr_curve(LABELS, SCORES, title="pr"),
    "roc_curve": lambda: render.roc_curve(LABELS, SCORES),
    "embedding": lambda: render.embedding(RNG.random((40, 8)), labels=np.arange(40) % 2),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_plot_renders_to_png_and_array(case):
    fig = CASES[case]()
    png = render.figure_to_png(fig)
    image = decode_png(png)
    assert image.shape == (480, 640, 3)
    array = render.figure_to_array(fig)
    assert array.shape == (480, 640, 3) and array.dtype == np.uint8
    # Something was drawn: not a blank white canvas.
    assert (array < 200).any()


def test_value_curves_has_one_line_per_series_with_all_points():
    fig = render.value_curves({"a": ([1, 2, 3], [1.0, 2.0, 3.0]), "b": ([1, 5], [0.0, 1.0])}, "loss")
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert lines[0].get_xdata().tolist() == [1, 2, 3] and lines[1].get_ydata().tolist() == [0.0, 1.0]
    assert fig.axes[0].get_title() == "loss"


def test_value_curves_label_the_axes_and_name_every_line():
    fig = render.value_curves(
        {"train": ([0, 1], [1.0, 0.5])}, "loss", ylabel="loss", xlabel="epoch", title="loss per epoch"
    )
    (ax,) = fig.axes
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("loss per epoch", "epoch", "loss")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train"]  # one line still says which
    render.figure_to_array(fig)
    assert all(float(t).is_integer() for t in ax.get_xticks())  # epochs: no 0.5


def test_a_confusion_matrix_names_its_axes_and_every_class():
    names = [f"class {i}" for i in range(12)]
    fig = render.confusion_matrix(np.eye(12, dtype=int) * 5, names, title="val/confusion matrix")
    ax = fig.axes[0]
    render.figure_to_array(fig)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert [t.get_text() for t in ax.get_xticklabels()] == names  # every class, not every second
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    unnamed = render.heatmap(np.ones((15, 15)))
    assert [t.get_text() for t in unnamed.axes[0].get_xticklabels()] == [str(i) for i in range(15)]
    with pytest.raises(TrialogError, match="got 2 labels for 12 items"):
        render.confusion_matrix(np.eye(12), ["a", "b"])
    with pytest.raises(TrialogError, match="square"):
        render.heatmap(np.ones((2, 3)), labels=["a", "b"])


def test_precision_recall_and_roc_match_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    precision, recall, ap = render.precision_recall(LABELS, SCORES)
    ref_p, ref_r, _ = metrics.precision_recall_curve(LABELS, SCORES)
    assert np.allclose(precision, ref_p) and np.allclose(recall, ref_r)
    assert ap == pytest.approx(metrics.average_precision_score(LABELS, SCORES))
    fpr, tpr, auc = render.roc(LABELS, SCORES)
    ref_fpr, ref_tpr, _ = metrics.roc_curve(LABELS, SCORES, drop_intermediate=False)
    assert np.allclose(fpr, ref_fpr) and np.allclose(tpr, ref_tpr)
    assert auc == pytest.approx(metrics.roc_auc_score(LABELS, SCORES))


def test_pca_2d_finds_the_main_axis():
    t = np.linspace(-1, 1, 50)
    features = np.stack([t, 2 * t, np.zeros_like(t), 0.01 * np.sin(40 * t)], axis=1) + 3
    projected = render.pca_2d(features)
    assert projected.shape == (50, 2)
    assert abs(np.corrcoef(projected[:, 0], t)[0, 1]) == pytest.approx(1.0, abs=1e-6)
    assert np.abs(projected[:, 1]).max() < 0.02
    assert render.pca_2d(np.arange(5.0)[:, None]).shape == (5, 2)


def test_bad_inputs_raise_named_errors():
    with pytest.raises(TrialogError, match=r"scatterplot array must be \(N, 2\)"):
        render.scatterplot(np.zeros((4, 3)))
    with pytest.raises(TrialogError, match="labels"):
        render.barplot([1, 2], labels=["only one"])
    with pytest.raises(TrialogError, match="non-negative"):
        render.piechart([1, -1])
    with pytest.raises(TrialogError, match="0 or 1"):
        render.roc([0, 2], [0.1, 0.2])
    with pytest.raises(TrialogError, match="both classes"):
        render.roc([1, 1], [0.1, 0.2])
    with pytest.raises(TrialogError, match="x_vals"):
        render.lineplot(np.zeros((2, 5)), np.arange(4))
    with pytest.raises(TrialogError, match="empty"):
        render.heatmap(np.zeros((0, 3)))


def test_pyplot_figure_is_rendered_without_replacing_its_canvas():
    code = (
        "import matplotlib; matplotlib.use('agg'); import matplotlib.pyplot as plt;"
        "from matplotlib.backends.backend_template import FigureCanvasTemplate\n"
        "from trialog_figures.render import figure_to_array\n"
        "fig = plt.figure(figsize=(2, 1), dpi=50); fig.add_subplot().plot([0, 1])\n"
        "canvas = FigureCanvasTemplate(fig)\n"
        "a = figure_to_array(fig); assert a.shape == (50, 100, 3), a.shape\n"
        "assert fig.canvas is canvas\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_render_does_not_import_matplotlib():
    code = (
        "import sys, trialog, trialog.api, trialog_figures, trialog_figures.render; "
        "assert 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(TrialogError, match=r"matplotlib.*pip install 'trialog-figures\[plots\]'"):
        render.new_figure()
    with pytest.raises(TrialogError, match=r"pip install 'trialog-figures\[plots\]'"):
        render.figure_to_png(object())
