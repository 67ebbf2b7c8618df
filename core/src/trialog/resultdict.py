"""``Experiment.results``: the results log read and written like trixi's ``ResultLogDict``.

``exp.results["loss"]`` is the last value recorded under "loss"; ``exp.results["loss"] = 0.3`` records
a value (one line in ``result/results.jsonl`` at once, like :meth:`trialog.Experiment.add_result` without
plotting); iterating gives the names. The log's own methods (``stats``, ``summary()``, ``best()``,
``last()``, ``position()``) stay reachable on the same object.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class ResultElement(dict):  # type: ignore[type-arg]
    """One result (trixi's ``ResultElement``): ``{"data", "label", "epoch", "counter"}``."""

    def __init__(
        self, data: Any = None, label: str | None = None, epoch: int | None = None, counter: Any = None
    ):
        super().__init__(data=data, label=label, epoch=epoch, counter=counter)


class ResultDict(Mapping[str, Any]):
    """The results of one experiment as a mapping name -> last value, writable like trixi's ResultLogDict."""

    def __init__(self, experiment: Any) -> None:
        self._experiment = experiment

    @property
    def log(self) -> Any:
        """The underlying :class:`trialog.results.ResultLog`."""
        return self._experiment._results

    def __getitem__(self, name: str) -> Any:
        return self.log.last(name)

    def __setitem__(self, name: str, value: Any) -> None:
        exp = self._experiment
        if type(value) is float or type(value) is int:  # the hot path of a training loop
            exp._add_result(value, name, None, None, False, epoch=exp.epoch)
        elif isinstance(value, Mapping) and "data" in value and ("label" in value or "epoch" in value):
            epoch = value.get("epoch", exp.epoch)
            exp._add_result(value["data"], name, value.get("counter"), value.get("label"), False, epoch=epoch)
        else:
            exp._add_result(value, name, None, None, False, epoch=exp.epoch)

    def __delitem__(self, name: str) -> None:
        raise TypeError("results are append-only: a recorded result cannot be deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(self.log.names())

    def __len__(self) -> int:
        return len(self.log.names())

    def __contains__(self, name: object) -> bool:
        return name in self.log.stats

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "_experiment":
            raise AttributeError(attr)
        return getattr(self.log, attr)

    def __repr__(self) -> str:
        return f"ResultDict({ {k: self[k] for k in self}!r})"


__all__ = ["ResultDict", "ResultElement"]
