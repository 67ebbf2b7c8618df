"""``trixi.logger``: trixi's loggers on trialog's (see docs/trixi.md for each name).

The file, plot and experiment loggers come with trialog-trixi; the Visdom, TensorBoard, Slack and
Telegram ones are imported on first use and need trialog-visdom, trialog-tensorboard, trialog-slack or
trialog-telegram (an ImportError names the one to install).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trialog.api import CombinedLogger

from .abstractlogger import AbstractLogger
from .experiment import ExperimentLogger, PytorchExperimentLogger
from .file import NumpyPlotFileLogger, PytorchPlotFileLogger, TextFileLogger
from .plt import NumpySeabornImagePlotLogger, NumpySeabornPlotLogger

if TYPE_CHECKING:  # pragma: no cover
    from .message import SlackMessageLogger, TelegramMessageLogger
    from .tensorboard import PytorchTensorboardLogger, TensorboardLogger
    from .visdom import NumpyVisdomLogger, PytorchVisdomLogger

#: Names whose backend is an optional distribution: imported on first use.
_LAZY = {
    "NumpyVisdomLogger": "visdom",
    "PytorchVisdomLogger": "visdom",
    "TensorboardLogger": "tensorboard",
    "PytorchTensorboardLogger": "tensorboard",
    "SlackMessageLogger": "message",
    "TelegramMessageLogger": "message",
}

__all__ = [
    "AbstractLogger",
    "CombinedLogger",
    "ExperimentLogger",
    "NumpyPlotFileLogger",
    "NumpySeabornImagePlotLogger",
    "NumpySeabornPlotLogger",
    "NumpyVisdomLogger",
    "PytorchExperimentLogger",
    "PytorchPlotFileLogger",
    "PytorchTensorboardLogger",
    "PytorchVisdomLogger",
    "SlackMessageLogger",
    "TelegramMessageLogger",
    "TensorboardLogger",
    "TextFileLogger",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trixi.logger' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
