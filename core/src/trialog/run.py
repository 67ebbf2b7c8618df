"""Run folders: creation (trixi's layout), ``run.json`` metadata with a heartbeat, sources, and the reader.

A run folder looks like trixi's::

    20261121-101500_mnist/
        run.json          name, status, start/end, host, pid, versions, git, argv, seed, heartbeat
        checkpoint/       index.json + checkpoint files (trialog.checkpoint)
        config/           config.json
        img/ log/ plot/   written by loggers
        result/           results.jsonl (append-only) + results.json (summary)
        save/             sources.zip, git.diff, user files

``Run(path)`` reads such a folder, and also a folder written by trixi.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import getpass
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError, RunFolderError

#: Sub-folders of every run folder, as in trixi's ExperimentLogger.
LAYOUT: tuple[str, ...] = ("checkpoint", "config", "img", "log", "plot", "result", "save")
DEFAULT_FOLDER_FORMAT = "%Y%m%d-%H%M%S_{experiment_name}"
META_FILE = "run.json"
#: A "running" run whose heartbeat is older than this many heartbeat intervals reads as killed.
STALE_INTERVALS = 3.0
#: Statuses a run.json may carry; "running" is the only one that can go stale.
STATUSES = ("running", "finished", "error", "killed", "stopped")
_GIT_TIMEOUT = 3.0


def now_iso() -> str:
    """The current local time as ISO 8601 with offset and microseconds (sortable, parseable)."""
    return _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="microseconds")


def parse_time(value: Any) -> _dt.datetime | None:
    """Parse a time written by :func:`now_iso` (or trixi's ``%y-%m-%d_%H:%M:%S``); None when absent/unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = _dt.datetime.strptime(value, "%y-%m-%d_%H:%M:%S")
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed


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
        if numbered:
            name = resolve_folder_name(folder_format, experiment_name, attempt, when)
        else:
            name = resolve_folder_name(folder_format, experiment_name, 1, when)
            if attempt > 1:
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
    """Write ``data`` as JSON to ``path`` through a temp file in the same folder and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=False, default=_json_default)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return repr(obj)


def _process_start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), to tell a reused pid from ours."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 overall
    except (IndexError, ValueError):
        return None


def _process_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0] if fields else None


def pid_alive(pid: int, start_ticks: int | None = None) -> bool:
    """Whether process ``pid`` on this host still runs (a zombie or a reused pid counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    if _process_state(pid) in ("Z", "X"):
        return False
    if start_ticks is not None:
        current = _process_start_ticks(pid)
        if current is not None and current != start_ticks:
            return False
    return True


def effective_status(meta: Mapping[str, Any], now: _dt.datetime | None = None) -> str:
    """The status a run really has: "running" turns into "killed" when its process is gone or silent.

    On the host that wrote the run the process decides (gone, a zombie or a reused pid: killed; alive:
    running, even when it is slow to beat). Elsewhere the heartbeat decides: older than
    ``STALE_INTERVALS`` heartbeat intervals reads as killed.
    """
    status = str(meta.get("status") or "unknown")
    if status != "running":
        return status
    pid = meta.get("pid")
    if meta.get("host") == socket.gethostname() and isinstance(pid, int):
        return "running" if pid_alive(pid, meta.get("pid_start_ticks")) else "killed"
    beat = parse_time(meta.get("heartbeat")) or parse_time(meta.get("start"))
    interval = meta.get("heartbeat_interval")
    if beat is not None and isinstance(interval, (int, float)) and interval > 0:
        now = now or _dt.datetime.now(_dt.UTC)
        if (now - beat).total_seconds() > STALE_INTERVALS * interval:
            return "killed"
    return status


@functools.lru_cache(maxsize=1)
def _package_versions() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    # Cached: scanning every distribution's metadata costs tens of milliseconds, and a process rarely
    # installs packages between two runs.
    from importlib import metadata

    installed: dict[str, str] = {}
    trialog: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        installed[name] = dist.version
        if name == "trialog" or any(ep.group.startswith("trialog.") for ep in dist.entry_points):
            trialog[name] = dist.version
    return tuple(sorted(installed.items(), key=lambda kv: kv[0].lower())), tuple(sorted(trialog.items()))


def package_versions() -> tuple[dict[str, str], dict[str, str]]:
    """(all installed distributions -> version, trialog and its plugins -> version)."""
    installed, trialog = _package_versions()
    return dict(installed), dict(trialog)


def _git(args: Sequence[str], cwd: str | os.PathLike[str]) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")


def git_info(cwd: str | os.PathLike[str]) -> tuple[dict[str, Any], str | None]:
    """({"commit", "branch", "dirty"} of the repository around ``cwd``, the ``git diff HEAD`` text).

    Every field is None when git is missing, slow or ``cwd`` is not in a repository.
    """
    info: dict[str, Any] = {"commit": None, "branch": None, "dirty": None}
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit is None:
        return info, None
    info["commit"] = commit.strip()
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
    info["branch"] = branch.strip() if branch else None
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    info["dirty"] = bool(status.strip()) if status is not None else None
    diff = _git(["diff", "HEAD"], cwd) if info["dirty"] else None
    return info, diff


def entry_script() -> Path | None:
    """The script ``python script.py`` runs, or None (interactive, ``-c``, or an installed console script)."""
    main = sys.modules.get("__main__")
    filename = getattr(main, "__file__", None)
    if not filename:
        return None
    path = Path(filename).resolve()
    if not path.is_file() or _is_installed(path):
        return None
    return path


def _is_installed(path: Path) -> bool:
    text = str(path)
    if "site-packages" in text or "dist-packages" in text:
        return True
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return any(p and (text == p or text.startswith(p.rstrip(os.sep) + os.sep)) for p in prefixes)


def local_sources(roots: Iterable[Path], script: Path | None = None) -> dict[str, Path]:
    """Source files of imported modules under ``roots`` (not installed packages), by archive name."""
    roots = [r.resolve() for r in roots]
    files: dict[str, Path] = {}

    def add(path: Path) -> None:
        for root in roots:
            try:
                rel = path.relative_to(root)
            except ValueError:
                continue
            files.setdefault(rel.as_posix(), path)
            return

    if script is not None:
        add(script)
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename or not filename.endswith(".py"):
            continue
        path = Path(filename)
        if not path.is_absolute():
            path = Path.cwd() / path
        path = path.resolve()
        if _is_installed(path) or not path.is_file():
            continue
        add(path)
    return dict(sorted(files.items()))


def pack_sources(zip_path: str | os.PathLike[str], roots: Iterable[Path] | None = None) -> list[str]:
    """Zip the entry script and the local modules it imported (trixi's SourcePacker); return the names.

    ``roots`` default to the entry script's folder (when run as ``python script.py``) and the
    working directory. Files in site-packages or the Python installation are left out.
    """
    script = entry_script()
    if roots is None:
        roots = [script.parent] if script is not None else []
        roots.append(Path.cwd())
    files = local_sources(roots, script)
    zip_path = Path(zip_path)
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, path in files.items():
            with contextlib.suppress(OSError):  # a module deleted since import is not worth failing a run
                zf.write(path, name)
    os.replace(tmp, zip_path)
    return list(files)


def collect_metadata(
    name: str,
    *,
    seed: int | None = None,
    argv: Sequence[str] | None = None,
    heartbeat_interval: float | None = None,
    git_dir: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The initial run.json content (status "running") and the git diff text (None when clean / no git)."""
    installed, trialog_versions = package_versions()
    script = entry_script()
    git_cwd = git_dir or (script.parent if script is not None else os.getcwd())
    git, diff = git_info(git_cwd)
    pid = os.getpid()
    start = now_iso()
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry inside some containers
        user = None
    meta: dict[str, Any] = {
        "name": name,
        "status": "running",
        "start": start,
        "end": None,
        "heartbeat": start,
        "heartbeat_interval": heartbeat_interval,
        "host": socket.gethostname(),
        "user": user,
        "pid": pid,
        "pid_start_ticks": _process_start_ticks(pid),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "cwd": os.getcwd(),
        "argv": list(sys.argv if argv is None else argv),
        "seed": seed,
        "epoch": None,
        "resumed_from": None,
        "git": git,
        "trialog": trialog_versions,
        "packages": installed,
    }
    return meta, diff


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``run.json`` of the run folder ``path`` (raw: the stored status, not corrected)."""
    file = Path(path) / META_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunFolderError(f"{str(path)!r} is not a trialog run folder: it has no {META_FILE}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunFolderError(
            f"{str(file)!r} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise RunFolderError(f"{str(file)!r} does not hold a JSON object")
    return data


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
            return json.loads(json.dumps(self._data, default=_json_default))

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
        # Notes, tags, stars... (trialog.registry) may have been written by another process since our
        # last write: take them from disk under the registry's lock instead of overwriting them.
        from .registry import locked, merge_registry

        with locked(self.path):
            merge_registry(self._data, self.file)
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


def find_runs(base_dir: str | os.PathLike[str]) -> list[Path]:
    """The run folders (trialog or trixi) directly inside ``base_dir``, sorted by name."""
    base = Path(base_dir)
    if not base.is_dir():
        raise RunFolderError(f"{str(base)!r} is not a folder of runs (it does not exist or is not a folder)")
    return sorted(p for p in base.iterdir() if p.is_dir() and (is_trialog_run(p) or is_trixi_run(p)))


def latest_run(base_dir: str | os.PathLike[str]) -> Path:
    """The trialog run in ``base_dir`` that started last (by run.json ``start``, never file times)."""
    best: tuple[_dt.datetime, str] | None = None
    best_path: Path | None = None
    for path in find_runs(base_dir):
        if not is_trialog_run(path):
            continue
        try:
            start = parse_time(read_meta(path).get("start"))
        except RunFolderError:
            continue
        if start is None:
            continue
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
        """purpose, notes, tags, starred, display_name, removed (:mod:`trialog.registry`)."""
        from .registry import registry_of

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
            meta["status"] = effective_status(meta)
            return meta
        return self._trixi_meta()

    def _trixi_meta(self) -> dict[str, Any]:
        exp: dict[str, Any] = {}
        file = self.path / "config" / "exp.json"
        if file.is_file():
            try:
                loaded = json.loads(file.read_text(encoding="utf-8"))
                exp = loaded if isinstance(loaded, dict) else {}
            except (json.JSONDecodeError, OSError):
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
        from .config import Config

        file = self.path / "config" / "config.json"
        if not file.is_file():
            return Config()
        return Config(file)

    @property
    def results(self) -> dict[str, dict[str, Any]]:
        """Results per name: ``{"loss": {"value": array, "counter": array, "epoch": array, "tag": [...]}}``."""
        if self.kind == "trialog":
            log = self.path / "result" / "results.jsonl"
            if not log.is_file():
                return {}
            from .series import read_series

            return read_series(log)
        from .results import results_by_name

        return results_by_name(self.records)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The raw result records (name, tag, value, counter, epoch, time) in the order they were added.

        A truncated last line (a killed run) is skipped; a run without results gives an empty list.
        """
        from .results import read_results, read_trixi_results

        if self.kind == "trialog":
            log = self.path / "result" / "results.jsonl"
            return list(read_results(log, warn=False)) if log.is_file() else []
        log = self.path / "result" / "results-log.json"
        return list(read_trixi_results(log, warn=False)) if log.is_file() else []

    @property
    def summary(self) -> dict[str, dict[str, Any]]:
        """Per result name: last, min, max, mean, count.

        The stored ``result/results.json`` of a run that ended; computed from the records otherwise (the
        summary of a killed run lags behind its records).
        """
        if self.kind == "trialog" and read_meta(self.path).get("status") in ("finished", "error", "stopped"):
            file = self.path / "result" / "results.json"
            if file.is_file():
                with contextlib.suppress(json.JSONDecodeError, OSError):
                    data = json.loads(file.read_text(encoding="utf-8"))
                    if isinstance(data, dict):
                        return data
        return summarize(self.results)

    @property
    def checkpoints(self) -> list[dict[str, Any]]:
        """The checkpoint manifest entries (``checkpoint/index.json``), oldest step first."""
        file = self.path / "checkpoint" / "index.json"
        if not file.is_file():
            return []
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunFolderError(
                f"{str(file)!r} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        entries = data.get("entries", []) if isinstance(data, dict) else data
        return sorted(entries, key=lambda e: e.get("step", 0)) if isinstance(entries, list) else []


def summarize(results: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """last / min / max / mean / count per result name, from :attr:`Run.results`-shaped arrays."""
    import numpy as np

    out: dict[str, dict[str, Any]] = {}
    for name, columns in results.items():
        values = np.asarray(columns.get("value", []))
        if values.size == 0 or values.dtype.kind not in "biuf":
            continue
        values = values.astype(float)
        out[name] = {
            "last": float(values[-1]),
            "min": float(values.min()),
            "max": float(values.max()),
            "mean": float(values.mean()),
            "count": int(values.size),
        }
    return out
