"""What an :class:`trialog.Experiment` checkpoint holds, and how a checkpoint is applied back.

A checkpoint state is ``{"trialog": {epoch, results position, seed, counters}, "rng": ..., "simple": ...,
"user": get_state(), "parts": {name: part}}``. This module builds it (:func:`checkpoint_state`), restores it
(:func:`restore_state`, which hands :meth:`Experiment.set_state` the :class:`RestoreContext` as an
argument) and owns the one definition of a "simple" value (:func:`is_simple`) that the core and
trialog-torch both store under ``state["simple"]``. The Experiment's methods of the same names delegate here.
"""

from __future__ import annotations

import collections
import functools
import inspect
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialog.checkpoint.manager import MANIFEST_NAME
from trialog.errors import ConfigError, TrialogWarning

#: The restores a checkpoint is applied by: a resumed run(), a resumed run_test(), load_checkpoint().
RESTORE_KINDS: tuple[str, ...] = ("resume", "test", "load")
#: Where a checkpoint keeps the simple attributes (core and trialog-torch alike).
SIMPLE_KEY = "simple"
_SIMPLE_SCALARS = (bool, int, float, str, bytes, type(None))


def is_simple(value: Any, *, sets: bool = False) -> bool:
    """Whether ``value`` is "simple" (trixi's save type): numbers, strings, bools, None, bytes, numpy arrays
    (not of objects) and scalars, and lists, tuples and dicts (string or int keys) of those.

    ``sets``: sets of simple values count too (for checkpoint formats that store them, such as
    trialog-torch's; JSON-like formats do not). Frozensets never do: torch's safe loader refuses them."""
    if isinstance(value, _SIMPLE_SCALARS):
        return True
    module = type(value).__module__
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.generic):
            return not isinstance(value, np.object_)
        if isinstance(value, np.ndarray):
            return not value.dtype.hasobject
        return False
    kind = type(value)
    if kind in (list, tuple) or (sets and kind is set):
        return all(is_simple(v, sets=sets) for v in value)
    if kind is dict:
        return all(isinstance(k, (str, int)) and is_simple(v, sets=sets) for k, v in value.items())
    return False


@dataclass(frozen=True)
class RestoreContext:
    """What :meth:`Experiment.restore_state` is restoring: ``kind`` ("resume", "test", "load"), ``source``
    (the checkpoint, for messages) and the caller's ``options``. :meth:`Experiment.set_state` receives it."""

    kind: str
    source: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatePart:
    """A named part of every checkpoint (:meth:`Experiment.add_state_part`)."""

    get: Callable[[], Any]
    set: Callable[[Any], None]
    restore_on: tuple[str, ...]
    attributes: tuple[str, ...]


def public_items(obj: Any) -> list[tuple[str, Any]]:
    """``obj``'s attributes whose names do not start with ``_``."""
    return [(k, v) for k, v in list(vars(obj).items()) if not k.startswith("_")]


def _is_code(value: Any) -> bool:
    """Functions, methods, classes and modules: behaviour (re-made by the code), not state to checkpoint."""
    return inspect.isroutine(value) or inspect.isclass(value) or inspect.ismodule(value)


def make_state_part(
    parts: Mapping[str, StatePart],
    name: str,
    get: Callable[[], Any],
    set: Callable[[Any], None],
    restore_on: Sequence[str],
    attributes: Sequence[str],
) -> StatePart:
    """A checked :class:`StatePart` (ConfigError for a bad name, an unknown restore kind, a duplicate)."""
    if not name or not isinstance(name, str):
        raise ConfigError(f"a state part needs a non-empty string name, got {name!r}")
    unknown = [k for k in restore_on if k not in RESTORE_KINDS]
    if unknown:
        raise ConfigError(
            f"state part {name!r}: restore_on {unknown} unknown; choose from {list(RESTORE_KINDS)}"
        )
    if name in parts:
        raise ConfigError(f"a state part named {name!r} is already registered")
    return StatePart(get, set, tuple(restore_on), tuple(attributes))


def checkpoint_state(exp: Any) -> dict[str, Any]:
    """Everything a checkpoint of this moment holds: ``{"trialog", "rng", "simple", "user", "parts"}``."""
    results = exp._results
    state: dict[str, Any] = {
        "trialog": {
            "epoch": exp.epoch,
            "results_position": results.position(),
            "results_records": sum(s.count for s in results.stats.values()),
            "seed": exp.seed,
            "n_epochs": exp.n_epochs,
            # the dispatcher's call numbers: default counters continue after a resume
            "counters": exp.clog.counter_state(),
        },
        "rng": exp.rng_state(),
        "user": dict(exp.get_state()),
    }
    if exp.stores_simple():
        state[SIMPLE_KEY] = exp.get_simple_variables()
    if exp._parts:
        state["parts"] = {name: part.get() for name, part in exp._parts.items()}
    warn_unstored(exp, state)
    return state


def warn_unstored(exp: Any, state: Mapping[str, Any]) -> None:
    """Once per run: name the public attributes set after construction that no checkpoint stores."""
    if exp._warned_unstored:
        return
    exp._warned_unstored = True
    claimed = set(state.get(SIMPLE_KEY, ())) | set(state.get("user", ())) | set(exp.checkpointed_attributes())
    claimed |= set(getattr(type(exp), "not_checkpointed", ()))
    for part in exp._parts.values():
        claimed |= set(part.attributes)
    # an object whose own method is a part's getter (a trialog.Monitor) is stored by that part
    owners = {id(getattr(part.get, "__self__", None)) for part in exp._parts.values()}
    lost = [
        f"{k} ({type(v).__name__})"
        for k, v in public_items(exp)
        if k not in exp.reserved_attributes
        and k not in claimed
        and id(v) not in owners
        and not is_simple(v, sets=exp.simple_sets)
        and not _is_code(v)
    ]
    if lost:
        warnings.warn(
            f"trialog: {type(exp).__name__} attribute(s) {', '.join(lost)} are not stored in checkpoints "
            "(they are not 'simple' values): a resumed run has what setup() builds again. Store them "
            "with get_state()/set_state() or add_state_part(), or name them in the class attribute "
            "`not_checkpointed` when setup() rebuilds them",
            TrialogWarning,
            stacklevel=6,
        )


def restore_state(
    exp: Any,
    state: Mapping[str, Any],
    *,
    kind: str,
    results: bool,
    rng: bool,
    source: str,
    options: Mapping[str, Any] | None,
) -> None:
    """Apply a checkpoint's state: results position, epoch, simple attributes, ``set_state``, parts, RNGs."""
    if kind not in RESTORE_KINDS:
        raise ConfigError(f"restore kind {kind!r} unknown; choose from {list(RESTORE_KINDS)}")
    context = RestoreContext(kind, source, dict(options or {}))
    exp._restoring = context  # Experiment.restoring, for set_state overrides that take no context
    try:
        meta = state.get("trialog", {})
        if results and "results_position" in meta:
            exp._results.truncate(int(meta["results_position"]))
        if "epoch" in meta:
            exp.epoch = int(meta["epoch"])
        if SIMPLE_KEY in state and exp.restores_simple(context):
            exp.update_attributes(state[SIMPLE_KEY])
        call_set_state(exp, state.get("user", {}), context)
        saved_parts = state.get("parts", {})
        for name, part in exp._parts.items():
            if kind not in part.restore_on:
                continue
            if name in saved_parts:
                part.set(saved_parts[name])
            else:
                warnings.warn(
                    f"{source} holds no state part {name!r}; it keeps its current state",
                    TrialogWarning,
                    stacklevel=3,
                )
        if rng and "rng" in state:
            exp.set_rng_state(state["rng"])
    finally:
        exp._restoring = None


def call_set_state(exp: Any, user: Mapping[str, Any], context: RestoreContext) -> None:
    """``exp.set_state(user, context)``; an override written as ``set_state(self, state)`` gets ``user`` only
    (it reads :attr:`Experiment.restoring`)."""
    if takes_context(type(exp).set_state):
        exp.set_state(user, context)
    else:
        exp.set_state(user)  # type: ignore[call-arg]  # a 0.1-style override


@functools.lru_cache(maxsize=256)
def takes_context(set_state: Callable[..., Any]) -> bool:
    """Whether a ``set_state`` function accepts a second positional argument (the restore context)."""
    try:
        params = list(inspect.signature(set_state).parameters.values())[1:]  # after self
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params) or (
        len([p for p in params if p.kind in positional]) >= 2
    )


class SavedEvents:
    """``on_checkpoint_saved`` delivered on the run's thread: the checkpoint manager reports a save once the
    file and the manifest are on disk, in async mode on its writer thread; such a report is queued until
    the run's thread drains it (at the next epoch start and in ``wait_checkpoints``), so loggers and plugins
    are only ever called from the run's thread."""

    def __init__(self, exp: Any) -> None:
        self._exp = exp
        self._pending: collections.deque[Any] = collections.deque()
        self.thread_id = threading.get_ident()

    def saved(self, entry: Any) -> None:
        """The manager's ``on_saved`` callback."""
        if threading.get_ident() != self.thread_id:
            self._pending.append(entry)
            return
        self._fire(entry)

    def drain(self) -> None:
        """Fire the queued reports (on the run's thread)."""
        while self._pending:
            self._fire(self._pending.popleft())

    def _fire(self, entry: Any) -> None:
        self._exp._fire(
            "on_checkpoint_saved",
            experiment=self._exp,
            path=str(entry.path),
            step=entry.step,
            epoch=entry.epoch,
            metric=entry.metric,
        )


def series_names(checkpoint_dir: Path) -> list[str]:
    """Names of the checkpoint series (folders with a manifest) in ``checkpoint_dir``."""
    if not checkpoint_dir.is_dir():
        return []
    return sorted(p.name for p in checkpoint_dir.iterdir() if (p / MANIFEST_NAME).is_file())


def wait_checkpoints(exp: Any) -> None:
    """Block until the run's and its series' saves are on disk; then fire the pending save events."""
    try:
        exp.checkpoints.wait()
        for manager in exp._series.values():
            manager.wait()
    finally:
        exp._saved_events.drain()


def save_checkpoint(exp: Any, metrics: Mapping[str, Any] | None, step: int | None) -> Any:
    """Checkpoint :func:`checkpoint_state` into the run's series once every logger has synced (the resume
    contract: every logger's output up to here is on disk before the checkpoint is)."""
    manager = exp.checkpoints
    if metrics is None and manager.monitor is not None and manager.monitor in exp._results.stats:
        metrics = {manager.monitor: exp._results.last(manager.monitor)}
    if step is None:
        if exp._next_step is None:
            latest = manager.latest()
            exp._next_step = 0 if latest is None else latest.step + 1
        step = exp._next_step
    exp._next_step = step + 1
    state = exp.checkpoint_state()
    late = exp.clog.sync(
        "on_checkpoint",
        experiment=exp,
        step=step,
        epoch=exp.epoch,
        position=state["trialog"]["results_position"],
    )
    if late:
        warnings.warn(
            f"trialog: logger(s) {', '.join(late)} did not finish on_checkpoint within "
            f"{exp.clog.drain_timeout} s; checkpoint {step} is saved without waiting for them",
            TrialogWarning,
            stacklevel=3,
        )
    return manager.save(state, step=step, epoch=exp.epoch, metrics=metrics)


def checkpoint_series(exp: Any, name: str, options: dict[str, Any]) -> Any:
    """The checkpoint series ``checkpoint/<name>/`` of ``exp``, made once per name and kept."""
    from trialog.checkpoint.manager import CheckpointManager

    manager = exp._series.get(name)
    if manager is not None:
        return manager
    if (
        not name
        or Path(name).name != name
        or name in ("last", "best")
        or name.startswith((".", "step-"))
        or name == MANIFEST_NAME
    ):
        raise ConfigError(
            f"checkpoint series name {name!r} is not usable: it must be a plain folder name, not 'last', "
            "'best', or one starting with '.' or 'step-' (those select or name the run's own series)"
        )
    options.setdefault("format", exp.checkpoints.format)
    options.setdefault("async_save", exp.checkpoints.async_save)
    options.setdefault("keep_last", 1)
    options.setdefault("on_saved", exp._saved_events.saved)
    manager = CheckpointManager(exp.checkpoint_dir / name, **options)
    exp._series[name] = manager
    return manager


__all__ = ["RESTORE_KINDS", "SIMPLE_KEY", "RestoreContext", "SavedEvents", "StatePart", "is_simple"]


def rng_state(exp: Any) -> dict[str, Any]:
    """The merged RNG state of every ``trialog.plugins`` module."""
    state: dict[str, Any] = {}
    for part in exp.plugin_hooks.call("get_rng_state"):
        state.update(part)
    return state


def set_rng_state(exp: Any, state: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` produced (also the 0.1 layout with a ``"plugins"`` sub-mapping)."""
    merged = {k: v for k, v in state.items() if k != "plugins"}
    merged.update(state.get("plugins") or {})
    if merged:
        exp.plugin_hooks.call("set_rng_state", state=merged)
