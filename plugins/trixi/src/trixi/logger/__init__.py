"""``trixi.logger``: the experiment loggers and the combined logger."""

from trialog.api import CombinedLogger

from .experiment import ExperimentLogger, PytorchExperimentLogger

__all__ = ["CombinedLogger", "ExperimentLogger", "PytorchExperimentLogger"]
