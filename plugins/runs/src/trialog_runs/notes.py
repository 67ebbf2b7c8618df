"""Notes on many runs (xmen's ``ExperimentManager.note(pattern, ...)``): ``trialog runs note``.

``trialog runs note TARGET [TEXT] [--where EXPR] [--remove N]`` adds a note to, or removes note N (0 is the
first) from, a run folder, every run a folder of runs holds (filtered by ``--where``, the filter language of
``runs ls``), or every run folder a glob pattern names (``'runs/lr-*'``). One run's notes are the core's
(``exp.note``, :func:`trialog.api.change_note`), which this module calls for each run.
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path
from typing import TextIO

from trialog.api import change_note, find_runs
from trialog.errors import TrialogError

__all__ = ["add_note_options", "change_note", "cmd_note", "select_runs"]


def _is_trialog_run(path: Path) -> bool:
    return (path / "run.json").is_file()


def select_runs(target: str, where: str | None = None) -> list[Path]:
    """The run folders ``target`` names: a run folder, a folder of runs, or a glob pattern; ``where`` filters."""
    from .cli import run_filter_fields
    from .query import compile_query

    path = Path(target)
    if _is_trialog_run(path):
        runs = [path]
    elif path.is_dir():
        runs = find_runs(path)
    else:
        runs = sorted(Path(p) for p in glob.glob(target) if Path(p).is_dir() and _is_trialog_run(Path(p)))
    if where:
        query = compile_query(where)
        runs = [r for r in runs if query.matches(run_filter_fields(r))]
    if not runs:
        raise TrialogError(
            f"no run folder matches {target!r}" + (f" with --where {where!r}" if where else "")
        )
    return runs


def cmd_note(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``trialog runs note TARGET [TEXT] [--where EXPR] [--remove N]``."""
    out = out or sys.stdout
    remove = getattr(args, "remove", None)
    if (args.text is None) == (remove is None):
        raise TrialogError("runs note: give the note's TEXT, or --remove N (not both)")
    for run in select_runs(args.run, getattr(args, "where", None)):
        notes = change_note(run, remove if remove is not None else args.text, remove=remove is not None)
        print(f"{run}: {len(notes)} note(s)", file=out)
    return 0


def add_note_options(parser: argparse.ArgumentParser) -> None:
    """``runs note``'s options beyond RUN and TEXT."""
    parser.add_argument("--where", metavar="EXPR", help="with a folder of runs: only the runs matching EXPR")
    parser.add_argument("--remove", type=int, metavar="N", help="remove note N (0 is the first) instead")
