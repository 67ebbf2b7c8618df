"""``trixi.experiment_browser``: reading run folders; the web browser (``.browser``) is trialog-browser's."""

from .experimentreader import CombiExperimentReader, ExperimentReader

__all__ = ["CombiExperimentReader", "ExperimentReader"]
