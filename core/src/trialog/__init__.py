"""trialog: experiment infrastructure for PyTorch research (the successor of trixi).

Public names only. Heavy modules load on first use, so ``import trialog`` stays fast and imports
no numpy, torch, matplotlib or plugin.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._markers import hookimpl, hookspec
from ._version import __version__

_LAZY = {
    "CombinedLogger": "dispatch",
    "Config": "config",
    "GridSearch": "config",
    "Experiment": "experiment",
    "Run": "run",
    "Monitor": "monitor",
    "MonitorHook": "monitor",
    "param": "params",
    "CheckpointManager": "checkpoint",
    "TrialogError": "errors",
    "ConfigError": "errors",
    "PluginError": "errors",
    "TrialogWarning": "errors",
    "runs_frame": "frame",
}

__all__ = [
    "CheckpointManager",
    "CombinedLogger",
    "Config",
    "ConfigError",
    "Experiment",
    "GridSearch",
    "Monitor",
    "MonitorHook",
    "PluginError",
    "Run",
    "TrialogError",
    "TrialogWarning",
    "__version__",
    "hookimpl",
    "hookspec",
    "param",
    "runs_frame",
]

if TYPE_CHECKING:  # pragma: no cover
    from .checkpoint import CheckpointManager
    from .config import Config, GridSearch
    from .dispatch import CombinedLogger
    from .errors import ConfigError, PluginError, TrialogError, TrialogWarning
    from .experiment import Experiment
    from .frame import runs_frame
    from .monitor import Monitor, MonitorHook
    from .params import param
    from .run import Run


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trialog' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
