"""trialog: experiment infrastructure for PyTorch research (the successor of trixi).

Public names only. Heavy modules load on first use, so ``import trialog`` stays fast and imports
no numpy, torch, matplotlib or plugin.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from trialog._version import __version__

_LAZY = {
    "hookimpl": "hooks.markers",
    "hookspec": "hooks.markers",
    "CombinedLogger": "loggers.dispatch",
    "Config": "config.config",
    "GridSearch": "config.config",
    "Experiment": "experiment.experiment",
    "Run": "run.folder",
    "CheckpointManager": "checkpoint.manager",
    "TrialogError": "errors",
    "ConfigError": "errors",
    "PluginError": "errors",
    "TrialogWarning": "errors",
}

__all__ = [
    "CheckpointManager",
    "CombinedLogger",
    "Config",
    "ConfigError",
    "Experiment",
    "GridSearch",
    "PluginError",
    "Run",
    "TrialogError",
    "TrialogWarning",
    "__version__",
    "hookimpl",
    "hookspec",
]

if TYPE_CHECKING:  # pragma: no cover
    from trialog.checkpoint.manager import CheckpointManager
    from trialog.config.config import Config, GridSearch
    from trialog.errors import ConfigError, PluginError, TrialogError, TrialogWarning
    from trialog.experiment.experiment import Experiment
    from trialog.hooks.markers import hookimpl, hookspec
    from trialog.loggers.dispatch import CombinedLogger
    from trialog.run.folder import Run


# Names a plugin distribution provides through the ``trialog.exports`` entry-point group, and where they live.
_MOVED: dict[str, str] = {
    "Monitor": "trialog-xmen",
    "MonitorHook": "trialog-xmen",
    "param": "trialog-xmen",
    "runs_frame": "trialog-runs",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
    elif name.startswith("_") or _is_submodule(name):  # ``from . import x`` asks before importing x
        raise AttributeError(f"module 'trialog' has no attribute {name!r}")
    else:
        value = _exported(name)
    globals()[name] = value
    return value


def _is_submodule(name: str) -> bool:
    here = os.path.dirname(__file__)
    return os.path.exists(os.path.join(here, name + ".py")) or os.path.isdir(os.path.join(here, name))


def _exported(name: str) -> Any:
    """``trialog.<name>`` from the distribution that registers it in ``trialog.exports``."""
    from trialog.errors import UnknownPluginError
    from trialog.hooks import plugins

    try:
        return plugins.load("trialog.exports", name)
    except UnknownPluginError:
        if name not in _MOVED:
            raise AttributeError(f"module 'trialog' has no attribute {name!r}") from None
    raise AttributeError(
        f"trialog.{name} comes with {_MOVED[name]}, which is not installed: pip install {_MOVED[name]}"
    )


def __dir__() -> list[str]:
    return sorted(__all__)
