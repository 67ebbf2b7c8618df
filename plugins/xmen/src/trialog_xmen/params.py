"""Declared parameters: typed defaults with help on an Experiment subclass (xmen's ``# @p`` parameters).

::

    class Train(trialog.Experiment):
        lr: float = trialog.param(0.1, "the learning rate")
        layers: int = trialog.param(3, "hidden layers")
        act: str = trialog.param("relu", "activation", choices=("relu", "tanh"))

    Train(update_from_argv=True).run()        # python train.py --lr 0.01 --layers 4; --help prints the table

Each declared parameter fills the config key of its name when the config does not have it (a config file
or mapping still wins), is type-checked after the ``--key value`` overrides (an int where a float is
declared is fine; a wrong type or a value outside ``choices`` is a :class:`~trialog.errors.ConfigError` naming
the key, before the run folder exists), and reads through the instance (``self.lr`` is ``self.config["lr"]``).
``--help`` / ``-h`` among the overrides prints :func:`params_help` and exits (status 0). The type is the
annotation when it is a plain class (``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``), else
``type(default)``.

The core asks for the declared defaults and the checks through its ``config_defaults`` and ``check_config``
hooks (this module is trialog-xmen's ``trialog.plugins`` entry point), before the run folder exists.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from trialog.api import hookimpl
from trialog.errors import ConfigError

_MISSING = object()


class Param:
    """A declared parameter (made by :func:`param`): default, help, type, choices; a descriptor on the class."""

    def __init__(
        self, default: Any, help: str = "", type: type | None = None, choices: Sequence[Any] | None = None
    ):
        self.default = default
        self.help = help
        self.type = type
        self.choices = tuple(choices) if choices is not None else None
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self.type is None:
            annotation = inspect.get_annotations(owner).get(name)
            self.type = _plain_type(annotation) or type(self.default)
        # the default is checked by declared_params(): an error raised here would reach the user wrapped

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        config = instance.__dict__.get("config")
        return self.default if config is None else config.get(self.name, self.default)

    def __set__(self, instance: Any, value: Any) -> None:
        check_value(self, value, "the value set")
        instance.config[self.name] = value


def param(
    default: Any, help: str = "", *, type: type | None = None, choices: Sequence[Any] | None = None
) -> Any:
    """Declare a parameter on an Experiment subclass (see the module docs)."""
    return Param(default, help, type, choices)


def declared_params(cls: type) -> dict[str, Param]:
    """The parameters ``cls`` and its bases declare, by name (a subclass's declaration wins); a default that is
    not of its parameter's type (or not among its choices) is a ConfigError naming it."""
    found: dict[str, Param] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Param):
                found[name] = value
    for p in found.values():
        check_value(p, p.default, "the default")
    return found


def check_value(p: Param, value: Any, what: str = "the value") -> None:
    """ConfigError naming the parameter when ``value`` is not of its type or not among its choices."""
    expected = p.type
    ok = value is None and p.default is None
    if expected is float:
        ok = ok or (isinstance(value, (int, float)) and not isinstance(value, bool))
    elif expected is int:
        ok = ok or (isinstance(value, int) and not isinstance(value, bool))
    elif expected in (list, tuple):
        ok = ok or isinstance(value, (list, tuple))
    elif expected is dict:
        ok = ok or isinstance(value, Mapping)
    elif expected is not None:
        ok = ok or isinstance(value, expected)
    if not ok:
        raise ConfigError(
            f"parameter {p.name!r}: {what} is {value!r} ({type(value).__name__}), expected "
            f"{getattr(expected, '__name__', expected)}"
        )
    if p.choices is not None and value not in p.choices:
        raise ConfigError(f"parameter {p.name!r}: {what} is {value!r}, not one of {list(p.choices)}")


@hookimpl
def config_defaults(experiment_class: type, argv: list[str] | None) -> dict[str, Any] | None:
    """The ``config_defaults`` hook: ``experiment_class``'s declared defaults (``--help`` in ``argv`` prints
    :func:`params_help` and exits); each default is checked first."""
    declared = declared_params(experiment_class)
    if argv is not None and ("--help" in argv or "-h" in argv):
        print(params_help(experiment_class))
        raise SystemExit(0)
    return {name: p.default for name, p in declared.items()} or None


@hookimpl
def check_config(experiment_class: type, config: Any) -> None:
    """The ``check_config`` hook: every declared parameter's value, after the overrides."""
    for name, p in declared_params(experiment_class).items():
        check_value(p, config[name], f"config {name!r}")


def params_help(cls: type) -> str:
    """``--help``'s text: the class's first docstring line and one line per declared parameter (xmen's)."""
    lines = [f"usage: {cls.__name__} [--KEY VALUE ...]"]
    doc = (cls.__doc__ or "").strip().splitlines()
    if doc:
        lines.append(doc[0])
    declared = declared_params(cls)
    if declared:
        lines.append("\nparameters:")
        width = max(len(n) for n in declared) + 2
        for name, p in declared.items():
            kind = getattr(p.type, "__name__", str(p.type))
            extra = f" (one of {', '.join(map(repr, p.choices))})" if p.choices else ""
            lines.append(f"  --{name:<{width}}{kind} = {p.default!r}  {p.help}{extra}".rstrip())
    return "\n".join(lines)


def _plain_type(annotation: Any) -> type | None:
    if isinstance(annotation, type):
        return annotation
    if isinstance(annotation, str):  # from __future__ import annotations
        return {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}.get(
            annotation
        )
    return None


__all__ = [
    "Param",
    "check_config",
    "check_value",
    "config_defaults",
    "declared_params",
    "param",
    "params_help",
]
