"""The combined dispatcher: one call reaches every logger that is due, in config order, isolated.

Path of a call: frequency check (per logger, counted per hook + name + tag; trixi's rule that the first
call logs) -> conversion of tensors to numpy, once, only if some logger is due -> each due logger's hook
implementation, inline or, for loggers declaring ``background = True``, through a bounded queue served by
a daemon thread. A logger that raises is warned about once, counted, and disabled after ``max_failures``
consecutive failures; it never raises into the training loop.
"""

from __future__ import annotations

import functools
import inspect
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialog.errors import FailurePolicy, LoggerConfigError, TrialogError, TrialogWarning, warn_once
from trialog.hooks import specs as hookspecs
from trialog.hooks.contracts import POLICIES, logger_stats, logger_traits
from trialog.hooks.markers import Impl, bind_call, logger_impls
from trialog.hooks.options import check_option_values, option_parameters
from trialog.loggers.delivery import Delivery

if TYPE_CHECKING:  # the dispatcher's typed surface is the logger spec itself: it cannot drift from it
    from trialog.hooks.specs import LoggerSpec as _TypedHooks
else:
    _TypedHooks = object

#: The dispatcher's keys of a logger declaration (besides ``type``), written flat or under ``"dispatch": {...}``
#: (a plugin's own options may be written under ``"options": {...}``). A flat dispatcher key that the plugin's
#: constructor also takes is refused (LoggerConfigError naming both), never silently taken by one side.
DISPATCH_OPTIONS = frozenset({"every", "background", "queue_size", "queue_policy"})
DEFAULT_QUEUE_SIZE = 1000
CONTROL_KEYWORDS = frozenset({"log_all", "same_as_last", "do_not_increase"})
#: The keyword through which a logger's hook gets the call number (0, 1, 2, ... per hook, name and tag,
#: counting every call, not only the ones delivered: with ``every: 10`` the numbers are 0, 10, 20, ...),
#: when no counter was given: a logger declares ``call: int | None = None`` and uses it as its default
#: counter. The counts are checkpoint state (:meth:`CombinedLogger.counter_state`) and continue after a resume.
CALL_KEYWORD = "call"
#: Parameters whose values may be tensors and are converted to numpy before reaching a logger.
ARRAY_PARAMS = frozenset(
    {"image", "images", "array", "y_vals", "x_vals", "tensor", "labels", "features", "frames"}
)
#: Hooks whose pending items are replaced by newer ones of the same name in a background queue.
COALESCED_HOOKS = frozenset(hookspecs.LOGGER_HOOKS) - {
    "show_value",
    "show_text",
    "log_config",
    "flush",
    "close",
}
#: Hooks never dropped from a full background queue (rare, and what users wait for).
CRITICAL_HOOKS = frozenset(hookspecs.LIFECYCLE_HOOKS) | {"log_config", "flush", "close"}
_NEVER = float("inf")


def to_numpy(value: Any) -> Any:
    """A torch tensor (duck-typed, torch is never imported here) as a numpy array; anything else unchanged."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        tensor = value.detach()
        if hasattr(tensor, "cpu"):
            tensor = tensor.cpu()
        try:
            return tensor.numpy()
        except TypeError:  # bfloat16 and friends have no numpy dtype
            return tensor.float().numpy()
    if isinstance(value, (list, tuple)) and value and hasattr(value[0], "detach"):
        return [to_numpy(v) for v in value]
    return value


def to_scalar(value: Any) -> Any:
    """A 0-d tensor or numpy scalar as a python number."""
    item = getattr(value, "item", None)
    return item() if item is not None else value


class _Logger(FailurePolicy):
    """One configured logger: its object, frequency, hook implementations and health (the failure policy)."""

    def __init__(self, name: str, type_name: str, obj: Any, every: int, max_failures: int | None):
        self.name = name
        self.type_name = type_name
        self.obj = obj
        self.every = every
        self.label = f"{name!r} ({type_name})"
        super().__init__(f"logger {self.label}", max_failures)
        self.impls: dict[str, Impl] = logger_impls(obj, self.label)
        self.queue: Delivery | None = None


class _Decl:
    """A parsed logger declaration: what to build and the dispatcher's own options for it."""

    __slots__ = ("background", "checked", "every", "kind", "options", "policy", "queue_size", "reserved")

    def __init__(self, kind: Any, options: dict[str, Any], every: Any = 1) -> None:
        self.kind = kind
        self.options = options
        self.every = every
        self.background: bool | None = None
        self.queue_size: Any = DEFAULT_QUEUE_SIZE
        self.policy: str | None = None
        self.reserved: list[str] = []  # dispatcher keys written flat (they may clash with the plugin's)
        #: (class, type name, constructor parameters) once :func:`parse_loggers` checked it; None for an object
        self.checked: tuple[Any, str, Mapping[str, inspect.Parameter]] | None = None


def parse_declaration(name: str, decl: Any) -> _Decl:
    """A logger declaration -> what to build, its plugin options and the dispatcher's options."""
    if isinstance(decl, str) or inspect.isclass(decl):
        parsed = _Decl(decl, {})
    elif isinstance(decl, Mapping):
        options = dict(decl)
        if "type" not in options:
            raise LoggerConfigError(
                f"logger {name!r}: its declaration has no 'type' (e.g. {{'type': 'file'}})"
            )
        parsed = _Decl(options.pop("type"), options)
        own = options.pop("dispatch", None) or {}
        if not isinstance(own, Mapping) or set(own) - DISPATCH_OPTIONS:
            raise LoggerConfigError(
                f"logger {name!r}: 'dispatch' must be a mapping of the dispatcher's options "
                f"({', '.join(sorted(DISPATCH_OPTIONS))}), got {own!r}"
            )
        plugin_options = options.pop("options", None)
        if plugin_options is not None and not isinstance(plugin_options, Mapping):
            raise LoggerConfigError(
                f"logger {name!r}: 'options' must be a mapping of the logger's own options, "
                f"got {plugin_options!r}"
            )
        flat = {k: options.pop(k) for k in DISPATCH_OPTIONS & options.keys()}
        parsed.reserved = sorted(flat)
        for key in flat.keys() & own.keys():
            raise LoggerConfigError(f"logger {name!r}: {key!r} is given both flat and under 'dispatch'")
        for key in (plugin_options or {}).keys() & options.keys():
            raise LoggerConfigError(f"logger {name!r}: {key!r} is given both flat and under 'options'")
        options.update(plugin_options or {})
        settings = {**flat, **own}
        parsed.every = settings.get("every", 1)
        parsed.background = settings.get("background")
        parsed.queue_size = settings.get("queue_size", DEFAULT_QUEUE_SIZE)
        parsed.policy = settings.get("queue_policy")
    elif isinstance(decl, (tuple, list)):
        if not 1 <= len(decl) <= 3:
            raise LoggerConfigError(
                f"logger {name!r}: a tuple declaration is (type, options, every), got {decl!r}"
            )
        options = dict(decl[1] or {}) if len(decl) > 1 else {}
        parsed = _Decl(decl[0], options, decl[2] if len(decl) > 2 else 1)
    else:
        return _Decl(decl, {})  # an already-built logger object
    for key, value in (("every", parsed.every), ("queue_size", parsed.queue_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise LoggerConfigError(f"logger {name!r}: {key!r} must be a positive integer, got {value!r}")
    if parsed.background is not None and not isinstance(parsed.background, bool):
        raise LoggerConfigError(
            f"logger {name!r}: 'background' must be true or false, got {parsed.background!r}"
        )
    if parsed.policy is not None and parsed.policy not in POLICIES:
        raise LoggerConfigError(
            f"logger {name!r}: 'queue_policy' must be one of {', '.join(POLICIES)}, got {parsed.policy!r}"
        )
    return parsed


def check_class(
    name: str, kind: Any, options: Mapping[str, Any], reserved: Iterable[str] = ()
) -> tuple[Any, str, Mapping[str, inspect.Parameter]]:
    """Find a declaration's logger class and check its options, creating nothing: (class, type name, parameters)."""
    if isinstance(kind, str):
        from trialog.hooks import plugins

        cls = plugins.load("trialog.loggers", kind)
        type_name = kind
    else:
        cls, type_name = kind, getattr(kind, "__name__", repr(kind))
    params: Mapping[str, inspect.Parameter]
    try:
        params = option_parameters(cls)  # a subclass taking **kwargs shares its base's options
    except (TypeError, ValueError):
        params = {}
    for key in reserved:
        if key in params and params[key].kind is not inspect.Parameter.VAR_KEYWORD:
            raise LoggerConfigError(
                f"logger {name!r}: {key!r} is both a dispatcher option and an option of the {type_name} "
                f"logger ({getattr(cls, '__qualname__', type_name)} takes {key!r}); write "
                f'"dispatch": {{"{key}": ...}} for the dispatcher\'s, or "options": {{"{key}": ...}} '
                f"for the {type_name} logger's own"
            )
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    accepted = [p for p in params if params[p].kind not in (inspect.Parameter.VAR_POSITIONAL,)]
    unknown = sorted(set(options) - set(accepted)) if not takes_any else []
    if unknown:
        raise LoggerConfigError(
            f"logger {name!r} ({type_name}) does not accept option(s) {', '.join(map(repr, unknown))}; "
            f"it accepts: {', '.join(a for a in accepted if a != 'run_dir') or 'no options'}"
        )
    check_option_values(f"logger {name!r} ({type_name})", cls, options)
    return cls, type_name, params


def parse_loggers(
    loggers: Mapping[str, Any] | Iterable[str] | None, vet: Callable[[str, _Decl], None] | None = None
) -> dict[str, _Decl]:
    """Every logger declaration parsed and its class found and checked against its options, creating nothing.

    ``loggers`` maps names to declarations (or lists logger types); declarations parsed already pass
    through, so a config is parsed and checked once (``trialog.loggers.preflight`` before the run folder exists,
    then ``CombinedLogger``). ``vet(name, decl)`` sees each one before its class is looked up.
    """
    if loggers is None:
        return {}
    if isinstance(loggers, (str, bytes)) or not isinstance(loggers, Iterable):
        kind = "string" if isinstance(loggers, (str, bytes)) else type(loggers).__name__
        raise LoggerConfigError(
            f"loggers={loggers!r}: 'loggers' must be a mapping of names to declarations (e.g. "
            f"{{'file': 'file'}}) or a list of logger types (e.g. ['file']), not a {kind}"
        )
    if not isinstance(loggers, Mapping):
        loggers = {str(kind): kind for kind in loggers}
    parsed = {}
    for name, decl in loggers.items():
        if not isinstance(decl, _Decl):
            decl = parse_declaration(str(name), decl)
            if vet is not None:
                vet(str(name), decl)
            if isinstance(decl.kind, str) or inspect.isclass(decl.kind):
                decl.checked = check_class(str(name), decl.kind, decl.options, decl.reserved)
        parsed[str(name)] = decl
    return parsed


def _instantiate(name: str, decl: _Decl, run_dir: Path | None) -> tuple[Any, str]:
    if decl.checked is None:
        return decl.kind, type(decl.kind).__name__  # an already-built logger object
    cls, type_name, params = decl.checked
    options = dict(decl.options)
    if "run_dir" in params and "run_dir" not in options:
        options["run_dir"] = run_dir
    try:
        return cls(**options), type_name
    except TrialogError:
        raise
    except Exception as exc:
        raise LoggerConfigError(
            f"logger {name!r} ({type_name}) could not be created: {type(exc).__name__}: {exc}"
        ) from exc


class CombinedLogger(_TypedHooks):
    """Fans each logger call out to the configured loggers (trixi's CombinedLogger, done right).

    ``loggers`` maps a name to ``"type"``, ``{"type": t, "every": n, "background": b, "queue_size": q,
    "queue_policy": p, **options}``, trixi's tuple ``(type, options, every)`` or a ready logger object;
    a list of type names is accepted too. The dispatcher's keys may also be written under
    ``"dispatch": {...}`` and the plugin's under ``"options": {...}``; a flat dispatcher key that the
    plugin's constructor also takes (Visdom's ``queue_size``) is a ``LoggerConfigError`` naming both.

    Background loggers are fed through a :class:`trialog.loggers.delivery.Delivery` of ``queue_size`` items:
    with ``queue_policy`` ``"drop_oldest"`` (the default; network loggers) the oldest droppable call
    goes when it is full, with one warning at the first drop; with ``"block"`` (file writers declare
    ``queue_policy = "block"``) the caller waits for room and nothing is dropped.
    """

    def __init__(
        self,
        loggers: Mapping[str, Any] | Iterable[str] | None = None,
        *,
        run_dir: str | Path | None = None,
        max_failures: int | None = 5,
        drain_timeout: float = 10.0,
    ):
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.max_failures = max_failures
        self.drain_timeout = drain_timeout
        self._loggers: list[_Logger] = []
        self._unused_keywords: set[tuple[str, str]] = set()  # (hook, keyword) already warned about
        self._closed = False
        self._summary: dict[str, Any] = {}
        self._by_hook: dict[str, list[_Logger]] = {}
        declarations = parse_loggers(loggers)
        try:
            for name, decl in declarations.items():
                self._add(name, decl)
        except BaseException:
            self.close()
            raise
        self._by_hook = {
            hook: [lg for lg in self._loggers if hook in lg.impls]
            for hook in (*hookspecs.LOGGER_HOOKS, *hookspecs.LIFECYCLE_HOOKS)
        }
        # Per hook: (name, tag) -> [count, next count at which some logger is due, loggers due last time].
        self._state: dict[str, dict[Any, list[Any]]] = {h: {} for h in hookspecs.LOGGER_HOOKS}
        self._value_state = self._state["show_value"]

    def _add(self, name: str, decl: _Decl) -> None:
        obj, type_name = _instantiate(name, decl, self.run_dir)
        logger = _Logger(name, type_name, obj, decl.every, self.max_failures)
        background, policy = logger_traits(obj, logger.label)
        if decl.background if decl.background is not None else background:
            # File writers declare ``queue_policy = "block"``: they wait for room instead of losing values.
            policy = decl.policy or policy

            def deliver(item: Any, lg: _Logger = logger) -> None:
                self._invoke(lg, *item)

            logger.queue = Delivery(
                deliver,
                maxsize=decl.queue_size,
                policy=policy,
                name=f"trialog-{name}",
                label=f"background logger {logger.label}",
            )
        self._loggers.append(logger)

    # ----------------------------------------------------------------- access
    @property
    def loggers(self) -> dict[str, Any]:
        """Logger objects by name, in config order."""
        return {lg.name: lg.obj for lg in self._loggers}

    @property
    def names(self) -> list[str]:
        return [lg.name for lg in self._loggers]

    def __getitem__(self, name: str) -> Any:
        for lg in self._loggers:
            if lg.name == name:
                return lg.obj
        raise KeyError(f"no logger named {name!r}; configured: {', '.join(self.names) or 'none'}")

    def __contains__(self, name: object) -> bool:
        return any(lg.name == name for lg in self._loggers)

    def __len__(self) -> int:
        return len(self._loggers)

    def __enter__(self) -> CombinedLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------- dispatch
    def show_value(
        self,
        value: Any,
        name: str,
        counter: float | None = None,
        tag: str | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Log a scalar to every logger due for (name, tag)."""
        state = self._value_state.get((name, tag))
        if state is not None and state[0] < state[1] and not kwargs:
            state[0] += 1
            state[2] = ()
            return
        # the keywords that are not the dispatcher's own (trixi's ``**kwargs``)
        extra = (
            {k: kwargs.pop(k) for k in [k for k in kwargs if k not in CONTROL_KEYWORDS]} if kwargs else None
        )
        if extra:
            self._note_unused("show_value", extra)
        due, number = self._due("show_value", (name, tag), kwargs)
        if due:
            self._deliver(
                due,
                "show_value",
                (name, tag),
                {
                    "value": to_scalar(value),
                    "name": name,
                    "counter": counter,
                    "tag": tag,
                    "title": title,
                },
                extra,
                number if counter is None else None,
            )

    def _due(self, hook: str, key: Any, ctl: Mapping[str, Any]) -> tuple[list[_Logger], int]:
        """The loggers due for this call and its call number (0 for the first call of (hook, name, tag)),
        advancing the per-key count (trixi's frequency rule)."""
        loggers = self._by_hook[hook]
        states = self._state[hook]
        state = states.get(key)
        if state is None:
            state = states[key] = [0, 0 if loggers else _NEVER, ()]
        count = number = state[0]
        if not loggers:
            return [], number
        if ctl.get("same_as_last"):
            due = [lg for lg in state[2] if not lg.disabled]
        else:
            log_all = ctl.get("log_all", False)
            due = [lg for lg in loggers if not lg.disabled and (log_all or count % lg.every == 0)]
            if not ctl.get("do_not_increase"):
                count += 1
                state[0] = count
                state[1] = _next_due(count, loggers)
            state[2] = tuple(due)
        return due, number

    def counter_state(self) -> list[list[Any]]:
        """The call count of every (hook, name, tag) as ``[[hook, name, tag, count], ...]``: checkpoint state.

        The default counter of a call is its call number, so a resumed run continues these counts
        (:meth:`restore_counters`) and its steps continue where the checkpoint's ended.
        """
        return [
            [hook, key[0], key[1], state[0]]
            for hook, states in self._state.items()
            for key, state in states.items()
            if state[0]
        ]

    def restore_counters(self, counts: Iterable[Sequence[Any]]) -> None:
        """Set the call counts from :meth:`counter_state` (a resumed run, before its first call)."""
        for states in self._state.values():
            states.clear()
        for hook, name, tag, count in counts:
            if hook not in self._state:
                continue  # a hook this version does not have
            count = int(count)
            self._state[hook][(name, tag)] = [count, _next_due(count, self._by_hook[hook]), ()]

    def sync(self, hook: str, **kwargs: Any) -> list[str]:
        """Call lifecycle ``hook`` like :meth:`lifecycle`, then wait until every logger implementing it handled it.

        Background loggers included (what they were sent before is handled first): the experiment
        calls ``on_checkpoint`` so, and saves the checkpoint only after. Returns the labels of loggers
        that did not finish within ``drain_timeout`` seconds.
        """
        self.lifecycle(hook, **kwargs)
        deadline = time.monotonic() + self.drain_timeout
        return [
            lg.label
            for lg in self._active(hook)
            if lg.queue is not None and not lg.queue.wait_idle(max(0.0, deadline - time.monotonic()))
        ]

    def missing(self, hook: str) -> list[str]:
        """Labels of the loggers that do not implement ``hook``."""
        return [lg.label for lg in self._loggers if hook not in lg.impls]

    def _deliver(
        self,
        due: list[_Logger],
        hook: str,
        key: Any,
        call: dict[str, Any],
        extra: Mapping[str, Any] | None = None,
        number: int | None = None,
    ) -> None:
        for lg in due:
            impl = lg.impls[hook]
            fn = impl.call
            args = [call[p] for p in impl.params]
            queue = lg.queue
            if impl.extras or impl.var_keyword:
                if extra:
                    fn = _with_extra(fn, impl, extra, queue is not None)
                if number is not None and CALL_KEYWORD in impl.extras:
                    # the call number, for the logger's default counter (declared ``call=None``)
                    fn = functools.partial(fn, call=number)
            if queue is None:
                self._invoke(lg, hook, fn, args)
            else:
                queue.put(
                    (hook, fn, [_detach(a) for a in args]),
                    (hook, key) if hook in COALESCED_HOOKS else None,
                    keep=hook in CRITICAL_HOOKS,
                )

    def _invoke(self, lg: _Logger, hook: str, fn: Any, args: list[Any]) -> None:
        try:
            fn(*args)
        except Exception as exc:
            lg.failed(hook, exc, stacklevel=3)
        else:
            if lg.consecutive:
                lg.consecutive = 0

    def _note_unused(self, hook: str, extra: Mapping[str, Any]) -> None:
        """Warn once per (hook, keyword) that no logger declares: a typo (``coutner=``) must not vanish."""
        for key in extra:
            if (hook, key) in self._unused_keywords:
                continue
            takers = [
                lg
                for lg in self._loggers
                if hook in lg.impls and (lg.impls[hook].var_keyword or key in lg.impls[hook].extras)
            ]
            if takers:
                continue
            warn_once(
                self._unused_keywords,
                (hook, key),
                f"trialog: {hook}() got the keyword {key!r}, which is not a parameter of the hook and which none of "
                f"the loggers ({', '.join(lg.label for lg in self._loggers) or 'none'}) takes: it is ignored "
                "(trixi's extra keywords reach only loggers that declare them)",
                stacklevel=3,
            )

    def _call(self, hook: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        ctl = {k: kwargs.pop(k) for k in CONTROL_KEYWORDS & kwargs.keys()}
        call, extra = bind_call(hook, args, kwargs)  # extra: trixi's **kwargs, for the loggers declaring them
        if extra:
            self._note_unused(hook, extra)
        key = (call["name"], call.get("tag")) if "name" in call else None
        number = None
        if key is not None:
            due, number = self._due(hook, key, ctl)
        else:
            due = self._active(hook)
        if due:
            for p in ARRAY_PARAMS.intersection(call):
                call[p] = to_numpy(call[p])
            self._deliver(due, hook, key, call, extra, number if call.get("counter") is None else None)

    def _active(self, hook: str) -> list[_Logger]:
        return [lg for lg in self._by_hook[hook] if not lg.disabled]

    def lifecycle(self, hook: str, **kwargs: Any) -> None:
        """Call lifecycle ``hook`` on every logger implementing it; missing arguments are None."""
        if hook not in hookspecs.LIFECYCLE_HOOKS:
            raise ValueError(
                f"unknown lifecycle hook {hook!r}; known: {', '.join(hookspecs.LIFECYCLE_HOOKS)}"
            )
        due = self._active(hook)
        if due:
            self._deliver(due, hook, None, {p: kwargs.get(p) for p in hookspecs.PARAMS[hook]})

    # --------------------------------------------------------------- lifetime
    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every background queue is empty and idle; False if ``timeout`` ran out first."""
        deadline = time.monotonic() + (self.drain_timeout if timeout is None else timeout)
        return all(
            lg.queue.wait_idle(max(0.0, deadline - time.monotonic()))
            for lg in self._loggers
            if lg.queue is not None
        )

    def close(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]  # the summary
        """Flush and close every logger, draining background queues for at most ``timeout`` seconds.

        Returns {logger name: {"type", "failures", "disabled", "dropped", "coalesced", "undelivered",
        "last_error", for background loggers "blocked" and "blocked_s" (how often / how long the caller
        waited for room in a ``"block"`` queue), and "stats" when the logger keeps a ``stats`` mapping}};
        anything lost is also reported in one warning.
        """
        if self._closed:
            return self._summary
        self._closed = True
        deadline = time.monotonic() + (self.drain_timeout if timeout is None else timeout)
        for lg in self._loggers:
            if "close" in lg.impls:  # disabled loggers too: they may hold threads and connections
                fn = lg.impls["close"].call
                if lg.queue is None:
                    self._invoke(lg, "close", fn, [])
                else:
                    lg.queue.put(("close", fn, []), keep=True)
        lost = []
        for lg in self._loggers:
            report = None if lg.queue is None else lg.queue.close(max(0.0, deadline - time.monotonic()))
            entry: dict[str, Any] = {  # the health read after the queue drained: its calls may have failed
                "type": lg.type_name,
                "failures": lg.failures,
                "disabled": lg.disabled,
                "dropped": report.dropped if report else 0,
                "coalesced": report.coalesced if report else 0,
                "undelivered": report.undelivered if report else 0,
                "last_error": lg.last_error,
            }
            if report is not None:
                entry.update(blocked=report.blocked, blocked_s=report.blocked_s)
            stats = logger_stats(lg.obj)
            if stats is not None:  # a logger's own counters (a notifier's undelivered posts, ...)
                entry["stats"] = stats
            self._summary[lg.name] = entry
            if entry["failures"] or entry["dropped"] or entry["undelivered"]:
                lost.append(
                    f"{lg.label}: {entry['failures']} failures, {entry['dropped']} dropped, "
                    f"{entry['undelivered']} undelivered at close"
                    + (" (disabled)" if entry["disabled"] else "")
                    + (f", last error {entry['last_error']}" if entry["last_error"] else "")
                )
        # Calls after close reach no logger (and cost nothing but the frequency check).
        self._by_hook = {hook: [] for hook in self._by_hook}
        if lost:
            warnings.warn("trialog: logger summary: " + "; ".join(lost), TrialogWarning, stacklevel=2)
        return self._summary


def _next_due(count: int, loggers: Iterable[_Logger]) -> float:
    """The smallest call count at or after ``count`` at which one of ``loggers`` is due (never: none)."""
    return min((-(-count // lg.every) * lg.every for lg in loggers), default=_NEVER)


def _detach(value: Any) -> Any:
    """A private copy of an array for a background logger (the caller may reuse its buffer)."""
    copy = getattr(value, "copy", None)
    if copy is not None and hasattr(value, "dtype"):
        return copy()
    return value


def _with_extra(fn: Any, impl: Impl, extra: Mapping[str, Any], copy: bool) -> Any:
    """``fn`` with the extra keywords ``impl`` declares (all of them if it takes ``**kwargs``) bound."""
    passed = {k: _detach(v) if copy else v for k, v in extra.items() if impl.var_keyword or k in impl.extras}
    return functools.partial(fn, **passed) if passed else fn


def _make_hook_method(hook: str) -> Any:
    """The dispatcher's method for logger hook ``hook``: the spec's signature and docstring (its type is the spec's)."""

    def method(self: CombinedLogger, *args: Any, **kwargs: Any) -> None:
        self._call(hook, args, kwargs)

    spec = getattr(hookspecs.LoggerSpec, hook)
    method.__name__, method.__qualname__, method.__doc__ = hook, f"CombinedLogger.{hook}", spec.__doc__
    method.__signature__ = inspect.signature(spec)  # type: ignore[attr-defined]
    return method


for _hook in hookspecs.LOGGER_HOOKS:
    if _hook not in ("show_value", "close"):
        setattr(CombinedLogger, _hook, _make_hook_method(_hook))
