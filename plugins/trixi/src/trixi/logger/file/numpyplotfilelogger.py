"""``trixi.logger.file.numpyplotfilelogger``: trixi's plot file logger on :class:`trialog_file.FileLogger`."""

from __future__ import annotations

import os
from typing import Any

from trialog_file import FileLogger

from trialog.errors import ConfigError

from .._dispatched import DispatchedLogger, refuse, untitled
from ..abstractlogger import threaded
from ..plt.numpyseabornplotlogger import NumpySeabornPlotLogger

_PLOT_OPTIONS = ("labels", "title", "counter")


def _png(method: str, file_format: str) -> None:
    if file_format != ".png":
        raise ConfigError(
            f"{method}: file_format {file_format!r} is not provided by trialog-trixi; the file logger writes '.png'"
        )


class NumpyPlotFileLogger(DispatchedLogger, NumpySeabornPlotLogger):
    """trixi's ``NumpyPlotFileLogger(img_dir, plot_dir, switch_backend=True)``: images as
    ``img_dir/<name>.png``, plots and value curves as ``plot_dir/<name>.png`` (the latest per name).

    A :class:`trialog_file.FileLogger` with ``overwrite=True`` writes them; further keyword arguments are
    its options (e.g. ``plot_every_s``: value curves are redrawn at most that often and at ``flush()`` /
    ``close()`` / exit, not on every value). ``switch_backend`` has nothing to do: pyplot is never used.
    """

    def __init__(
        self,
        img_dir: str | os.PathLike[str],
        plot_dir: str | os.PathLike[str],
        switch_backend: bool = True,
        **kwargs: Any,
    ) -> None:
        # trixi's layout: a plot per tag, a line per name
        options: dict[str, Any] = {"overwrite": True, "csv": "off", "group_by": "tag", **kwargs}
        logger = FileLogger(folder=plot_dir, img_dir=img_dir, plot_dir=plot_dir, **options)
        super().__init__(logger, "file")
        self.img_dir, self.plot_dir = str(img_dir), str(plot_dir)

    def show_image(self, image: Any, name: str, file_format: str = ".png", **kwargs: Any) -> None:  # type: ignore[override]
        """Save an image (numpy array or tensor) as ``img_dir/<name>.png``."""
        _png("show_image", file_format)
        refuse("show_image", kwargs, ("title", "counter"))
        self.clog.show_image(image=image, name=name, **kwargs)

    def show_value(  # type: ignore[override]
        self,
        value: Any,
        name: str,
        counter: Any = None,
        tag: Any = None,
        file_format: str = ".png",
        **kwargs: Any,
    ) -> None:
        """Add a point to the curve ``name``, drawn in ``plot_dir/<tag or name>.png``."""
        _png("show_value", file_format)
        refuse("show_value", kwargs)
        self.clog.show_value(value=value, name=name, counter=counter, tag=tag, **kwargs)

    def show_barplot(self, array: Any, name: str, file_format: str = ".png", **kwargs: Any) -> None:  # type: ignore[override]
        """Save a bar plot as ``plot_dir/<name>.png``."""
        _png("show_barplot", file_format)
        refuse("show_barplot", kwargs, _PLOT_OPTIONS)
        self.clog.show_barplot(array=array, name=name, **kwargs)

    def show_boxplot(self, array: Any, name: str, file_format: str = ".png", **kwargs: Any) -> None:  # type: ignore[override]
        """Save a box plot as ``plot_dir/<name>.png``."""
        _png("show_boxplot", file_format)
        refuse("show_boxplot", kwargs, _PLOT_OPTIONS)
        self.clog.show_boxplot(array=array, name=name, **kwargs)

    def show_lineplot(  # type: ignore[override]
        self, y_vals: Any, x_vals: Any, name: str, file_format: str = ".png", **kwargs: Any
    ) -> None:
        """Save a line plot as ``plot_dir/<name>.png``."""
        _png("show_lineplot", file_format)
        refuse("show_lineplot", kwargs, _PLOT_OPTIONS)
        self.clog.show_lineplot(y_vals=y_vals, x_vals=x_vals, name=name, **kwargs)

    def show_piechart(self, array: Any, name: str, file_format: str = ".png", **kwargs: Any) -> None:  # type: ignore[override]
        """Save a pie chart as ``plot_dir/<name>.png``."""
        _png("show_piechart", file_format)
        refuse("show_piechart", kwargs, _PLOT_OPTIONS)
        self.clog.show_piechart(array=array, name=name, **kwargs)

    def show_scatterplot(self, array: Any, name: str, file_format: str = ".png", **kwargs: Any) -> None:  # type: ignore[override]
        """Save a scatter plot as ``plot_dir/<name>.png``."""
        _png("show_scatterplot", file_format)
        refuse("show_scatterplot", kwargs, _PLOT_OPTIONS)
        self.clog.show_scatterplot(array=array, name=name, **kwargs)

    def show_matplot_plt(self, figure: Any, name: str, file_format: str = ".png", **kwargs: Any) -> None:
        """Save a matplotlib figure (rendered at the call) as ``img_dir/<name>.png``."""
        _png("show_matplot_plt", file_format)
        untitled("show_matplot_plt", kwargs)
        refuse("show_matplot_plt", kwargs, ("counter",))
        self.clog.show_figure(figure=figure, name=name, **kwargs)


__all__ = ["NumpyPlotFileLogger", "threaded"]
