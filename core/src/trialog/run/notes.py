"""Notes on a run (xmen's ``note``): ``exp.note(text)``, ``exp.note(0, remove=True)``.

A note is ``{"time", "text"}`` in run.json's ``notes`` (one of :data:`trialog.run.folder.REGISTRY_KEYS`, so a
running experiment's heartbeat keeps it), written through :func:`trialog.run.folder.update_run_meta`. Notes on
many runs at once (``trialog runs note``) come with trialog-runs, which writes them with :func:`change_note`.
"""

from __future__ import annotations

import os
from typing import Any

from trialog.errors import RegistryError

MAX_NOTE = 10_000

__all__ = ["MAX_NOTE", "change_note", "check_text"]


def check_text(value: Any, what: str, limit: int = MAX_NOTE) -> str:
    """``value`` stripped, or a :class:`RegistryError` naming ``what`` (not text, empty, too long, control characters)."""
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


def change_note(
    run_dir: str | os.PathLike[str], text: str | int, remove: bool = False
) -> list[dict[str, Any]]:
    """Add the note ``text``, or with ``remove`` remove note number ``text`` (an int, or its text); returns the notes.

    Notes are never edited, only added (timestamped) and removed.
    """
    from trialog.run.folder import now_iso, update_run_meta

    if not remove:
        note = {"time": now_iso(), "text": check_text(str(text), "note")}

        def add(data: dict[str, Any]) -> None:
            data["notes"] = [*(data.get("notes") or []), note]

        return list(update_run_meta(run_dir, add)["notes"])

    def drop(data: dict[str, Any]) -> None:
        notes = list(data.get("notes") or [])
        if isinstance(text, int) and not isinstance(text, bool):
            if not -len(notes) <= text < len(notes):
                raise RegistryError(f"{str(run_dir)!r} has {len(notes)} note(s); there is no note {text}")
            del notes[text]
        else:
            wanted = check_text(text, "note")
            index = next((i for i, n in enumerate(notes) if n.get("text") == wanted), None)
            if index is None:
                raise RegistryError(f"{str(run_dir)!r} has no note {wanted!r}")
            del notes[index]
        data["notes"] = notes

    return list(update_run_meta(run_dir, drop)["notes"])
