"""``trixi.experiment``: the Experiment and PytorchExperiment classes."""

from .experiment import Experiment
from .pytorchexperiment import PytorchExperiment, experimentify

__all__ = ["Experiment", "PytorchExperiment", "experimentify"]
