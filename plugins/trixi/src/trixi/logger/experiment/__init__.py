"""``trixi.logger.experiment``: ExperimentLogger and PytorchExperimentLogger."""

from .experimentlogger import ExperimentLogger
from .pytorchexperimentlogger import PytorchExperimentLogger

__all__ = ["ExperimentLogger", "PytorchExperimentLogger"]
