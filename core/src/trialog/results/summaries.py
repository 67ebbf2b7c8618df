"""Which series a summary is about: one per (name, tag), keyed ``tag/name`` (``val/accuracy``).

The name says what was measured, the tag on what (README, "Naming results"). Every summary holds one entry
per series under :func:`series_key`, so a train value never stands in for a val one; a bare name finds its
series where only one tag has it, else an :class:`~trialog.errors.AmbiguousResultError` names the keys. Old
folders read as they are: trialog 0.1.0's ``name="val/accuracy", tag="accuracy"`` keys as ``val/accuracy``
too; trixi's label is the tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from trialog.errors import AmbiguousResultError

__all__ = ["SeriesMap", "series_key", "series_values", "split_key"]


def series_key(name: str, tag: str | None) -> str:
    """``tag/name``, or ``name`` when untagged or when the name already ends in ``/tag`` (trialog 0.1.0)."""
    if tag is None or tag == "" or name == tag or name.endswith("/" + tag):
        return name
    return f"{tag}/{name}"


def series_values(values: Mapping[tuple[str, str | None], Any]) -> dict[str, Any]:
    """``{(name, tag): v}`` -> ``{series key: v}``, plus ``{name: v}`` for each name only one tag has.

    What a flat consumer (Ray Tune's metric dict) needs so that both ``val/accuracy`` and an unambiguous
    bare ``error`` name a value, and an ambiguous bare name names none.
    """
    out = {series_key(name, tag): v for (name, tag), v in values.items()}
    tags: dict[str, list[Any]] = {}
    for (name, _), v in values.items():
        tags.setdefault(name, []).append(v)
    for name, found in tags.items():
        if len(found) == 1:
            out.setdefault(name, found[0])
    return out


def split_key(key: str) -> tuple[str, str | None]:
    """The (name, tag) a key written by :func:`series_key` most likely came from (``tag/name``)."""
    tag, sep, name = key.partition("/")
    return (name, tag) if sep and name else (key, None)


class SeriesMap(dict):  # type: ignore[type-arg]
    """``{series key: value}`` in which a bare name also finds its series where only one tag has it.

    ``pairs`` maps each key to the (name, tag) it summarises. ``m["accuracy"]`` is ``m["val/accuracy"]``
    when accuracy was logged under val only, an :class:`AmbiguousResultError` when under val and train,
    a ``KeyError`` when never; ``get`` and ``in`` resolve the same way (``get`` returns the default only
    for a name never logged).
    """

    def __init__(
        self,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
        pairs: Mapping[str, tuple[str, str | None]] | None = None,
    ) -> None:
        super().__init__(items)
        self.pairs: dict[str, tuple[str, str | None]] = dict(pairs or {})

    def pair(self, key: str) -> tuple[str, str | None]:
        """The (name, tag) behind ``key``."""
        return self.pairs.get(key) or split_key(key)

    def key_of(self, name: str, tag: str | None = None) -> str:
        """The key of ``name`` (under ``tag`` when given); raises KeyError or AmbiguousResultError."""
        if tag is not None:
            key = series_key(name, tag)
            if dict.__contains__(self, key):
                return key
            raise KeyError(f"no result {name!r} with tag {tag!r}; known: {self._known()}")
        if dict.__contains__(self, name):
            return name
        matches = [k for k in self if self.pair(k)[0] == name]
        if len(matches) == 1:
            return matches[0]
        if matches:
            tags = ", ".join(repr(self.pair(k)[1]) for k in matches)
            raise AmbiguousResultError(
                f"result {name!r} is logged under the tags {tags}: name one series "
                f"({' or '.join(repr(k) for k in matches)}; in Python: tag=...)"
            )
        raise KeyError(f"no result named {name!r}; known: {self._known()}")

    def _known(self) -> str:
        return ", ".join(map(repr, self)) or "none yet"

    def __missing__(self, key: str) -> Any:
        resolved = self.key_of(key)
        return dict.__getitem__(self, resolved)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[key]
        except AmbiguousResultError:
            raise
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        if not isinstance(key, str):
            return False
        try:
            self.key_of(key)
        except AmbiguousResultError:
            raise
        except KeyError:
            return False
        return True
