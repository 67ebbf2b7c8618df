"""FigureHooks: the plot hooks drawn once for every figure-storing logger, handed to ``emit_figure``; and
the lazy import of pillow naming its extra."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
from trialog_figures import FigureHooks, encode_gif

from trialog.api import CombinedLogger
from trialog.errors import TrialogError


def test_a_missing_pillow_names_the_video_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(TrialogError, match=r"GIF needs pillow.*pip install 'trialog-figures\[video\]'"):
        encode_gif(np.zeros((2, 4, 4, 3), dtype=np.uint8))


class Gallery(FigureHooks):
    """Says only where a figure goes."""

    def __init__(self) -> None:
        self.figures: list[tuple[str, Any, Any, Any]] = []

    def emit_figure(self, name: str, counter: int | None, figure: Any, call: int | None) -> None:
        self.figures.append((name, counter, figure, call))


def test_figure_hooks_draw_each_plot_and_hand_it_over():
    pytest.importorskip("matplotlib")
    gallery = Gallery()
    rng = np.random.default_rng(0)
    gallery.show_barplot(np.arange(3), "bar", 5)
    gallery.show_lineplot(np.arange(4.0), None, "line")
    gallery.show_scatterplot(rng.random((6, 2)), "scatter")
    gallery.show_piechart(np.array([1, 2]), "pie")
    gallery.show_boxplot(rng.random((6, 2)), "box")
    gallery.show_histogram(rng.random(20), "hist")
    gallery.show_heatmap(rng.random((2, 2)), "heat")
    gallery.show_pr_curve(np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0]), "pr")
    gallery.show_roc_curve(np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0]), "roc")
    gallery.show_embedding(rng.random((8, 3)), "emb")
    names = [name for name, *_ in gallery.figures]
    assert names == ["bar", "line", "scatter", "pie", "box", "hist", "heat", "pr", "roc", "emb"]
    assert gallery.figures[0][1] == 5
    assert all(type(figure).__name__ == "Figure" for _, _, figure, _ in gallery.figures)
    assert gallery.figures[0][2].axes[0].get_title() == "bar"  # the title defaults to the name
    with pytest.raises(TrialogError, match=r"Gallery\.show_roc_curve\('roc'\): labels must be 0 or 1"):
        gallery.show_roc_curve(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.7, 0.1]), "roc")


def test_figure_hooks_get_the_call_number_through_the_dispatcher(tmp_path):
    pytest.importorskip("matplotlib")
    clog = CombinedLogger({"g": {"type": Gallery}}, run_dir=tmp_path)
    gallery = clog["g"]
    clog.show_barplot(np.arange(3), "bar")
    clog.show_barplot(np.arange(3), "bar")
    clog.show_barplot(np.arange(3), "bar", 7)
    clog.close()
    assert [(counter, call) for _, counter, _, call in gallery.figures] == [(None, 0), (None, 1), (7, None)]
