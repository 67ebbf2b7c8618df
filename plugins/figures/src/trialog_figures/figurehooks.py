"""The plot hooks drawn with :mod:`trialog_figures.render`, written once for every logger that stores figures.

A logger that shows plots as pictures (the file logger's PNGs, TensorBoard's image summaries) inherits
:class:`FigureHooks` and says only where a drawn figure goes, in :meth:`FigureHooks.emit_figure`::

    from trialog_figures import FigureHooks, figure_to_png

    class PictureLogger(FigureHooks):
        def emit_figure(self, name, counter, figure, call):
            Path(f"{name}_{counter if counter is not None else call}.png").write_bytes(figure_to_png(figure))

Each hook draws the figure the same way for every logger (``title`` defaults to ``name``; a ROC or PR
curve's labels are checked, and an error names the logger class and the hook). A logger with a native
form of one of these plots (TensorBoard's histograms and PR curves) overrides that hook. ``call`` is the
dispatcher's call number (``None`` on a direct call or when a counter was given), for a default counter.
matplotlib is imported only when a figure is drawn (``trialog-figures[plots]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trialog.api import hookimpl

__all__ = ["FigureHooks"]


class FigureHooks:
    """Mixin: ``show_barplot`` ... ``show_embedding`` draw a figure and hand it to :meth:`emit_figure`."""

    def emit_figure(self, name: str, counter: int | None, figure: Any, call: int | None) -> None:
        """Store or send ``figure`` (a matplotlib Figure) of the plot ``name``; a subclass says where."""
        raise NotImplementedError(
            f"{type(self).__name__} must define emit_figure(name, counter, figure, call)"
        )

    def _what(self, hook: str, name: str) -> str:
        return f"{type(self).__name__}.{hook}({name!r})"

    @hookimpl
    def show_barplot(
        self, array: Any, name: str, counter: int | None, labels: Sequence[str] | None,
        title: str | None, call: int | None = None,
    ) -> None:  # fmt: skip
        """A bar plot."""
        from . import render

        self.emit_figure(name, counter, render.barplot(array, labels, title or name), call)

    @hookimpl
    def show_lineplot(
        self, y_vals: Any, x_vals: Any | None, name: str, counter: int | None,
        labels: Sequence[str] | None, title: str | None, call: int | None = None,
    ) -> None:  # fmt: skip
        """A line plot (one line per column of ``y_vals``)."""
        from . import render

        self.emit_figure(name, counter, render.lineplot(y_vals, x_vals, labels, title or name), call)

    @hookimpl
    def show_scatterplot(
        self, array: Any, name: str, counter: int | None, labels: Sequence[str] | None,
        title: str | None, call: int | None = None,
    ) -> None:  # fmt: skip
        """A scatter plot of (N, 2) points."""
        from . import render

        self.emit_figure(name, counter, render.scatterplot(array, labels, title or name), call)

    @hookimpl
    def show_piechart(
        self, array: Any, name: str, counter: int | None, labels: Sequence[str] | None,
        title: str | None, call: int | None = None,
    ) -> None:  # fmt: skip
        """A pie chart."""
        from . import render

        self.emit_figure(name, counter, render.piechart(array, labels, title or name), call)

    @hookimpl
    def show_boxplot(
        self, array: Any, name: str, counter: int | None, labels: Sequence[str] | None,
        title: str | None, call: int | None = None,
    ) -> None:  # fmt: skip
        """A box plot (one box per column)."""
        from . import render

        self.emit_figure(name, counter, render.boxplot(array, labels, title or name), call)

    @hookimpl
    def show_histogram(
        self,
        array: Any,
        name: str,
        counter: int | None,
        bins: int,
        title: str | None,
        call: int | None = None,
    ) -> None:
        """A histogram of the finite values of ``array``."""
        from . import render

        self.emit_figure(name, counter, render.histogram(array, bins, title or name), call)

    @hookimpl
    def show_heatmap(
        self, array: Any, name: str, counter: int | None, title: str | None,
        labels: Sequence[str] | None, xlabel: str | None, ylabel: str | None, call: int | None = None,
    ) -> None:  # fmt: skip
        """A heat map; ``labels`` (the rows' and columns' names), ``xlabel``, ``ylabel`` as
        :func:`trialog_figures.render.heatmap` (a confusion matrix passes its classes and "predicted class" /
        "true class")."""
        from . import render

        figure = render.heatmap(array, title or name, xlabel=xlabel, ylabel=ylabel, labels=labels)
        self.emit_figure(name, counter, figure, call)

    @hookimpl
    def show_pr_curve(
        self, tensor: Any, labels: Any, name: str, counter: int | None, title: str | None,
        call: int | None = None,
    ) -> None:  # fmt: skip
        """A precision-recall curve of the scores ``tensor`` against 0/1 ``labels``."""
        from . import render

        what = self._what("show_pr_curve", name)
        self.emit_figure(name, counter, render.pr_curve(labels, tensor, title or name, what), call)

    @hookimpl
    def show_roc_curve(
        self, tensor: Any, labels: Any, name: str, counter: int | None, title: str | None,
        call: int | None = None,
    ) -> None:  # fmt: skip
        """A ROC curve (with its AUC) of the scores ``tensor`` against 0/1 ``labels``."""
        from . import render

        what = self._what("show_roc_curve", name)
        self.emit_figure(name, counter, render.roc_curve(labels, tensor, title or name, what), call)

    @hookimpl
    def show_embedding(
        self, features: Any, name: str, counter: int | None, labels: Sequence[Any] | None,
        title: str | None, call: int | None = None,
    ) -> None:  # fmt: skip
        """An embedding of (N, D) features, PCA to 2-D, coloured by ``labels``."""
        from . import render

        self.emit_figure(name, counter, render.embedding(features, labels, title or name), call)
