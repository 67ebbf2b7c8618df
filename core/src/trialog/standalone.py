"""Direct calls of a logger's hook implementations, as trixi's docs show: ``TensorBoardLogger(d).show_text("Test")``.

``trialog.hookimpl`` passes every logger-hook implementation through :func:`direct_callable`. The
method a user calls then takes the hook spec's signature: positional arguments bind in the spec's
order, keyword arguments by the spec's names, ``hookspecs.LOGGER_DEFAULTS`` fills the rest, and the
implementation receives the spec parameters it declares. Keyword arguments outside the spec go to an
implementation declaring them (as keyword parameters with a default) or ``**kwargs``, and are dropped
for any other (trixi's ``**kwargs``).

pluggy and the dispatcher never pay for this: the wrapper reports the implementation's own signature
(``__wrapped__``), so pluggy sees its argument names, and the dispatcher calls :func:`raw_impl`.
"""

from __future__ import annotations

import functools
import inspect
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
    required = frozenset(p for p in names if p not in defaults)
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

    @functools.wraps(function)
    def direct(*args: Any, **kwargs: Any) -> Any:
        head, args = (args[:1], args[1:]) if is_method else ((), args)
        if len(args) > len(names):
            raise TypeError(
                f"{hook}() takes at most {len(names)} arguments ({len(args)} given): {', '.join(names)}"
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
        return function(*head, *[call[p] if p in call else defaults[p] for p in passed], **keywords)

    setattr(direct, RAW_ATTRIBUTE, function)
    return direct


def raw_impl(function: Any) -> Any:
    """The implementation behind a direct-call wrapper (bound, if ``function`` is a bound method)."""
    raw = getattr(function, RAW_ATTRIBUTE, None)
    if raw is None:
        return function
    owner = getattr(function, "__self__", None)
    return types.MethodType(raw, owner) if owner is not None else raw
