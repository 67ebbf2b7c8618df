"""``trixi.logger.visdom``: trixi's Visdom loggers on trialog-visdom (``pip install trialog-visdom``)."""

from .numpyvisdomlogger import NumpyVisdomLogger, start_visdom
from .pytorchvisdomlogger import PytorchVisdomLogger

__all__ = ["NumpyVisdomLogger", "PytorchVisdomLogger", "start_visdom"]
