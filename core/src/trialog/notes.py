"""Notes on one run or many (xmen's ``note`` on the experiment and ``ExperimentManager.note(pattern, ...)``).

A note is ``{"time", "text"}`` in run.json's ``notes`` (a :mod:`trialog.registry` key, so a running
experiment's heartbeat keeps it). :func:`change_note` adds one or removes one by its number (0 is the first)
or its text; ``trialog runs note TARGET [TEXT] [--where EXPR] [--remove N]`` does it on a run folder, on every
run a folder of runs holds (filtered by ``--where``, the filter language of ``runs ls``), or on every run
folder a glob pattern names (``'runs/lr-*'``).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from .errors import TrialogError
from .registry import MAX_NOTE, RegistryError, add_note, bounded_text, update_meta


def change_note(
    run_dir: str | os.PathLike[str], text: str | int, remove: bool = False
) -> list[dict[str, Any]]:
    """Add the note ``text``, or with ``remove`` remove note number ``text`` (an int, or its text); returns the notes."""
    if not remove:
        return list(add_note(run_dir, str(text))["notes"])

    def drop(data: dict[str, Any]) -> None:
        notes = list(data.get("notes") or [])
        if isinstance(text, int) and not isinstance(text, bool):
            if not -len(notes) <= text < len(notes):
                raise RegistryError(f"{str(run_dir)!r} has {len(notes)} note(s); there is no note {text}")
            del notes[text]
        else:
            wanted = bounded_text(text, "note", MAX_NOTE)
            index = next((i for i, n in enumerate(notes) if n.get("text") == wanted), None)
            if index is None:
                raise RegistryError(f"{str(run_dir)!r} has no note {wanted!r}")
            del notes[index]
        data["notes"] = notes

    return list(update_meta(run_dir, drop)["notes"])


def select_runs(target: str, where: str | None = None) -> list[Path]:
    """The run folders ``target`` names: a run folder, a folder of runs, or a glob pattern; ``where`` filters."""
    from .query import compile_query
    from .run import find_runs, is_trialog_run
    from .runs_cli import run_filter_fields

    path = Path(target)
    if is_trialog_run(path):
        runs = [path]
    elif path.is_dir():
        runs = find_runs(path)
    else:
        runs = sorted(Path(p) for p in glob.glob(target) if Path(p).is_dir() and is_trialog_run(p))
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


__all__ = ["add_note_options", "change_note", "cmd_note", "select_runs"]
