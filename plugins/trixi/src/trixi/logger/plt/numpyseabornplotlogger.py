"""``trixi.logger.plt.numpyseabornplotlogger``: trixi's figure-making logger on :mod:`trialog_figures.render`."""

from __future__ import annotations

from typing import Any

from trialog_figures import render, to_hwc_uint8

from trialog.api import to_numpy, to_scalar

from .._dispatched import refuse
from ..abstractlogger import AbstractLogger

#: Extra keywords the plots take (the others trixi passed on to seaborn are refused by name).
_PLOT_OPTIONS = ("labels", "title")


class NumpySeabornPlotLogger(AbstractLogger):
    """trixi's ``NumpySeabornPlotLogger(**kwargs)``: each ``show_*`` returns a matplotlib Figure.

    The figures come from :mod:`trialog_figures.render` (matplotlib without pyplot; seaborn is not needed), so
    ``show=True`` displays nothing: show or save the returned figure yourself. ``get_figure(name)``
    returns the last figure made under ``name``.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        refuse("NumpySeabornPlotLogger", kwargs)
        self.figures: dict[Any, Any] = {}
        self._curves: dict[Any, dict[Any, tuple[list[Any], list[float]]]] = {}

    def _done(self, name: Any, figure: Any) -> Any:
        self.figures[name] = figure
        return figure

    def get_figure(self, name: Any) -> Any:
        """The figure made last under ``name``; a new, empty one when there is none yet."""
        figure = self.figures.get(name)
        if figure is None:
            figure = self.figures[name] = render.new_figure(None if name is None else str(name))
        return figure

    def show_value(
        self, value: Any, name: Any, counter: Any = None, tag: Any = None, show: bool = True, **kwargs: Any
    ) -> Any:
        """Append ``value`` to the curve ``name`` (in the plot ``tag``, else ``name``) and draw the plot."""
        title = refuse("show_value", kwargs)
        plot = tag if tag is not None else name
        counters, values = self._curves.setdefault(plot, {}).setdefault(name, ([], []))
        counters.append(len(counters) if counter is None else to_scalar(to_numpy(counter)))
        values.append(float(to_scalar(to_numpy(value))))
        return self._done(
            plot, render.value_curves(self._curves[plot], str(plot if title is None else title))
        )

    def show_barplot(self, array: Any, name: Any = None, show: bool = True, **kwargs: Any) -> Any:
        """A bar plot of a 1-D array (2-D: one group of bars per row)."""
        refuse("show_barplot", kwargs, _PLOT_OPTIONS)
        figure = render.barplot(to_numpy(array), kwargs.get("labels"), kwargs.get("title", name))
        return self._done(name, figure)

    def show_boxplot(self, array: Any, name: Any = None, show: bool = True, **kwargs: Any) -> Any:
        """A box plot (2-D: one box per column)."""
        refuse("show_boxplot", kwargs, _PLOT_OPTIONS)
        figure = render.boxplot(to_numpy(array), kwargs.get("labels"), kwargs.get("title", name))
        return self._done(name, figure)

    def show_image(self, image: Any, name: Any = None, show: bool = True, **kwargs: Any) -> Any:
        """An image ((H, W), (C, H, W) or (H, W, C)) in a figure."""
        refuse("show_image", kwargs, ("title",))
        figure = render.new_figure()
        ax = figure.add_subplot()
        ax.imshow(to_hwc_uint8(to_numpy(image)))
        ax.set_axis_off()
        if kwargs.get("title", name) is not None:
            ax.set_title(str(kwargs.get("title", name)))
        return self._done(name, figure)

    def show_lineplot(
        self, y_vals: Any, x_vals: Any = None, name: Any = None, show: bool = True, **kwargs: Any
    ) -> Any:
        """Lines of ``y_vals`` (2-D: one per row) over ``x_vals`` (default 0..N-1)."""
        refuse("show_lineplot", kwargs, _PLOT_OPTIONS)
        x = None if x_vals is None else to_numpy(x_vals)
        figure = render.lineplot(to_numpy(y_vals), x, kwargs.get("labels"), kwargs.get("title", name))
        return self._done(name, figure)

    def show_piechart(self, array: Any, name: Any = None, show: bool = True, **kwargs: Any) -> Any:
        """A pie chart of non-negative parts."""
        refuse("show_piechart", kwargs, _PLOT_OPTIONS)
        figure = render.piechart(to_numpy(array), kwargs.get("labels"), kwargs.get("title", name))
        return self._done(name, figure)

    def show_scatterplot(self, array: Any, name: Any = None, show: bool = True, **kwargs: Any) -> Any:
        """A scatter plot of (N, 2) points (``labels``: one class per point)."""
        refuse("show_scatterplot", kwargs, _PLOT_OPTIONS)
        figure = render.scatterplot(to_numpy(array), kwargs.get("labels"), kwargs.get("title", name))
        return self._done(name, figure)


__all__ = ["NumpySeabornPlotLogger"]
