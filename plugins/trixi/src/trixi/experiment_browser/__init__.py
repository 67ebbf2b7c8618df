"""``trixi.experiment_browser``: reading run folders (the browser web app itself is ``trialog runs``)."""

from .experimentreader import CombiExperimentReader, ExperimentReader

__all__ = ["CombiExperimentReader", "ExperimentReader"]
