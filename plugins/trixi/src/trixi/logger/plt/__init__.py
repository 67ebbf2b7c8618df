"""``trixi.logger.plt``: figure-making loggers on :mod:`trialog.render` (matplotlib, no seaborn needed)."""

from .numpyseabornimageplotlogger import NumpySeabornImagePlotLogger
from .numpyseabornplotlogger import NumpySeabornPlotLogger

__all__ = ["NumpySeabornImagePlotLogger", "NumpySeabornPlotLogger"]
