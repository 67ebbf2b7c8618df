"""trialog-torch: PyTorch experiments, the ``torch`` checkpoint format, trainers and ``trialog run``.

Names load on first use: the ``trialog.plugins`` entry (:mod:`trialog_torch.hooks`) is imported for
every experiment, and importing this package must not import torch by itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "TorchExperiment": "experiment",
    "TorchFormat": "checkpoint",
    "TorchMonitor": "monitor",
    "LoadReport": "utils",
    "resolve_device": "utils",
    "update_model": "utils",
}

__all__ = ["LoadReport", "TorchExperiment", "TorchFormat", "TorchMonitor", "resolve_device", "update_model"]

if TYPE_CHECKING:  # pragma: no cover
    from .checkpoint import TorchFormat
    from .experiment import TorchExperiment
    from .monitor import TorchMonitor
    from .utils import LoadReport, resolve_device, update_model


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trialog_torch' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
