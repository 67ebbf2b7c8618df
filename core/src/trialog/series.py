"""Fast result series: a columnar sidecar of ``results.jsonl`` and readers for whole logs and appended tails.

The JSONL log stays the crash-safe source of truth. Next to it :class:`SeriesWriter` (driven by
:class:`~trialog.results.ResultLog`) appends one fixed-size binary row per record to
``result/results.series`` and keeps the (name, tag) table in ``result/results.series.json``. Each row
carries the JSONL byte offset where its line ends, so a reader knows exactly which part of the log the
sidecar covers: rows past the log's end (a truncated log) are ignored, log bytes past the last row (a
crash between the two writes, a log written by another tool) are parsed as JSON. A missing or
unreadable sidecar is rebuilt from the log. Values that are not plain numbers (lists, bools, strings)
are flagged in the sidecar and read from their JSON line. A float counter (trixi's ``epoch + i / n``) is
stored as the bits of its float64 in the counter column and flagged, so integer counters keep their
int64 column and read back as ints.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import TrialogError

SERIES_NAME = "results.series"
KEYS_NAME = "results.series.json"
_FORMAT = 3
#: Key tables a reader accepts: format 2 is format 3 without float counters (its rows read the same).
_READ_FORMATS = (2, 3)
#: One sidecar row: value, counter, epoch, time, end offset of the JSONL line, key id (with flag bits).
ROW = np.dtype(
    [("value", "<f8"), ("counter", "<i8"), ("epoch", "<i8"), ("time", "<f8"), ("end", "<i8"), ("key", "<i8")]
)  # 48 bytes: every field stays 8-byte aligned, which keeps numpy's column copies fast
_FIELDS: tuple[str, ...] = tuple(ROW.names or ())
_NONE = np.iinfo(np.int64).min  # a missing counter or epoch
_JSON_FLAG = 1 << 30  # the value is not a plain number: read it from the JSONL line
_INT_FLAG = 1 << 29  # the value was an int
_FLOAT_COUNTER_FLAG = 1 << 31  # the counter column holds a float64's bits
_KEY_MASK = (1 << 29) - 1
_CHUNK_ROWS = 1 << 16
#: A reader rebuilds a missing sidecar on disk for logs at least this long.
_REBUILD_ROWS = 10_000
_INT64 = (-(2**63), 2**63 - 1)
#: Rows are written in batches: one extra write per this many records, not one per record.
_FLUSH_ROWS = 1024
_PACK = struct.Struct("<dqqdqq").pack
_PACK_FLOAT_COUNTER = struct.Struct("<ddqdqq").pack

__all__ = ["SeriesWriter", "read_appended", "read_columns", "read_series", "sidecar_paths"]


def sidecar_paths(log: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(rows file, key table) of the sidecar that belongs to the results log ``log``."""
    log = Path(log)
    return log.with_name(SERIES_NAME), log.with_name(KEYS_NAME)


def _write_keys(path: Path, keys: list[tuple[str, str | None]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"format": _FORMAT, "keys": [list(k) for k in keys]}), encoding="utf-8")
    os.replace(tmp, path)


def _read_key_table(path: Path) -> tuple[list[tuple[str, str | None]], int] | None:
    """(keys, format) of a key table, or None when it is missing, unreadable or of an unknown format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") not in _READ_FORMATS:
            return None
        return [(str(k[0]), None if k[1] is None else str(k[1])) for k in data["keys"]], int(data["format"])
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


def _read_keys(path: Path) -> list[tuple[str, str | None]] | None:
    table = _read_key_table(path)
    return None if table is None else table[0]


class SeriesWriter:
    """Appends sidecar rows for a :class:`~trialog.results.ResultLog` (one ``os.write`` per record).

    ``log_size`` is the log's size when it is opened; the writer brings the sidecar in line with it
    (drops rows past it, adds rows for lines it lacks) before the first append.
    """

    def __init__(self, log: str | os.PathLike[str], log_size: int) -> None:
        self.log = Path(log)
        self.path, self.keys_path = sidecar_paths(self.log)
        self._size = int(log_size)
        self._ids: dict[tuple[str, str | None], int] = {}
        self._keys: list[tuple[str, str | None]] = []
        self._fd: int | None = None
        self._rows: list[bytes] = []
        self._sync()

    def _sync(self) -> None:
        table = _read_key_table(self.keys_path) if self.path.is_file() else None
        keys = None if table is None else table[0]
        if table is not None and keys is not None and self._in_step(len(keys)):
            self._keys = keys
            self._ids = {k: i for i, k in enumerate(keys)}
            if table[1] != _FORMAT:
                # This writer may add float counters, which a reader of the old format would misread.
                _write_keys(self.keys_path, keys)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            return
        rows = _load_rows(self.path) if keys is not None else None
        if keys is None or rows is None or (rows.size and int((rows["key"] & _KEY_MASK).max()) >= len(keys)):
            keys, rows = [], np.empty(0, ROW)
        rows = rows[rows["end"] <= self._size]
        covered = int(rows["end"][-1]) if rows.size else 0
        if covered < self._size:
            extra, keys = _rows_from_json(self.log, covered, self._size, keys)
            rows = np.concatenate([rows, extra])
        self._keys = list(keys)
        self._ids = {k: i for i, k in enumerate(self._keys)}
        _write_keys(self.keys_path, self._keys)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        rows.tofile(tmp)
        os.replace(tmp, self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def _in_step(self, n_keys: int) -> bool:
        # The common case on reopen: whole rows, the last one ending where the log ends.
        size = self.path.stat().st_size
        if size % ROW.itemsize:
            return False
        if size == 0:
            return self._size == 0
        last = np.fromfile(self.path, ROW, count=1, offset=size - ROW.itemsize)[0]
        return int(last["end"]) == self._size and int(last["key"] & _KEY_MASK) < n_keys

    def append(
        self,
        name: str,
        tag: str | None,
        value: Any,
        counter: float | None,
        epoch: int | None,
        t: float,
        nbytes: int,
    ) -> None:
        """Add the row of one record whose JSONL line was ``nbytes`` long."""
        key = self._ids.get((name, tag))
        if key is None:
            key = self._ids[(name, tag)] = len(self._keys)
            self._keys.append((name, tag))
            _write_keys(self.keys_path, self._keys)
        self._size = size = self._size + nbytes
        if type(value) is float:
            number = value
        elif type(value) is int and _INT64[0] <= value <= _INT64[1]:
            number, key = float(value), key | _INT_FLAG
        else:
            number, key = math.nan, key | _JSON_FLAG
        rows = self._rows
        if type(counter) is float:
            row = _PACK_FLOAT_COUNTER(
                number, counter, _NONE if epoch is None else epoch, t, size, key | _FLOAT_COUNTER_FLAG
            )
        else:
            row = _PACK(
                number, _NONE if counter is None else counter, _NONE if epoch is None else epoch, t, size, key
            )
        rows.append(row)
        if len(rows) >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows (readers parse the log lines they do not cover yet)."""
        if self._fd is not None and self._rows:
            data = b"".join(self._rows)
            self._rows.clear()
            try:
                written = os.write(self._fd, data)
                while written < len(data):
                    data = data[written:]
                    written = os.write(self._fd, data)
            except OSError:
                # A full disk must not fail add(): stop keeping the sidecar; readers parse the log's tail
                # past the last whole row, and the next ResultLog on this log rebuilds the rest.
                fd, self._fd = self._fd, None
                os.close(fd)

    def truncate(self, offset: int) -> None:
        """Forget the rows of records after JSONL byte ``offset`` (the log was truncated there)."""
        self._rows.clear()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._size = offset
        self._sync()

    def close(self) -> None:
        """Write what is buffered and close the sidecar."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.flush()  # a write that fails (a full disk) gives the sidecar up and closes it
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __del__(self) -> None:
        self.close()


def _load_rows(path: Path) -> np.ndarray | None:
    try:
        size = path.stat().st_size
        # A row torn by a crash is ignored; the JSONL has its record.
        return np.fromfile(path, ROW, count=size // ROW.itemsize)
    except (OSError, ValueError):
        return None


def _rows_from_json(
    log: Path, start: int, stop: int, keys: list[tuple[str, str | None]]
) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    """Sidecar rows for the complete JSONL lines in bytes ``start:stop`` of ``log``."""
    keys = list(keys)
    ids = {k: i for i, k in enumerate(keys)}
    out: list[tuple[float, int, int, float, int, int]] = []
    with open(log, "rb") as fh:
        fh.seek(start)
        data = fh.read(stop - start)
    pos = start
    lines = data.split(b"\n")[:-1]
    for lineno, raw in enumerate(lines, 1):
        pos += len(raw) + 1
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
            name, tag, value = rec["name"], rec.get("tag"), rec["value"]
        except (ValueError, KeyError, TypeError) as e:
            if lineno == len(lines):
                break  # a garbled last line: a run killed mid-write, as trialog.results reads it
            raise TrialogError(
                f"{log}: a garbled record after byte {pos - len(raw) - 1} ({e}); the log is corrupt before its last line"
            ) from None
        key = ids.get((name, tag))
        if key is None:
            key = ids[(name, tag)] = len(keys)
            keys.append((name, tag))
        if type(value) is float:
            number = value
        elif type(value) is int and _INT64[0] <= value <= _INT64[1]:
            number, key = float(value), key | _INT_FLAG
        else:
            number, key = math.nan, key | _JSON_FLAG
        counter, epoch, t = rec.get("counter"), rec.get("epoch"), rec.get("time")
        if counter is None:
            counter = _NONE
        elif type(counter) is float:
            counter, key = _float_bits(counter), key | _FLOAT_COUNTER_FLAG
        elif type(counter) is not int:
            raise TrialogError(
                f"{log}: the record ending at byte {pos} has counter {counter!r}; a counter is an int, a float or null"
            )
        out.append(
            (
                number,
                counter,
                _NONE if epoch is None else int(epoch),
                math.nan if t is None else float(t),
                pos,
                key,
            )
        )
    return np.array(out, ROW), keys


def _float_bits(number: Any) -> int:
    """The int64 that holds the bits of ``number`` as a float64 (how a float counter sits in a row)."""
    return int(np.float64(number).view(np.int64))


def read_columns(log: str | os.PathLike[str]) -> dict[tuple[str, str | None], dict[str, np.ndarray]]:
    """Columns per (name, tag): ``{"value", "counter", "epoch", "time", "end"}`` arrays, in record order.

    ``end`` is the byte offset in the log where each record's line ends.

    ``counter``/``epoch`` are int64 with ``None`` rows as NaN in a float64 array (``counter`` is float64
    too when some counter was a float); ``value`` is float64
    (int64 when every value was an int, an object array for values that are not plain numbers).
    Reads the sidecar and only the part of the log it does not cover.
    """
    log = Path(log)
    size = log.stat().st_size
    rows_path, keys_path = sidecar_paths(log)
    keys = _read_keys(keys_path) if rows_path.is_file() else None
    n, covered = 0, 0
    counts = np.zeros(0, np.int64)
    if keys is not None:
        scanned = _scan(rows_path, size, len(keys))
        if scanned is None:
            keys = None
        else:
            n, covered, counts = scanned
    missing = keys is None
    if keys is None:
        keys, n, covered = [], 0, 0
    extra = np.empty(0, ROW)
    if covered < size:
        extra, keys = _rows_from_json(log, covered, size, keys)
        if missing and extra.size >= _REBUILD_ROWS:
            _save_rebuilt(rows_path, keys_path, extra, keys)
    counts = np.concatenate([counts, np.zeros(len(keys) - counts.size, np.int64)])
    if extra.size:
        counts += np.bincount(extra["key"] & _KEY_MASK, minlength=len(keys))
    # Second pass: every row straight into its key's columns (no per-key copy of whole rows).
    cols = {k: {f: np.empty(int(c), ROW[f]) for f in _FIELDS} for k, c in enumerate(counts) if c}
    filled = dict.fromkeys(cols, 0)
    for chunk in _chunks(rows_path, n):
        _fill(chunk, cols, filled)
    _fill(extra, cols, filled)
    return {keys[k]: _columns(c, log) for k, c in cols.items()}


def _scan(rows_path: Path, size: int, n_keys: int) -> tuple[int, int, np.ndarray] | None:
    """(rows that belong to the log, the log bytes they cover, rows per key), or None for a bad sidecar."""
    total = rows_path.stat().st_size // ROW.itemsize
    if not total:
        return 0, 0, np.zeros(n_keys, np.int64)
    last = np.fromfile(rows_path, ROW, count=1, offset=(total - 1) * ROW.itemsize)
    n = total
    if int(last["end"][0]) > size:
        # Rows beyond the log's end belong to a log truncated without the writer: not ours.
        ends = np.memmap(rows_path, ROW, mode="r", shape=(total,))["end"]
        n = int(np.searchsorted(ends, size, side="right"))
        del ends
    counts = np.zeros(n_keys, np.int64)
    covered = 0
    for chunk in _chunks(rows_path, n):
        ids = chunk["key"] & _KEY_MASK
        if int(ids.max()) >= n_keys:
            return None
        counts += np.bincount(ids, minlength=n_keys)
        covered = int(chunk["end"][-1])
    return n, covered, counts


def _chunks(rows_path: Path, n: int) -> Any:
    for lo in range(0, n, _CHUNK_ROWS):
        yield np.fromfile(rows_path, ROW, count=min(_CHUNK_ROWS, n - lo), offset=lo * ROW.itemsize)


def _fill(chunk: np.ndarray, cols: dict[int, dict[str, np.ndarray]], filled: dict[int, int]) -> None:
    if not chunk.size:
        return
    ids = chunk["key"] & _KEY_MASK
    first = int(ids[0])
    if (ids == first).all():
        spans = [(first, chunk)]
    else:
        # One stable sort per chunk makes each key's rows one contiguous run (cheaper than a mask per key).
        order = np.argsort(ids, kind="stable")
        counts = np.bincount(ids)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        ordered = {f: chunk[f][order] for f in _FIELDS}
        for k in np.flatnonzero(counts):
            at, n = filled[int(k)], int(counts[k])
            target = cols[int(k)]
            for f in _FIELDS:
                target[f][at : at + n] = ordered[f][bounds[k] : bounds[k + 1]]
            filled[int(k)] = at + n
        return
    for key_id, part in spans:
        at = filled[key_id]
        target = cols[key_id]
        for f in _FIELDS:
            target[f][at : at + part.size] = part[f]
        filled[key_id] = at + part.size


def _save_rebuilt(
    rows_path: Path, keys_path: Path, rows: np.ndarray, keys: list[tuple[str, str | None]]
) -> None:
    # A log without a sidecar (written by an older trialog, or the sidecar was deleted): keep what we parsed,
    # so the next read is fast. Never replaces a sidecar a writer made meanwhile; a read-only folder is fine.
    if rows_path.exists():
        return
    with contextlib.suppress(OSError):
        tmp = rows_path.with_name(f".{rows_path.name}.{os.getpid()}.tmp")
        rows.tofile(tmp)
        if rows_path.exists():
            tmp.unlink()
            return
        _write_keys(keys_path, keys)
        os.replace(tmp, rows_path)


def _columns(cols: dict[str, np.ndarray], log: Path) -> dict[str, np.ndarray]:
    flags = cols["key"]
    value: np.ndarray = cols["value"]
    json_rows = np.flatnonzero(flags & _JSON_FLAG)
    if json_rows.size:
        value = value.astype(object)
        with open(log, "rb") as fh:
            for i in json_rows:
                end = int(cols["end"][i])
                start = _line_start(fh, end)
                fh.seek(start)
                value[i] = json.loads(fh.read(end - start))["value"]
        with contextlib.suppress(ValueError, TypeError):
            as_array = np.asarray(value.tolist())
            if as_array.dtype != object:
                value = as_array
    elif (flags & _INT_FLAG).all():
        value = value.astype(np.int64)
    return {
        "value": value,
        "counter": _counters(cols["counter"], flags),
        "epoch": _ints(cols["epoch"]),
        "time": cols["time"],
        "end": cols["end"],
    }


def _line_start(fh: Any, end: int) -> int:
    pos = end - 1
    while pos > 0:
        step = min(4096, pos)
        fh.seek(pos - step)
        block = fh.read(step)
        i = block.rfind(b"\n")
        if i >= 0:
            return pos - step + i + 1
        pos -= step
    return 0


def _counters(column: np.ndarray, flags: np.ndarray) -> np.ndarray:
    floats = (flags & _FLOAT_COUNTER_FLAG) != 0
    if not floats.any():
        return _ints(column)
    out = column.astype(np.float64)
    out[floats] = column[floats].view(np.float64)
    out[~floats & (column == _NONE)] = math.nan
    return out


def _ints(column: np.ndarray) -> np.ndarray:
    missing = column == _NONE
    if not missing.any():
        return column
    out = column.astype(np.float64)
    out[missing] = math.nan
    return out


def read_series(log: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Results per name, shaped like :func:`trialog.results.results_by_name` (``tag`` is a list)."""
    return by_name(read_columns(log))


def read_series_by_key(log: str | os.PathLike[str]) -> Any:
    """Results per series (name, tag), keyed ``tag/name`` (a :class:`trialog.summaries.SeriesMap`)."""
    from .summaries import SeriesMap, series_key

    columns = read_columns(log)
    out = SeriesMap()
    for name, tag in columns:
        out.pairs.setdefault(series_key(name, tag), (name, tag))
    return by_name(columns, series_key, out)


def by_name(
    columns: Mapping[tuple[str, str | None], Mapping[str, np.ndarray]],
    key: Any = None,
    out: dict[str, dict[str, Any]] | None = None,
) -> Any:
    """Merge per-(name, tag) columns into per-name ones (per ``key(name, tag)`` when given), in record order.

    Fills and returns ``out`` (a new dict by default).
    """
    grouped: dict[str, list[tuple[str | None, Mapping[str, np.ndarray]]]] = {}
    for (name, tag), cols in columns.items():
        grouped.setdefault(key(name, tag) if key else name, []).append((tag, cols))
    if out is None:
        out = {}
    for name, items in grouped.items():
        if len(items) == 1:
            tag, cols = items[0]
            out[name] = {
                **{k: cols[k] for k in ("value", "counter", "epoch", "time")},
                "tag": [tag] * len(cols["time"]),
            }
            continue
        tags = [t for t, c in items for _ in range(len(c["time"]))]
        merged = {k: _concat([c[k] for _, c in items]) for k in ("value", "counter", "epoch", "time")}
        order = np.argsort(_concat([c["end"] for _, c in items]), kind="stable")
        out[name] = {k: v[order] for k, v in merged.items()}
        out[name]["tag"] = [tags[i] for i in order]
    return out


def _concat(arrays: list[np.ndarray]) -> np.ndarray:
    if any(a.dtype == object for a in arrays):
        return np.concatenate([a.astype(object) for a in arrays])
    return np.concatenate(arrays)


def read_appended(log: str | os.PathLike[str], offset: int) -> tuple[list[dict[str, Any]], int]:
    """The complete records appended to ``log`` since byte ``offset``, and the offset to ask from next time.

    Reads only the bytes after ``offset``; a line still being written stays for the next call. An
    ``offset`` past the end (the log was truncated or replaced) raises :class:`TrialogError`.
    """
    log = Path(log)
    with open(log, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if offset > size or offset < 0:
            raise TrialogError(f"{log}: offset {offset} is past the end of the log ({size} bytes)")
        fh.seek(offset)
        data = fh.read(size - offset)
    end = data.rfind(b"\n") + 1
    records = []
    for raw in data[:end].split(b"\n"):
        if raw.strip():
            try:
                rec = json.loads(raw)
                records.append(
                    {
                        "name": rec["name"],
                        "tag": rec.get("tag"),
                        "value": rec["value"],
                        "counter": rec.get("counter"),
                        "epoch": rec.get("epoch"),
                        "time": rec.get("time"),
                    }
                )
            except (ValueError, KeyError, TypeError):
                raise TrialogError(f"{log}: a garbled record after byte {offset}") from None
    return records, offset + end
