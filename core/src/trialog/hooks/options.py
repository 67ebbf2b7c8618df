"""Option values checked against a constructor's annotations, before anything is built.

A logger's (or any plugin class's) constructor signature is its options schema: the annotations give each
option's type, and ``Annotated[int, Range(min=1)]`` adds bounds. :func:`check_option_values` raises a
:class:`~trialog.errors.LoggerConfigError` naming the option, what it must be and what it got, before a run
folder exists. Only what the annotation says for sure is checked: scalars (``bool`` is not an ``int`` here,
an ``int`` is a ``float``), ``None``, ``Literal``, unions, paths, and the container kind of generics; an
annotation naming another class (a constructor may convert a string) or one that cannot be resolved is not.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import math
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from trialog.errors import LoggerConfigError

__all__ = ["Range", "check_option_values", "option_hints", "option_parameters", "option_problem"]


@dataclass(frozen=True)
class Range:
    """Bounds for a numeric option: ``Annotated[float, Range(min=0, min_open=True)]`` means ``> 0``."""

    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` (a number), or None when it is in range."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None  # the type check speaks for non-numbers
        if isinstance(value, float) and math.isnan(value):
            return "must be a number, got nan"
        low = self.min is not None and (value <= self.min if self.min_open else value < self.min)
        high = self.max is not None and (value >= self.max if self.max_open else value > self.max)
        if low or high:
            return f"must be {self.describe()}, got {value!r}"
        return None

    def describe(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"{'>' if self.min_open else '>='} {self.min:g}")
        if self.max is not None:
            parts.append(f"{'<' if self.max_open else '<='} {self.max:g}")
        return " and ".join(parts) or "any number"


_SCALARS: dict[Any, tuple[str, Callable[[Any], bool]]] = {
    bool: ("true or false", lambda v: isinstance(v, bool)),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    float: ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    str: ("a string", lambda v: isinstance(v, str)),
    type(None): ("null", lambda v: v is None),
}
_PATHS = (os.PathLike, PurePath)


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(hint)
        ranges = [m.describe() for m in meta if isinstance(m, Range)]
        return " ".join([_describe(base), *ranges])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(_describe(arm) for arm in typing.get_args(hint)))
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(hint)))
    if hint in _SCALARS:
        return _SCALARS[hint][0]
    kind = origin if origin is not None else hint
    if isinstance(kind, type) and issubclass(kind, _PATHS):
        return "a path"
    return f"a {getattr(kind, '__name__', kind)}"


def _fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits ``hint``, as far as the annotation says for sure (ranges aside)."""
    if hint is Any or hint is object or isinstance(hint, (typing.TypeVar, str)):
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _fits(value, typing.get_args(hint)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(hint))
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in typing.get_args(hint))
    if hint is None:
        hint = type(None)
    if hint in _SCALARS:
        return _SCALARS[hint][1](value)
    container = origin if origin is not None else hint
    if isinstance(container, type) and issubclass(container, _PATHS):
        return isinstance(value, (str, os.PathLike))
    if origin is collections.abc.Callable or hint is collections.abc.Callable:
        return callable(value)
    if isinstance(container, type) and container.__module__ in ("builtins", "collections.abc"):
        return isinstance(value, container)
    return True  # another class: the constructor may convert what it is given


def _ranges(hint: Any, value: Any) -> str | None:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(hint)
        for marker in meta:
            if isinstance(marker, Range) and (problem := marker.problem(value)):
                return problem
        return _ranges(base, value)
    if origin in (typing.Union, types.UnionType):
        fitting = [arm for arm in typing.get_args(hint) if _fits(value, arm)]
        problems = [_ranges(arm, value) for arm in fitting]
        return None if not problems or None in problems else problems[0]
    return None


def option_problem(value: Any, hint: Any) -> str | None:
    """What is wrong with ``value`` for an option annotated ``hint`` (a sentence part), or None."""
    if not _fits(value, hint):
        return f"must be {_describe(hint)}, got {value!r} ({type(value).__name__})"
    return _ranges(hint, value)


def _constructor_chain(target: Any) -> list[Any]:
    """The constructors whose parameters are ``target``'s options: its own, then, while one takes ``**kwargs``,
    the next base class's that defines one (a subclass passes the rest on with ``super().__init__(**kwargs)``)."""
    if not isinstance(target, type):
        return [target]
    chain = []
    for cls in target.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None or cls is object:
            continue
        chain.append(init)
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            break
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            break
    return chain or [target]


@functools.lru_cache(maxsize=256)
def option_parameters(target: Any) -> Mapping[str, inspect.Parameter]:
    """The options of a class (or function): its constructor's parameters, ``self`` left out.

    A constructor taking ``**kwargs`` shares its base class's options: the base's parameters are added
    (followed up the base classes while each takes ``**kwargs``), so a subclass declares only its own.
    ``**kwargs`` stays in the result only where the chain ends in one (no base class names the rest).
    """
    params: dict[str, inspect.Parameter] = {}
    var_keyword = None
    chain = _constructor_chain(target)
    for i, function in enumerate(chain):
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            return {}
        for j, (name, param) in enumerate(signature.parameters.items()):
            if function is not target and j == 0:  # self
                continue
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                if i == len(chain) - 1:
                    var_keyword = param
                continue
            params.setdefault(name, param)
    if var_keyword is not None:
        params[var_keyword.name] = var_keyword
    return params


@functools.lru_cache(maxsize=256)
def option_hints(target: Any) -> Mapping[str, Any]:
    """The annotations of :func:`option_parameters` (a subclass's own first), resolved; {} if one cannot be."""
    hints: dict[str, Any] = {}
    for function in _constructor_chain(target):
        if isinstance(function, type):  # no constructor of its own: a class's annotations are not options
            continue
        try:
            found = typing.get_type_hints(function, include_extras=True)
        except Exception:  # a name an annotation uses is not importable here: check nothing, never guess
            return {}
        for name, hint in found.items():
            hints.setdefault(name, hint)
    return hints


def check_option_values(label: str, target: Any, options: Mapping[str, Any]) -> None:
    """Raise LoggerConfigError ``"{label}: option 'key' must be ..., got ..."`` for a value its annotation rules out."""
    try:
        hints = option_hints(target)
    except TypeError:  # unhashable target
        return
    for key, value in options.items():
        hint = hints.get(key)
        if hint is not None and (problem := option_problem(value, hint)):
            raise LoggerConfigError(f"{label}: option {key!r} {problem}")
