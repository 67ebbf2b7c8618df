"""``trixi.experiment.experiment``: trixi's abstract Experiment, as :class:`trialog_trixi.TrixiExperiment`
(:class:`trialog.Experiment` with trixi's names: ``elog``, ``results``, ``save_dict``, ...)."""

from __future__ import annotations

from typing import Any

from trialog_trixi import TrixiExperiment


class Experiment(TrixiExperiment):
    """trixi's ``Experiment(n_epochs=0)``: setup, prepare, n_epochs × (train, validate), end.

    trialog's Experiment always has a run folder (``base_dir``, default ``runs``), so results and
    checkpoints survive a crash; the other keyword arguments are trialog's.
    """

    def __init__(self, n_epochs: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("loggers", {})
        super().__init__(n_epochs=n_epochs, **kwargs)


__all__ = ["Experiment"]
