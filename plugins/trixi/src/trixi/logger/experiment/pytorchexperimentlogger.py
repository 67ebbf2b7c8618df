"""``trixi.logger.experiment.pytorchexperimentlogger``: trixi's PytorchExperimentLogger."""

from __future__ import annotations

import os
from typing import Any

from trialog_torch.elog import TorchExperimentLogger
from trialog_torch.experiment import TorchExperiment

from .experimentlogger import _DEFAULT_FORMAT, _open_run


class PytorchExperimentLogger(TorchExperimentLogger):
    """trixi's ``PytorchExperimentLogger(exp_name, base_dir, ...)``: a run folder plus model and checkpoint files."""

    def __init__(
        self,
        exp_name: str,
        base_dir: str | os.PathLike[str],
        folder_format: str = _DEFAULT_FORMAT,
        resume: bool = False,
        text_logger_args: Any = None,
        plot_logger_args: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(_open_run(TorchExperiment, exp_name, base_dir, folder_format, resume, kwargs))

    def close(self) -> None:
        """Mark the run finished and release it."""
        self.experiment.close()


__all__ = ["PytorchExperimentLogger"]
