"""The run registry: purpose, notes, tags, star, display name and soft removal, kept in each run's ``run.json``.

Every change goes through the core's one writer of run.json, :func:`trialog.api.update_run_meta`: a
read-modify-write under an exclusive ``fcntl.flock`` on the run folder and an atomic replace, the same lock
the running experiment takes for its heartbeat writes, which keep the registry keys found on disk: a note
added while the experiment runs is never overwritten by its next heartbeat. Renaming changes the display
name only; the folder stays. Every function returns the run's registry fields after the change
(:func:`registry_of`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trialog.api import Run, change_note, check_text, registry_of, run_status, update_run_meta
from trialog.errors import RegistryError, RunFolderError

MAX_NAME = 200
_TAG = re.compile(r"^[A-Za-z0-9_.:+-]{1,64}$")

__all__ = [
    "RegistryError",
    "add_note",
    "check_tag",
    "purge",
    "registry_of",
    "rename",
    "set_purpose",
    "set_removed",
    "set_starred",
    "update_tags",
]


def _update(run_dir: str | os.PathLike[str], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    return registry_of(update_run_meta(run_dir, change))


def add_note(run_dir: str | os.PathLike[str], text: str) -> dict[str, Any]:
    """Append a timestamped note (notes are never edited; :func:`trialog_runs.notes.change_note` removes one)."""
    change_note(run_dir, check_text(text, "note"))  # text only: ``exp.note(5)`` writes "5", this refuses
    return Run(run_dir).registry


def check_tag(tag: str) -> str:
    """``tag`` when it is 1-64 letters, digits and ``_ . : + -``; else a :class:`RegistryError`."""
    if not isinstance(tag, str) or not _TAG.match(tag):
        raise RegistryError(f"tag {tag!r}: use 1-64 letters, digits and _ . : + -")
    return tag


def update_tags(
    run_dir: str | os.PathLike[str], add: Sequence[str] = (), remove: Sequence[str] = ()
) -> dict[str, Any]:
    """Add and remove tags (kept in the order they were first added)."""
    add = [check_tag(t) for t in add]
    remove = [check_tag(t) for t in remove]

    def change(d: dict[str, Any]) -> None:
        tags = [t for t in (d.get("tags") or []) if t not in remove]
        tags += [t for t in dict.fromkeys(add) if t not in tags]
        d["tags"] = tags

    return _update(run_dir, change)


def set_starred(run_dir: str | os.PathLike[str], starred: bool | None = None) -> dict[str, Any]:
    """Star or unstar a run; ``None`` toggles."""
    return _update(
        run_dir,
        lambda d: d.__setitem__("starred", (not d.get("starred")) if starred is None else bool(starred)),
    )


def rename(run_dir: str | os.PathLike[str], name: str | None) -> dict[str, Any]:
    """Set the display name (``None`` or "" goes back to the experiment name); the folder never moves."""
    value = None if not name else check_text(name, "name", MAX_NAME)
    if value is not None and "\n" in value:
        raise RegistryError("name must be one line")
    return _update(run_dir, lambda d: d.__setitem__("display_name", value))


def set_purpose(run_dir: str | os.PathLike[str], purpose: str | None) -> dict[str, Any]:
    """Set why the run exists (``None`` or "" clears it)."""
    value = None if not purpose else check_text(purpose, "purpose")
    return _update(run_dir, lambda d: d.__setitem__("purpose", value))


def set_removed(run_dir: str | os.PathLike[str], removed: bool = True) -> dict[str, Any]:
    """Soft-delete (hidden from listings unless asked for) or restore a run."""
    return _update(run_dir, lambda d: d.__setitem__("removed", bool(removed)))


def purge(run_dir: str | os.PathLike[str]) -> None:
    """Delete a run folder for good. Refuses a folder that is not a trialog run or whose run is alive."""
    path = Path(run_dir)
    if path.is_symlink() or not (path / "run.json").is_file():
        raise RunFolderError(f"{str(path)!r} is not a trialog run folder; nothing deleted")
    run = Run(path)
    if run_status(run.meta, path)[0] == "running":
        raise RegistryError(f"{str(path)!r} is still running; stop it before deleting it")
    shutil.rmtree(path)
