"""``trixi.logger.plt.numpyseabornimageplotlogger``: the plots as numpy images."""

from __future__ import annotations

from typing import Any

from trialog_figures import figure_to_array

from .numpyseabornplotlogger import NumpySeabornPlotLogger


class NumpySeabornImagePlotLogger(NumpySeabornPlotLogger):
    """trixi's ``NumpySeabornImagePlotLogger(**kwargs)``: each ``show_*`` returns the plot as a uint8
    (H, W, 3) array (``trialog.api.figure_to_array``); ``get_figure(name)`` still returns the figure."""

    def _done(self, name: Any, figure: Any) -> Any:
        super()._done(name, figure)
        return figure_to_array(figure)


__all__ = ["NumpySeabornImagePlotLogger"]
