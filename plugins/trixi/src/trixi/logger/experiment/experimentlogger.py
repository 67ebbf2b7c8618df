"""``trixi.logger.experiment.experimentlogger``: trixi's ExperimentLogger on a trialog run folder."""

from __future__ import annotations

import os
from typing import Any

from trialog_trixi.elog import ExperimentLogger as _ExperimentLogger

from trialog.api import Experiment
from trialog.errors import ConfigError

_DEFAULT_FORMAT = "%Y%m%d-%H%M%S_{experiment_name}"


def _open_run(
    cls: type,
    exp_name: str,
    base_dir: str | os.PathLike[str],
    folder_format: str,
    resume: bool,
    kwargs: dict[str, Any],
) -> Any:
    unknown = sorted(set(kwargs) - {"text_logger_args", "plot_logger_args"})
    if unknown:
        raise ConfigError(f"ExperimentLogger: unknown keyword arguments {unknown}")
    options: dict[str, Any] = {
        "name": exp_name,
        "base_dir": base_dir,
        "folder_format": folder_format,
        "loggers": {},
    }
    if resume:
        options["resume"] = "last"
    return cls(**options)


class ExperimentLogger(_ExperimentLogger):
    """trixi's ``ExperimentLogger(exp_name, base_dir, folder_format, resume)``: makes a run folder in
    ``base_dir`` (a :class:`trialog.Experiment` without loggers) and logs files into it.

    ``resume=True`` continues the newest run in ``base_dir`` (trixi resolved the folder format instead).
    """

    _experiment_class: type = Experiment

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
        exp = _open_run(self._experiment_class, exp_name, base_dir, folder_format, resume, kwargs)
        super().__init__(exp)

    def close(self) -> None:
        """Mark the run finished and release it."""
        self.experiment.close()


__all__ = ["ExperimentLogger"]
