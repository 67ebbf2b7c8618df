"""``trixi.logger.file``: trixi's file loggers on :class:`trialog_file.FileLogger`."""

from .numpyplotfilelogger import NumpyPlotFileLogger
from .pytorchplotfilelogger import PytorchPlotFileLogger
from .textfilelogger import TextFileLogger

__all__ = ["NumpyPlotFileLogger", "PytorchPlotFileLogger", "TextFileLogger"]
