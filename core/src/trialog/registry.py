"""The run registry: purpose, notes, tags, star, display name and soft removal, kept in each run's ``run.json``.

Every change is a read-modify-write of ``run.json`` under an exclusive ``fcntl.flock`` on the run
folder and an atomic replace, the same lock :class:`trialog.run.RunMeta` takes for its
heartbeat writes, which keep the registry keys found on disk: a note added while the experiment runs
is never overwritten by its next heartbeat. Renaming changes the display name only; the folder stays.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import RunFolderError, TrialogError

#: run.json keys the registry owns (RunMeta keeps what is on disk for these).
REGISTRY_KEYS: tuple[str, ...] = ("purpose", "notes", "tags", "starred", "display_name", "removed")
MAX_NOTE = 10_000
MAX_NAME = 200
_TAG = re.compile(r"^[A-Za-z0-9_.:+-]{1,64}$")

__all__ = [
    "REGISTRY_KEYS",
    "RegistryError",
    "add_note",
    "locked",
    "merge_registry",
    "purge",
    "registry_of",
    "rename",
    "set_purpose",
    "set_removed",
    "set_starred",
    "update_tags",
]


class RegistryError(TrialogError, ValueError):
    """A registry change that is not allowed (bad tag, empty note, a trixi run, ...)."""


@contextlib.contextmanager
def locked(run_dir: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the exclusive ``flock`` on the run folder itself (blocks until free).

    The folder, not a lock file: it always exists, leaves nothing behind, and survives the atomic
    replacement of run.json (a lock on run.json would be on the old inode).
    """
    fd = os.open(Path(run_dir), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def merge_registry(data: dict[str, Any], file: str | os.PathLike[str]) -> None:
    """Copy the registry keys of the run.json at ``file`` (when readable) into ``data``; call under :func:`locked`."""
    import json

    try:
        on_disk = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(on_disk, dict):
        for key in REGISTRY_KEYS:
            if key in on_disk:
                data[key] = on_disk[key]


def update_meta(run_dir: str | os.PathLike[str], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    from .run import META_FILE, atomic_write_json, is_trialog_run, read_meta

    path = Path(run_dir)
    if not is_trialog_run(path):
        if (path / "config" / "exp.json").is_file() or (path / "result" / "results-log.json").is_file():
            raise RegistryError(f"{str(path)!r} is a trixi run folder; its registry fields cannot be changed")
        raise RunFolderError(f"{str(path)!r} is not a trialog run folder: it has no {META_FILE}")
    with locked(path):
        data = read_meta(path)
        change(data)
        atomic_write_json(path / META_FILE, data)
    return registry_of(data)


def registry_of(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The registry fields of a run.json mapping, with their defaults."""
    return {
        "purpose": meta.get("purpose"),
        "notes": list(meta.get("notes") or []),
        "tags": list(meta.get("tags") or []),
        "starred": bool(meta.get("starred")),
        "display_name": meta.get("display_name"),
        "removed": bool(meta.get("removed")),
    }


def _now() -> str:
    from .run import now_iso

    return now_iso()


def bounded_text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise RegistryError(f"{what} must be text, not {type(value).__name__}")
    value = value.strip()
    if not value:
        raise RegistryError(f"{what} is empty")
    if len(value) > limit:
        raise RegistryError(f"{what} is {len(value)} characters long; the limit is {limit}")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise RegistryError(f"{what} holds control characters")
    return value


def add_note(run_dir: str | os.PathLike[str], text: str) -> dict[str, Any]:
    """Append a timestamped note (notes are never edited; :func:`trialog.notes.change_note` removes one)."""
    note = {"time": _now(), "text": bounded_text(text, "note", MAX_NOTE)}
    return update_meta(run_dir, lambda d: d.__setitem__("notes", [*(d.get("notes") or []), note]))


def check_tag(tag: str) -> str:
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

    return update_meta(run_dir, change)


def set_starred(run_dir: str | os.PathLike[str], starred: bool | None = None) -> dict[str, Any]:
    """Star or unstar a run; ``None`` toggles."""
    return update_meta(
        run_dir,
        lambda d: d.__setitem__("starred", (not d.get("starred")) if starred is None else bool(starred)),
    )


def rename(run_dir: str | os.PathLike[str], name: str | None) -> dict[str, Any]:
    """Set the display name (``None`` or "" goes back to the experiment name); the folder never moves."""
    value = None if not name else bounded_text(name, "name", MAX_NAME)
    if value is not None and "\n" in value:
        raise RegistryError("name must be one line")
    return update_meta(run_dir, lambda d: d.__setitem__("display_name", value))


def set_purpose(run_dir: str | os.PathLike[str], purpose: str | None) -> dict[str, Any]:
    value = None if not purpose else bounded_text(purpose, "purpose", MAX_NOTE)
    return update_meta(run_dir, lambda d: d.__setitem__("purpose", value))


def set_removed(run_dir: str | os.PathLike[str], removed: bool = True) -> dict[str, Any]:
    """Soft-delete (hidden from listings unless asked for) or restore a run."""
    return update_meta(run_dir, lambda d: d.__setitem__("removed", bool(removed)))


def purge(run_dir: str | os.PathLike[str]) -> None:
    """Delete a run folder for good. Refuses a folder that is not a trialog run or whose run is alive."""
    from .run import effective_status, is_trialog_run, read_meta

    path = Path(run_dir)
    if path.is_symlink() or not is_trialog_run(path):
        raise RunFolderError(f"{str(path)!r} is not a trialog run folder; nothing deleted")
    if effective_status(read_meta(path)) == "running":
        raise RegistryError(f"{str(path)!r} is still running; stop it before deleting it")
    shutil.rmtree(path)
