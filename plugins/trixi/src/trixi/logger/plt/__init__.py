"""``trixi.logger.plt``: figure-making loggers on :mod:`trialog_figures.render` (matplotlib, no seaborn needed)."""

from .numpyseabornimageplotlogger import NumpySeabornImagePlotLogger
from .numpyseabornplotlogger import NumpySeabornPlotLogger

__all__ = ["NumpySeabornImagePlotLogger", "NumpySeabornPlotLogger"]
