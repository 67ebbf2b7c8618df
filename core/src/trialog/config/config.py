"""Configurations: trixi's ``Config`` (a dict with attribute access and dotted keys) and ``GridSearch``.

Files use trixi's JSON tags (``"__type__(mod.Cls)"``, ``"__function__(mod.f)"``, ``"__module__(m)"``,
``"__tuple__((1, 2))"``, ``"__set__({1, 2})"``, ``"__int__(3)"`` / ``"__float__(0.5)"`` for numeric keys).
Loading never imports anything: the first three become :class:`Unresolved` markers that dump back to
the same text, and only :meth:`Config.resolve` / :meth:`Config.init_objects`, called by the user's own
code, import their targets. Two kinds of tag come back as the object itself, because restoring them
imports nothing: ``__type__(builtins.X)`` when ``X`` is a built-in class (``str``, ``dict``,
``ValueError``...), and the classes and functions of the allow-list the user extends with
:func:`allow_config_types` (registered objects, looked up by their dotted name).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import importlib
import itertools
import json
import math
import os
import re
import sys
import types
import warnings
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from trialog.errors import ConfigError, DiskFullError, TrialogWarning
from trialog.fileio import write_atomic
from trialog.optional import optional_import

__all__ = ["Config", "GridSearch", "Unresolved", "allow_config_types", "flatten"]

_TAG = re.compile(r"__(int|float|tuple|set|type|function|module)__\((.*)\)", re.DOTALL)
_YAML_SUFFIXES = (".yml", ".yaml")
_TRUE = ("yes", "true", "t", "y", "1")
_FALSE = ("no", "false", "f", "n", "0")
_NONE = ("None", "none", "null")


@dataclass(frozen=True)
class Unresolved:
    """A ``__type__``, ``__function__`` or ``__module__`` tag read from a file, not imported yet."""

    kind: str
    target: str

    def __str__(self) -> str:
        return f"__{self.kind}__({self.target})"

    def resolve(self) -> Any:
        """Import the target and return it (this runs the target module's import-time code)."""
        try:
            if self.kind == "module":
                return importlib.import_module(self.target)
            parts = self.target.split(".")
            # The module part may be several segments long ("a.b.Outer.Inner"): try the longest first.
            for split in range(len(parts) - 1, 0, -1):
                module_name = ".".join(parts[:split])
                try:
                    obj = importlib.import_module(module_name)
                except ModuleNotFoundError as exc:
                    if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
                        continue
                    raise
                for attribute in parts[split:]:
                    obj = getattr(obj, attribute)
                return obj
            raise ModuleNotFoundError(f"no importable module in {self.target!r}")
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"cannot resolve {self}: {exc}; install the package that provides it or fix the config"
            ) from exc


#: The allow-list of :func:`allow_config_types`: dotted name -> the registered class or function.
_ALLOWED: dict[str, Any] = {}


def allow_config_types(*objects: Any) -> None:
    """Let config files restore these classes or functions on load (``__type__``/``__function__`` tags).

    A tag naming a registered object by its dotted name (``module.QualName``) is loaded as that object;
    nothing is imported, since the object is already here. Other tags stay :class:`Unresolved` (only
    built-in classes such as ``str`` are restored without registering). Anything but a class or a
    function is a ConfigError.
    """
    for obj in objects:
        if not isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            raise ConfigError(
                f"allow_config_types takes classes and functions, not {type(obj).__name__} {obj!r}"
            )
        _ALLOWED[f"{obj.__module__}.{obj.__qualname__}"] = obj


def _restorable(kind: str, target: str) -> Any:
    """The object a ``__type__``/``__function__`` tag names when restoring it imports nothing, else None."""
    if kind == "type" and target.startswith("builtins."):
        obj = getattr(builtins, target[len("builtins.") :], None)
        if isinstance(obj, type):
            return obj
    obj = _ALLOWED.get(target)
    if obj is not None and (kind == "type") == isinstance(obj, type):
        return obj
    return None


# --- trixi's JSON tags: Python values <-> JSON-able values -------------------------------------------


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _to_plain(value: Any, path: str, warn: bool) -> Any:
    """Encode ``value`` as JSON-able data, writing trixi's tags for what JSON cannot hold."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, Mapping):
        return {_key_to_plain(k, path, warn): _to_plain(v, _join(path, k), warn) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_plain(v, _join(path, i), warn) for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return f"__tuple__({_to_literal(value, path, warn)!r})"
    if isinstance(value, set):
        items = [_to_literal(v, path, warn) for v in value]
        with contextlib.suppress(TypeError):
            items.sort()  # a set has no order; sorting keeps dumps reproducible
        return "__set__({" + ", ".join(map(repr, items)) + "})" if items else "__set__(set())"
    if isinstance(value, Unresolved):
        return str(value)
    if isinstance(value, type):
        return f"__type__({value.__module__}.{value.__qualname__})"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
        return f"__function__({value.__module__}.{value.__qualname__})"
    if isinstance(value, types.ModuleType):
        return f"__module__({value.__name__})"
    # numpy and torch values can only exist if their modules are loaded; never import them here.
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.dtype):
        return f"__type__({value})"
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
        return _to_plain(value.tolist(), path, warn)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    for plain_type in (bool, int, float, str):  # subclasses such as IntEnum
        if isinstance(value, plain_type):
            return plain_type(value)
    if warn:
        warnings.warn(
            f"config key {path!r}: a {type(value).__name__} is not JSON-able; its repr() is written instead",
            TrialogWarning,
            stacklevel=3,
        )
    return repr(value)


def _to_literal(value: Any, path: str, warn: bool) -> Any:
    """``value`` as a Python literal for the body of a ``__tuple__``/``__set__`` tag (trixi writes repr)."""
    if isinstance(value, (tuple, list, set)):
        return type(value)(_to_literal(v, path, warn) for v in value)
    if isinstance(value, Mapping):
        return {_to_literal(k, path, warn): _to_literal(v, _join(path, k), warn) for k, v in value.items()}
    return _to_plain(value, path, warn)


def _key_to_plain(key: Any, path: str, warn: bool) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, int):
        return f"__int__({key})"
    if isinstance(key, float):
        return f"__float__({key!r})"
    plain = _to_plain(key, path, warn)
    return plain if isinstance(plain, str) else repr(key)


def _config_of(items: Iterable[tuple[Any, Any]]) -> Config:
    """A Config of ``items`` set one by one, in order (dotted keys nest; a later key replaces an earlier one)."""
    config = Config()
    for key, value in items:
        config[key] = value
    return config


def _from_plain(value: Any) -> Any:
    """Decode JSON/YAML data (or a tag's literal): objects become Configs, tag strings become values."""
    if isinstance(value, Mapping):
        return _config_of((_from_key(key), _from_plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, set)):
        return type(value)(_from_plain(item) for item in value)
    if isinstance(value, str):
        return _from_tag(value)
    return value


def _from_key(key: Any) -> Any:
    decoded = _from_plain(key)
    try:
        hash(decoded)
    except TypeError:
        return key  # "__set__(...)" and the like cannot be dict keys; keep the text
    return decoded


def _from_tag(text: str) -> Any:
    match = _TAG.fullmatch(text)
    if match is None:
        return text
    kind, body = match.groups()
    if kind in ("type", "function", "module"):
        restored = None if kind == "module" else _restorable(kind, body)
        return Unresolved(kind, body) if restored is None else restored
    # Literal tags are parsed with ast.literal_eval, which evaluates no code; text that does not parse
    # stays the string it was, so an odd user string never breaks loading.
    try:
        if kind == "int":
            return int(body)
        if kind == "float":
            return float(body)
        literal = ast.literal_eval(body)
        return _from_plain(tuple(literal) if kind == "tuple" else set(literal))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


# --- files -------------------------------------------------------------------------------------------


def _is_yaml(file_: Any) -> bool:
    name = file_ if isinstance(file_, (str, os.PathLike)) else getattr(file_, "name", "")
    return isinstance(name, (str, os.PathLike)) and Path(name).suffix.lower() in _YAML_SUFFIXES


def _import_yaml(source: str) -> Any:
    purpose = f"{source}: a YAML config"
    return optional_import("yaml", purpose, "trialog[yaml]", package="PyYAML", error=ConfigError)


def _parse(text: str, source: str, yaml_format: bool) -> Mapping[Any, Any]:
    """Parse JSON or YAML text into plain data; errors name the source, line and column."""
    if yaml_format:
        yaml = _import_yaml(source)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise ConfigError(f"{source}: malformed YAML{where}: {exc}") from exc
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
    if data is None and yaml_format:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a config must be a mapping at top level, found {type(data).__name__}")
    return data


def read_config_file(file_: str | os.PathLike[str] | IO[str]) -> Mapping[Any, Any]:
    """A config file (JSON, or YAML with pyyaml) as written: plain data, dotted keys not split into nesting.

    Every failure is a :class:`ConfigError` naming the file (missing, unreadable, malformed, not a mapping).
    """
    if hasattr(file_, "read"):
        return _parse(file_.read(), str(getattr(file_, "name", "<stream>")), _is_yaml(file_))
    path = Path(file_)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}; check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    return _parse(text, str(path), _is_yaml(path))


def _write(file_: str | os.PathLike[str] | IO[str], text: str) -> None:
    if hasattr(file_, "write"):
        file_.write(text)
        return
    path = Path(file_)
    try:
        # temp file, fsync, rename, fsync folder: a crash never leaves a half-written config in a run folder
        write_atomic(path, text.encode("utf-8"))
    except DiskFullError:
        raise
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc}") from exc


# --- dotted keys -------------------------------------------------------------------------------------


def _locate(container: Any, segment: str, key: str) -> Any:
    """The key or list index that one segment of dotted ``key`` names in ``container``."""
    if isinstance(container, Mapping):
        if segment in container:
            return segment
        if segment.lstrip("-").isdigit() and int(segment) in container:
            return int(segment)
    elif isinstance(container, (list, tuple)) and segment.lstrip("-").isdigit():
        if -len(container) <= int(segment) < len(container):
            return int(segment)
    raise KeyError(key)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _config_of((key, _deep_copy(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    try:
        return copy.deepcopy(value)
    except (TypeError, copy.Error):
        return value  # trixi's rule: what cannot be copied (locks, sockets) is shared


# --- command-line overrides --------------------------------------------------------------------------


def _split_argv(argv: Iterable[str]) -> list[tuple[str, list[str]]]:
    """``["--a.b", "3", "--c=x", "y"]`` -> ``[("a.b", ["3"]), ("c", ["x", "y"])]``."""
    overrides: list[tuple[str, list[str]]] = []
    for token in argv:
        if token.startswith("--") and len(token) > 2:
            name, has_value, value = token[2:].partition("=")
            overrides.append((name, [value] if has_value else []))
        elif overrides:
            overrides[-1][1].append(token)
        else:
            raise ConfigError(
                f"unexpected command-line argument {token!r}: config overrides look like --key value or --key=value"
            )
    return overrides


def _parse_token(token: str) -> Any:
    try:
        return _from_plain(json.loads(token))
    except ValueError:
        return _from_tag(token)


def _token_value(token: str, current: Any, option: str) -> Any:
    """Read one command-line token, guided by the type of the value it replaces."""
    if token in _NONE:
        return None
    if isinstance(current, bool):
        if token.lower() in _TRUE + _FALSE:
            return token.lower() in _TRUE
        raise ConfigError(f"{option} expects true or false, got {token!r}")
    if isinstance(current, str):
        return _json_string(token) if token.startswith('"') else token
    value = _parse_token(token)
    if isinstance(current, Unresolved) and isinstance(value, str):
        return Unresolved(current.kind, value)
    if isinstance(current, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, (int, float)) and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{option} expects {type(current).__name__}, got {token!r}")
    return value


def _json_string(token: str) -> str:
    """A token in double quotes is a JSON string (how values like "--x" or "null" are protected)."""
    try:
        value = json.loads(token)
    except ValueError:
        return token
    return value if isinstance(value, str) else token


def _argv_value(tokens: list[str], current: Any, option: str) -> Any:
    if isinstance(current, (list, tuple)):
        parsed = _parse_token(tokens[0]) if len(tokens) == 1 else None
        if isinstance(parsed, (list, tuple)):
            return type(current)(parsed)
        # Each item is read like the item it replaces (the last one for items beyond the old length).
        prototypes = [*current, *[current[-1] if current else None] * len(tokens)]
        return type(current)(_token_value(token, prototypes[i], option) for i, token in enumerate(tokens))
    if not tokens:
        if isinstance(current, bool):
            return True
        raise ConfigError(f"{option} needs a value")
    if len(tokens) > 1:
        raise ConfigError(f"{option} takes one value, got {len(tokens)}: {tokens}")
    return _token_value(tokens[0], current, option)


def _arg_token(value: Any) -> str:
    """One value as a command-line token that :meth:`Config.update_from_argv` reads back as ``value``."""
    if isinstance(value, str) and not value.startswith(("--", '"')) and value not in _NONE:
        return value
    return json.dumps(_to_plain(value, "", warn=True), separators=(",", ":"))


# --- the Config ----------------------------------------------------------------------------------------


class Config(dict):  # type: ignore[type-arg]
    """A dict with attribute access (``c.a.b``), nested Configs and dotted keys (``c["a.b.0"]``).

    Compatible with trixi's ``Config``. Methods win over keys of the same name: a key called
    ``items`` is reached as ``c["items"]``.

    Args:
        file_: load this JSON (or ``.yml``/``.yaml``) file first; a mapping here is used like ``config``.
        config: then update with this mapping.
        update_from_argv: finally apply ``--key value`` overrides from ``sys.argv``.
        deep: copy ``config`` and ``kwargs`` deeply instead of sharing nested values.
        **kwargs: further keys.
    """

    __slots__ = ()

    def __init__(
        self,
        file_: str | os.PathLike[str] | IO[str] | Mapping[Any, Any] | None = None,
        config: Mapping[Any, Any] | None = None,
        update_from_argv: bool = False,
        deep: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if isinstance(file_, Mapping):
            self.update(file_, deep=deep)
        elif file_ is not None:
            self.load(file_)
        if config is not None:
            self.update(config, deep=deep)
        if kwargs:
            self.update(kwargs, deep=deep)
        if update_from_argv:
            self.update_from_argv()

    # attribute access

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"Config has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"Config has no key {name!r}") from None

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *(k for k in self if isinstance(k, str) and k.isidentifier())]

    # dotted keys

    def __getitem__(self, key: Any) -> Any:
        if not (isinstance(key, str) and "." in key):
            return super().__getitem__(key)
        node: Any = self
        for segment in key.split("."):
            node = node[_locate(node, segment, key)]
        return node

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(value, Mapping) and not isinstance(value, Config):
            value = Config(config=value)
        if not (isinstance(key, str) and "." in key):
            super().__setitem__(key, value)
            return
        *parents, last = key.split(".")
        node: Any = self
        for depth, segment in enumerate(parents):
            try:
                node = node[_locate(node, segment, key)]
            except KeyError:
                if isinstance(node, list):
                    raise
                if not isinstance(node, MutableMapping):
                    raise self._not_a_container(key, parents[:depth], node) from None
                node[segment] = Config()
                node = node[segment]
        if isinstance(node, list):
            node[_locate(node, last, key)] = value
        elif isinstance(node, MutableMapping):
            try:
                node[_locate(node, last, key)] = value
            except KeyError:
                node[last] = value
        else:
            raise self._not_a_container(key, parents, node)

    def __delitem__(self, key: Any) -> None:
        if not (isinstance(key, str) and "." in key):
            super().__delitem__(key)
            return
        parent, _, last = key.rpartition(".")
        node = self[parent]
        del node[_locate(node, last, key)]

    def __contains__(self, key: object) -> bool:
        if not (isinstance(key, str) and "." in key):
            return super().__contains__(key)
        try:
            self[key]
        except KeyError:
            return False
        return True

    @staticmethod
    def _not_a_container(key: str, parents: list[str], node: Any) -> ConfigError:
        return ConfigError(
            f"cannot set config key {key!r}: {'.'.join(parents) or 'the root'!r} holds a "
            f"{type(node).__name__}, not a Config or list; replace it with a dict first"
        )

    def get(self, key: Any, default: Any = None) -> Any:
        """``self[key]`` (dotted keys allowed), or ``default`` when there is no such key."""
        try:
            return self[key]
        except KeyError:
            return default

    def setdefault(self, key: Any, default: Any = None) -> Any:
        """``self[key]``, first set to ``default`` when missing (dicts become Configs)."""
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> Config:
        """A shallow copy (nested Configs are shared)."""
        return Config(config=self)

    def hasattr_not_none(self, key: Any) -> bool:
        """Whether ``key`` exists and is not None."""
        return self.get(key) is not None

    # merging

    def update(  # type: ignore[override]
        self,
        dict_like: Mapping[Any, Any] | Iterable[tuple[Any, Any]] | None = None,
        deep: bool = False,
        ignore: Iterable[Any] | None = None,
        allow_dict_overwrite: bool = True,
        **kwargs: Any,
    ) -> None:
        """Merge ``dict_like`` into this Config, recursing into nested Configs (trixi's update).

        Args:
            deep: copy the source deeply first, so nothing is shared with it.
            ignore: keys to skip, here and inside nested Configs that are merged (as in trixi; a
                new nested dict is taken whole).
            allow_dict_overwrite: whether a dict may replace a non-dict value; if not, that is a
                ConfigError naming the key.
        """
        source: Mapping[Any, Any] = dict_like if isinstance(dict_like, Mapping) else dict(dict_like or ())
        if kwargs:
            source = {**source, **kwargs}
        if deep:
            source = _deep_copy(source)
        self._merge(source, frozenset(ignore or ()), allow_dict_overwrite, "")

    def _merge(
        self, source: Mapping[Any, Any], ignore: frozenset[Any], allow_dict_overwrite: bool, at: str
    ) -> None:
        for key, value in source.items():
            if key in ignore:
                continue
            if isinstance(value, Mapping) and key in self:
                current = self[key]
                if isinstance(current, Config):
                    current._merge(value, ignore, allow_dict_overwrite, _join(at, key))
                    continue
                if not allow_dict_overwrite:
                    raise ConfigError(
                        f"cannot merge a dict into config key {_join(at, key)!r}: it holds a "
                        f"{type(current).__name__}; pass allow_dict_overwrite=True to replace it"
                    )
            self[key] = value

    def deepupdate(
        self,
        dict_like: Mapping[Any, Any],
        ignore: Iterable[Any] | None = None,
        allow_dict_overwrite: bool = True,
    ) -> None:
        """:meth:`update` with ``deep=True``."""
        self.update(dict_like, deep=True, ignore=ignore, allow_dict_overwrite=allow_dict_overwrite)

    def update_missing(
        self, dict_like: Mapping[Any, Any], deep: bool = False, ignore: Iterable[Any] | None = None
    ) -> None:
        """Insert the keys of ``dict_like`` that this Config lacks, recursing into nested Configs."""
        skip = frozenset(ignore or ())
        for key, value in dict_like.items():
            if key in skip:
                continue
            if key not in self:
                self[key] = _deep_copy(value) if deep else value
            elif isinstance(value, Mapping) and isinstance(self[key], Config):
                self[key].update_missing(value, deep=deep, ignore=skip)

    def contains(self, dict_like: Mapping[Any, Any]) -> bool:
        """Whether every item of ``dict_like`` (recursively) is in this Config with an equal value."""
        for key, value in dict_like.items():
            if key not in self:
                return False
            mine = self[key]
            if isinstance(value, Mapping):
                if not (isinstance(mine, Config) and mine.contains(value)):
                    return False
            elif mine != value:
                return False
        return True

    def deepcopy(self) -> Config:
        """A deep copy; values that cannot be copied (locks, open files) are shared, as in trixi."""
        return _deep_copy(self)

    # files and strings

    def to_plain(self) -> dict[str, Any]:
        """This Config as JSON-able plain data, with trixi's tags as strings (what :meth:`dump` writes)."""
        return _to_plain(self, "", warn=True)

    def dumps(self, indent: int | None = 4, separators: tuple[str, str] = (",", ": "), **kwargs: Any) -> str:
        """JSON text with trixi's tags; ``kwargs`` go to :func:`json.dumps`."""
        return json.dumps(self.to_plain(), indent=indent, separators=separators, **kwargs)

    def dump(
        self,
        file_: str | os.PathLike[str] | IO[str],
        indent: int | None = 4,
        separators: tuple[str, str] = (",", ": "),
        **kwargs: Any,
    ) -> None:
        """Write to a path (atomically) or an open text file: YAML for ``.yml``/``.yaml``, else JSON."""
        if _is_yaml(file_):
            yaml = _import_yaml(str(getattr(file_, "name", file_)))
            text = yaml.safe_dump(self.to_plain(), sort_keys=False, allow_unicode=True, **kwargs)
        else:
            text = self.dumps(indent=indent, separators=separators, **kwargs)
        _write(file_, text)

    def load(self, file_: str | os.PathLike[str] | IO[str]) -> None:
        """Update from a JSON (or ``.yml``/``.yaml``) file. Tags stay :class:`Unresolved`; nothing is imported."""
        self.update(_from_plain(read_config_file(file_)))

    def loads(self, json_str: str) -> None:
        """Update from JSON text; like trixi, the outer braces may be left out (``'"a": 1'``)."""
        text = json_str.strip()
        if not text.startswith("{"):
            text = "{" + text + "}"
        self.update(_from_plain(_parse(text, "<string>", yaml_format=False)))

    def set_with_decode(self, key: str, value: str, stringify_value: bool = False) -> None:
        """Set ``key`` to ``value`` read as JSON (tags decoded), or kept as a string if it is not JSON."""
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError("set_with_decode takes a string key and a string value")
        self[key] = value if stringify_value else _parse_token(value)

    def set_from_string(self, str_: str, stringify_value: bool = False) -> None:
        """Set a value from ``"a.b=value"`` (see :meth:`set_with_decode`)."""
        key, has_value, value = str_.partition("=")
        if not has_value or not key:
            raise ConfigError(f"cannot set a config value from {str_!r}: write it as key=value, e.g. a.b=1")
        self.set_with_decode(key.strip(), value.strip(), stringify_value)

    def __str__(self) -> str:
        return json.dumps(_to_plain(self, "", warn=False), indent=4, separators=(",", ": "), sort_keys=True)

    def __repr__(self) -> str:
        return f"Config({super().__repr__()})"

    # tags -> objects, on request only

    def resolve(self) -> Config:
        """A copy with every :class:`Unresolved` tag (values and keys) imported. Runs module import code."""
        return _resolve_tree(self, "")

    def init_objects(self) -> Config:
        """A copy with tags resolved and every ``{Class: params}`` dict replaced by an instance (trixi).

        ``params`` is a dict of keyword arguments, a list/tuple of positional arguments, None for no
        arguments, or one positional argument. Like trixi, other keys of that dict are dropped. Works
        as ``config.init_objects()`` and as trixi's ``Config.init_objects(config)``.
        """
        return _instantiate(_resolve_tree(self, ""))

    # comparison and flattening

    def difference_config(self, *other_configs: Mapping[Any, Any], only_set: bool = False) -> Config:
        """The keys whose values differ between this and the other configs (see the static version)."""
        return Config.difference_config_static(self, *other_configs, only_set=only_set)

    @staticmethod
    def difference_config_static(*configs: Mapping[Any, Any], only_set: bool = False) -> Config:
        """A Config of every key whose value differs among ``configs``: ``{key: (v1, v2, ...)}``.

        A missing key reads as None. Keys that are Configs in every input are compared recursively.
        Values are compared in their dumped form (a class equals its unresolved tag). With
        ``only_set`` each key maps to the distinct values only, in first-seen order. Keys come in
        first-seen order.
        """
        difference = Config()
        keys = dict.fromkeys(key for config in configs for key in config)
        for key in keys:
            present = [key in config for config in configs]
            values = [config.get(key) for config in configs]
            plain = [_to_plain(value, str(key), warn=False) for value in values]
            if all(present) and all(p == plain[0] for p in plain):
                continue
            if all(present) and all(isinstance(value, Mapping) for value in values):
                mappings = [value for value in values if isinstance(value, Mapping)]
                difference[key] = Config.difference_config_static(*mappings, only_set=only_set)
            elif only_set:
                distinct = [values[i] for i, p in enumerate(plain) if p not in plain[:i]]
                difference[key] = tuple(distinct)
            else:
                difference[key] = tuple(values)
        return difference

    def flat(
        self, keep_lists: bool = True, max_split_size: int | None = 10, flatten_int: bool = False
    ) -> dict:
        """A flat dict with dotted keys: ``{"a": {"b": 1}, "l": [1, 2]}`` -> ``{"a.b": 1, "l": [1, 2]}``.

        Same result as trixi's ``flat``:

        Args:
            keep_lists: keep lists and tuples whole; if False they are split into ``"l.0"``, ``"l.1"``
                (one level; the items themselves are not flattened).
            max_split_size: lists longer than this are kept whole anyway (0 or None: no limit).
            flatten_int: join integer keys into dotted keys too; otherwise a dict under a non-string
                key stays a dict, and nested non-string keys are gathered into a dict under their
                parent's key.
        """
        join = (str, int) if flatten_int else (str,)
        return flatten(
            self, keep_lists=keep_lists, max_split_size=max_split_size, join=join, keep_empty=False
        )

    # command line

    def to_cmd_args_str(self) -> str:
        """``--key value`` options for :meth:`flat` items; :meth:`update_from_argv` reads them back."""
        import shlex

        options = []
        for key, value in self.flat().items():
            if isinstance(value, (list, tuple)):
                tokens = [_arg_token(item) for item in value] or ["[]"]
            else:
                tokens = [_arg_token(value)]
            options.append(" ".join([f"--{key}", *map(shlex.quote, tokens)]))
        return " ".join(options)

    def update_from_argv(self, argv: Iterable[str] | None = None) -> None:
        """Apply ``--a.b 3`` / ``--a.b=3`` overrides (default: ``sys.argv[1:]``).

        Only existing keys can be overridden; any other is a ConfigError naming it and its close
        matches. Values are read as JSON where possible, guided by the type of the value they replace
        (``--lr 1`` stays a float, ``--name 123`` a string, ``--flag`` alone sets a bool to True,
        ``--sizes 1 2 3`` a list). Nothing is changed unless every override is valid.
        """
        overrides = _split_argv(sys.argv[1:] if argv is None else argv)
        changes = []
        for key, tokens in overrides:
            if key not in self:
                raise self._unknown_key(key, f"--{key}")
            changes.append((key, _argv_value(tokens, self[key], f"--{key}")))
        for key, value in changes:
            self[key] = value

    def _unknown_key(self, key: str, source: str) -> ConfigError:
        import difflib

        known = sorted({str(k) for k in self.flat()} | {str(k) for k in self})
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        hint = (
            f"did you mean {', '.join(map(repr, close))}?"
            if close
            else f"known keys: {', '.join(known[:20])}"
        )
        return ConfigError(
            f"unknown config key {key!r} (from {source}): {hint} Only keys the config already has can be "
            "set this way; add the key to the config first"
        )


def flatten(
    data: Any,
    *,
    keep_lists: bool = True,
    max_split_size: int | None = None,
    join: tuple[type, ...] | None = None,
    keep_empty: bool = True,
) -> dict[Any, Any]:
    """Nested mappings to dotted keys: ``{"a": {"b": 1}, "l": [1]}`` -> ``{"a.b": 1, "l": [1]}``.

    The one config flattener (``trialog runs``, the browser, the notifiers, TensorBoard's hparams,
    :meth:`Config.flat`). By default every key is joined as text and an empty mapping stays a value
    (``{"a": {}}`` -> ``{"a": {}}``); anything that is not a mapping flattens to ``{}``.

    Args:
        keep_lists: keep lists and tuples whole; if False they are split into ``"l.0"``, ``"l.1"``
            (one level; the items themselves are not flattened).
        max_split_size: lists longer than this are kept whole anyway (0 or None: no limit).
        join: the key types joined into dotted keys (None: every key, as text); a mapping under
            another key stays a value, and nested keys of another type are gathered into a mapping
            under their parent's key (trixi's ``flat``).
        keep_empty: an empty mapping stays a value; if False it is left out.
    """
    if not isinstance(data, Mapping):
        return {}
    return dict(_flat_items(data, keep_lists, max_split_size, join, keep_empty))


def _flat_items(
    mapping: Mapping[Any, Any],
    keep_lists: bool,
    max_split_size: int | None,
    join: tuple[type, ...] | None,
    keep_empty: bool,
) -> Iterator[tuple[Any, Any]]:
    def joinable(key: Any) -> bool:
        return join is None or isinstance(key, join)

    for key, value in mapping.items():
        label = str(key) if join is None else key
        if isinstance(value, Mapping) and joinable(key) and (value or not keep_empty):
            rest = {}
            for subkey, subvalue in _flat_items(value, keep_lists, max_split_size, join, keep_empty):
                if joinable(subkey):
                    yield f"{key}.{subkey}", subvalue
                else:
                    rest[subkey] = subvalue
            if rest:
                yield label, rest
        elif (
            isinstance(value, (list, tuple))
            and not keep_lists
            and joinable(key)
            and not (max_split_size and len(value) > max_split_size)
        ):
            for index, item in enumerate(value):
                yield f"{key}.{index}", item
        else:
            yield label, value


def _resolve_tree(value: Any, path: str) -> Any:
    if isinstance(value, Unresolved):
        try:
            return value.resolve()
        except ConfigError as exc:
            raise ConfigError(f"config key {path or '<root>'!r}: {exc}") from exc.__cause__
    if isinstance(value, Mapping):
        resolved = Config()
        for key, item in value.items():
            resolved[_resolve_tree(key, path)] = _resolve_tree(item, _join(path, key))
        return resolved
    if isinstance(value, (list, tuple, set)):
        return type(value)(_resolve_tree(item, _join(path, i)) for i, item in enumerate(value))
    return value


def _instantiate(value: Any) -> Any:
    if isinstance(value, Mapping):
        for key, params in value.items():
            if isinstance(key, type):
                arguments = _instantiate(params)
                if isinstance(arguments, Mapping):
                    return key(**arguments)
                if isinstance(arguments, (list, tuple, set)):
                    return key(*arguments)
                return key() if arguments is None else key(arguments)
        return _config_of((key, _instantiate(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, set)):
        return type(value)(_instantiate(item) for item in value)
    return value


class GridSearch:
    """Every combination of value lists, as Configs: ``GridSearch({"lr": [0.1, 0.01], "bs": [8, 16]})``.

    Order (trixi's): keys sorted by name, the last key varying fastest; here
    ``{bs: 8, lr: 0.1}, {bs: 8, lr: 0.01}, {bs: 16, lr: 0.1}, {bs: 16, lr: 0.01}``. Keys may be dotted
    (``"optimizer.lr"``). With ``base``, each combination is a deep copy of ``base`` with those keys
    set, and a key ``base`` lacks is a ConfigError. ``grid[i]`` gives the i-th combination (handy for
    job arrays).
    """

    def __init__(self, grid: Mapping[str, Sequence[Any]], base: Mapping[Any, Any] | None = None) -> None:
        for key, values in grid.items():
            if not isinstance(key, str):
                raise ConfigError(f"grid search keys must be strings, got {key!r}")
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                raise ConfigError(f"grid search key {key!r}: give a list of values, got {values!r}")
            if not values:
                raise ConfigError(f"grid search key {key!r} has no values; give at least one")
        self.names = sorted(grid)
        self._values = [list(grid[key]) for key in self.names]
        self._base = Config(config=base) if base is not None else None
        if self._base is not None:
            for key in self.names:
                if key not in self._base:
                    raise self._base._unknown_key(key, "the grid search")

    def __len__(self) -> int:
        return math.prod(len(values) for values in self._values)

    def __iter__(self) -> Iterator[Config]:
        for combination in itertools.product(*self._values):
            yield self._config(combination)

    def __getitem__(self, index: int) -> Config:
        size = len(self)
        if not -size <= index < size:
            raise IndexError(f"grid search index {index} out of range for {size} combinations")
        index %= size
        combination = []
        for values in reversed(self._values):
            index, position = divmod(index, len(values))
            combination.append(values[position])
        return self._config(reversed(combination))

    def _config(self, combination: Iterable[Any]) -> Config:
        config = self._base.deepcopy() if self._base is not None else Config()
        for key, value in zip(self.names, combination):
            config[key] = _deep_copy(value)
        return config

    def __repr__(self) -> str:
        grid = ", ".join(f"{key!r}: {values!r}" for key, values in zip(self.names, self._values))
        return f"GridSearch({{{grid}}}, {len(self)} combinations)"
