"""``trialog.runs_frame`` (with trialog-runs installed): the runs under a folder as a pandas DataFrame.

Like ``mlflow.search_runs``; trialog-runs provides the top-level name through the ``trialog.exports``
entry-point group, so ``from trialog import runs_frame`` works (``from trialog_runs import runs_frame`` too).

One row per run folder (nested folders and sweeps included, as ``trialog runs ls`` finds them), one
column per field the filter language sees (:func:`trialog_runs.query.run_fields`): the run's fields
(``name``, ``status``, ``start``, ``tags``...), ``config.<dotted key>`` and ``<tag>/<name>.<stat>`` per
result series, plus ``path``, ``folder`` and ``sweep`` (relative to the folder
given) and ``duration`` in seconds. pandas is the optional extra ``trialog-runs[pandas]``, imported on call.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from trialog.api import optional_import, walk_runs
from trialog.errors import TrialogError

__all__ = ["runs_frame", "runs_records"]

_FIRST = ("path", "folder", "sweep", "name", "experiment", "status", "start", "end", "duration", "epoch")


def runs_records(
    path: str | os.PathLike[str], where: str | None = None, *, removed: bool = False
) -> list[dict[str, Any]]:
    """The rows :func:`runs_frame` is made of, as plain dicts (no pandas needed).

    ``where`` is a filter (``"lr<0.01 and status=finished"``, see :mod:`trialog_runs.query`); removed runs
    (``trialog runs rm``) are left out unless ``removed=True``. A run that cannot be read is skipped.
    """
    from .cli import relative_folder, run_filter_fields
    from .query import ALIASES, AMBIGUOUS, compile_query

    query = compile_query(where)
    base = Path(path)
    records = []
    for run_dir, sweep in walk_runs(base):
        try:
            fields = run_filter_fields(run_dir, {"folder": relative_folder(run_dir, base), "sweep": sweep})
        except TrialogError:
            continue
        if (fields["removed"] and not removed) or not query.matches(fields):
            continue
        fields.pop(AMBIGUOUS, None)
        for key in fields.pop(ALIASES, ()):  # a bare result name is the filter's shorthand, not a column
            del fields[key]
        records.append({**fields, "path": str(run_dir.resolve())})
    return records


def runs_frame(path: str | os.PathLike[str], where: str | None = None, *, removed: bool = False) -> Any:
    """A pandas DataFrame with one row per run under ``path`` (see the module docstring for the columns).

    ``trialog.runs_frame("runs", where="status=finished").sort_values("val/accuracy.max")``. Needs pandas
    (``pip install 'trialog-runs[pandas]'``); without it a :class:`TrialogError` says so.
    """
    pd = optional_import("pandas", "trialog.runs_frame", "trialog-runs[pandas]")
    records = runs_records(path, where, removed=removed)
    columns: dict[str, None] = dict.fromkeys(_FIRST)
    for record in records:
        columns.update(dict.fromkeys(record))
    return pd.DataFrame.from_records(records, columns=list(columns))
