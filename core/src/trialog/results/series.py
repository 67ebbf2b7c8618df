"""Fast result series: a columnar sidecar of ``results.jsonl`` and readers for whole logs and appended tails.

The JSONL log stays the crash-safe source of truth. :class:`SeriesWriter` (driven by
:class:`~trialog.results.log.ResultLog`) appends one fixed-size binary row per record to ``result/results.series``
(with the JSONL byte offset where its line ends) and keeps the (name, tag) table in
``result/results.series.json``. The table vouches for its rows with the log byte where they end and the
CRC-32 of the log up to there; a sidecar that does not match the log is not used, the log is parsed and the
sidecar rebuilt (README, "Readers never show wrong data"). Log bytes past the vouched rows are parsed as
JSON. Values that are not plain numbers are flagged and read from their JSON line; a float counter (trixi's
``epoch + i / n``) is stored as its float64 bits and flagged, so integer counters read back as ints.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import struct
import time
import weakref
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from trialog.errors import TrialogError
from trialog.fileio import write_json

SERIES_NAME = "results.series"
KEYS_NAME = "results.series.json"
_FORMAT = 4
#: Key tables a reader trusts: format 4 carries the CRC of the log bytes its rows cover (formats 2 and 3 did
#: not, so their sidecars are rebuilt once).
_READ_FORMATS = (4,)
#: A log whose ctime is at least this old when it was verified is noted as verified (see the module doc):
#: file times tick coarsely, so a change right after a write could keep the ctime the write left.
_SETTLED_NS = 2_000_000_000
_CRC_BLOCK = 1 << 22
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
#: The table vouches for new rows once this many are written (and at close): replacing it costs a rename,
#: and a reader parses at most this many records of a live log from JSON.
_VOUCH_ROWS = 8 * _FLUSH_ROWS
_PACK = struct.Struct("<dqqdqq").pack
_PACK_FLOAT_COUNTER = struct.Struct("<ddqdqq").pack

__all__ = ["SeriesWriter", "read_appended", "read_columns", "read_series", "sidecar_paths"]


def record_of(line: Mapping[str, Any]) -> dict[str, Any]:
    """The record dict of one parsed ``results.jsonl`` line (KeyError without a name or value)."""
    return {
        "name": line["name"],
        "tag": line.get("tag"),
        "value": line["value"],
        "counter": line.get("counter"),
        "epoch": line.get("epoch"),
        "time": line.get("time"),
    }


def sidecar_paths(log: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(rows file, key table) of the sidecar that belongs to the results log ``log``."""
    log = Path(log)
    return log.with_name(SERIES_NAME), log.with_name(KEYS_NAME)


def _write_table(
    path: Path,
    keys: list[tuple[str, str | None]],
    rows: int,
    covered: int,
    crc: int,
    stamp: list[int] | None = None,
) -> None:
    """Replace the key table atomically: the keys, and the rows it vouches for (count, log end, log CRC)."""
    data = {"format": _FORMAT, "keys": [list(k) for k in keys], "rows": rows, "covered": covered, "crc": crc}
    if stamp is not None:
        data["stamp"] = stamp
    write_json(path, data, indent=None, durable=False)


def _read_table(path: Path) -> dict[str, Any] | None:
    """The key table (keys, rows, covered, crc, stamp), or None when missing, unreadable or of another format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") not in _READ_FORMATS:
            return None
        stamp = data.get("stamp")
        return {
            "keys": [(str(k[0]), None if k[1] is None else str(k[1])) for k in data["keys"]],
            "rows": int(data["rows"]),
            "covered": int(data["covered"]),
            "crc": int(data["crc"]),
            "stamp": [int(v) for v in stamp] if isinstance(stamp, list) else None,
        }
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


def _identity(st: os.stat_result) -> list[int]:
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _log_crc(fd: int, start: int, stop: int, crc: int = 0) -> int | None:
    """CRC-32 of bytes ``start:stop`` of the open log ``fd`` continuing ``crc``; None when the log is shorter."""
    pos = start
    while pos < stop:
        block = os.pread(fd, min(_CRC_BLOCK, stop - pos), pos)
        if not block:
            return None
        crc = zlib.crc32(block, crc)
        pos += len(block)
    return crc


def _file_crc(log: Path, stop: int) -> int | None:
    """CRC-32 of the first ``stop`` bytes of the file ``log`` (None when it is shorter)."""
    fd = os.open(log, os.O_RDONLY)
    try:
        return _log_crc(fd, 0, stop)
    finally:
        os.close(fd)


def _vouched(log: Path, st: os.stat_result, rows_path: Path, table: dict[str, Any]) -> tuple[int, int, bool]:
    """(rows, log bytes they cover, verified by CRC just now) of a sidecar whose table matches the log's
    content; (0, 0, False) when it does not (the log changed under it, or the table and rows disagree)."""
    n, covered = table["rows"], table["covered"]
    try:
        if n <= 0 or covered > st.st_size or rows_path.stat().st_size < n * ROW.itemsize:
            return 0, 0, False
        last = np.fromfile(rows_path, ROW, count=1, offset=(n - 1) * ROW.itemsize)
        if int(last["end"][0]) != covered or int((last["key"][0]) & _KEY_MASK) >= len(table["keys"]):
            return 0, 0, False
        if table["stamp"] == _identity(st):
            return n, covered, False
        crc = _file_crc(log, covered)
    except (OSError, ValueError):
        return 0, 0, False
    return (n, covered, True) if crc == table["crc"] else (0, 0, False)


class SeriesWriter:
    """Appends sidecar rows for a :class:`~trialog.results.log.ResultLog` (one ``os.write`` per batch of rows).

    ``log_size`` is the log's size when it is opened; the writer checks the sidecar against the log's
    content and rebuilds it when they disagree before the first append. Each batch of rows is followed by
    a new key table vouching for it with the CRC of the log bytes it covers.
    """

    def __init__(self, log: str | os.PathLike[str], log_size: int) -> None:
        self.log = Path(log)
        self.path, self.keys_path = sidecar_paths(self.log)
        self._size = int(log_size)
        self._ids: dict[tuple[str, str | None], int] = {}
        self._keys: list[tuple[str, str | None]] = []
        self._fd: int | None = None
        self._log_fd: int | None = None
        self._rows: list[bytes] = []
        self._n = 0  # rows on disk that the table vouches for
        self._covered = 0  # log bytes they cover
        self._crc = 0  # CRC-32 of those log bytes
        self._unvouched = 0  # rows on disk after those
        _OPEN.add(self)
        self._log_fd = os.open(self.log, os.O_RDONLY)
        self._sync()

    def _sync(self) -> None:
        st = os.fstat(self._log_fd)  # type: ignore[arg-type]
        table = _read_table(self.keys_path) if self.path.is_file() else None
        n, covered = _vouched(self.log, st, self.path, table)[:2] if table is not None else (0, 0)
        if table is not None and n and covered == self._size and self.path.stat().st_size == n * ROW.itemsize:
            # The common case on reopen: the sidecar covers the whole log, byte for byte.
            self._set(table["keys"], n, covered, table["crc"])
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            return
        keys = table["keys"] if table is not None and n else []
        rows = _load_rows(self.path, n) if n else np.empty(0, ROW)
        if rows is None:
            keys, rows, covered = [], np.empty(0, ROW), 0
        crc = table["crc"] if table is not None and n else 0
        if covered < self._size:
            extra, keys = _rows_from_json(self.log, covered, self._size, keys)
            rows = np.concatenate([rows, extra])
            if extra.size:
                crc = _log_crc(self._log_fd, covered, int(extra["end"][-1]), crc)  # type: ignore[arg-type]
                covered = int(extra["end"][-1])
        self._set(keys, int(rows.size), covered, crc or 0)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        rows.tofile(tmp)
        os.replace(tmp, self.path)
        self._write_table()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def _set(self, keys: list[tuple[str, str | None]], n: int, covered: int, crc: int) -> None:
        self._keys = list(keys)
        self._ids = {k: i for i, k in enumerate(self._keys)}
        self._n, self._covered, self._crc = n, covered, crc

    def _write_table(self) -> None:
        _write_table(self.keys_path, self._keys, self._n, self._covered, self._crc)

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
            self._write_table()
        self._size = size = self._size + nbytes
        number, key = (value, key) if type(value) is float else _number(value, key)
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

    def flush(self, vouch: bool = False) -> None:
        """Write the buffered rows (readers parse the log lines they do not cover yet); the table vouches for
        them every ``_VOUCH_ROWS`` rows, or now with ``vouch``."""
        if self._fd is not None and (self._rows or (vouch and self._unvouched)):
            data = b"".join(self._rows)
            self._unvouched += len(self._rows)
            self._rows.clear()
            try:
                written = os.write(self._fd, data)
                while written < len(data):
                    data = data[written:]
                    written = os.write(self._fd, data)
                if vouch or self._unvouched >= _VOUCH_ROWS:
                    crc = _log_crc(self._log_fd, self._covered, self._size, self._crc)  # type: ignore[arg-type]
                    if crc is None:
                        raise OSError("the results log is shorter than its records")
                    self._n, self._covered, self._crc = self._n + self._unvouched, self._size, crc
                    self._unvouched = 0
                    self._write_table()
            except OSError:
                # A full disk must not fail add(): stop keeping the sidecar; the table still vouches for the
                # rows before this batch, readers parse the log past them, and the next ResultLog rebuilds.
                fd, self._fd = self._fd, None
                os.close(fd)

    def truncate(self, offset: int) -> None:
        """Forget the rows of records after JSONL byte ``offset`` (the log was truncated there)."""
        self._rows.clear()
        self._unvouched = 0
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._size = offset
        self._sync()

    def close(self) -> None:
        """Write what is buffered and close the sidecar."""
        _OPEN.discard(self)
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.flush(vouch=True)  # a write that fails (a full disk) gives the sidecar up and closes it
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        if self._log_fd is not None:
            fd, self._log_fd = self._log_fd, None
            os.close(fd)

    def __del__(self) -> None:
        self.close()


#: Sidecars not closed yet: interpreter exit closes them while it still can write (``__del__`` runs too late).
_OPEN: weakref.WeakSet[SeriesWriter] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for writer in list(_OPEN):
        with contextlib.suppress(Exception):
            writer.close()


def _load_rows(path: Path, n: int) -> np.ndarray | None:
    try:
        return np.fromfile(path, ROW, count=n)
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
                break  # a garbled last line: a run killed mid-write, as trialog.results.log reads it
            raise TrialogError(
                f"{log}: a garbled record after byte {pos - len(raw) - 1} ({e}); the log is corrupt before its last line"
            ) from None
        key = ids.get((name, tag))
        if key is None:
            key = ids[(name, tag)] = len(keys)
            keys.append((name, tag))
        number, key = _number(value, key)
        counter, epoch, t = rec.get("counter"), rec.get("epoch"), rec.get("time")
        if counter is None:
            counter = _NONE
        elif type(counter) is float or (type(counter) is int and not _INT64[0] < counter <= _INT64[1]):
            # An int counter beyond int64 (written before trialog refused them) reads as the nearest float.
            counter, key = _float_bits(float(counter)), key | _FLOAT_COUNTER_FLAG
        elif type(counter) is not int:
            raise TrialogError(
                f"{log}: the record ending at byte {pos} has counter {counter!r}; a counter is an int, a float or null"
            )
        epoch = _epoch(epoch)
        out.append(
            (
                number,
                counter,
                _NONE if epoch is None else epoch,
                math.nan if t is None else float(t),
                pos,
                key,
            )
        )
    return np.array(out, ROW), keys


def _number(value: Any, key: int) -> tuple[float, int]:
    """The value column of a record's value, and its key id with the flags that say how to read it back."""
    if type(value) is float:
        return value, key
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:
        return float(value), key | _INT_FLAG
    return math.nan, key | _JSON_FLAG


def _epoch(epoch: Any) -> int | None:
    """An epoch as the int64 column holds it; one beyond int64 (an old record) or not a number reads as missing."""
    if epoch is None:
        return None
    try:
        epoch = int(epoch)
    except (TypeError, ValueError, OverflowError):
        return None
    return epoch if _INT64[0] < epoch <= _INT64[1] else None


def _float_bits(number: Any) -> int:
    """The int64 that holds the bits of ``number`` as a float64 (how a float counter sits in a row)."""
    return int(np.float64(number).view(np.int64))


def read_columns(log: str | os.PathLike[str]) -> dict[tuple[str, str | None], dict[str, np.ndarray]]:
    """Columns per (name, tag): ``{"value", "counter", "epoch", "time", "end"}`` arrays, in record order.

    ``end`` is the byte offset in the log where each record's line ends. ``counter``/``epoch`` are int64, or
    float64 with NaN for ``None`` rows (``counter`` also when some counter was a float); ``value`` is float64
    (int64 when every value was an int, an object array for values that are not plain numbers). Reads the
    sidecar and only the part of the log it does not cover.
    """
    log = Path(log)
    st = log.stat()
    size = st.st_size
    rows_path, keys_path = sidecar_paths(log)
    had_rows = rows_path.is_file()
    table = _read_table(keys_path) if had_rows else None
    n, covered, checked = _vouched(log, st, rows_path, table) if table is not None else (0, 0, False)
    keys: list[tuple[str, str | None]] = table["keys"] if table is not None and n else []
    counts = _scan(rows_path, n, len(keys)) if n else np.zeros(0, np.int64)
    if counts is None:
        keys, n, covered, counts = [], 0, 0, np.zeros(0, np.int64)
    extra = np.empty(0, ROW)
    if covered < size:
        extra, keys = _rows_from_json(log, covered, size, keys)
    if table is None and extra.size >= _REBUILD_ROWS:
        # No sidecar, or one without a valid table (an older trialog's format): keep what was parsed.
        _save_rebuilt(log, extra, keys, replace=had_rows)
    elif table is not None and n < table["rows"]:
        # The sidecar disagrees with the log (edited, replaced, truncated): rebuild it from what was parsed.
        _save_rebuilt(log, extra, keys, replace=True)
    elif (
        table is not None
        and checked
        and n == table["rows"]
        and covered == size
        and time.time_ns() - st.st_ctime_ns >= _SETTLED_NS
    ):
        # Verified and settled: later readers may skip the CRC until the log changes.
        with contextlib.suppress(OSError):
            _write_table(keys_path, keys, n, covered, table["crc"], _identity(st))
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


def _scan(rows_path: Path, n: int, n_keys: int) -> np.ndarray | None:
    """Rows per key among the first ``n`` rows, or None for a bad sidecar (a key id past the table)."""
    counts = np.zeros(n_keys, np.int64)
    for chunk in _chunks(rows_path, n):
        ids = chunk["key"] & _KEY_MASK
        if int(ids.max()) >= n_keys:
            return None
        counts += np.bincount(ids, minlength=n_keys)
    return counts


def _chunks(rows_path: Path, n: int) -> Any:
    for lo in range(0, n, _CHUNK_ROWS):
        yield np.fromfile(rows_path, ROW, count=min(_CHUNK_ROWS, n - lo), offset=lo * ROW.itemsize)


def _fill(chunk: np.ndarray, cols: dict[int, dict[str, np.ndarray]], filled: dict[int, int]) -> None:
    if not chunk.size:
        return
    ids = chunk["key"] & _KEY_MASK
    counts = np.bincount(ids)
    ordered: Any = chunk
    if not (ids == ids[0]).all():
        # One stable sort per chunk makes each key's rows one contiguous run (cheaper than a mask per key).
        order = np.argsort(ids, kind="stable")
        ordered = {f: chunk[f][order] for f in _FIELDS}
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for k in np.flatnonzero(counts):
        at, n = filled[int(k)], int(counts[k])
        target = cols[int(k)]
        for f in _FIELDS:
            target[f][at : at + n] = ordered[f][bounds[k] : bounds[k + 1]]
        filled[int(k)] = at + n


def _save_rebuilt(log: Path, rows: np.ndarray, keys: list[tuple[str, str | None]], *, replace: bool) -> None:
    # A log without a sidecar (written by an older trialog, or the sidecar was deleted) or with one that does
    # not match it: keep what we parsed, so the next read is fast. A missing sidecar is never put in place of
    # one a writer made meanwhile; a read-only folder is fine.
    rows_path, keys_path = sidecar_paths(log)
    if rows_path.exists() and not replace:
        return
    with contextlib.suppress(OSError):
        covered = int(rows["end"][-1]) if rows.size else 0
        crc = _file_crc(log, covered)
        if crc is None:
            return
        tmp = rows_path.with_name(f".{rows_path.name}.{os.getpid()}.tmp")
        rows.tofile(tmp)
        if rows_path.exists() and not replace:
            tmp.unlink()
            return
        os.replace(tmp, rows_path)
        _write_table(keys_path, keys, int(rows.size), covered, crc)


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
    """Results per name, shaped like :func:`trialog.results.log.results_by_name` (``tag`` is a list)."""
    return by_name(read_columns(log))


def read_series_by_key(log: str | os.PathLike[str]) -> Any:
    """Results per series (name, tag), keyed ``tag/name`` (a :class:`trialog.results.summaries.SeriesMap`)."""
    from trialog.results.summaries import SeriesMap, series_key

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
                records.append(record_of(json.loads(raw)))
            except (ValueError, KeyError, TypeError):
                raise TrialogError(f"{log}: a garbled record after byte {offset}") from None
    return records, offset + end
