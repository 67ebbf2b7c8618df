"""``trixi.util.gridsearch``: trixi's dict-shaped GridSearch over :class:`trialog.GridSearch`."""

from __future__ import annotations

import os
from typing import Any

from trialog.api import Config
from trialog.api import GridSearch as _GridSearch


class GridSearch(dict):  # type: ignore[type-arg]
    """``{key: [values]}``; :meth:`all_combinations` gives every combination as a dict (last key fastest)."""

    def all_combinations(self) -> list[dict[str, Any]]:
        """Every combination, keys sorted by name, the last one varying fastest."""
        return [dict(c) for c in _GridSearch(dict(self))]

    def read(self, file_: str | os.PathLike[str], raise_: bool = True, **kwargs: Any) -> GridSearch:
        """Add the grid in a JSON/YAML file (type tags are not imported); returns self."""
        try:
            self.update(dict(Config(file_)))
        except Exception:
            if raise_:
                raise
        return self


__all__ = ["GridSearch"]
