"""Entry points to objects: discovery, lookup by name, conflicts, load errors, listing.

Groups: ``trialog.loggers``, ``trialog.trainers``, ``trialog.checkpoints`` and ``trialog.sweepers`` map
the name users write in a config (or ``trialog sweep --sweeper``) to a class; ``trialog.plugins`` names modules that implement lifecycle or framework hooks.
Discovery reads package metadata only; nothing is imported until a name is looked up.
"""

from __future__ import annotations

import os
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from trialog.errors import (
    FailurePolicy,
    PluginConflictError,
    PluginDisabledError,
    PluginLoadError,
    UnknownPluginError,
)
from trialog.hooks.markers import Impl, read_impl

GROUPS: dict[str, str] = {
    "trialog.loggers": "logger",
    "trialog.trainers": "trainer",
    "trialog.checkpoints": "checkpoint format",
    "trialog.plugins": "plugin",
    "trialog.sweepers": "sweeper",
    # a name of the ``trialog`` namespace a plugin distribution provides (``from trialog import Monitor``)
    "trialog.exports": "top-level name",
}
DISABLE_ENV = "TRIALOG_DISABLE_PLUGINS"


@dataclass(frozen=True)
class PluginInfo:
    """One entry point: what ``trialog plugins list`` shows."""

    name: str
    group: str
    target: str
    distribution: str | None
    version: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _norm(name: str | None) -> str:
    return (name or "").lower().replace("_", "-").replace(".", "-")


@lru_cache(maxsize=1)
def _discover() -> dict[str, dict[str, tuple[PluginInfo, ...]]]:
    """Scan installed metadata once: group -> name -> distinct claims (usually one)."""
    from importlib_metadata import entry_points

    found: dict[str, dict[str, dict[tuple[str, str], PluginInfo]]] = {g: {} for g in GROUPS}
    for ep in entry_points():
        if ep.group not in found:
            continue
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            group=ep.group,
            target=ep.value,
            distribution=dist.name if dist is not None else None,
            version=dist.version if dist is not None else None,
        )
        # The same distribution seen twice on sys.path (an editable install beside a regular one) counts once.
        found[ep.group].setdefault(ep.name, {}).setdefault((_norm(info.distribution), info.target), info)
    return {g: {n: tuple(claims.values()) for n, claims in names.items()} for g, names in found.items()}


def refresh() -> None:
    """Forget what was discovered and loaded (after installing a plugin in the running process)."""
    _discover.cache_clear()
    _loaded.clear()
    global _plugin_manager
    _plugin_manager = None


def is_disabled(info: PluginInfo) -> bool:
    """Whether the plugin or its distribution is blocked through ``TRIALOG_DISABLE_PLUGINS=name,...``."""
    blocked = {_norm(part.strip()) for part in os.environ.get(DISABLE_ENV, "").split(",") if part.strip()}
    return bool(blocked) and (_norm(info.name) in blocked or _norm(info.distribution) in blocked)


def installed(group: str | None = None) -> list[PluginInfo]:
    """Every entry point of trialog's groups (or one group), conflicting claims included."""
    groups = [_check_group(group)] if group else list(GROUPS)
    table = _discover()
    return [info for g in groups for claims in table[g].values() for info in claims]


def names(group: str) -> list[str]:
    """The names installed in ``group``, sorted."""
    return sorted(_discover()[_check_group(group)])


def _check_group(group: str) -> str:
    if group not in GROUPS:
        raise UnknownPluginError(
            f"unknown entry-point group {group!r}; trialog's groups are {', '.join(GROUPS)}"
        )
    return group


def describe(info: PluginInfo) -> str:
    """``trialog-file 0.1.0`` for messages."""
    if info.distribution is None:
        return "an unknown distribution"
    return f"{info.distribution} {info.version}"


def find(group: str, name: str) -> PluginInfo:
    """The single entry point ``name`` of ``group``, or a named error (unknown, conflicting, disabled)."""
    kind = GROUPS[_check_group(group)]
    claims = _discover()[group].get(name, ())
    if not claims:
        available = ", ".join(names(group)) or "none"
        raise UnknownPluginError(
            f"no {kind} named {name!r} is installed (entry-point group {group}); installed: {available}. "
            f"If it is published as a plugin, try `pip install trialog-{name}`."
        )
    if len(claims) > 1:
        who = " and ".join(f"{describe(c)} ({c.target})" for c in claims)
        raise PluginConflictError(
            f"{kind} name {name!r} is claimed by {who}; uninstall one of them or block one with "
            f"{DISABLE_ENV}=<distribution>"
        )
    info = claims[0]
    if is_disabled(info):
        raise PluginDisabledError(
            f"{kind} {name!r} from {describe(info)} is blocked by {DISABLE_ENV}={os.environ.get(DISABLE_ENV)}"
        )
    return info


_loaded: dict[tuple[str, str], Any] = {}
_lock = threading.RLock()


def load(group: str, name: str) -> Any:
    """Import and return the object the entry point ``name`` of ``group`` names (cached)."""
    key = (group, name)
    if key in _loaded:
        return _loaded[key]
    info = find(group, name)
    with _lock:
        if key not in _loaded:
            _loaded[key] = _import(info)
    return _loaded[key]


def _import(info: PluginInfo) -> Any:
    from importlib_metadata import EntryPoint

    try:
        return EntryPoint(name=info.name, value=info.target, group=info.group).load()
    except Exception as exc:
        raise PluginLoadError(
            f"{GROUPS[info.group]} {info.name!r} from {describe(info)} failed to import ({info.target}): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def check(info: PluginInfo) -> str | None:
    """Import one entry point; the error message, or None when it loads."""
    try:
        _import(info)
    except Exception as exc:
        return str(exc)
    return None


_plugin_manager: Any = None


def get_plugin_manager() -> Any:
    """The process-wide pluggy manager with every enabled ``trialog.plugins`` module registered."""
    global _plugin_manager
    if _plugin_manager is not None:
        return _plugin_manager
    with _lock:
        if _plugin_manager is None:
            import pluggy

            from trialog.hooks import specs as hookspecs

            pm = pluggy.PluginManager(hookspecs.PROJECT)
            pm.add_hookspecs(hookspecs.LifecycleSpec)
            pm.add_hookspecs(hookspecs.FrameworkSpec)
            for name, claims in sorted(_discover()["trialog.plugins"].items()):
                if any(is_disabled(c) for c in claims):  # blocked through the manager, never imported
                    pm.set_blocked(name)
                else:
                    pm.register(load("trialog.plugins", name), name=name)
            _plugin_manager = pm
    return _plugin_manager


class PluginHooks:
    """Calls ``trialog.plugins`` hook implementations one by one, isolating each plugin's failures.

    Each plugin hook has its :class:`~trialog.errors.FailurePolicy` (the loggers' one): a plugin whose hook
    raises is named in one TrialogWarning, its failures are counted, and after ``max_failures``
    consecutive failures that hook of it is no longer called; the other plugins' implementations always
    run. ``failures`` maps ``"plugin.hook"`` to the number of failures so far.
    """

    def __init__(self, manager: Any = None, max_failures: int = 5) -> None:
        self.manager = manager if manager is not None else get_plugin_manager()
        self.max_failures = int(max_failures)
        self._health: dict[str, FailurePolicy] = {}
        self._read: dict[Any, Impl] = {}

    @property
    def failures(self) -> dict[str, int]:
        return {key: h.failures for key, h in self._health.items() if h.failures}

    @property
    def disabled(self) -> set[str]:
        return {key for key, h in self._health.items() if h.disabled}

    def has(self, hook: str) -> bool:
        """Whether any enabled plugin implements ``hook`` (cheap: lets hot paths skip the call)."""
        return bool(getattr(self.manager.hook, hook).get_hookimpls())

    def call(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call every implementation of ``hook`` with the spec parameters it names; returns the non-None results."""
        results: list[Any] = []
        # pluggy lists implementations last-registered first; call them in registration order
        for impl in reversed(getattr(self.manager.hook, hook).get_hookimpls()):
            key = f"{impl.plugin_name}.{hook}"
            health = self._health.get(key)
            if (health is not None and health.disabled) or impl.hookwrapper or impl.wrapper:
                continue
            read = self._read.get(impl.function)
            if (
                read is None
            ):  # every spec parameter it names is passed, defaults or not (trialog.hooks.markers)
                read = self._read[impl.function] = read_impl(
                    impl.function, hook, f"plugin {impl.plugin_name!r}"
                )
            try:
                result = read.call(*(kwargs.get(arg) for arg in read.params))
            except Exception as exc:
                if health is None:
                    health = self._health[key] = FailurePolicy(
                        f"plugin {impl.plugin_name!r}", self.max_failures
                    )
                health.failed(f"its {hook} hook", exc, stacklevel=3)
                continue
            if health is not None:
                health.consecutive = 0
            if result is not None:
                results.append(result)
        return results
