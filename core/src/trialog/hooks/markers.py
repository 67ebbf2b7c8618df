"""``hookimpl`` and the one reading of a hook implementation against its spec; plugins write ``from trialog import hookimpl``.

:func:`read_impl` is the only place an implementation is checked: at its definition (``@hookimpl``), when
a logger object is given to the dispatcher (:func:`logger_impls`) and when a ``trialog.plugins`` hook is
first called (``trialog.hooks.plugins.PluginHooks``). An implementation names any of the spec's parameters, in
any order, with or without a default: every one it names is passed (the spec's default when a call
leaves it out). A keyword parameter of its own with a default (``file_format=".png"``, ``call=None``), or
``**kwargs``, receives a call's extra keywords; a parameter of its own without a default is an error.

``hookimpl`` also makes each logger-hook implementation callable on its own, as trixi's docs show
(``TensorBoardLogger(d).show_text("Test")``): the method then takes the spec's signature (positional
arguments in the spec's order, keywords by the spec's names, the spec's defaults). The dispatcher never
pays for this: it calls the implementation itself (:func:`raw_impl`).
"""

from __future__ import annotations

import functools
import inspect
import operator
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from trialog.errors import LoggerConfigError
from trialog.hooks import specs as hookspecs
from trialog.hooks.specs import PROJECT, hookspec

__all__ = ["PROJECT", "Impl", "bind_call", "hookimpl", "hookspec", "logger_impls", "raw_impl", "read_impl"]

_mark = pluggy.HookimplMarker(PROJECT)
#: The attribute pluggy's marker sets on an implementation; the one a direct-call wrapper's original sits in.
IMPL_ATTRIBUTE = f"{PROJECT}_impl"
RAW_ATTRIBUTE = "trialog_raw_impl"
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True, slots=True)
class Impl:
    """A hook implementation read against its spec: ``call(*(arguments of params))`` calls it."""

    call: Any  #: the implementation (or, when it takes its spec parameters by keyword only, an adapter)
    params: tuple[str, ...]  #: the spec parameters it names, in its own order
    extras: frozenset[
        str
    ]  #: its own keyword parameters with a default: a call's extra keywords of those names
    var_keyword: bool  #: it takes ``**kwargs`` (every extra keyword)


def read_impl(function: Any, hook: str, label: str | None = None) -> Impl:
    """``function`` checked against the spec of ``hook``; a TypeError naming ``label`` (its qualname) if it does not fit."""
    spec = hookspecs.PARAMS[hook]
    label = label or getattr(function, "__qualname__", hook)
    params = list(inspect.signature(function).parameters.values())
    lead = int(bool(params) and params[0].name == "self" and "." in getattr(function, "__qualname__", ""))
    params = params[lead:]  # without an unbound method's ``self`` (at its definition)
    named = tuple(p.name for p in params if p.name in spec and p.kind is not p.VAR_KEYWORD)
    for p in params:
        if p.name not in spec and p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            raise TypeError(
                f"{label}: {p.name!r} is not a parameter of hook {hook} ({', '.join(spec)}); "
                "give it a default to take it as an extra keyword argument"
            )
    extras = frozenset(p.name for p in params if p.name not in spec and p.default is not p.empty)
    call = function
    if tuple(p.name for p in params if p.kind in _POSITIONAL)[: len(named)] != named:
        # the spec parameters are not its first positional ones (keyword-only, or after one of its own)
        def call(*args: Any, **kwargs: Any) -> Any:
            return function(*args[:lead], **dict(zip(named, args[lead:])), **kwargs)

    return Impl(call, named, extras, any(p.kind is p.VAR_KEYWORD for p in params))


class HookimplMarker:
    """pluggy's hookimpl marker (the same options: ``tryfirst``, ``specname``, ...), checking what it marks
    against the spec, and making logger hooks callable on their own."""

    project_name = PROJECT

    def __call__(self, function: Any = None, **options: Any) -> Any:
        def mark(func: Any) -> Any:
            _mark(func, **options)
            hook = options.get("specname") or getattr(func, "__name__", "")
            if options.get("hookwrapper") or options.get("wrapper") or hook not in hookspecs.PARAMS:
                return func
            impl = read_impl(func, hook)  # a mistake is named where it is written
            return direct_callable(func, hook, impl) if hook in hookspecs.LOGGER_SIGNATURES else func

        return mark if function is None else mark(function)


hookimpl = HookimplMarker()


def direct_callable(function: Any, hook: str, impl: Impl) -> Any:
    """``function`` (an implementation of logger hook ``hook``) wrapped to take the spec's signature."""
    names = hookspecs.PARAMS[hook]
    defaults = hookspecs.LOGGER_DEFAULTS[hook]
    passed, extra, var_keyword = impl.params, impl.extras, impl.var_keyword
    # Positional calls (trixi's usual ones) take a short path: the spec's defaults by position.
    by_position = tuple(defaults.get(p) for p in names)
    picks = tuple(names.index(p) for p in passed)
    pick = (
        operator.itemgetter(*picks) if len(picks) > 1 else (lambda full: (full[picks[0]],) if picks else ())
    )
    n_required, n_names = (
        len(names) - len(defaults),
        len(names),
    )  # the spec's defaults are its last parameters
    target = impl.call

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """(the implementation's positional arguments, its extra keywords) for a call with keywords."""
        call, keywords = bind_call(hook, args, kwargs)
        return tuple(call[p] for p in passed), {
            k: v for k, v in keywords.items() if var_keyword or k in extra
        }

    if next(iter(inspect.signature(function).parameters), None) == "self":

        @functools.wraps(function)
        def direct(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not kwargs and n_required <= len(args) <= n_names:
                return target(self, *pick(args + by_position[len(args) :]))
            positional, keywords = bind(args, kwargs)
            return target(self, *positional, **keywords)

    else:

        @functools.wraps(function)
        def direct(*args: Any, **kwargs: Any) -> Any:
            if not kwargs and n_required <= len(args) <= n_names:
                return target(*pick(args + by_position[len(args) :]))
            positional, keywords = bind(args, kwargs)
            return target(*positional, **keywords)

    setattr(direct, RAW_ATTRIBUTE, function)
    return direct


def bind_call(
    hook: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A call of logger hook ``hook`` bound to its spec: ({parameter: value}, the spec's defaults filled in),
    and the keywords that are no parameter of it (trixi's ``**kwargs``); a TypeError like Python's."""
    names = hookspecs.PARAMS[hook]
    defaults = hookspecs.LOGGER_DEFAULTS[hook]
    if len(args) > len(names):
        raise TypeError(
            f"{hook}() takes at most {len(names)} arguments ({len(args)} given): {', '.join(names)}"
        )
    call = dict(zip(names, args))
    extra = {}
    for key, value in kwargs.items():
        if key not in names:
            extra[key] = value
        elif key in call:
            raise TypeError(f"{hook}() got multiple values for argument {key!r}")
        else:
            call[key] = value
    for p in names:
        if p not in call:
            if p not in defaults:
                raise TypeError(f"{hook}() missing required argument {p!r} (it takes {', '.join(names)})")
            call[p] = defaults[p]
    return call, extra


def raw_impl(function: Any) -> Any:
    """The implementation behind a direct-call wrapper (bound, if ``function`` is a bound method)."""
    raw = getattr(function, RAW_ATTRIBUTE, None)
    if raw is None:
        return function
    owner = getattr(function, "__self__", None)
    return types.MethodType(raw, owner) if owner is not None else raw


def logger_impls(obj: Any, label: str) -> dict[str, Impl]:
    """Every logger and lifecycle hook ``obj`` implements, each read against its spec (LoggerConfigError naming ``label``)."""
    impls = {}
    for attr in dir(obj):
        static = inspect.getattr_static(obj, attr, None)  # properties are not run
        opts = getattr(getattr(static, "__func__", static), IMPL_ATTRIBUTE, None)
        if not isinstance(opts, dict):
            continue
        hook = opts.get("specname") or attr
        if hook not in hookspecs.LOGGER_SIGNATURES and hook not in hookspecs.LIFECYCLE_HOOKS:
            if opts.get("optionalhook"):
                continue
            raise LoggerConfigError(
                f"logger {label}: {attr} implements {hook!r}, which is no logger or lifecycle hook"
            )
        if opts.get("hookwrapper") or opts.get("wrapper"):
            raise LoggerConfigError(
                f"logger {label}: {attr} is a hook wrapper; the dispatcher calls plain implementations"
            )
        try:
            impls[hook] = read_impl(raw_impl(getattr(obj, attr)), hook, f"{type(obj).__qualname__}.{attr}")
        except TypeError as exc:
            raise LoggerConfigError(f"logger {label} has an invalid hook implementation: {exc}") from exc
    if not impls:
        raise LoggerConfigError(
            f"logger {label} implements no trialog hook; mark its methods with @trialog.hookimpl"
        )
    return impls
