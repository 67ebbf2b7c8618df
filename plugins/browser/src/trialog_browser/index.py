"""The index of run summaries: one row per run folder, kept up to date by file size and mtime.

A scan stats three files per run (``run.json``, ``config/config.json``, ``result/results.jsonl``) and
rereads only the runs whose signature changed. The summaries persist in a cache file (JSON) in
``cache_dir`` (default ``$XDG_CACHE_HOME/trialog`` or ``~/.cache/trialog``), one file per browsed
folder set, so a restarted browser does not read 10,000 runs again. Runs are addressed by an id
derived from their resolved path; the id, never a path from a request, picks a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from trialog_runs.query import run_fields, search_text

from trialog.api import (
    SeriesMap,
    flatten,
    parse_time,
    read_columns,
    run_file,
    run_status,
    series_key,
    stored_summary_current,
    walk_runs,
    write_json,
)
from trialog.errors import RunFolderError

CACHE_FORMAT = 5  # 4: results per series (name, tag), keyed tag/name; 5: damage and problems both
#: trixi's browser kept a run's new name, star and "ignore" flag in this file of the run folder.
TRIXI_META_FILE = ".exp_info"
#: Result names whose best value is the largest (everything else: the smallest).
_MAX_WORDS = ("acc", "score", "f1", "auc", "precision", "recall", "iou", "dice", "reward", "ap")
_META_KEYS = (
    "name",
    "display_name",
    "status",
    "start",
    "end",
    "heartbeat",
    "heartbeat_interval",
    "host",
    "pid",
    "pid_start_ticks",
    "epoch",
    "n_epochs",
    "seed",
    "purpose",
    "tags",
    "starred",
    "removed",
)


def best_mode(name: str) -> str:
    """ "max" for accuracy-like names, "min" otherwise."""
    low = name.lower()
    return "max" if any(w in low for w in _MAX_WORDS) else "min"


def run_id(path: Path) -> str:
    """The id the browser addresses a run by: a hash of its resolved path."""
    return _id(path.resolve())


def _id(resolved: Path) -> str:
    return hashlib.sha256(str(resolved).encode()).hexdigest()[:12]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trialog"


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _signature(run: Path) -> list[Any]:
    # Strings, not Paths: this runs for every run on every rescan.
    top = str(run)
    meta = _stat_str(top + "/run.json")
    if meta is not None:  # trialog: the trixi files cannot matter
        return [
            meta,
            _stat_str(top + "/config/config.json"),
            _stat_str(top + "/result/results.jsonl"),
            None,
            None,
            None,
        ]
    return [
        None,
        None,
        None,
        _stat_str(top + "/config/exp.json"),
        _stat_str(top + "/result/results-log.json"),
        _stat_str(top + "/" + TRIXI_META_FILE),
    ]


def _stat_str(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _scalar_config(flat: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in flat.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = _finite(value)
        else:
            text = json.dumps(value, default=str)
            out[key] = text if len(text) <= 200 else text[:197] + "..."
    return out


def summarize_run(path: Path, resolved: bool = False) -> dict[str, Any]:
    """The index entry of one run folder (trialog or trixi); raises for a folder that is not a run.

    A trialog run is read with three plain file reads (run.json, config.json, the result summary or
    the series sidecar): the scan of 10,000 runs must stay within seconds.
    """
    from trialog.api import Run

    rid = _id(path if resolved else path.resolve())
    meta_file = path / "run.json"
    damaged: list[dict[str, str]] = []
    if meta_file.is_file():
        raw = _read_json(run_file(path, "run.json"))
        if not isinstance(raw, dict):
            raise ValueError(f"{meta_file} does not hold a JSON object")
        kind = "trialog"
        # What can still be read is shown: a damaged config or log is a note on the row, not a lost row.
        plain = damage_of(damaged, "config/config.json", lambda: _trialog_config(path), {})
        results = damage_of(damaged, "result/results.jsonl", lambda: _trialog_results(path, raw), {})
    else:
        run = Run(path)
        kind = run.kind
        raw = run.meta
        raw["status"] = raw.get("status")
        raw.update(trixi_meta_info(path))
        config = run.config
        plain = config.to_plain() if hasattr(config, "to_plain") else dict(config)
        results = {
            name: {k: _finite(stats.get(k)) for k in ("last", "min", "max", "count")}
            for name, stats in run.summary.items()
        }
    meta = {k: raw.get(k) for k in _META_KEYS if k in raw}
    git = raw.get("git") if isinstance(raw.get("git"), dict) else {}
    meta["commit"] = (git or {}).get("commit")
    meta["n_notes"] = len(raw.get("notes") or [])
    # A damaged results log is never shown as a normal run (file and line; read again when the log changes).
    problems = damage_of(damaged, "result", lambda: Run(path).problems, {})
    for file, error in problems.items():
        if not any(d.get("file") == file for d in damaged):
            damaged.append({"file": file, "error": error})
    for name, stats in results.items():
        mode = best_mode(name)
        stats["best"] = stats.get(mode)
        stats["mode"] = mode
    return {
        "id": rid,
        "path": str(path),
        "folder": path.name,
        "kind": kind,
        "meta": meta,
        "config": _scalar_config(flatten(plain)),
        "results": results,
        "damaged": damaged,
        "problems": problems,
    }


def damage_of(damaged: list[dict[str, str]], file: str, read: Any, default: Any) -> Any:
    """``read()``, or ``default`` with ``{"file", "error"}`` added to ``damaged`` when ``file`` cannot be read
    (corrupt, or linked out of the run folder): a damaged file is named, never a broken page."""
    try:
        return read()
    except Exception as exc:  # any failure to read one file of a run is that file's damage
        damaged.append({"file": file, "error": str(exc)[:500] or type(exc).__name__})
        return default


def _trialog_config(path: Path) -> dict[str, Any]:
    from trialog.api import Run

    plain = _read_json(run_file(path, "config", "config.json"), default={})
    if not isinstance(plain, dict):
        plain = Run(path).config.to_plain()
    return plain  # type: ignore[no-any-return]


def trixi_meta_info(path: Path) -> dict[str, Any]:
    """The registry fields trixi's browser stored in ``.exp_info`` (name, star, ignore), as trialog names.

    An unreadable or malformed file counts as absent: it only decorates the row.
    """
    try:
        info = _read_json(path / TRIXI_META_FILE, default={})
    except (ValueError, OSError):
        return {}
    if not isinstance(info, dict):
        return {}
    out: dict[str, Any] = {}
    if isinstance(info.get("name"), str) and info["name"]:
        out["display_name"] = info["name"]
    if "star" in info:
        out["starred"] = bool(info["star"])
    if "ignore" in info:
        out["removed"] = bool(info["ignore"])
    return out


def _read_json(path: Path, default: Any = None) -> Any:
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read())
    except FileNotFoundError:
        return default


def _trialog_results(path: Path, meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    log = run_file(path, "result", "results.jsonl")
    summary_file = run_file(path, "result", "results.json")
    try:
        log_mtime = log.stat().st_mtime_ns
    except OSError:
        return {}
    # A run that ended wrote its summary (per series) after its last record: one small JSON file instead of
    # the series. trialog 0.1.0's summary merged the tags of a name: those runs are read from the series.
    if stored_summary_current(meta):
        try:
            fresh = summary_file.stat().st_mtime_ns >= log_mtime
        except OSError:
            fresh = False
        if fresh:
            with contextlib.suppress(ValueError, OSError):
                stored = _read_json(summary_file)
                if isinstance(stored, dict):
                    out = {}
                    for name, stats in stored.items():
                        if isinstance(stats, dict) and _is_number(stats.get("last")):
                            out[str(name)] = {
                                k: _finite(stats.get(k)) for k in ("last", "min", "max", "count")
                            }
                    return out
    results: dict[str, dict[str, Any]] = {}
    for (name, tag), cols in read_columns(log).items():
        values = cols["value"]
        if values.dtype.kind in "iuf" and values.ndim == 1 and values.size:
            _merge_stats(results, series_key(name, tag), values)
    return results


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _merge_stats(results: dict[str, dict[str, Any]], name: str, values: Any) -> None:
    import numpy as np

    as_float = values.astype(np.float64, copy=False)
    finite = as_float[~np.isnan(as_float)]
    entry = results.get(name)
    new = {
        "last": _finite(float(as_float[-1])),
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
        "count": int(as_float.size),
    }
    if entry is None:
        results[name] = new
        return
    # Two (name, tag) pairs with one key (trialog 0.1.0's "val/accuracy" tagged "accuracy" beside an untagged
    # "val/accuracy"): one series.
    entry["last"] = new["last"]
    entry["count"] += new["count"]
    for key, pick in (("min", min), ("max", max)):
        vals = [v for v in (entry[key], new[key]) if v is not None]
        entry[key] = pick(vals) if vals else None


class RunIndex:
    """Summaries of every run under ``dirs``; :meth:`refresh` rereads what changed on disk."""

    def __init__(
        self, dirs: Sequence[str | os.PathLike[str]], cache_dir: str | os.PathLike[str] | None = None
    ):
        self.dirs = [Path(d).resolve() for d in dirs]
        key = hashlib.sha256("\n".join(map(str, self.dirs)).encode()).hexdigest()[:16]
        self.cache_file = Path(cache_dir or default_cache_dir()) / f"browse-{key}.json"
        self._entries: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._last_refresh = 0.0
        self._bg: threading.Thread | None = None
        self._bg_lock = threading.Lock()
        #: Counts the rescans that changed something (answers computed from the entries are cached by it).
        self.version = 0
        self._load_cache()

    # -- persistence ----------------------------------------------------------------------------

    def _load_cache(self) -> None:
        try:
            data = json.loads(self.cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            return
        entries = data.get("entries")
        if isinstance(entries, dict):
            self._entries = {k: v for k, v in entries.items() if isinstance(v, dict) and "sig" in v}

    def _save_cache(self) -> None:
        with contextlib.suppress(OSError):
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            data = {"format": CACHE_FORMAT, "entries": self._entries}
            write_json(self.cache_file, data, indent=None, durable=False)  # a cache: rebuilt when lost

    # -- scanning -------------------------------------------------------------------------------

    def _folders(self) -> Iterable[tuple[Path, list[Any], str | None]]:
        """(run folder, signature, sweep) for each run under the browsed folders, nested ones too (the core's
        ``walk_runs``: sweep folders, no hidden folders, never into a run); one stat per file, no more."""
        sigs: dict[Path, list[Any]] = {}

        def is_run(path: Path) -> bool:
            sig = sigs[path] = _signature(path)
            return _is_run_sig(sig)

        for base in self.dirs:
            try:  # symlinked run folders are skipped: ids are made from resolved paths
                found = walk_runs(base, is_run=is_run, links=False)
            except RunFolderError:
                continue  # a folder that vanished or cannot be read lists no runs
            for path, sweep in found:
                yield path, sigs[path], sweep

    def refresh(self, max_age: float = 0.0) -> int:
        """Rescan (unless the last scan is younger than ``max_age`` seconds); returns how many runs were reread."""
        if max_age and time.monotonic() - self._last_refresh < max_age:
            return 0
        with self._lock:
            if max_age and time.monotonic() - self._last_refresh < max_age:
                return 0
            seen: dict[str, dict[str, Any]] = {}
            reread = 0
            for path, sig, sweep in self._folders():
                rid = _id(path)  # path is already resolved: base is, and symlinked entries are skipped
                old = self._entries.get(rid)
                if old is not None and old.get("sig") == sig and old.get("sweep") == sweep:
                    seen[rid] = old
                    continue
                try:
                    entry = summarize_run(path, resolved=True)
                except Exception as exc:  # a broken run is a row with its error, not a broken page
                    entry = {
                        "id": rid,
                        "path": str(path),
                        "folder": path.name,
                        "kind": "unknown",
                        "meta": {"name": path.name, "status": "unreadable", "error": str(exc)[:300]},
                        "config": {},
                        "results": {},
                        "damaged": [{"file": _main_file(path), "error": str(exc)[:500]}],
                    }
                entry["sig"] = sig
                entry["sweep"] = sweep  # the sweep folder holding the run, relative to the browsed folder
                seen[rid] = entry
                reread += 1
            changed = reread or len(seen) != len(self._entries)
            self._entries = seen
            self._last_refresh = time.monotonic()
            if changed:
                self.version += 1
                self._save_cache()
            return reread

    def refresh_soon(self, max_age: float) -> None:
        """Start a background rescan when the last one is older than ``max_age`` s; never waits for it."""
        if time.monotonic() - self._last_refresh < max_age:
            return
        with self._bg_lock:
            if self._bg is not None and self._bg.is_alive():
                return
            self._bg = threading.Thread(target=self.refresh, name="trialog-browse-index", daemon=True)
            self._bg.start()

    def update(self, rid: str) -> None:
        """Reread one run now (after the browser changed its registry fields)."""
        entry = self._entries.get(rid)
        if entry is None:
            return
        path = Path(entry["path"])
        fresh = summarize_run(path, resolved=True)
        fresh["sig"] = _signature(path)
        fresh["sweep"] = entry.get("sweep")
        with self._lock:
            self._entries = {**self._entries, rid: fresh}
            self.version += 1

    # -- reading --------------------------------------------------------------------------------

    def get(self, rid: str) -> dict[str, Any] | None:
        return self._entries.get(rid)

    def path_of(self, rid: str) -> Path | None:
        entry = self._entries.get(rid)
        return Path(entry["path"]) if entry else None

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


def _main_file(path: Path) -> str:
    """The file a run's row is made from: run.json (trialog) or config/exp.json (trixi)."""
    return "run.json" if os.path.lexists(path / "run.json") else "config/exp.json"


def _is_run_sig(sig: list[Any]) -> bool:
    # run.json (trialog), config/exp.json or result/results-log.json (trixi)
    return sig[0] is not None or sig[3] is not None or sig[4] is not None


def status_of(entry: dict[str, Any]) -> str:
    """The live status, by the core's one rule (``trialog.api.run_status``, as ``Run`` and ``runs ls``):
    a "running" run whose process is gone reads "killed"; one that just finished reads its new status."""
    meta = entry["meta"]
    stored = str(meta.get("status") or "unknown")
    if entry.get("kind") != "trialog" or stored != "running":
        return stored
    return run_status(meta, entry["path"])[0]


def duration_of(entry: dict[str, Any], status: str) -> float | None:
    meta = entry["meta"]
    start = parse_time(meta.get("start"))
    if start is None:
        return None
    end = parse_time(meta.get("end")) or (None if status == "running" else parse_time(meta.get("heartbeat")))
    if end is None:
        import datetime as dt

        end = dt.datetime.now(dt.UTC)
    return max(0.0, (end - start).total_seconds())


def fields_of(entry: dict[str, Any], status: str) -> dict[str, Any]:
    """What the filter language sees for an index entry."""
    meta = dict(entry["meta"])
    meta["status"] = status
    return run_fields(
        meta,
        entry["config"],
        SeriesMap(entry["results"]),
        {"folder": entry["folder"], "kind": entry["kind"], "sweep": entry.get("sweep")},
    )


def matches_search(fields: dict[str, Any], text: str) -> bool:
    return all(word in search_text(fields) for word in text.lower().split())
