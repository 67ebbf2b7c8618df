"""The typed contract of each entry-point group: what a name in ``trialog.loggers``, ``trialog.checkpoints``
and ``trialog.trainers`` must be (``trialog.plugins`` modules implement ``trialog.hooks.specs``' lifecycle and
framework hooks; the sweepers' contract is ``trialog.sweep.Sweeper``).

Each is a :class:`typing.Protocol`: nothing needs to subclass it; type checkers check an implementation
against it and the core checks what it loads once, here (:func:`logger_traits`, :func:`check_format`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from trialog.errors import CheckpointError, LoggerConfigError

#: What a background logger's queue does when full: drop the oldest pending call, or block the caller.
DROP_OLDEST = "drop_oldest"
BLOCK = "block"
POLICIES = (DROP_OLDEST, BLOCK)

__all__ = [
    "CheckpointFormat",
    "LoggerClass",
    "Trainer",
    "check_format",
    "logger_stats",
    "logger_traits",
]


class LoggerClass(Protocol):
    """What a ``trialog.loggers`` entry point names: a class whose constructor parameters are its options
    (typed and ranged in its signature, ``run_dir`` filled by the dispatcher) and whose methods carry
    ``@hookimpl`` for the ``trialog.hooks.specs.LoggerSpec``/``LifecycleSpec`` hooks it supports.

    Every attribute below is optional; the dispatcher reads them once per logger (:func:`logger_traits`),
    with these defaults: ``background = False`` (True: fed from a bounded queue on its own thread),
    ``queue_policy = "drop_oldest"`` (``"block"``: a full queue makes the caller wait; file writers) and
    ``stats``, a mapping of the logger's own counters that the close summary reports.
    """

    background: bool
    queue_policy: str

    @property
    def stats(self) -> Mapping[str, Any]: ...


def logger_traits(obj: Any, label: str) -> tuple[bool, str]:
    """``obj``'s declared ``(background, queue_policy)`` (the defaults where it declares none), or a
    LoggerConfigError naming ``label`` for a value of the wrong kind."""
    background = getattr(obj, "background", False)
    policy = getattr(obj, "queue_policy", DROP_OLDEST)
    if not isinstance(background, bool):
        raise LoggerConfigError(f"logger {label}: its background must be True or False, got {background!r}")
    if policy not in POLICIES:
        raise LoggerConfigError(
            f"logger {label}: its queue_policy must be one of {', '.join(POLICIES)}, got {policy!r}"
        )
    return background, policy


def logger_stats(obj: Any) -> dict[str, Any] | None:
    """A copy of the logger's ``stats`` mapping, or None where it keeps none."""
    stats = getattr(obj, "stats", None)
    return dict(stats) if isinstance(stats, Mapping) else None


@runtime_checkable
class CheckpointFormat(Protocol):
    """What a ``trialog.checkpoints`` entry point names (a class, instantiated without arguments): see
    ``trialog.checkpoint.manager`` for the full contract (atomic writes are the manager's).

    Optional: ``save_file(self, state, file)``, writing to an open binary file the manager hashes as it is
    written (without it, the file is read back once after ``save``), and a keyword ``into`` of
    ``snapshot``: an earlier snapshot whose buffers it may fill.
    """

    extension: str  #: the file extension, e.g. ``".npz"``

    def save(self, state: Mapping[str, Any], path: Any) -> Any:
        """Write ``state`` to exactly ``path`` (a temporary file the manager fsyncs and renames)."""

    def load(self, path: Any) -> Mapping[str, Any]:
        """Read a file ``save`` wrote (format keywords may follow)."""

    def snapshot(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        """A host-memory copy of ``state`` that later changes of the caller's objects do not affect."""


#: The members every checkpoint format has, from the protocol itself.
FORMAT_MEMBERS: tuple[str, ...] = (*CheckpointFormat.__annotations__, "save", "load", "snapshot")


def check_format(name: str, instance: Any) -> Any:
    """``instance`` if it is a :class:`CheckpointFormat`, else a CheckpointError naming what it lacks."""
    missing = [m for m in FORMAT_MEMBERS if not hasattr(instance, m)]
    if missing:
        raise CheckpointError(
            f"checkpoint format {name!r} ({type(instance).__module__}.{type(instance).__qualname__}) lacks "
            f"{', '.join(missing)}; a format needs extension, save(state, path), load(path) and snapshot(state)"
        )
    return instance


class Trainer(Protocol):
    """What a ``trialog.trainers`` entry point names (trialog-torch's ``Trainer`` subclasses): a class built
    from the config's ``trainer`` block whose ``fit()`` trains, validates and tests, and returns the final
    metrics by name. Framework plugins load the group (``trialog.api.plugins.load("trialog.trainers", name)``).
    """

    def fit(self) -> Mapping[str, float]: ...
