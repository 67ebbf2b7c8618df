"""trialog-runs: run folders on the command line (``trialog runs ...``), the filter language and the registry.

Modules: :mod:`~trialog_runs.cli` (``trialog runs ls|show|diff|repair|note|tag|star|rename|rm|restore`` and
the helpers trialog-browser shares: ``flatten``, ``config_difference``, ``run_filter_fields``),
:mod:`~trialog_runs.query` (the filter language), :mod:`~trialog_runs.registry` (purpose, notes, tags, star,
display name, soft removal in run.json), :mod:`~trialog_runs.notes` (notes on many runs) and
:mod:`~trialog_runs.frame` (``trialog.runs_frame``: the runs as a pandas DataFrame). Reading a run folder
(``trialog.Run``) is the core's; this distribution builds on it through ``trialog.api`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["runs_frame", "runs_records"]

if TYPE_CHECKING:  # pragma: no cover
    from .frame import runs_frame, runs_records


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import frame

        return getattr(frame, name)
    raise AttributeError(f"module 'trialog_runs' has no attribute {name!r}")
