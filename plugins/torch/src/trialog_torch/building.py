"""Build objects named in a config by import path or short name; every failure names the config key.

A spec is either a type (``"torch.optim.Adam"``, ``"my_pkg.models:Net"``, a short name such as ``"adam"``)
or a mapping ``{"type": ..., "params": {...}}``. Nothing is imported until a spec is built, so loading a
config stays side-effect free.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from trialog.errors import ConfigError

__all__ = ["build_object", "import_object", "resolve_type", "split_spec"]


def import_object(path: str, key: str) -> Any:
    """Import ``"pkg.mod.Name"`` or ``"pkg.mod:Name.attr"``; a failure is a ConfigError naming ``key``."""
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(
            f"config key '{key}' must be an import path string such as 'torch.optim.Adam', got {path!r}"
        )
    path = path.strip()
    if ":" in path:
        module_name, _, attr_path = path.partition(":")
        candidates = [(module_name, attr_path)]
    else:
        # "a.b.C.D": the longest importable module prefix wins, the rest are attributes
        parts = path.split(".")
        candidates = [(".".join(parts[:i]), ".".join(parts[i:])) for i in range(len(parts) - 1, 0, -1)]
    first_error: BaseException | None = None
    for module_name, attr_path in candidates:
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError as exc:
            # only a missing module of this very prefix means "try a shorter one"; a broken import is reported
            if isinstance(exc, ModuleNotFoundError) and exc.name and module_name.startswith(exc.name):
                first_error = first_error or exc
                continue
            raise ConfigError(
                f"config key '{key}': importing module '{module_name}' for '{path}' failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        try:
            for attr in attr_path.split("."):
                obj = getattr(obj, attr)
        except AttributeError as exc:
            raise ConfigError(
                f"config key '{key}': module '{module_name}' has no attribute '{attr_path}' (from '{path}'); "
                "check the spelling of the import path"
            ) from exc
        return obj
    detail = f" ({first_error})" if first_error else ""
    raise ConfigError(
        f"config key '{key}': cannot import '{path}'{detail}; give an import path such as 'torch.optim.Adam' "
        "or 'my_package.my_module:MyClass', and make sure the module is on PYTHONPATH"
    )


def resolve_type(
    name: str,
    key: str,
    *,
    registry: Mapping[str, Any] | None = None,
    modules: Iterable[str] = (),
    kind: str = "object",
) -> Any:
    """Find the callable named ``name``: a registry entry, a class in one of ``modules`` (case-insensitive), or an import path."""
    if not isinstance(name, str):
        if callable(name):
            return name
        raise ConfigError(f"config key '{key}' must name a {kind} type as a string, got {name!r}")
    registry = dict(registry or {})
    if name in registry:
        value = registry[name]
        return import_object(value, key) if isinstance(value, str) else value
    modules = list(modules)
    if "." not in name and ":" not in name:
        wanted = name.lower().replace("_", "")
        for module_name in modules:
            module = importlib.import_module(module_name)
            for attr in dir(module):
                if attr.lower() == wanted and callable(getattr(module, attr)):
                    return getattr(module, attr)
        known = sorted(registry)
        where = f" or a class of {', '.join(modules)}" if modules else ""
        raise ConfigError(
            f"config key '{key}': unknown {kind} type '{name}'; use one of {known}{where}, "
            "or an import path such as 'my_package.my_module:MyClass'"
        )
    return import_object(name, key)


def split_spec(
    spec: Any, key: str, *, extra_keys: Iterable[str] = ()
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Split a spec into (type, params, extras); unknown keys of a mapping are a ConfigError naming them."""
    if isinstance(spec, str) or callable(spec):
        return spec, {}, {}
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"config key '{key}' must be a type name or a mapping with 'type' and 'params', got {type(spec).__name__}"
        )
    allowed = {"type", "params", *extra_keys}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ConfigError(
            f"config key '{key}' has unknown key(s) {unknown}; allowed: {sorted(allowed)} "
            "(constructor arguments go under 'params')"
        )
    if "type" not in spec:
        raise ConfigError(f"config key '{key}.type' is missing: name the {key.rsplit('.', 1)[-1]} to build")
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(
            f"config key '{key}.params' must be a mapping of constructor arguments, got {params!r}"
        )
    extras = {k: spec[k] for k in extra_keys if k in spec}
    return spec["type"], dict(params), extras


def build_object(
    spec: Any,
    key: str,
    *args: Any,
    registry: Mapping[str, Any] | None = None,
    modules: Iterable[str] = (),
    kind: str = "object",
    extra_keys: Iterable[str] = (),
    **kwargs: Any,
) -> Any:
    """Build ``type(*args, **params, **kwargs)`` from a spec; bad types and bad params name ``key``."""
    type_name, params, _ = split_spec(spec, key, extra_keys=extra_keys)
    factory: Callable[..., Any] = resolve_type(
        type_name,
        f"{key}.type" if not isinstance(spec, str) else key,
        registry=registry,
        modules=modules,
        kind=kind,
    )
    label = getattr(factory, "__qualname__", repr(factory))
    _check_param_kinds(factory, params, f"{key}.params", label)
    try:
        return factory(*args, **params, **kwargs)
    except TypeError as exc:
        raise ConfigError(
            f"config key '{key}.params': {label}(...) rejected the parameters {sorted(params)}: {exc}"
        ) from exc
    except (ValueError, KeyError, AssertionError) as exc:
        raise ConfigError(
            f"config key '{key}.params': building {label} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _check_param_kinds(factory: Any, params: Mapping[str, Any], key: str, label: str) -> None:
    """A parameter whose default is a number or a bool must be given one (``"lr": "0.01"`` is a ConfigError).

    The defaults are the only types every library's signature states (torch's optimizers annotate
    ``Union[float, Tensor]``); a string where the default is a number is a config mistake, never intended.
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    for name, value in params.items():
        param = signature.parameters.get(name)
        if param is None or param.default is inspect.Parameter.empty or param.default is None:
            continue
        default = param.default
        if isinstance(default, bool):
            wrong = not isinstance(value, bool)
            want = "true or false"
        elif isinstance(default, (int, float)):
            wrong = isinstance(value, (str, bool))
            want = f"a number (its default is {default!r})"
        else:
            continue
        if wrong:
            raise ConfigError(
                f"config key '{key}.{name}': {label} takes {want}, got {value!r} ({type(value).__name__})"
            )
