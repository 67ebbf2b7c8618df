"""trialog-trixi's own names: trixi's API on trialog's experiments (the ``trixi`` package maps trixi's import
paths onto these).

- :class:`TrixiExperiment` / :class:`TrixiAPI` (a mixin): ``exp.elog``, ``exp.results`` (trixi's
  ResultLogDict view), ``exp_name``, ``get_result_without_epoch`` and trixi's file API (``save_dict``, ...)
- :class:`ExperimentLogger`, :class:`ResultDict`, :class:`ResultElement`, :class:`ResultLogDict`,
  :class:`LogDict`, :func:`experimentify`, :func:`with_args_as_config`
- with torch, in :mod:`trialog_trixi.torchelog` (importing it imports torch): ``TrixiTorchExperiment`` (the
  same names on ``trialog_torch.TorchExperiment``, whose ``elog`` is a ``TorchExperimentLogger``, trixi's
  PytorchExperimentLogger) and ``get_last_file``
"""

from __future__ import annotations

from .decorators import experimentify, with_args_as_config
from .elog import ExperimentLogger
from .experiment import TrixiAPI, TrixiExperiment
from .resultdict import LogDict, ResultDict, ResultElement, ResultLogDict

__all__ = [
    "ExperimentLogger",
    "LogDict",
    "ResultDict",
    "ResultElement",
    "ResultLogDict",
    "TrixiAPI",
    "TrixiExperiment",
    "experimentify",
    "with_args_as_config",
]
