"""``trixi.logger.tensorboard``: trixi's TensorBoard loggers on trialog-tensorboard (``pip install trialog-tensorboard``)."""

from .pytorchtensorboardlogger import PytorchTensorboardLogger
from .tensorboardlogger import TensorboardLogger

__all__ = ["PytorchTensorboardLogger", "TensorboardLogger"]
