"""Run folders: creation (trixi's layout), ``run.json`` metadata with a heartbeat, sources, and the reader.

A run folder looks like trixi's::

    20261121-101500_mnist/
        run.json          name, status, start/end, host, pid, versions, git, argv, seed, heartbeat
        checkpoint/       index.json + checkpoint files (trialog.checkpoint.manager)
        config/           config.json
        img/ log/ plot/   written by loggers
        result/           results.jsonl (append-only) + results.json (summary)
        save/             sources.zip, git.diff, user files

``Run(path)`` reads such a folder, and also a folder written by trixi.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from trialog.errors import ConfigError, CorruptFileError, RegistryError, RunFolderError, TrialogError
from trialog.fileio import check_inside, read_json, write_json
from trialog.fileio import dumps as _dumps
from trialog.results.summaries import SeriesMap

# Re-exported: these lived here before liveness.py and provenance.py split them out.
from trialog.run.liveness import LOCK_FILE as LOCK_FILE
from trialog.run.liveness import effective_status as effective_status
from trialog.run.liveness import now_iso as now_iso
from trialog.run.liveness import parse_time as parse_time
from trialog.run.liveness import pid_alive as pid_alive
from trialog.run.liveness import run_status as run_status
from trialog.run.provenance import collect_metadata as collect_metadata
from trialog.run.provenance import git_info as git_info
from trialog.run.provenance import local_sources as local_sources
from trialog.run.provenance import pack_sources as pack_sources

#: Sub-folders of every run folder, as in trixi's ExperimentLogger.
LAYOUT: tuple[str, ...] = ("checkpoint", "config", "img", "log", "plot", "result", "save")
DEFAULT_FOLDER_FORMAT = "%Y%m%d-%H%M%S_{experiment_name}"
META_FILE = "run.json"
#: A folder holding this file is a sweep folder (trialog-sweep writes it); its runs are its trials.
SWEEP_FILE = "sweep.json"
_LOG_NAMES = {"trialog": "results.jsonl", "trixi": "results-log.json"}


# --------------------------------------------------------------------------------------------------
# Creating a run folder


def _safe_name(name: str) -> str:
    # A name with a path separator would silently create nested folders.
    return re.sub(r"[\\/\x00]", "_", name).strip() or "run"


def resolve_folder_name(
    folder_format: str, experiment_name: str, run_number: int, when: _dt.datetime | None = None
) -> str:
    """Resolve ``folder_format``: strftime codes, then ``{experiment_name}`` and ``{run_number}``."""
    when = when or _dt.datetime.now()
    text = when.strftime(folder_format) if "%" in folder_format else folder_format
    try:
        name = text.format(experiment_name=_safe_name(experiment_name), run_number=run_number)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"folder_format {folder_format!r} is invalid ({exc!r}); it may use strftime codes, "
            "{experiment_name} and {run_number}"
        ) from None
    if not name or name in (".", "..") or os.sep in name:
        raise ConfigError(f"folder_format {folder_format!r} resolves to {name!r}, which is not a folder name")
    return name


def create_run_folder(
    base_dir: str | os.PathLike[str],
    experiment_name: str,
    folder_format: str = DEFAULT_FOLDER_FORMAT,
    when: _dt.datetime | None = None,
) -> Path:
    """Create a new run folder with trixi's sub-folders in ``base_dir`` and return its path.

    Never reuses an existing folder: creation is an atomic ``os.mkdir``; on a collision the next
    ``{run_number}`` is tried, or (when the format has none) a ``_2``, ``_3``, ... suffix is added.
    """
    base = Path(base_dir)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create the base folder {str(base)!r}: {exc.strerror or exc}") from exc
    when = when or _dt.datetime.now()
    numbered = "{run_number" in folder_format
    for attempt in range(1, 100_000):
        name = resolve_folder_name(folder_format, experiment_name, attempt if numbered else 1, when)
        if attempt > 1 and not numbered:
            name = f"{name}_{attempt}"
        path = base / name
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        except OSError as exc:
            raise RunFolderError(
                f"cannot create the run folder {str(path)!r}: {exc.strerror or exc}"
            ) from exc
        for sub in LAYOUT:
            (path / sub).mkdir(exist_ok=True)
        return path
    raise RunFolderError(f"no free run folder name for format {folder_format!r} in {str(base)!r}")


# --------------------------------------------------------------------------------------------------
# Metadata


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically and durably (temp file, fsync, rename, fsync folder)."""
    write_json(path, data, indent=2)


def run_file(run_dir: str | os.PathLike[str], *parts: str) -> Path:
    """``run_dir/parts`` for reading, or a :class:`RunFolderError` naming the link when a symlink (the file
    itself or a folder on the way) leads it out of the run folder.

    The one containment rule of every reader (:class:`Run`, ``trialog runs``, the browser): nothing is read
    through a link that leaves the run folder.
    """
    return check_inside(run_dir, Path(run_dir).joinpath(*parts))


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``run.json`` of the run folder ``path`` (raw: the stored status, not corrected).

    Any corruption (truncated, binary junk, not an object) is a :class:`RunFolderError` naming the file;
    a run.json that is a symlink out of the folder is refused.
    """
    file = run_file(path, META_FILE)
    try:
        return read_json(file, error=RunFolderError)  # type: ignore[no-any-return]
    except RunFolderError:  # a FileNotFoundError too: let the named error through as it is
        raise
    except FileNotFoundError:
        raise RunFolderError(f"{str(path)!r} is not a trialog run folder: it has no {META_FILE}") from None


#: run.json keys another process may change while the run is alive (:func:`update_run_meta`): the registry of
#: trialog-runs and the browser, and ``exp.note``. :class:`RunMeta` keeps the values of these found on disk.
REGISTRY_KEYS: tuple[str, ...] = ("purpose", "notes", "tags", "starred", "display_name", "removed")


@contextlib.contextmanager
def locked(run_dir: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the exclusive ``flock`` on the run folder itself (blocks until free).

    The folder, not a lock file: it always exists, leaves nothing behind, and survives the atomic
    replacement of run.json (a lock on run.json would be on the old inode).
    """
    import fcntl

    fd = os.open(Path(run_dir), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _merge_registry(data: dict[str, Any], file: Path) -> None:
    """Copy the registry keys of the run.json at ``file`` (when readable) into ``data``; call under :func:`locked`."""
    try:
        on_disk = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(on_disk, dict):
        for key in REGISTRY_KEYS:
            if key in on_disk:
                data[key] = on_disk[key]


def update_run_meta(
    run_dir: str | os.PathLike[str], change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Change the run.json of ``run_dir`` from outside its experiment: ``change(data)`` edits the dict in place.

    A read-modify-write under the folder's exclusive lock (the one :class:`RunMeta` takes for its heartbeat
    writes) with an atomic replace; returns the new run.json. Only :data:`REGISTRY_KEYS` survive a running
    experiment's next write. A trixi run folder is a :class:`RegistryError` (it has no run.json to change).
    """
    path = Path(run_dir)
    if not is_trialog_run(path):
        if is_trixi_run(path):
            raise RegistryError(f"{str(path)!r} is a trixi run folder; its registry fields cannot be changed")
        raise RunFolderError(f"{str(path)!r} is not a trialog run folder: it has no {META_FILE}")
    with locked(path):
        data = read_meta(path)
        change(data)
        atomic_write_json(path / META_FILE, data)
    return data


def registry_of(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The registry fields of a run.json mapping (:data:`REGISTRY_KEYS`), with their defaults."""
    return {
        "purpose": meta.get("purpose"),
        "notes": list(meta.get("notes") or []),
        "tags": list(meta.get("tags") or []),
        "starred": bool(meta.get("starred")),
        "display_name": meta.get("display_name"),
        "removed": bool(meta.get("removed")),
    }


class RunMeta:
    """The writer of one run's ``run.json``: atomic updates and a heartbeat thread.

    Every update replaces the file atomically, so a reader never sees half a file. The heartbeat
    thread rewrites the ``heartbeat`` time every ``heartbeat_interval`` seconds, which lets a reader
    on another host tell a live run from a dead one.
    """

    def __init__(
        self, path: str | os.PathLike[str], meta: Mapping[str, Any], heartbeat_interval: float = 30.0
    ):
        self.path = Path(path)
        self.file = self.path / META_FILE
        self.heartbeat_interval = float(heartbeat_interval)
        self._data: dict[str, Any] = dict(meta)
        self._data["heartbeat_interval"] = self.heartbeat_interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.write()

    @property
    def data(self) -> dict[str, Any]:
        """A copy of the current metadata."""
        with self._lock:
            return json.loads(_dumps(self._data))

    def write(self) -> None:
        with self._lock:
            self._write_merged()

    def update(self, **fields: Any) -> None:
        """Set ``fields`` (and the heartbeat time) and rewrite run.json."""
        with self._lock:
            self._data.update(fields)
            self._data["heartbeat"] = now_iso()
            self._write_merged()

    def _write_merged(self) -> None:
        # Notes, tags, stars... (REGISTRY_KEYS) may have been written by another process since our
        # last write (update_run_meta): take them from disk under the folder's lock instead of overwriting them.
        with locked(self.path):
            _merge_registry(self._data, self.file)
            atomic_write_json(self.file, self._data)

    def beat(self) -> None:
        """Write the heartbeat time now."""
        self.update()

    def start_heartbeat(self) -> None:
        """Start the daemon thread that beats every ``heartbeat_interval`` seconds."""
        if self._thread is not None or self.heartbeat_interval <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat_loop, name="trialog-heartbeat", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        """Stop the heartbeat thread (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=5.0)

    def _beat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_interval):
            with contextlib.suppress(OSError):  # a full disk must not kill the run from this thread
                self.beat()

    def finish(self, status: str, **fields: Any) -> None:
        """Stop the heartbeat and record the final ``status`` and end time."""
        self.stop_heartbeat()
        self.update(status=status, end=now_iso(), **fields)


# --------------------------------------------------------------------------------------------------
# Finding and reading runs


def is_trialog_run(path: str | os.PathLike[str]) -> bool:
    return (Path(path) / META_FILE).is_file()


def is_trixi_run(path: str | os.PathLike[str]) -> bool:
    path = Path(path)
    return not is_trialog_run(path) and (
        (path / "config" / "exp.json").is_file() or (path / "result" / "results-log.json").is_file()
    )


def _is_any_run(path: Path) -> bool:
    return is_trialog_run(path) or is_trixi_run(path)


def _runs_folder(base_dir: str | os.PathLike[str]) -> Path:
    base = Path(base_dir)
    if not base.is_dir():
        raise RunFolderError(f"{str(base)!r} is not a folder of runs (it does not exist or is not a folder)")
    return base


def find_runs(base_dir: str | os.PathLike[str]) -> list[Path]:
    """The run folders (trialog or trixi) directly inside ``base_dir``, sorted by name."""
    return sorted(p for p in _runs_folder(base_dir).iterdir() if p.is_dir() and _is_any_run(p))


#: How deep :func:`walk_runs` looks below the folder it is given (``runs/sweep/trial`` is depth 2).
WALK_DEPTH = 4


def walk_runs(
    base_dir: str | os.PathLike[str],
    max_depth: int = WALK_DEPTH,
    *,
    is_run: Callable[[Path], bool] | None = None,
    links: bool = True,
) -> list[tuple[Path, str | None]]:
    """Every run folder under ``base_dir``, nested folders too, with the sweep folder each belongs to.

    Returns ``[(run folder, sweep or None)]`` sorted by path, the sweep as its folder relative to ``base_dir``
    (``base_dir``'s name when that is the sweep folder). A run folder is never descended into
    (its ``save/`` may hold anything), nor are hidden folders or symbolic links to folders; folders deeper than
    ``max_depth`` below ``base_dir`` are not looked at (a linked run folder is listed, unless ``links=False``,
    and never followed further). ``is_run`` tells a run folder (default: trialog's or trixi's files in it); the
    browser's index passes one that keeps the stats it makes. A run's sweep is the nearest folder above it (inside
    ``base_dir``, or ``base_dir`` itself) that holds ``sweep.json``. ``base_dir`` itself being a run folder
    gives that one run.
    """
    base = _runs_folder(base_dir)
    is_run = is_run or _is_any_run
    if is_run(base):
        return [(base, None)]
    found: list[tuple[Path, str | None]] = []

    def visit(folder: Path, depth: int, sweep: str | None) -> None:
        if (folder / SWEEP_FILE).is_file():
            sweep = str(folder.relative_to(base)) if folder != base else base.name
        try:
            with os.scandir(folder) as it:
                children = sorted(
                    (e.name, e.is_symlink()) for e in it if not e.name.startswith(".") and e.is_dir()
                )
        except OSError:
            return  # a folder that vanished or cannot be read holds no runs
        for name, link in children:
            if link and not links:
                continue
            path = folder / name
            if is_run(path):
                found.append((path, sweep))  # a linked run folder is listed, as find_runs does
            elif depth < max_depth and not link:
                visit(path, depth + 1, sweep)

    visit(base, 1, None)
    return sorted(found, key=lambda item: item[0])


def latest_run(base_dir: str | os.PathLike[str], *, skip_unreadable: bool = False) -> Path:
    """The trialog run in ``base_dir`` that started last (by run.json ``start``, never file times).

    Every run folder counts: one whose run.json cannot be read (or has no start time) is a
    :class:`RunFolderError` naming it, because it may well be the newest; ``skip_unreadable=True`` leaves
    such folders out instead.
    """
    best: tuple[_dt.datetime, str] | None = None
    best_path: Path | None = None
    for path in find_runs(base_dir):
        if not is_trialog_run(path):
            continue
        try:
            start = parse_time(read_meta(path).get("start"))
            if start is None:
                raise RunFolderError(f"{str(path / META_FILE)!r} has no readable start time")
        except RunFolderError as exc:
            if skip_unreadable:
                continue
            raise RunFolderError(
                f"cannot tell which run in {str(base_dir)!r} is the last: {exc}. Repair or move that run "
                "folder, name the run to resume explicitly, or skip unreadable runs (skip_unreadable=True, "
                "`--skip-unreadable`)"
            ) from None
        key = (start, path.name)
        if best is None or key > best:
            best, best_path = key, path
    if best_path is None:
        raise RunFolderError(f"no trialog run folder (with a readable {META_FILE}) in {str(base_dir)!r}")
    return best_path


class Run:
    """Read-only view of a run folder, written by trialog or by trixi.

    >>> run = Run("runs/20261121-101500_mnist")
    >>> run.status, run.config.lr, run.results["loss"]["value"][-1]
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        if not self.path.is_dir():
            raise RunFolderError(
                f"{str(self.path)!r} is not a run folder: it does not exist or is not a folder"
            )
        if is_trialog_run(self.path):
            self.kind = "trialog"
        elif is_trixi_run(self.path):
            self.kind = "trixi"
        else:
            raise RunFolderError(
                f"{str(self.path)!r} is not a run folder: it has neither {META_FILE} (trialog) nor "
                "config/exp.json or result/results-log.json (trixi)"
            )

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, kind={self.kind!r})"

    @property
    def name(self) -> str:
        """The display name (``trialog runs rename``), else the experiment's name, else the folder's."""
        meta = self.meta
        return str(meta.get("display_name") or meta.get("name") or self.path.name)

    @property
    def registry(self) -> dict[str, Any]:
        """purpose, notes, tags, starred, display_name, removed (:func:`registry_of`; trialog-runs edits them)."""
        return registry_of(self.meta)

    @property
    def purpose(self) -> str | None:
        return self.registry["purpose"]

    @property
    def notes(self) -> list[dict[str, Any]]:
        """Timestamped notes, oldest first: ``[{"time", "text"}]``."""
        return self.registry["notes"]

    @property
    def tags(self) -> list[str]:
        return self.registry["tags"]

    @property
    def starred(self) -> bool:
        return self.registry["starred"]

    @property
    def removed(self) -> bool:
        return self.registry["removed"]

    @property
    def meta(self) -> dict[str, Any]:
        """run.json (trixi: built from exp.json), ``status`` corrected to "killed" when the run is stale."""
        if self.kind == "trialog":
            meta = read_meta(self.path)
            meta["stored_status"] = meta.get("status")
            # run.json could not be written as the run ended (a full disk): run.lock says so in place.
            meta["status"], ended = run_status(meta, self.path)
            if ended:
                meta["error"] = ended
            return meta
        return self._trixi_meta()

    def links(self) -> list[tuple[str, str, bool]]:
        """Symbolic links in the run folder (two levels deep): ``(relative name, target, points inside)``."""
        found: list[tuple[str, str, bool]] = []
        root = os.path.realpath(self.path)

        def visit(folder: Path, depth: int) -> None:
            try:
                children = sorted(folder.iterdir())
            except OSError:
                return
            for child in children:
                if child.is_symlink():
                    real = os.path.realpath(child)
                    inside = real == root or real.startswith(root.rstrip(os.sep) + os.sep)
                    found.append((child.relative_to(self.path).as_posix(), os.readlink(child), inside))
                elif depth < 2 and child.is_dir():
                    visit(child, depth + 1)

        visit(self.path, 1)
        return found

    def _trixi_meta(self) -> dict[str, Any]:
        exp: dict[str, Any] = {}
        file = run_file(self.path, "config", "exp.json")
        if file.is_file():
            try:
                exp = read_json(file)
            except (CorruptFileError, OSError):
                exp = {}
        state = str(exp.get("state", ""))
        status = {"Ended": "finished", "Trained": "finished", "Tested": "finished", "Error": "error"}.get(
            state, "killed" if state else "unknown"
        )
        start = parse_time(exp.get("time"))
        epoch = exp.get("epoch")
        return {
            "name": exp.get("name", self.path.name),
            "status": status,
            "stored_status": state or None,
            "start": start.isoformat() if start else None,
            "end": None,
            "epoch": epoch - 1 if isinstance(epoch, int) and status == "finished" and epoch > 0 else epoch,
            "format": "trixi",
            "trixi": exp,
        }

    @property
    def status(self) -> str:
        return str(self.meta["status"])

    @property
    def config(self) -> Any:
        """The run's configuration (a :class:`trialog.Config`; empty when the run saved none)."""
        from trialog.config.config import Config

        file = run_file(self.path, "config", "config.json")
        return Config(file) if file.is_file() else Config()

    def _log(self) -> Path:
        """The results log: ``results.jsonl`` (trialog) or ``results-log.json`` (trixi), not necessarily there."""
        return run_file(self.path, "result", _LOG_NAMES[self.kind])

    @property
    def results(self) -> dict[str, dict[str, Any]]:
        """Results per series (name, tag), keyed ``tag/name`` (:mod:`trialog.results.summaries`):
        ``{"train/loss": {"value": array, "counter": array, "epoch": array, "tag": [...]}}``.

        A bare name finds its series where only one tag has it (``results["loss"]``).
        """
        if self.kind == "trialog":
            from trialog.results.series import read_series_by_key

            log = self._log()
            return read_series_by_key(log) if log.is_file() else SeriesMap()  # type: ignore[no-any-return]
        from trialog.results.log import results_by_series

        return results_by_series(self.records)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The raw result records (name, tag, value, counter, epoch, time) in the order they were added.

        A truncated last line (a killed run) is skipped; a run without results gives an empty list.
        """
        from trialog.results.log import read_results, read_trixi_results

        log = self._log()
        if not log.is_file():
            return []
        return list((read_results if self.kind == "trialog" else read_trixi_results)(log, warn=False))

    @property
    def summary(self) -> SeriesMap:
        """Per series (name, tag), keyed ``tag/name``: name, tag, last, min, max, mean, count.

        The stored ``result/results.json`` of a run that ended; computed from the records otherwise (the
        summary of a killed run lags behind its records, and trialog 0.1.0's summary merged the tags of a
        name). A bare name finds its series where only one tag has it.
        """
        meta = read_meta(self.path) if self.kind == "trialog" else {}
        if stored_summary_current(meta):
            file = run_file(self.path, "result", "results.json")
            if file.is_file():
                # A damaged summary is never shown: the records it summarises give the same figures.
                with contextlib.suppress(CorruptFileError, OSError):
                    return SeriesMap(read_json(file))
        summary = summarize(self.results)
        watched = meta.get("at_best")
        if isinstance(watched, dict) and watched.get("monitor"):
            from trialog.results.atbest import at_best_summary

            summary.update(at_best_summary(self.records, watched["monitor"], watched.get("mode", "min")))
        return summary

    @property
    def problems(self) -> dict[str, str]:
        """Damage a reader found, by file (``{"result/results.jsonl": "..., line 7: not a results record"}``).

        Empty for an intact run. A torn last record (a killed run) is not damage; a corrupt record before it
        is, and every surface says so (``runs ls``, ``runs show``, the browser); ``trialog runs repair``
        cuts such a log back to its checkpoint.
        """
        from trialog.results.log import find_damage, read_trixi_results

        log = self._log()  # a log linked out of the run folder is a RunFolderError, as for every reader
        try:
            if not log.is_file():
                return {}
            if self.kind == "trialog":
                damage = find_damage(log)
                return {} if damage is None else {"result/results.jsonl": str(damage)}
            read_trixi_results(log, warn=False)
        except (TrialogError, OSError) as exc:
            return {f"result/{log.name}": str(exc)}
        return {}

    @property
    def checkpoints(self) -> list[dict[str, Any]]:
        """The checkpoint manifest entries (``checkpoint/index.json``), oldest step first."""
        file = run_file(self.path, "checkpoint", "index.json")
        if not file.is_file():
            return []
        data = read_json(file, expect=(dict, list), error=RunFolderError, what="checkpoint manifest")
        entries = data.get("entries", []) if isinstance(data, dict) else data
        return sorted(entries, key=lambda e: e.get("step", 0)) if isinstance(entries, list) else []


#: run.json's mark of a run whose result/results.json is keyed per series (trialog 0.1.0's merged the tags).
RESULT_KEYS = ("result_keys", "series")


def stored_summary_current(meta: Mapping[str, Any]) -> bool:
    """Whether the stored ``result/results.json`` of the run with this run.json may stand for its records:
    the run ended (a killed run's summary lags behind) and wrote its summary per series."""
    return (
        meta.get("status") in ("finished", "error", "stopped") and meta.get(RESULT_KEYS[0]) == RESULT_KEYS[1]
    )


def summarize(results: Mapping[str, Mapping[str, Any]]) -> SeriesMap:
    """name / tag / last / min / max / mean / count per series, from :attr:`Run.results`-shaped arrays."""
    import numpy as np

    from trialog.results.summaries import split_key

    pairs = getattr(results, "pairs", {})
    out = SeriesMap()
    for key, columns in results.items():
        values = np.asarray(columns.get("value", []))
        if values.size == 0 or values.dtype.kind not in "biuf":
            continue
        values = values.astype(float)
        name, tag = pairs.get(key) or split_key(key)
        out.pairs[key] = (name, tag)
        out[key] = {
            "last": float(values[-1]),
            "min": float(values.min()),
            "max": float(values.max()),
            "mean": float(values.mean()),
            "count": int(values.size),
        }
    return out


def check_run_folder(path: str | os.PathLike[str]) -> None:
    """Refuse a run folder whose run.json, lock or sub-folders are symlinks leading out of it (RunFolderError)."""
    root = Path(path)
    for name in (META_FILE, LOCK_FILE, *LAYOUT):
        entry = root / name
        if entry.is_symlink():
            check_inside(root, entry)
    for sub in ("result", "checkpoint", "config"):
        folder = root / sub
        if folder.is_dir() and not folder.is_symlink():
            for child in folder.iterdir():
                if child.is_symlink():
                    check_inside(root, child)


class ResumeFrom(os.PathLike):  # type: ignore[type-arg]
    """A run folder to resume, with how: ``fallback=True`` resumes from the newest intact checkpoint when the
    latest fails verification. Path-like, so it passes through code that only forwards ``resume=``."""

    def __init__(self, path: str | os.PathLike[str], *, fallback: bool = False) -> None:
        self.path = Path(path)
        self.fallback = bool(fallback)

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"ResumeFrom({str(self.path)!r}, fallback={self.fallback})"
