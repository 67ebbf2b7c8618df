"""Direct calls of a logger's hook implementations, as trixi's docs show: ``TensorBoardLogger(d).show_text("Test")``.

``trialog.hookimpl`` passes every logger-hook implementation through :func:`direct_callable`. The
method a user calls then takes the hook spec's signature: positional arguments bind in the spec's
order, keyword arguments by the spec's names, ``hookspecs.LOGGER_DEFAULTS`` fills the rest, and the
implementation receives the spec parameters it declares. Keyword arguments outside the spec go to an
implementation declaring them (as keyword parameters with a default) or ``**kwargs``, and are dropped
for any other (trixi's ``**kwargs``).

The dispatcher never pays for this: it calls :func:`raw_impl`. A pluggy ``PluginManager`` that registers
such a logger sees the wrapper with the spec's full signature (every parameter, all required): it passes
each of them, in the spec's order, as a hook call through pluggy must provide them all.
"""

from __future__ import annotations

import functools
import inspect
import operator
import types
from typing import Any

from . import hookspecs

#: The attribute of a direct-call wrapper holding the implementation it wraps.
RAW_ATTRIBUTE = "trialog_raw_impl"
_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def implementation_parameters(function: Any) -> tuple[bool, tuple[str, ...], frozenset[str], bool]:
    """What an implementation takes: (is a method, parameters pluggy passes, extra keywords, ``**kwargs``)."""
    params = list(inspect.signature(function).parameters.values())
    is_method = bool(params) and params[0].name == "self" and "." in getattr(function, "__qualname__", "")
    if is_method:
        params = params[1:]
    passed = tuple(p.name for p in params if p.kind in _KEYWORD_KINDS and p.default is p.empty)
    extra = frozenset(p.name for p in params if p.kind in _KEYWORD_KINDS and p.default is not p.empty)
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    return is_method, passed, extra, var_keyword


def direct_callable(function: Any, hook: str) -> Any:
    """``function`` (an implementation of logger hook ``hook``) wrapped to take the spec's signature."""
    names = hookspecs.LOGGER_PARAMS[hook]
    defaults = hookspecs.LOGGER_DEFAULTS[hook]
    required = tuple(p for p in names if p not in defaults)  # the spec's first parameters
    is_method, passed, extra, var_keyword = implementation_parameters(function)
    label = getattr(function, "__qualname__", hook)
    for p in sorted(extra & set(names)):
        raise TypeError(
            f"{label}: parameter {p!r} of hook {hook} has a default, so pluggy would never pass it; "
            f"declare it without one (the spec's default, {defaults.get(p)!r}, applies to every call)"
        )
    for p in passed:
        if p not in names:
            raise TypeError(
                f"{label}: {p!r} is not a parameter of hook {hook} ({', '.join(names)}); "
                "give it a default to take it as an extra keyword argument"
            )
    # Positional calls (trixi's usual ones) take a short path: the spec's defaults by position.
    by_position = tuple(defaults.get(p) for p in names)
    picks = tuple(names.index(p) for p in passed)
    pick = (
        operator.itemgetter(*picks) if len(picks) > 1 else (lambda full: (full[picks[0]],) if picks else ())
    )
    n_required, n_names = len(required), len(names)

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """(the implementation's positional arguments, its extra keywords) for a call with keywords."""
        if len(args) > n_names:
            raise TypeError(
                f"{hook}() takes at most {n_names} arguments ({len(args)} given): {', '.join(names)}"
            )
        call = dict(zip(names, args))
        keywords = {}
        for key, value in kwargs.items():
            if key in defaults or key in required:  # a spec parameter
                if key in call:
                    raise TypeError(f"{hook}() got multiple values for argument {key!r}")
                call[key] = value
            elif var_keyword or key in extra:
                keywords[key] = value
        for p in required:
            if p not in call:
                raise TypeError(f"{hook}() missing required argument {p!r} (the spec: {', '.join(names)})")
        return tuple(call[p] if p in call else defaults[p] for p in passed), keywords

    if is_method:

        @functools.wraps(function)
        def direct(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not kwargs and n_required <= len(args) <= n_names:
                return function(self, *pick(args + by_position[len(args) :]))
            positional, keywords = bind(args, kwargs)
            return function(self, *positional, **keywords)

    else:

        @functools.wraps(function)
        def direct(*args: Any, **kwargs: Any) -> Any:
            if not kwargs and n_required <= len(args) <= n_names:
                return function(*pick(args + by_position[len(args) :]))
            positional, keywords = bind(args, kwargs)
            return function(*positional, **keywords)

    setattr(direct, RAW_ATTRIBUTE, function)
    # What pluggy sees (a PluginManager that registers this logger): the spec's parameters, all required, in
    # the spec's order, so pluggy passes every one in the order ``direct`` binds them. Its own argument names
    # would be passed in the implementation's order, which ``direct`` would read in the spec's: scrambled.
    # pluggy < 1.7 reads ``__signature__``; pluggy >= 1.7 unwraps ``__wrapped__`` and reads the code object.
    shape = _spec_shaped(names, is_method, label)
    direct.__wrapped__ = shape  # type: ignore[attr-defined]
    direct.__signature__ = inspect.signature(shape)  # type: ignore[attr-defined]
    return direct


def _spec_shaped(names: tuple[str, ...], is_method: bool, qualname: str) -> Any:
    """A function taking exactly ``names`` (and ``self`` for a method), none with a default."""
    params = ", ".join((("self",) if is_method else ()) + names)
    namespace: dict[str, Any] = {}
    exec(f"def shape({params}):\n    pass\n", namespace)  # names are the spec's identifiers, never user input
    shape = namespace["shape"]
    shape.__qualname__ = qualname
    return shape


def raw_impl(function: Any) -> Any:
    """The implementation behind a direct-call wrapper (bound, if ``function`` is a bound method)."""
    raw = getattr(function, RAW_ATTRIBUTE, None)
    if raw is None:
        return function
    owner = getattr(function, "__self__", None)
    return types.MethodType(raw, owner) if owner is not None else raw
