"""Atomic checkpoints with a manifest, retention and an asynchronous mode; formats are plugins.

A checkpoint folder (a run's ``checkpoint/``) holds checkpoint files and ``index.json``, the manifest that
lists them (step, epoch, metric, file, format, time). Resume reads the manifest, never file times.

Every save writes a temporary file in the same folder, fsyncs it, renames it to its final name with
``os.replace``, then replaces the manifest the same way, and only then deletes the files retention drops.
A crash at any point leaves the previous checkpoint and manifest intact; no incomplete file ever has a final
name. Temporary files of a crashed save (``.trialog-tmp-*``) are ignored when reading and deleted by the
first ``save`` of the next manager on the folder (the writer; reading never deletes anything, so
``trialog runs show`` on a live run is safe). One writing manager per folder.

Format plugins (entry-point group ``trialog.checkpoints``; the core ships ``npz``) are classes with:

- ``extension`` (class attribute, e.g. ``".npz"``),
- ``save(self, state, path)``: write ``state`` to ``path`` (a temporary file the manager fsyncs and
  renames afterwards; write to exactly that path, do not append an extension),
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

import itertools
import json
import math
import operator
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CheckpointError, TrialogWarning
from .results import fsync_dir, write_atomic

__all__ = ["CheckpointEntry", "CheckpointManager", "NpzFormat"]

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

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "epoch": self.epoch,
            "metric": self.metric,
            "file": self.file,
            "format": self.format,
            "time": self.time,
        }

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
        )


def _format_name(fmt: Any) -> str:
    return getattr(fmt, "name", None) or type(fmt).__name__


def resolve_format(fmt: Any) -> tuple[str, Any]:
    """``(name, instance)`` for a format name (looked up in ``trialog.checkpoints``), class or instance."""
    if isinstance(fmt, str):
        from . import plugins

        name, obj = fmt, plugins.load("trialog.checkpoints", fmt)
    else:
        obj = fmt
        name = getattr(fmt, "name", None) or (fmt.__name__ if isinstance(fmt, type) else _format_name(fmt))
    instance = obj() if isinstance(obj, type) else obj
    missing = [attr for attr in ("extension", "save", "load", "snapshot") if not hasattr(instance, attr)]
    if missing:
        raise CheckpointError(
            f"checkpoint format {name!r} ({type(instance).__module__}.{type(instance).__qualname__}) lacks "
            f"{', '.join(missing)}; a format needs extension, save(state, path), load(path) and snapshot(state)"
        )
    return name, instance


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
        self._error: CheckpointError | None = None
        self._cleaned = False
        self._formats: dict[str, Any] = {self.format_name: self.format}
        # Async mode keeps the last written snapshot to copy the next state into, when the format can reuse it.
        self._spare: Any = None
        self._snapshot_reuses = async_save and _accepts_into(self.format.snapshot)
        self._entries: list[CheckpointEntry] = self._read_manifest()

    # -- manifest --------------------------------------------------------------------------------------------

    def _read_manifest(self) -> list[CheckpointEntry]:
        try:
            raw = self.manifest_path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as e:
            raise CheckpointError(
                f"cannot read checkpoint manifest {self.manifest_path}: {e.strerror}"
            ) from e
        try:
            data = json.loads(raw)
            entries = [CheckpointEntry.from_dict(d, self.directory) for d in data["entries"]]
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(
                f"checkpoint manifest {self.manifest_path} is malformed ({e}); restore it from a backup or "
                "delete it (the checkpoints it listed are then no longer found)"
            ) from None
        if entries and self.monitor is not None and data.get("monitor") not in (None, self.monitor):
            warnings.warn(
                f"checkpoints in {self.directory} were ranked by {data.get('monitor')!r}, now by "
                f"{self.monitor!r}; their stored metric values are of {data.get('monitor')!r}",
                TrialogWarning,
                stacklevel=3,
            )
        entries.sort(key=lambda e: e.step)
        return entries

    def _write_manifest(self, entries: list[CheckpointEntry]) -> None:
        data = {
            "version": _MANIFEST_VERSION,
            "monitor": self.monitor,
            "mode": self.mode,
            "entries": [e.as_dict() for e in entries],
        }
        write_atomic(self.manifest_path, json.dumps(data, indent=1).encode())

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
            self._write(state, entry)
            return entry
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
                try:
                    path.unlink()
                except OSError:
                    pass
        self._cleaned = True

    def _write_in_background(self, state: Mapping[str, Any], entry: CheckpointEntry) -> None:
        try:
            self._write(state, entry)
            if self._snapshot_reuses:
                self._spare = state
        except CheckpointError as e:
            self._error = e
        except BaseException as e:
            err = CheckpointError(f"writing checkpoint {entry.path} failed in the background: {e!r}")
            err.__cause__ = e
            self._error = err

    def _write(self, state: Mapping[str, Any], entry: CheckpointEntry) -> None:
        tmp = self.directory / f"{TMP_PREFIX}{os.getpid()}-{threading.get_ident()}-{entry.file}"
        try:
            try:
                self.format.save(state, tmp)
                fd = os.open(tmp, os.O_RDWR)  # Windows fsyncs only descriptors open for writing
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except CheckpointError:
                raise
            except Exception as e:
                raise CheckpointError(
                    f"writing checkpoint {entry.path} with format {self.format_name!r} failed: {e!r}"
                ) from e
            os.replace(tmp, entry.path)
        except BaseException:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise
        fsync_dir(self.directory)
        with self._lock:
            before = self._entries
        candidates = sorted([e for e in before if e.step != entry.step] + [entry], key=lambda e: e.step)
        kept = self._retain(candidates)
        try:
            self._write_manifest(kept)
        except BaseException:
            # Unlisted, the new file would never be found; removing it keeps the folder what the manifest says.
            try:
                entry.path.unlink()
            except OSError:
                pass
            raise
        with self._lock:
            self._entries = kept
        kept_files = {e.file for e in kept}
        # Only now that the manifest no longer lists them: a crash before this line leaves extra files, never
        # a listed file that is gone.
        for old in [*before, entry]:
            if old.file not in kept_files:
                try:
                    old.path.unlink()
                except FileNotFoundError:
                    pass
        if self.on_saved is not None and entry.file in kept_files:
            try:
                self.on_saved(entry)
            except Exception as e:
                raise CheckpointError(
                    f"checkpoint {entry.path} is saved, but the on_saved callback {self.on_saved!r} failed: {e!r}"
                ) from e

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

    def load(self, which: str | int = "last", **format_kwargs: Any) -> tuple[dict[str, Any], CheckpointEntry]:
        """``(state, entry)`` of the checkpoint ``which`` names: "last" (highest step), "best" or a step."""
        self.wait()
        entry = self.get(which)
        fmt = self._formats.get(entry.format)
        if fmt is None:
            _, fmt = resolve_format(entry.format)
            self._formats[entry.format] = fmt
        if not entry.path.is_file():
            raise CheckpointError(
                f"checkpoint file {entry.path} listed in {self.manifest_path} is missing; it was deleted by "
                "something other than trialog"
            )
        try:
            state = fmt.load(entry.path, **format_kwargs)
        except CheckpointError:
            raise
        except Exception as e:
            raise CheckpointError(
                f"cannot load checkpoint {entry.path} (format {entry.format!r}): {e!r}"
            ) from e
        return state, entry

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


# -- the npz format --------------------------------------------------------------------------------------------

_TREE_MEMBER = "__trialog_tree__"
_MARKERS = ("__ndarray__", "__scalar__", "__tuple__", "__bytes__", "__items__")


class NpzFormat:
    """Nested dicts/lists/tuples of numpy arrays and JSON values (numbers, strings, bools, None) in a ``.npz``.

    Arrays are stored as npz members, everything else as a JSON tree in one more member; no pickle is
    written or read. Tuples, bytes, numpy scalars and dicts with non-string keys survive the round trip;
    objects with ``__array__`` (a CPU torch tensor) are stored as numpy arrays. The files are plain
    uncompressed npz archives (``np.load`` reads them); they are written and read without the intermediate
    copies ``np.savez``/``np.load`` make, so the fsync a crash-safe save needs costs no time overall.
    """

    extension = ".npz"
    name = "npz"

    def save(self, state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
        import numpy as np

        arrays: dict[str, Any] = {}
        tree = _encode(state, "", arrays, np)
        arrays[_TREE_MEMBER] = np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8)
        with open(path, "wb", buffering=0) as raw:
            _write_npz(WritebackFile(raw), arrays, np)

    def load(self, path: str | os.PathLike[str], *, keys: list[str] | None = None) -> dict[str, Any]:
        """Read a checkpoint; ``keys`` limits it to those top-level names."""
        import numpy as np

        with _NpzReader(path, np) as npz:
            if _TREE_MEMBER not in npz.members:
                raise CheckpointError(
                    f"{path} is an npz file but not a trialog checkpoint (no {_TREE_MEMBER})"
                )
            tree = json.loads(npz[_TREE_MEMBER].tobytes())
            if keys is not None:
                missing = [k for k in keys if k not in tree]
                if missing:
                    raise CheckpointError(f"checkpoint {path} has no {missing}; it has {sorted(tree)}")
                tree = {k: tree[k] for k in keys}
            return _decode(tree, npz, np)

    def snapshot(self, state: Mapping[str, Any], *, into: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A copy of ``state``; ``into`` is an earlier snapshot (no longer used) whose arrays may be reused."""
        import numpy as np

        return _copy(state, "", np, into)


class WritebackFile:
    """A binary file that asks the kernel to start writing each 32 MB to disk as soon as it is written.

    For formats that write large files: the manager fsyncs every checkpoint. Left alone, the kernel keeps the whole file dirty in memory and
    the fsync then writes all of it while the caller waits; started early, the disk writes overlap with
    serialisation and the fsync finds little left to do (RocksDB's ``bytes_per_sync``). Linux only; a
    plain file elsewhere.
    """

    CHUNK = 32 << 20

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.written = 0
        self.kicked = 0

    def write(self, data: Any) -> int:
        view = memoryview(data)
        n = self.raw.write(view)
        while n is not None and n < view.nbytes:  # unbuffered writes may be partial
            more = self.raw.write(view[n:])
            n += more or 0
        self.written += view.nbytes
        if _sync_file_range is not None and self.written - self.kicked >= self.CHUNK:
            _sync_file_range(
                self.raw.fileno(), self.kicked, self.written - self.kicked, _SYNC_FILE_RANGE_WRITE
            )
            self.kicked = self.written
        return view.nbytes

    def flush(self) -> None:
        self.raw.flush()


_SYNC_FILE_RANGE_WRITE = 2  # start writeback of the range without waiting for it


def _find_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_sync_file_range = _find_sync_file_range()


def _write_npz(f: Any, arrays: Mapping[str, Any], np: Any) -> None:
    """An uncompressed npz, each array's memory handed to the zip writer as it is (np.savez copies it first)."""
    import zipfile

    fmt = np.lib.format
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
                arr = np.ascontiguousarray(arr)
            header = fmt.header_data_from_array_1_0(arr)
            memory = arr if arr.flags.c_contiguous else arr.T  # .T of a Fortran array is C-contiguous
            with zf.open(f"{name}.npy", "w", force_zip64=True) as out:
                try:
                    fmt.write_array_header_1_0(out, header)
                except ValueError:  # a header over 64 KiB (huge structured dtypes) needs format 2.0
                    fmt.write_array_header_2_0(out, header)
                if arr.size:
                    out.write(memory.reshape(-1).view(np.uint8))


class _NpzReader:
    """Reads members of an npz lazily, straight into the result arrays, checking each member's CRC.

    Members that are compressed (an npz not written by trialog) go through ``np.load``; pickled
    (object) arrays are refused either way.
    """

    def __init__(self, path: str | os.PathLike[str], np: Any) -> None:
        import zipfile

        self.path = path
        self.np = np
        self.file = open(path, "rb")
        try:
            self.zip = zipfile.ZipFile(self.file)
        except zipfile.BadZipFile as e:
            self.file.close()
            raise CheckpointError(
                f"{path} is not a complete npz archive ({e}); it is truncated or corrupt"
            ) from None
        except BaseException:
            self.file.close()
            raise
        self.members = {
            info.filename[:-4]: info for info in self.zip.infolist() if info.filename.endswith(".npy")
        }

    def __enter__(self) -> _NpzReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()
        self.file.close()

    def __getitem__(self, name: str) -> Any:
        import struct
        import zipfile
        import zlib

        np = self.np
        info = self.members[name]
        if info.compress_type != zipfile.ZIP_STORED:
            with np.load(self.path, allow_pickle=False) as npz:
                return npz[name]
        f = self.file
        f.seek(info.header_offset)
        local = f.read(30)
        if local[:4] != b"PK\x03\x04":
            raise CheckpointError(
                f"{self.path}: member {info.filename} has no local header; the file is corrupt"
            )
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        f.seek(start)
        version = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(f)
        if dtype.hasobject:
            raise CheckpointError(
                f"{self.path}: member {name} holds Python objects, which only pickle could read; trialog never "
                "unpickles checkpoint data"
            )
        header_len = f.tell() - start
        arr = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
        if header_len + arr.nbytes != info.file_size:
            raise CheckpointError(
                f"{self.path}: member {name} has the wrong size; the file is corrupt or truncated"
            )
        f.seek(start)
        crc = zlib.crc32(f.read(header_len))
        if arr.size:
            memory = (arr if not fortran else arr.T).reshape(-1).view(np.uint8)
            if f.readinto(memory) != arr.nbytes:
                raise CheckpointError(f"{self.path}: member {name} is truncated")
            crc = zlib.crc32(memory, crc)
        if crc != info.CRC:
            raise CheckpointError(f"{self.path}: member {name} fails its CRC check; the file is corrupt")
        return arr


def _key_path(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _unsupported(where: str, value: Any) -> CheckpointError:
    return CheckpointError(
        f"checkpoint value {where or '<state>'!r} of type {type(value).__module__}.{type(value).__qualname__} "
        "cannot be stored by the npz format (numpy arrays, numbers, strings, bools, None, bytes, lists, tuples "
        "and dicts only); convert it, or use a format plugin that supports it (trialog-torch's 'torch')"
    )


def _as_array(value: Any, where: str, np: Any) -> Any:
    if isinstance(value, np.ndarray):
        arr = value
    elif hasattr(value, "__array__"):
        try:
            arr = np.asarray(value)
        except Exception as e:
            raise CheckpointError(
                f"checkpoint value {where!r}: cannot convert to a numpy array ({e})"
            ) from None
    else:
        return None
    if arr.dtype.hasobject:
        raise CheckpointError(
            f"checkpoint value {where!r} is an object array, which needs pickle; the npz format stores only "
            "numeric, bool and string arrays"
        )
    return arr


def _encode(value: Any, where: str, arrays: dict[str, Any], np: Any) -> Any:
    if value is None or (isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic)):
        return value
    if isinstance(value, Mapping):
        if all(type(k) is str for k in value):
            if any(k in _MARKERS for k in value):
                return {
                    "__items__": [[k, _encode(v, _key_path(where, k), arrays, np)] for k, v in value.items()]
                }
            return {k: _encode(v, _key_path(where, k), arrays, np) for k, v in value.items()}
        return {
            "__items__": [
                [_encode(k, f"{where}<key>", arrays, np), _encode(v, _key_path(where, k), arrays, np)]
                for k, v in value.items()
            ]
        }
    if isinstance(value, list):
        return [_encode(v, _key_path(where, i), arrays, np) for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, _key_path(where, i), arrays, np) for i, v in enumerate(value)]}
    if isinstance(value, (bytes, bytearray, memoryview)):
        member = f"a{len(arrays)}"
        arrays[member] = np.frombuffer(bytes(value), dtype=np.uint8)
        return {"__bytes__": member}
    if isinstance(value, np.generic):
        member = f"a{len(arrays)}"
        arr = np.asarray(value)
        if arr.dtype.hasobject:
            raise _unsupported(where, value)
        arrays[member] = arr
        return {"__scalar__": member}
    arr = _as_array(value, where, np)
    if arr is None:
        raise _unsupported(where, value)
    member = f"a{len(arrays)}"
    arrays[member] = arr
    return {"__ndarray__": member}


def _decode(value: Any, npz: _NpzReader, np: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v, npz, np) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((marker, inner),) = value.items()
        if marker == "__ndarray__":
            return npz[inner]
        if marker == "__scalar__":
            return npz[inner][()]
        if marker == "__bytes__":
            return npz[inner].tobytes()
        if marker == "__tuple__":
            return tuple(_decode(v, npz, np) for v in inner)
        if marker == "__items__":
            return {_decode(k, npz, np): _decode(v, npz, np) for k, v in inner}
    return {k: _decode(v, npz, np) for k, v in value.items()}


def _copy(value: Any, where: str, np: Any, into: Any = None) -> Any:
    """Copy containers and arrays so the caller may change its objects while a background save runs.

    ``into`` is an earlier snapshot nobody uses any more: arrays of the same shape and dtype are copied into
    its buffers, which saves the page faults of fresh memory (most of the copy's time).
    """
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, np.generic):
        return value
    if isinstance(value, Mapping):
        if not isinstance(into, dict):
            into = {}
        return {k: _copy(v, _key_path(where, k), np, into.get(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if not isinstance(into, (list, tuple)) or len(into) != len(value):
            into = [None] * len(value)
        items = [_copy(v, _key_path(where, i), np, old) for i, (v, old) in enumerate(zip(value, into))]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    arr = _as_array(value, where, np)
    if arr is None:
        raise _unsupported(where, value)
    if (
        isinstance(into, np.ndarray)
        and into.shape == arr.shape
        and into.dtype == arr.dtype
        and into.flags.writeable
        and into.flags.c_contiguous
    ):
        _copyto(into, arr, np)
        return into
    out = np.empty(arr.shape, dtype=arr.dtype)
    _copyto(out, arr, np)
    return out


_PARALLEL_COPY_BYTES = 16 << 20


def _copyto(dst: Any, src: Any, np: Any) -> None:
    """``np.copyto`` split over the cores for large arrays: numpy releases the GIL, one core's bandwidth
    is not the machine's, and this copy is all the time an asynchronous save blocks its caller."""
    workers = min(os.cpu_count() or 1, 8)
    if src.nbytes < _PARALLEL_COPY_BYTES or workers < 2 or not src.flags.c_contiguous:
        np.copyto(dst, src)
        return
    flat_dst, flat_src = dst.reshape(-1), src.reshape(-1)
    bounds = np.linspace(0, flat_src.size, workers + 1, dtype=np.int64)
    threads = [
        threading.Thread(target=np.copyto, args=(flat_dst[a:b], flat_src[a:b]))
        for a, b in itertools.pairwise(bounds[1:])
    ]
    for t in threads:
        t.start()
    np.copyto(flat_dst[: bounds[1]], flat_src[: bounds[1]])
    for t in threads:
        t.join()
