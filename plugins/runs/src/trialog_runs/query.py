"""The run filter language shared by ``trialog runs ls --where`` and ``trialog browse``.

::

    lr<0.01 and status=finished and tag:baseline
    (model.depth>=18 or name~resnet) and not starred
    loss.min<0.2 and seed!=3
    val/accuracy.max>0.99 and train/loss.last<0.1

A comparison is ``FIELD OP VALUE`` with OP one of ``= == != < <= > >= ~`` (``~``: contains, ignoring
case). A field is looked up in a run's fields (:func:`run_fields`): exactly, then as ``config.FIELD``,
then as ``FIELD.last`` (a bare result name means its last value). Results are summarised per series
(name, tag) and named ``tag/name.STAT`` (``val/accuracy.max``; :class:`trialog.api.SeriesMap`); a bare
``accuracy.max`` means the one series of that name where only one tag has it, and is a :class:`QueryError`
naming the series where several do (a run with train and val accuracy). ``tag:T`` tests a tag, a bare
``starred`` / ``removed`` a flag; ``and``, ``or``, ``not`` and parentheses combine. A run lacking the
field does not match. Values are numbers, ``true``/``false``/``null``, bare words or quoted strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trialog.api import SeriesMap
from trialog.errors import TrialogError

__all__ = ["Query", "QueryError", "compile_query", "run_fields"]

_MAX_LENGTH = 2000
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<op><=|>=|==|!=|=|<|>|~) |
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*') |
        (?P<word>[^\s()<>=!~"']+)
    )""",
    re.VERBOSE,
)
_FLAGS = ("starred", "removed")


class QueryError(TrialogError, ValueError):
    """A filter expression that cannot be parsed (the message shows where)."""


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"filter {text!r}: unexpected {text[pos:].strip()[:10]!r} at position {pos}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


def _value(kind: str, raw: str) -> Any:
    if kind == "string":
        body = raw[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none"):
        return None
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


Predicate = Callable[[Mapping[str, Any]], bool]


class Query:
    """A compiled filter: ``Query("lr<0.01").matches(run_fields(...))``."""

    def __init__(self, text: str) -> None:
        if len(text) > _MAX_LENGTH:
            raise QueryError(f"filter is {len(text)} characters long; the limit is {_MAX_LENGTH}")
        self.text = text
        self._tokens = _tokens(text)
        self._pos = 0
        self._predicate: Predicate = self._parse_or() if self._tokens else (lambda fields: True)
        if self._pos < len(self._tokens):
            _, raw, where = self._tokens[self._pos]
            raise QueryError(f"filter {text!r}: unexpected {raw!r} at position {where}")

    def matches(self, fields: Mapping[str, Any]) -> bool:
        return bool(self._predicate(fields))

    def __repr__(self) -> str:
        return f"Query({self.text!r})"

    # -- recursive descent ---------------------------------------------------------------------

    def _peek(self) -> tuple[str, str, int] | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _is_word(self, word: str) -> bool:
        tok = self._peek()
        return tok is not None and tok[0] == "word" and tok[1].lower() == word

    def _parse_or(self) -> Predicate:
        parts = [self._parse_and()]
        while self._is_word("or"):
            self._pos += 1
            parts.append(self._parse_and())
        return parts[0] if len(parts) == 1 else (lambda f: any(p(f) for p in parts))

    def _parse_and(self) -> Predicate:
        parts = [self._parse_not()]
        while True:
            if self._is_word("and"):
                self._pos += 1
            elif self._peek() is None or self._is_word("or") or self._peek()[0] == "rparen":  # type: ignore[index]
                break
            parts.append(self._parse_not())  # juxtaposition means "and"
        return parts[0] if len(parts) == 1 else (lambda f: all(p(f) for p in parts))

    def _parse_not(self) -> Predicate:
        if self._is_word("not"):
            self._pos += 1
            inner = self._parse_not()
            return lambda f: not inner(f)
        return self._parse_atom()

    def _parse_atom(self) -> Predicate:
        tok = self._peek()
        if tok is None:
            raise QueryError(f"filter {self.text!r}: ends where a condition is expected")
        kind, raw, where = tok
        if kind == "lparen":
            self._pos += 1
            inner = self._parse_or()
            close = self._peek()
            if close is None or close[0] != "rparen":
                raise QueryError(f"filter {self.text!r}: '(' at position {where} is never closed")
            self._pos += 1
            return inner
        if kind != "word":
            raise QueryError(f"filter {self.text!r}: expected a field at position {where}, got {raw!r}")
        self._pos += 1
        if raw.lower().startswith("tag:"):
            tag = raw[4:]
            if not tag:
                raise QueryError(f"filter {self.text!r}: 'tag:' at position {where} needs a tag")
            return lambda f: tag in (f.get("tags") or ())
        nxt = self._peek()
        if nxt is None or nxt[0] != "op":
            if raw.lower() in _FLAGS:
                flag = raw.lower()
                return lambda f: bool(f.get(flag))
            raise QueryError(
                f"filter {self.text!r}: {raw!r} at position {where} needs a comparison (e.g. {raw}=VALUE)"
            )
        op = nxt[1]
        self._pos += 1
        val = self._peek()
        if val is None or val[0] not in ("word", "string"):
            raise QueryError(f"filter {self.text!r}: {raw}{op} at position {where} needs a value")
        self._pos += 1
        return _comparison(raw, op, _value(val[0], val[1]))


_STATS = ("last", "min", "max", "mean", "count")
#: run_fields' entry listing, per bare result name logged under several tags, its series keys.
AMBIGUOUS = "\x00ambiguous"
#: run_fields' entry listing the bare-name shorthands it added (``accuracy.max`` for ``val/accuracy.max``).
ALIASES = "\x00aliases"


def _lookup(fields: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    for key in (name, f"config.{name}", f"{name}.last"):
        if key in fields:
            return True, fields[key]
    ambiguous = fields.get(AMBIGUOUS)
    if ambiguous:
        base, _, stat = name.rpartition(".")
        if stat not in _STATS:
            base, stat = name, "last"
        if base in ambiguous:
            options = " or ".join(f"{k}.{stat}" for k in ambiguous[base])
            raise QueryError(
                f"{name!r} is ambiguous in run {fields.get('folder') or fields.get('name')!r}: {base!r} is logged "
                f"under several tags; write {options}"
            )
    return False, None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _comparison(name: str, op: str, expected: Any) -> Predicate:
    def test(fields: Mapping[str, Any]) -> bool:
        found, actual = _lookup(fields, name)
        if not found:
            return False
        if name == "tags" or name == "tag":
            values = actual if isinstance(actual, (list, tuple)) else [actual]
            return any(_compare(v, op, expected) for v in values)
        return _compare(actual, op, expected)

    return test


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "~":
        return str(expected).lower() in _text(actual).lower()
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        if math.isnan(a):
            return op == "!="
        return {
            "=": a == b,
            "==": a == b,
            "!=": a != b,
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
        }[op]
    if op in ("=", "=="):
        return actual == expected or (actual is not None and _text(actual) == _text(expected))
    if op == "!=":
        return not (actual == expected or (actual is not None and _text(actual) == _text(expected)))
    if actual is None or expected is None:
        return False
    sa, sb = _text(actual), _text(expected)
    return {"<": sa < sb, "<=": sa <= sb, ">": sa > sb, ">=": sa >= sb}[op]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, default=str)


def compile_query(text: str | None) -> Query:
    """Parse ``text`` (None or empty matches every run); raises :class:`QueryError` naming the position."""
    return Query(text or "")


def run_fields(
    meta: Mapping[str, Any],
    config: Mapping[str, Any],
    summary: Mapping[str, Mapping[str, Any]],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The flat fields a filter sees: run.json's, ``config.<dotted key>``, ``<result>.last|min|max|mean|count``.

    ``config`` is already flat (dotted keys); ``meta`` is run.json (status corrected).
    """
    fields: dict[str, Any] = {}
    for key in ("status", "start", "end", "host", "user", "seed", "epoch", "purpose", "kind"):
        if key in meta:
            fields[key] = meta[key]
    fields["name"] = meta.get("display_name") or meta.get("name")
    fields["experiment"] = meta.get("name")
    fields["tags"] = list(meta.get("tags") or [])
    fields["starred"] = bool(meta.get("starred"))
    fields["removed"] = bool(meta.get("removed"))
    git = meta.get("git") or {}
    if isinstance(git, Mapping):
        fields["commit"] = git.get("commit")
    for key, value in config.items():
        fields[f"config.{key}"] = value
    series = summary if isinstance(summary, SeriesMap) else SeriesMap(summary)
    by_name: dict[str, list[str]] = {}
    for key, stats in summary.items():
        for stat in _STATS:
            if stat in stats:
                fields[f"{key}.{stat}"] = stats[stat]
        name = series.pair(key)[0]
        if name != key:
            by_name.setdefault(name, []).append(key)
    for name, keys in by_name.items():  # a bare name: its one series, or nothing and a named ambiguity
        if len(keys) == 1:
            for stat in _STATS:
                alias = f"{name}.{stat}"
                if alias not in fields:
                    fields[alias] = fields.get(f"{keys[0]}.{stat}")
                    fields.setdefault(ALIASES, []).append(alias)
        elif not any(f"{name}.{stat}" in fields for stat in _STATS):
            fields.setdefault(AMBIGUOUS, {})[name] = keys
    if extra:
        fields.update(extra)
    return fields


def search_text(fields: Mapping[str, Any]) -> str:
    """The text a free-text search looks in: name, purpose, tags, folder, notes."""
    parts: Sequence[Any] = [
        fields.get("name"),
        fields.get("experiment"),
        fields.get("purpose"),
        " ".join(fields.get("tags") or ()),
        fields.get("folder"),
        fields.get("notes_text"),
    ]
    return " ".join(str(p) for p in parts if p).lower()
