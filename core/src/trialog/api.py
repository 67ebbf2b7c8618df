"""``trialog.api``: everything a plugin may use from the core, in one documented module.

Plugins (the built-in ones and third-party ones alike) import from here and from nowhere else in
``trialog``: the names below are the core's public, tested surface; anything else in the core may
change between releases. Heavy parts load on first use, so ``import trialog.api`` stays as cheap as
``import trialog`` (no numpy, no matplotlib)::

    from trialog.api import hookimpl, LoggerConfigError, to_hwc_uint8

    class MyLogger:
        @hookimpl
        def show_image(self, image, name, title, counter, tag):
            write(to_hwc_uint8(image))

Groups of names:

- markers: ``hookimpl``, ``hookspec``
- errors: ``TrialogError``, ``ConfigError``, ``LoggerConfigError``, ``PluginError``,
  ``CheckpointError``, ``RunFolderError``, ``TrialogWarning``
- experiments and runs: ``Experiment``, ``Config``, ``GridSearch``, ``Run``, ``CombinedLogger``
- checkpoints: ``CheckpointManager``, ``CheckpointEntry``, ``WritebackFile``
- values and images: ``to_numpy``, ``to_scalar``, ``to_hwc_uint8``, ``to_float_chw``, ``make_grid``,
  ``encode_png``, ``decode_png``
- plots (need ``trialog[plots]``, i.e. matplotlib): ``render`` (the module: one function per plot
  hook returning a matplotlib Figure, plus ``figure_to_array``/``figure_to_png``, ``roc``,
  ``precision_recall``, ``pca_2d``; the last five are also names here)
- sweeps (for sweeper plugins): ``Sweep``, ``SweepSpec``, ``open_sweep``, ``read_sweep``, ``run_trial``
- plugin discovery: ``plugins`` (the module: ``names``, ``find``, ``load``, ``installed``)
- testing helpers: ``LoopbackAPI``, ``json_reply``, ``trialog_warnings``
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._markers import hookimpl, hookspec

#: public name -> "module" (the attribute of the same name) or "module:" (the module itself)
_LAZY: dict[str, str] = {
    # errors
    "TrialogError": "errors",
    "ConfigError": "errors",
    "LoggerConfigError": "errors",
    "PluginError": "errors",
    "CheckpointError": "errors",
    "RunFolderError": "errors",
    "TrialogWarning": "errors",
    # experiments and runs
    "Experiment": "experiment",
    "Config": "config",
    "GridSearch": "config",
    "Run": "run",
    "CombinedLogger": "dispatch",
    # sweeps
    "Sweep": "sweep",
    "SweepSpec": "sweep",
    "open_sweep": "sweep",
    "read_sweep": "sweep",
    "run_trial": "sweep",
    # checkpoints
    "CheckpointManager": "checkpoint",
    "CheckpointEntry": "checkpoint",
    "WritebackFile": "checkpoint",
    # values and images
    "to_numpy": "dispatch",
    "to_scalar": "dispatch",
    "to_hwc_uint8": "imaging",
    "to_float_chw": "imaging",
    "make_grid": "imaging",
    "encode_png": "imaging",
    "decode_png": "imaging",
    # plots (trialog[plots])
    "figure_to_array": "render",
    "figure_to_png": "render",
    "roc": "render",
    "precision_recall": "render",
    "pca_2d": "render",
    # modules
    "render": "render:",
    "plugins": "plugins:",
    # testing helpers
    "LoopbackAPI": "testing",
    "json_reply": "testing",
    "trialog_warnings": "testing",
}

__all__ = sorted([*_LAZY, "hookimpl", "hookspec"])

if TYPE_CHECKING:  # pragma: no cover
    from . import plugins, render
    from .checkpoint import CheckpointEntry, CheckpointManager, WritebackFile
    from .config import Config, GridSearch
    from .dispatch import CombinedLogger, to_numpy, to_scalar
    from .errors import (
        CheckpointError,
        ConfigError,
        LoggerConfigError,
        PluginError,
        RunFolderError,
        TrialogError,
        TrialogWarning,
    )
    from .experiment import Experiment
    from .imaging import decode_png, encode_png, make_grid, to_float_chw, to_hwc_uint8
    from .render import figure_to_array, figure_to_png, pca_2d, precision_recall, roc
    from .run import Run
    from .sweep import Sweep, SweepSpec, open_sweep, read_sweep, run_trial
    from .testing import LoopbackAPI, json_reply, trialog_warnings


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'trialog.api' has no attribute {name!r}")
    module = importlib.import_module(f"trialog.{where.rstrip(':')}")
    value = module if where.endswith(":") else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
