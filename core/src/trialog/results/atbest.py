"""Every result at the best step of a monitored metric (xmen's ``message(keep="min", leader=...)``).

``Experiment(monitor="val/loss", mode="min")`` keeps the values of every result recorded in the epoch where
``val/loss`` was best as ``at_best/<name>`` entries of ``result/results.json`` (``{"last", "min", "max"}``: the
one value, so every reader reads them like any result; ``epoch`` and ``counter`` say where). Values recorded
before and after the monitored one in that epoch both count (a record without an epoch forms a group of its
own); a later record of the same epoch replaces the kept one; a tie keeps the first best. The summary is
rebuilt from the results log, so a resumed run has the same values; run.json's ``at_best`` lets a reader
compute them for a run whose summary lags (a killed run).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from trialog.errors import ConfigError
from trialog.results.summaries import series_key

PREFIX = "at_best/"


class AtBest:
    """Tracks the values recorded in the epoch where ``leader`` was best (``mode`` "min" or "max")."""

    def __init__(self, leader: str, mode: str):
        if not isinstance(leader, str) or not leader:
            raise ConfigError(f"monitor must be a result name, not {leader!r}")
        if mode not in ("min", "max"):
            raise ConfigError(f"mode for monitor {leader!r} must be 'min' or 'max', not {mode!r}")
        self.leader = leader
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        #: The series key a bare leader name (``"acc"``) stands for: the first series of that name seen.
        self._bound: str | None = None
        self.best: float | None = None
        self.epoch: int | None = None
        self._group: Any = object()  # no record's epoch
        self._current: dict[str, tuple[Any, Any]] = {}
        self._kept: dict[str, tuple[Any, Any]] = {}

    def update(self, name: str, value: Any, counter: Any, epoch: int | None, bare: str | None = None) -> None:
        """Feed one record (in the order of the results log): ``name`` its series key (``val/acc``), ``bare``
        the record's own name (``acc``), which a leader given without its tag matches (the first series of
        that name it meets: give ``tag/name`` where several tags have the name)."""
        if epoch != self._group:
            self._group = epoch
            self._current = {}  # the kept group stays the dict it was: later records of it no longer land there
        self._current[name] = (value, counter)
        if name != self.leader and name != self._bound:
            if self._bound is not None or bare != self.leader:
                return
            self._bound = name
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if math.isnan(value):
            return
        if self.best is None or (value < self.best if self.mode == "min" else value > self.best):
            self.best = value
            self.epoch = epoch
            self._kept = self._current

    def feed(self, record: Mapping[str, Any]) -> None:
        """:meth:`update` with one result record (a dict of name, tag, value, counter, epoch)."""
        name = record["name"]
        self.update(
            series_key(name, record.get("tag")),
            record["value"],
            record["counter"],
            record["epoch"],
            bare=name,
        )

    def summary(self) -> dict[str, dict[str, Any]]:
        """``{"at_best/<name>": {"last", "min", "max", "epoch", "counter"}}`` (empty before the first value)."""
        return {
            f"{PREFIX}{name}": {
                "last": value,
                "min": value,
                "max": value,
                "epoch": self.epoch,
                "counter": counter,
            }
            for name, (value, counter) in self._kept.items()
            if not name.startswith(PREFIX)
        }


def at_best_summary(
    records: Iterable[Mapping[str, Any]], monitor: str, mode: str
) -> dict[str, dict[str, Any]]:
    """:meth:`AtBest.summary` of result records (a killed run's, whose ``results.json`` lags behind)."""
    tracker = AtBest(monitor, mode)
    for rec in records:
        tracker.feed(rec)
    return tracker.summary()


__all__ = ["PREFIX", "AtBest", "at_best_summary"]
