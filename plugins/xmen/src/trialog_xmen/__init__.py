"""trialog-xmen: xmen's ideas on trialog — the ``"{regex}@{N}{trigger}"`` Monitor and declared parameters.

Installed, it provides ``trialog.Monitor``, ``trialog.MonitorHook`` and ``trialog.param`` (the
``trialog.exports`` entry points), and its ``trialog.plugins`` entry (:mod:`trialog_xmen.params`) fills and
checks an Experiment's config from the parameters its class declares. See the README and ``docs/xmen.md``.
"""

from __future__ import annotations

from .monitor import Monitor, MonitorHook, Spec
from .params import Param, declared_params, param, params_help

__all__ = ["Monitor", "MonitorHook", "Param", "Spec", "declared_params", "param", "params_help"]
