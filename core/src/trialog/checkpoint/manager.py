"""Atomic checkpoints with a manifest, retention and an asynchronous mode; formats are plugins.

A checkpoint folder (a run's ``checkpoint/``) holds checkpoint files and ``index.json``, the manifest that
lists them (step, epoch, metric, file, format, time). Resume reads the manifest, never file times.

Every save writes a temporary file in the same folder, fsyncs it, renames it to its final name with
``os.replace``, then replaces the manifest the same way, and only then deletes the files retention drops.
Each manifest entry records the file's size and checksum (``xxh3_128``, see :mod:`trialog.checkpoint.checksum`); ``load``
checks both before the format deserialises anything, for every format, so a corrupted file is a
:class:`~trialog.errors.CheckpointError` naming it, never a silently wrong state. A manifest that is
missing, empty or unreadable while checkpoint files exist is an error offering ``trialog runs repair RUN``
(:func:`repair_manifest`), never a silent restart. A crash at any point leaves the previous checkpoint and manifest intact; no incomplete file ever has a final
name. Temporary files of a crashed save (``.trialog-tmp-*``) are ignored when reading and deleted by the
first ``save`` of the next manager on the folder (the writer; reading never deletes anything, so
``trialog runs show`` on a live run is safe). One writing manager per folder.

Format plugins (entry-point group ``trialog.checkpoints``; the core ships ``npz``) are classes with (the
typed contract: ``trialog.hooks.contracts.CheckpointFormat``):

- ``extension`` (class attribute, e.g. ``".npz"``),
- ``save(self, state, path)``: write ``state`` to ``path`` (a temporary file the manager fsyncs and
  renames afterwards; write to exactly that path, do not append an extension),
- optionally ``save_file(self, state, file)``: write ``state`` to an open binary file object (the
  manager's :class:`WritebackFile`, which hashes every byte as it is written); a format without it is
  read back once after ``save`` to compute its checksum,
- ``load(self, path, **kwargs) -> dict``: read a file ``save`` wrote,
- ``snapshot(self, state) -> state``: a copy of ``state`` in host memory that later changes of the
  caller's objects do not affect (used by the asynchronous mode before handing the state to its thread);
  unsupported values should raise :class:`~trialog.errors.CheckpointError` here, in the caller.
  It may take a keyword ``into``: an earlier snapshot the manager no longer uses, whose buffers it may
  fill instead of allocating new ones (the async mode keeps one for this).

For example::

    class JsonFormat:
        extension = ".json"
        def save(self, state, path): Path(path).write_text(json.dumps(state))
        def load(self, path): return json.loads(Path(path).read_text())
        def snapshot(self, state): return copy.deepcopy(state)

    # pyproject.toml: [project.entry-points."trialog.checkpoints"] json = "my_pkg:JsonFormat"
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import operator
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialog.checkpoint.checksum import DEFAULT_ALGORITHM, file_checksum, new_hasher, split_checksum
from trialog.checkpoint.npz import NpzFormat
from trialog.checkpoint.writeback import WritebackFile
from trialog.errors import (
    CheckpointDiskFullError,
    CheckpointError,
    CorruptFileError,
    DiskFullError,
    TrialogWarning,
)
from trialog.fileio import disk_full_error, is_disk_full, read_json, write_json

__all__ = [
    "CheckpointEntry",
    "CheckpointManager",
    "NpzFormat",
    "WritebackFile",
    "checkpoint_files",
    "repair_manifest",
]

MANIFEST_NAME = "index.json"
TMP_PREFIX = ".trialog-tmp-"
_MANIFEST_VERSION = 1


@dataclass(frozen=True)
class CheckpointEntry:
    """One checkpoint as the manifest lists it; ``path`` is where its file lives."""

    step: int
    epoch: int | None
    metric: float | None
    file: str
    format: str
    time: float
    path: Path = field(compare=False, repr=False)
    #: ``"ALGORITHM:HEXDIGEST"`` of the file, checked before it is deserialised (None: a 0.1.0 manifest).
    checksum: str | None = field(default=None, compare=False)
    size: int | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in ("step", "epoch", "metric", "file", "format", "time")}
        if self.checksum is not None:
            data["checksum"] = self.checksum
            data["size"] = self.size
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], directory: Path) -> CheckpointEntry:
        file = str(data["file"])
        if Path(file).name != file:
            raise ValueError(f"file {file!r} is not a plain file name")
        metric = data.get("metric")
        return cls(
            step=int(data["step"]),
            epoch=None if data.get("epoch") is None else int(data["epoch"]),
            metric=None if metric is None else float(metric),
            file=file,
            format=str(data["format"]),
            time=float(data.get("time") or 0.0),
            path=directory / file,
            checksum=None if data.get("checksum") is None else str(data["checksum"]),
            size=None if data.get("size") is None else int(data["size"]),
        )


def _format_name(fmt: Any) -> str:
    return getattr(fmt, "name", None) or type(fmt).__name__


def resolve_format(fmt: Any) -> tuple[str, Any]:
    """``(name, instance)`` for a format name (looked up in ``trialog.checkpoints``), class or instance."""
    if isinstance(fmt, str):
        from trialog.hooks import plugins

        name, obj = fmt, plugins.load("trialog.checkpoints", fmt)
    else:
        obj = fmt
        name = getattr(fmt, "name", None) or (fmt.__name__ if isinstance(fmt, type) else _format_name(fmt))
    from trialog.hooks.contracts import check_format

    return name, check_format(name, obj() if isinstance(obj, type) else obj)


def _accepts_into(snapshot: Callable[..., Any]) -> bool:
    import inspect

    try:
        return "into" in inspect.signature(snapshot).parameters
    except (TypeError, ValueError):  # builtins and some C callables have no signature
        return False


class CheckpointManager:
    """Saves and loads checkpoints of named state in ``directory`` with a manifest and retention.

    ``keep_last``: how many of the most recent checkpoints (by step) to keep; ``keep_best``: how many of the
    best by the metric ``monitor`` (lowest for ``mode="min"``, highest for ``"max"``; ties go to the earlier
    step). With neither, every checkpoint is kept; with only ``keep_best``, the newest checkpoint is kept as
    well, because resume needs it. ``async_save=True``: ``save`` copies the state (the format's
    ``snapshot``) and returns while a background thread writes it; a second ``save`` first waits for the one
    in flight, so at most one snapshot is pending; the last snapshot is kept until ``close`` and its buffers
    reused by the next one (fresh memory costs page faults, the larger part of the copy). A failure in the
    background is raised as :class:`CheckpointError` by the next ``save``, ``wait`` or ``close``.
    ``on_saved(entry)`` is called once a checkpoint is complete on disk and listed (from the writer thread
    in async mode).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        format: Any = "npz",
        keep_last: int | None = None,
        keep_best: int | None = None,
        monitor: str | None = None,
        mode: str = "min",
        async_save: bool = False,
        on_saved: Callable[[CheckpointEntry], None] | None = None,
    ) -> None:
        if mode not in ("min", "max"):
            raise CheckpointError(f"checkpoint mode must be 'min' or 'max', not {mode!r}")
        for label, value in (("keep_last", keep_last), ("keep_best", keep_best)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise CheckpointError(f"{label} must be a positive integer or None, not {value!r}")
        if keep_best is not None and monitor is None:
            raise CheckpointError("keep_best needs monitor=<metric name> to know which checkpoints are best")
        self.directory = Path(directory)
        self.manifest_path = self.directory / MANIFEST_NAME
        self.format_name, self.format = resolve_format(format)
        self.keep_last = keep_last
        self.keep_best = keep_best
        self.monitor = monitor
        self.mode = mode
        self.async_save = async_save
        self.on_saved = on_saved
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None
        self._cleaned = False
        self._formats: dict[str, Any] = {self.format_name: self.format}
        # Async mode keeps the last written snapshot to copy the next state into, when the format can reuse it.
        self._spare: Any = None
        self._snapshot_reuses = async_save and _accepts_into(self.format.snapshot)
        self._entries: list[CheckpointEntry] = self._read_manifest()

    # -- manifest --------------------------------------------------------------------------------------------

    def _read_manifest(self) -> list[CheckpointEntry]:
        try:
            data = read_json(self.manifest_path, error=CorruptFileError, what="checkpoint manifest")
        except FileNotFoundError:
            self._refuse_without_manifest("is missing")
            return []
        except CorruptFileError as e:
            self._refuse_without_manifest(f"is unreadable ({e})")
            raise CheckpointError(
                f"{e}; restore it from a backup or delete it (the checkpoints it listed are then no longer found)"
            ) from None
        try:
            entries = [CheckpointEntry.from_dict(d, self.directory) for d in data["entries"]]
        except (ValueError, KeyError, TypeError) as e:
            self._refuse_without_manifest(f"is malformed ({e!r})")
            raise CheckpointError(
                f"checkpoint manifest {self.manifest_path} is malformed ({e}); restore it from a backup or "
                "delete it (the checkpoints it listed are then no longer found)"
            ) from None
        if not entries:
            self._refuse_without_manifest("lists no checkpoint")
        if entries and self.monitor is not None and data.get("monitor") not in (None, self.monitor):
            warnings.warn(
                f"checkpoints in {self.directory} were ranked by {data.get('monitor')!r}, now by "
                f"{self.monitor!r}; their stored metric values are of {data.get('monitor')!r}",
                TrialogWarning,
                stacklevel=3,
            )
        entries.sort(key=lambda e: e.step)
        return entries

    def _refuse_without_manifest(self, problem: str) -> None:
        """Checkpoint files without a manifest that lists them: never start over (and delete them) silently."""
        files = checkpoint_files(self.directory)
        if not files:
            return
        names = ", ".join(p.name for p in files[:5]) + (
            f" and {len(files) - 5} more" if len(files) > 5 else ""
        )
        run = self.directory.parent
        raise CheckpointError(
            f"checkpoint manifest {self.manifest_path} {problem}, but {self.directory} holds checkpoint files "
            f"({names}); nothing was changed. Rebuild the manifest from the files (each is verified) with "
            f"`trialog runs repair {run}`"
        )

    def _write_manifest(self, entries: list[CheckpointEntry]) -> None:
        _write_manifest(self.manifest_path, entries, monitor=self.monitor, mode=self.mode)

    # -- queries ---------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the manifest (a reader following a run that another process is writing)."""
        self.wait()
        entries = self._read_manifest()
        with self._lock:
            self._entries = entries

    @property
    def entries(self) -> tuple[CheckpointEntry, ...]:
        """The listed checkpoints, oldest step first (a save in flight appears once it is complete)."""
        with self._lock:
            return tuple(self._entries)

    def latest(self) -> CheckpointEntry | None:
        """The checkpoint with the highest step, or None."""
        entries = self.entries
        return entries[-1] if entries else None

    def best(self) -> CheckpointEntry | None:
        """The checkpoint with the best ``monitor`` metric (by ``mode``), or None if none has one."""
        ranked = self._ranked(self.entries)
        return ranked[0] if ranked else None

    def _ranked(self, entries: tuple[CheckpointEntry, ...] | list[CheckpointEntry]) -> list[CheckpointEntry]:
        sign = 1.0 if self.mode == "min" else -1.0
        scored = [e for e in entries if e.metric is not None and not math.isnan(e.metric)]
        return sorted(scored, key=lambda e: (sign * e.metric, e.step))  # type: ignore[operator]

    def get(self, which: str | int = "last") -> CheckpointEntry:
        """The entry ``which`` names: "last", "best" or a step; a named error if there is none."""
        entries = self.entries
        if not entries:
            raise CheckpointError(
                f"no checkpoint in {self.directory} (no entries in {self.manifest_path.name})"
            )
        if which == "last":
            return entries[-1]
        if which == "best":
            if self.monitor is None:
                raise CheckpointError("load('best') needs CheckpointManager(monitor=<metric name>)")
            best = self.best()
            if best is None:
                raise CheckpointError(f"no checkpoint in {self.directory} has a value of {self.monitor!r}")
            return best
        try:
            step = operator.index(which)  # type: ignore[arg-type]
        except TypeError:
            raise CheckpointError(f"which must be 'last', 'best' or a step number, not {which!r}") from None
        for entry in entries:
            if entry.step == step:
                return entry
        steps = ", ".join(str(e.step) for e in entries)
        raise CheckpointError(f"no checkpoint of step {step} in {self.directory}; steps: {steps}")

    # -- saving ----------------------------------------------------------------------------------------------

    def save(
        self,
        state: Mapping[str, Any],
        step: int,
        epoch: int | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> CheckpointEntry:
        """Write ``state`` as the checkpoint of ``step`` (replacing an earlier one of the same step)."""
        self.wait()
        try:
            step = operator.index(step)
            epoch = None if epoch is None else operator.index(epoch)
        except TypeError:
            raise CheckpointError(f"step and epoch must be integers, got {step!r} and {epoch!r}") from None
        if not isinstance(state, Mapping):
            raise CheckpointError(
                f"checkpoint state must be a mapping of names to objects, not {type(state).__name__}"
            )
        metric = self._metric(metrics)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CheckpointError(f"cannot create checkpoint folder {self.directory}: {e.strerror}") from e
        if not self._cleaned:
            self._clean_stray()
        file = self._free_name(step)
        entry = CheckpointEntry(
            step, epoch, metric, file, self.format_name, time.time(), self.directory / file
        )
        if not self.async_save:
            return self._write(state, entry)
        if self._spare is not None and self._snapshot_reuses:
            snapshot = self.format.snapshot(state, into=self._spare)
        else:
            snapshot = self.format.snapshot(state)
        self._spare = None
        thread = threading.Thread(
            target=self._write_in_background,
            args=(snapshot, entry),
            name=f"trialog-checkpoint-{step}",
            daemon=False,  # interpreter exit waits for a write in flight rather than losing it
        )
        self._thread = thread
        thread.start()
        return entry

    def _metric(self, metrics: Mapping[str, Any] | None) -> float | None:
        if self.monitor is None or metrics is None:
            return None
        if self.monitor not in metrics:
            known = ", ".join(map(repr, metrics)) or "none"
            raise CheckpointError(
                f"metrics passed to save() lack the monitored metric {self.monitor!r} (got {known}); "
                "pass it, or pass metrics=None for a checkpoint that does not compete for best"
            )
        try:
            return float(metrics[self.monitor])
        except (TypeError, ValueError):
            raise CheckpointError(
                f"monitored metric {self.monitor!r} must be a number, not {metrics[self.monitor]!r}"
            ) from None

    def _free_name(self, step: int) -> str:
        ext = self.format.extension
        with self._lock:
            used = {e.file for e in self._entries}
        name = f"step-{step:08d}{ext}"
        n = 1
        while name in used or (self.directory / name).exists():
            name = f"step-{step:08d}.{n}{ext}"
            n += 1
        return name

    def _clean_stray(self) -> None:
        """Delete temporary files of crashed saves and checkpoint files the manifest does not list."""
        listed = {e.file for e in self.entries}
        ours = re.compile(r"^step-\d{8,}(\.\d+)?" + re.escape(self.format.extension) + "$")
        for path in self.directory.iterdir():
            stray = path.name.startswith(TMP_PREFIX) or (ours.match(path.name) and path.name not in listed)
            if stray or (path.name.startswith(f".{MANIFEST_NAME}.") and path.name.endswith(".tmp")):
                with contextlib.suppress(OSError):
                    path.unlink()
        self._cleaned = True

    def _write_in_background(self, state: Mapping[str, Any], entry: CheckpointEntry) -> None:
        try:
            self._write(state, entry)
            if self._snapshot_reuses:
                self._spare = state
        except (CheckpointError, DiskFullError) as e:
            self._error = e
        except BaseException as e:
            err = CheckpointError(f"writing checkpoint {entry.path} failed in the background: {e!r}")
            err.__cause__ = e
            self._error = err

    def _write(self, state: Mapping[str, Any], entry: CheckpointEntry) -> CheckpointEntry:
        tmp = self.directory / f"{TMP_PREFIX}{os.getpid()}-{threading.get_ident()}-{entry.file}"
        try:
            try:
                checksum, size = self._save_file(state, tmp)
            except Exception as e:
                # A serialiser may hide ENOSPC in an error of its own: ask the file system.
                hidden = isinstance(e, (CheckpointError, RuntimeError)) and _statvfs_full(self.directory)
                if is_disk_full(e) or hidden:
                    raise disk_full_error(entry.path, e, CheckpointDiskFullError) from e
                if isinstance(e, CheckpointError):
                    raise
                raise CheckpointError(
                    f"writing checkpoint {entry.path} with format {self.format_name!r} failed: {e!r}"
                ) from e
            os.replace(tmp, entry.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        entry = dataclasses.replace(entry, checksum=checksum, size=size)
        # No fsync of the folder here: the manifest's atomic write fsyncs this same folder next, which makes
        # the rename durable too; a crash before it leaves at most an unlisted file, which is never loaded.
        with self._lock:
            before = self._entries
        candidates = sorted([e for e in before if e.step != entry.step] + [entry], key=lambda e: e.step)
        kept = self._retain(candidates)
        try:
            self._write_manifest(kept)
        except BaseException:
            # Unlisted, the new file would never be found; removing it keeps the folder what the manifest says.
            with contextlib.suppress(OSError):
                entry.path.unlink()
            raise
        with self._lock:
            self._entries = kept
        kept_files = {e.file for e in kept}
        # Only now that the manifest no longer lists them: a crash before this line leaves extra files, never
        # a listed file that is gone.
        for old in [*before, entry]:
            if old.file not in kept_files:
                with contextlib.suppress(FileNotFoundError):
                    old.path.unlink()
        if self.on_saved is not None and entry.file in kept_files:
            try:
                self.on_saved(entry)
            except Exception as e:
                raise CheckpointError(
                    f"checkpoint {entry.path} is saved, but the on_saved callback {self.on_saved!r} failed: {e!r}"
                ) from e
        return entry

    def _save_file(self, state: Mapping[str, Any], tmp: Path) -> tuple[str, int]:
        """Write ``state`` to ``tmp`` with the format and fsync it; ``(checksum, size)`` of what was written.

        A format with ``save_file(state, file)`` writes into a WritebackFile that hashes every byte as it
        goes (no second pass); one with only ``save(state, path)`` is read back once to hash it.
        """
        save_file = _save_file_of(self.format)
        if save_file is not None:
            hasher = new_hasher(DEFAULT_ALGORITHM)
            with open(tmp, "wb", buffering=0) as raw:
                out = WritebackFile(raw, hasher=hasher)
                try:
                    save_file(state, out)
                except BaseException as e:
                    if out.error is not None and is_disk_full(out.error) and not is_disk_full(e):
                        raise disk_full_error(tmp, out.error, CheckpointDiskFullError) from e
                    raise
                os.fsync(raw.fileno())
            return f"{DEFAULT_ALGORITHM}:{hasher.hexdigest()}", out.written
        self.format.save(state, tmp)
        fd = os.open(tmp, os.O_RDWR)  # Windows fsyncs only descriptors open for writing
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return file_checksum(tmp)

    def _retain(self, entries: list[CheckpointEntry]) -> list[CheckpointEntry]:
        if self.keep_last is None and self.keep_best is None:
            return entries
        keep_last = self.keep_last if self.keep_last is not None else 1
        kept = set(id(e) for e in entries[-keep_last:])
        if self.keep_best is not None:
            kept.update(id(e) for e in self._ranked(entries)[: self.keep_best])
        return [e for e in entries if id(e) in kept]

    def wait(self) -> None:
        """Block until the save in flight (async mode) is on disk; raise its error if it failed."""
        thread = self._thread
        if thread is not None:
            thread.join()
            self._thread = None
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    # -- loading ---------------------------------------------------------------------------------------------

    def load(
        self, which: str | int = "last", *, fallback: bool = False, **format_kwargs: Any
    ) -> tuple[dict[str, Any], CheckpointEntry]:
        """``(state, entry)`` of the checkpoint ``which`` names: "last" (highest step), "best" or a step.

        The file is checked against the checksum in the manifest before it is deserialised; a mismatch (or
        a file that cannot be read) is a :class:`CheckpointError` naming it. ``fallback=True`` (only with
        "last") then loads the newest older checkpoint that is intact instead, with a warning naming each
        one skipped.
        """
        self.wait()
        entry = self.get(which)
        if not fallback:
            return self._load_entry(entry, format_kwargs), entry
        if which != "last":
            raise CheckpointError(f"fallback=True works with which='last' only, not {which!r}")
        failures: list[str] = []
        for candidate in reversed(self.entries):
            try:
                state = self._load_entry(candidate, format_kwargs)
            except CheckpointError as e:
                failures.append(str(e))
                continue
            if failures:
                warnings.warn(
                    f"resuming from checkpoint {candidate.path} (step {candidate.step}) instead of the newer "
                    f"one(s) that failed verification: {'; '.join(failures)}",
                    TrialogWarning,
                    stacklevel=2,
                )
            return state, candidate
        raise CheckpointError(f"no intact checkpoint in {self.directory}: {'; '.join(failures)}")

    def verify(self, which: str | int | CheckpointEntry = "last") -> CheckpointEntry:
        """Check the file of ``which`` against its manifest checksum (without loading it); return the entry."""
        entry = which if isinstance(which, CheckpointEntry) else self.get(which)
        self._verify(entry)
        return entry

    def _verify(self, entry: CheckpointEntry) -> None:
        try:
            size = entry.path.stat().st_size
        except FileNotFoundError:
            raise CheckpointError(
                f"checkpoint file {entry.path} listed in {self.manifest_path} is missing; it was deleted by "
                "something other than trialog"
            ) from None
        if entry.checksum is None:
            return  # listed by trialog 0.1.0: only the format's own checks apply
        if entry.size is not None and size != entry.size:
            raise CheckpointError(
                f"checkpoint file {entry.path} is truncated or corrupt: it has {size} bytes, its manifest "
                f"entry says {entry.size}; it was not loaded"
            )
        algorithm, _ = split_checksum(entry.checksum)
        try:
            actual, _ = file_checksum(entry.path, algorithm)
        except OSError as e:
            raise CheckpointError(f"cannot read checkpoint file {entry.path}: {e.strerror or e}") from e
        if actual != entry.checksum:
            raise CheckpointError(
                f"checkpoint file {entry.path} is corrupt: its {algorithm} checksum does not match the one "
                f"{self.manifest_path.name} recorded when it was written; it was not loaded"
            )

    def _load_entry(self, entry: CheckpointEntry, format_kwargs: Mapping[str, Any]) -> dict[str, Any]:
        fmt = self._formats.get(entry.format)
        if fmt is None:
            _, fmt = resolve_format(entry.format)
            self._formats[entry.format] = fmt
        self._verify(entry)
        try:
            return fmt.load(entry.path, **format_kwargs)
        except CheckpointError:
            raise
        except Exception as e:
            raise CheckpointError(
                f"cannot load checkpoint {entry.path} (format {entry.format!r}): {e!r}"
            ) from e

    # -- lifetime --------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Wait for a save in flight and raise its error, if any; free the kept snapshot buffers."""
        self._spare = None
        self.wait()
        self._spare = None

    def __enter__(self) -> CheckpointManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CheckpointManager({str(self.directory)!r}, format={self.format_name!r}, {len(self._entries)} entries)"


_STEP_FILE = re.compile(r"^step-(\d{8,})(\.\d+)?(\.[A-Za-z0-9_]+)$")


def checkpoint_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The checkpoint files (``step-NNNNNNNN[.n].ext``) in ``directory``, by name; temporary files left out."""
    try:
        return sorted(p for p in Path(directory).iterdir() if _STEP_FILE.match(p.name) and not p.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _owner(cls: type, attr: str) -> type | None:
    return next((c for c in cls.__mro__ if attr in vars(c)), None)


def _save_file_of(fmt: Any) -> Callable[[Mapping[str, Any], Any], None] | None:
    """The format's ``save_file`` unless a subclass or the instance overrides ``save`` below it."""
    save_file = getattr(fmt, "save_file", None)
    if save_file is None or "save" in getattr(fmt, "__dict__", {}):
        return None
    cls = type(fmt)
    file_owner, save_owner = _owner(cls, "save_file"), _owner(cls, "save")
    if file_owner is None or save_owner is None or not issubclass(file_owner, save_owner):
        return None
    # A save assigned onto the class later (a wrapper, a test's patch) was not written with save_file.
    qualname = getattr(vars(save_owner)["save"], "__qualname__", "")
    if qualname != f"{save_owner.__qualname__}.save":
        return None
    return save_file  # type: ignore[no-any-return]


def _statvfs_full(directory: Path) -> bool:
    """Whether the file system of ``directory`` has no free block left (a serialiser that hid ENOSPC)."""
    try:
        st = os.statvfs(directory)
    except (OSError, AttributeError):
        return False
    return st.f_bavail * st.f_frsize < (64 << 10)


def _formats_by_extension() -> dict[str, str]:
    from trialog.hooks import plugins

    found: dict[str, str] = {}
    try:
        names = plugins.names("trialog.checkpoints")
    except Exception:
        names = ["npz"]
    for name in names:
        try:
            _, fmt = resolve_format(name)
        except Exception:
            continue
        found.setdefault(str(fmt.extension), name)
    found.setdefault(".npz", "npz")
    return found


def repair_manifest(directory: str | os.PathLike[str]) -> tuple[list[CheckpointEntry], list[str]]:
    """Rebuild ``directory/index.json`` from the checkpoint files, loading each to verify it.

    Files that load are listed (with a fresh checksum; step from the name, epoch from the state trialog
    stored); files that do not are named in the returned problems and left where they are. The old
    manifest, if any, is kept as ``index.json.broken-<time>``. Nothing is deleted.
    """
    directory = Path(directory)
    by_ext = _formats_by_extension()
    entries: list[CheckpointEntry] = []
    problems: list[str] = []
    for path in checkpoint_files(directory):
        match = _STEP_FILE.match(path.name)
        assert match is not None
        fmt_name = by_ext.get(match.group(3))
        if fmt_name is None:
            problems.append(f"{path}: no installed checkpoint format writes {match.group(3)} files")
            continue
        try:
            _, fmt = resolve_format(fmt_name)
            state = fmt.load(path)
        except Exception as e:
            problems.append(f"{path}: does not load ({e})")
            continue
        meta = state.get("trialog") if isinstance(state, Mapping) else None
        try:
            epoch: int | None = int(meta["epoch"])  # type: ignore[index]
        except (TypeError, ValueError, KeyError):
            epoch = None
        checksum, size = file_checksum(path)
        entries.append(
            CheckpointEntry(
                step=int(match.group(1)),
                epoch=epoch,
                metric=None,
                file=path.name,
                format=fmt_name,
                time=path.stat().st_mtime,
                path=path,
                checksum=checksum,
                size=size,
            )
        )
    # Two files of one step (a crashed re-save): the later name wins, as a save would have replaced it.
    kept = sorted({entry.step: entry for entry in entries}.values(), key=lambda e: e.step)
    manifest = directory / MANIFEST_NAME
    if manifest.exists() or manifest.is_symlink():
        os.replace(manifest, directory / f"{MANIFEST_NAME}.broken-{int(time.time())}")
    _write_manifest(manifest, kept, monitor=None, mode="min", repaired=True)
    return kept, problems


def _write_manifest(path: Path, entries: list[CheckpointEntry], **fields: Any) -> None:
    data = {"version": _MANIFEST_VERSION, **fields, "entries": [e.as_dict() for e in entries]}
    write_json(path, data, indent=1)
