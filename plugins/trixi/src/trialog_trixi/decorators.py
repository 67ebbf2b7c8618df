"""trixi's two decorators: a plain class made an Experiment, a function's arguments made a Config.

``experimentify`` turns a class with ``setup``/``train``/``validate``/``end``/``test`` methods (under any
names) into a subclass of an experiment class, so ``run()`` drives them::

    @experimentify(train_fn="fit", n_epochs=3, base_dir="runs")
    class Mnist:
        def setup(self): self.model = make_model()
        def fit(self, epoch): self.add_result(train_one_epoch(self.model), "loss")

    Mnist().run()

``with_args_as_config`` makes a function's arguments (defaults applied) a :class:`trialog.Config` that
the function reads as the global name ``fn_args_as_config`` while it runs (trixi's
``monkey_patch_fn_args_as_config``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from trialog.errors import ConfigError

_F = TypeVar("_F", bound=Callable[..., Any])

#: The lifecycle stages experimentify maps, with whether the stage is called with the epoch.
_STAGES = {"setup": False, "train": True, "validate": True, "end": False, "test": False}


class _InitGuard:
    # Sits between the user's class and the experiment class in the MRO: the user's
    # ``super().__init__()`` must not construct the experiment (and make a run folder) a second time.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


def _own_init(cls: type) -> Callable[..., None] | None:
    """The ``__init__`` the class defines or inherits from a class of its own (not ``object``'s)."""
    for k in cls.__mro__[:-1]:
        if "__init__" in vars(k):
            return vars(k)["__init__"]  # type: ignore[no-any-return]
    return None


def _stage(stage: str, fn: Callable[..., Any], with_epoch: bool) -> Callable[..., Any]:
    def call_with_epoch(self: Any, epoch: int) -> Any:
        return fn(self, epoch)

    def call(self: Any) -> Any:
        return fn(self)

    chosen = call_with_epoch if with_epoch else call
    chosen.__name__ = chosen.__qualname__ = stage
    chosen.__doc__ = fn.__doc__
    return chosen


def experimentify(
    base: type | None = None,
    setup_fn: str = "setup",
    train_fn: str = "train",
    validate_fn: str = "validate",
    end_fn: str = "end",
    test_fn: str = "test",
    **experiment_kwargs: Any,
) -> Callable[[type], type]:
    """Class decorator: the class becomes a subclass of ``base`` (default :class:`trialog.Experiment`).

    ``setup_fn`` ... ``test_fn`` name the class's methods for the lifecycle stages (``train_fn`` and
    ``validate_fn`` are called with the epoch); a stage the class lacks keeps ``base``'s. The class keeps its
    name, methods and constructor: ``MyClass(*args, **kwargs)`` first constructs the experiment from
    ``experiment_kwargs`` (``n_epochs``, ``config``, ``base_dir``, ...), then runs the class's own
    ``__init__`` with ``args``/``kwargs``. A method name the class does not have is a ConfigError.
    """
    if base is None:
        from .experiment import TrixiExperiment

        base = TrixiExperiment
    names = {"setup": setup_fn, "train": train_fn, "validate": validate_fn, "end": end_fn, "test": test_fn}

    def decorate(cls: type) -> type:
        if not isinstance(cls, type):
            raise ConfigError(f"experimentify decorates a class, not {type(cls).__name__} {cls!r}")
        namespace: dict[str, Any] = {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
        }
        for stage, attr in names.items():
            fn = getattr(cls, attr, None)
            if fn is None:
                if attr != stage:
                    raise ConfigError(
                        f"experimentify: {cls.__qualname__} has no method {attr!r} (given as {stage}_fn)"
                    )
                continue
            if not callable(fn):
                raise ConfigError(f"experimentify: {cls.__qualname__}.{attr} is not a method ({stage}_fn)")
            namespace[stage] = _stage(stage, fn, _STAGES[stage])
        own_init = _own_init(cls)

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            if (args or kwargs) and own_init is None:
                raise TypeError(
                    f"{cls.__qualname__}() takes no arguments: it has no __init__ (the experiment's options go "
                    "to the experimentify decorator)"
                )
            base.__init__(self, **experiment_kwargs)  # type: ignore[misc]
            if own_init is not None:
                own_init(self, *args, **kwargs)  # its super().__init__() ends at _InitGuard

        namespace["__init__"] = __init__
        try:
            made = type(cls.__name__, (cls, _InitGuard, base), namespace)
        except TypeError as exc:
            raise ConfigError(
                f"experimentify: {cls.__qualname__} cannot become a {base.__name__} ({exc}); subclass "
                f"{base.__name__} directly instead"
            ) from None
        return made

    return decorate


def with_args_as_config(f: _F, name: str = "fn_args_as_config") -> _F:
    """Decorator: while ``f`` runs, the global ``name`` of its module is a :class:`trialog.Config` of its arguments.

    Every parameter is in it, defaults applied (``*args`` as a tuple, ``**kwargs`` as a dict). The name is
    restored (or removed) when the call returns, so it never outlives the call (a recursive call sees its
    own arguments, its caller its own again). Like trixi's, not for threads: the global is one per module.
    """
    from trialog.api import Config

    signature = inspect.signature(f)
    missing = object()

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)  # the TypeError of a wrong call, before anything is set
        bound.apply_defaults()
        config = Config(config=dict(bound.arguments))
        scope = f.__globals__
        previous = scope.get(name, missing)
        scope[name] = config
        try:
            return f(*args, **kwargs)
        finally:
            if previous is missing:
                scope.pop(name, None)
            else:
                scope[name] = previous

    return wrapper  # type: ignore[return-value]


__all__ = ["experimentify", "with_args_as_config"]
