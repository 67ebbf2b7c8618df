"""The run's results: an append-only JSON Lines log, its running summary, and readers (trialog's and trixi's).

``result/results.jsonl`` holds one record per ``add``::

    {"name": "loss", "tag": "train", "value": 0.25, "counter": 3, "epoch": 0, "time": 1763719766.12}

``counter`` keeps the type it was given (an int, or a float: trixi's ``epoch + i / n``). Each record reaches
the operating system with one ``os.write`` on an ``O_APPEND`` descriptor, so a process killed with SIGKILL
loses nothing it already added. ``result/results.json`` (last, min, max, mean, count per series, keyed
``tag/name`` as :mod:`trialog.results.summaries` says) is replaced atomically.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from trialog.errors import (
    AmbiguousResultError,
    CorruptFileError,
    ResultValueError,
    RunFolderError,
    TrialogError,
    TrialogWarning,
)
from trialog.fileio import disk_full_error, is_disk_full, write_atomic, write_json
from trialog.fileio import json_default as _json_default
from trialog.results.atbest import AtBest
from trialog.results.summaries import SeriesMap, series_key

LOG_NAME = "results.jsonl"
SUMMARY_NAME = "results.json"
TRIXI_LOG_NAME = "results-log.json"

__all__ = [
    "ResultLog",
    "ResultRecords",
    "ResultStats",
    "coerce_counter",
    "find_damage",
    "read_results",
    "read_trixi_results",
    "results_by_name",
    "results_by_series",
    "write_atomic",
]


class ResultStats:
    """Running summary of one result name: last, min, max, mean, count (and where min and max were seen).

    Non-numeric values (lists, strings) count and become ``last`` but leave min/max/mean alone; NaN is
    skipped by min and max and makes the mean NaN, as numpy would.
    """

    __slots__ = ("count", "last", "max", "max_at", "min", "min_at", "n_numeric", "sum")

    def __init__(self) -> None:
        self.count = 0
        self.n_numeric = 0
        self.last: Any = None
        self.min: float | None = None
        self.max: float | None = None
        self.sum = 0.0
        self.min_at: tuple[float | None, int | None] = (None, None)
        self.max_at: tuple[float | None, int | None] = (None, None)

    def update(self, value: Any, counter: float | None, epoch: int | None) -> None:
        self.count += 1
        self.last = value
        if type(value) is float or (type(value) is int):
            self.n_numeric += 1
            self.sum += value
            if value == value:  # NaN never becomes min or max
                if self.min is None or value < self.min:
                    self.min = value
                    self.min_at = (counter, epoch)
                if self.max is None or value > self.max:
                    self.max = value
                    self.max_at = (counter, epoch)

    @property
    def mean(self) -> float | None:
        return self.sum / self.n_numeric if self.n_numeric else None

    def best(self, mode: str = "min") -> dict[str, Any] | None:
        """The best value by ``mode`` ("min" or "max") with its counter and epoch, or None if never numeric."""
        if mode not in ("min", "max"):
            raise TrialogError(f"mode must be 'min' or 'max', not {mode!r}")
        value = self.min if mode == "min" else self.max
        if value is None:
            return None
        counter, epoch = self.min_at if mode == "min" else self.max_at
        return {"value": value, "counter": counter, "epoch": epoch}

    def as_dict(self) -> dict[str, Any]:
        return {"last": self.last, "min": self.min, "max": self.max, "mean": self.mean, "count": self.count}


def _tag_prefix(name: str, tag: str | None) -> str:
    return '{"name": ' + json.dumps(name) + ', "tag": ' + json.dumps(tag) + ', "value": '


def _float_text(value: float) -> str:
    # repr round-trips a float exactly; NaN and infinities take Python json's spelling so json.loads reads them.
    if value - value == 0.0:
        return repr(value)
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _coerce_value(value: Any) -> Any:
    """numpy/torch scalars to Python numbers, arrays to (nested) lists; anything else must be JSON as it is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    tolist = getattr(value, "tolist", None)
    if tolist is not None:  # numpy scalar or array, torch tensor
        return tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


#: Integer counters and epochs are stored as int64 (the columnar sidecar, numpy arrays): the range they must lie in.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _out_of_range(what: str, name: str, value: int) -> ResultValueError:
    return ResultValueError(
        f"result {name!r}: {what} {value} is outside the 64-bit integer range [-2**63, 2**63 - 1]; nothing was "
        f"written. Pass a smaller {what} (or a float)"
    )


def coerce_counter(value: Any, name: str) -> int | float:
    """An integer counter stays an int; a finite float (or a numpy/torch float scalar) becomes a float."""
    with contextlib.suppress(AttributeError, TypeError):
        return int(value.__index__())
    if not isinstance(value, (str, bytes, bool)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if number - number == 0.0:  # finite
            return number
    raise ResultValueError(
        f"result {name!r}: counter must be an integer, a finite float or None, not {type(value).__name__} {value!r}"
    ) from None


def _coerce_int(value: Any, what: str, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value.__index__())
    except (AttributeError, TypeError):
        raise ResultValueError(
            f"result {name!r}: {what} must be an integer or None, not {type(value).__name__} {value!r}"
        ) from None


class ResultLog:
    """Append-only results log of one run (``result_dir/results.jsonl``) with a running summary per series.

    A series is a (name, tag) pair; summaries are keyed ``tag/name`` (:func:`trialog.results.summaries.series_key`),
    and a bare name finds its series where only one tag has it.

    Not meant to be shared between threads: records from two threads stay whole lines, but their summary
    updates may interleave.
    """

    def __init__(self, result_dir: str | os.PathLike[str], at_best: tuple[str, str] | None = None) -> None:
        """``at_best``: ``(monitor, mode)`` to keep every result at the monitor's best epoch (:mod:`trialog.results.atbest`)."""
        self.result_dir = Path(result_dir)
        self._at_best = None if at_best is None else AtBest(*at_best)
        self.path = self.result_dir / LOG_NAME
        self.summary_path = self.result_dir / SUMMARY_NAME
        self._prefixes: dict[tuple[str, str | None], str] = {}
        self._stats: SeriesMap = SeriesMap()
        self._pair_stats: dict[tuple[str, str | None], ResultStats] = {}
        self._latest: dict[str, ResultStats] = {}  # per name: the series it was last added to (any tag)
        self._fd: int | None = None
        self._series: Any = None
        self._summary_kept = False
        try:
            self.result_dir.mkdir(parents=True, exist_ok=True)
            # O_NOFOLLOW: a results log that is a symlink would append records to some other file.
            self._fd = os.open(
                self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644
            )
        except OSError as e:
            if self.path.is_symlink():
                raise RunFolderError(
                    f"results log {self.path} is a symbolic link (to {os.readlink(self.path)}); trialog does "
                    "not write through links: replace it with the real file"
                ) from None
            raise RunFolderError(
                f"cannot open results log {self.path}: {e.strerror}; check the folder"
            ) from e
        # Where the log ends: a failed append is cut back to it, so a torn record never stays behind.
        self._size = os.fstat(self._fd).st_size
        if self._size:
            try:
                self._rebuild(repair=True)
            except BaseException:
                self.close()
                raise
        self._series = self._open_series()

    # -- writing ---------------------------------------------------------------------------------------------

    def add(
        self,
        name: str,
        value: Any,
        counter: float | None = None,
        tag: str | None = None,
        epoch: int | None = None,
    ) -> dict[str, Any]:
        """Append one record and return it; ``value`` is a number, a numpy/torch scalar or a small array/list.

        ``counter`` (the x position) is an int or a finite float and is stored as the type it is.
        """
        # The hot path of every training loop: plain floats and ints are formatted by hand (json.dumps would
        # halve the rate), everything else goes through _coerce_value and json.
        now = time.time()
        prefix = self._prefixes.get((name, tag))
        if prefix is None:
            prefix = self._new_prefix(name, tag)
        vtype = type(value)
        if vtype is float:
            text = repr(value) if value - value == 0.0 else _float_text(value)
        elif vtype is int:
            text = str(value)
        else:
            value = _coerce_value(value)
            text = self._value_text(name, value)
        if counter is not None and type(counter) is not int:
            # A finite float is kept (it formats as its repr, exact in JSON); anything else is converted.
            if type(counter) is not float or counter - counter != 0.0:
                counter = coerce_counter(counter, name)
        if type(counter) is int and not _INT64_MIN <= counter <= _INT64_MAX:
            raise _out_of_range("counter", name, counter)
        if epoch is not None:
            if type(epoch) is not int:
                epoch = _coerce_int(epoch, "epoch", name)
            if not _INT64_MIN <= epoch <= _INT64_MAX:  # type: ignore[operator]
                raise _out_of_range("epoch", name, epoch)  # type: ignore[arg-type]
        line = (
            f'{prefix}{text}, "counter": {"null" if counter is None else counter}, '
            f'"epoch": {"null" if epoch is None else epoch}, "time": {now!r}}}\n'
        ).encode()
        fd = self._fd
        if fd is None:
            raise TrialogError(f"results log {self.path} is closed")
        try:
            written = os.write(fd, line)
            if written < len(line):
                self._write_rest(line[written:])
        except BaseException as exc:
            self._undo_append(exc)
            raise
        self._size += len(line)
        if self._series is not None:
            self._series.append(name, tag, value, counter, epoch, now, len(line))
        stats = self._pair_stats.get((name, tag))
        if stats is None:
            stats = self._new_stats(name, tag)
        stats.update(value, counter, epoch)
        self._latest[name] = stats
        if self._at_best is not None:
            self._at_best.update(series_key(name, tag), value, counter, epoch, bare=name)
        return {"name": name, "tag": tag, "value": value, "counter": counter, "epoch": epoch, "time": now}

    def _new_stats(self, name: str, tag: str | None) -> ResultStats:
        key = series_key(name, tag)
        stats = dict.get(self._stats, key)  # a name already reading tag/name is that series
        if stats is None:
            stats = self._stats[key] = ResultStats()
            self._stats.pairs[key] = (name, tag)
        self._pair_stats[(name, tag)] = stats
        return stats

    def _open_series(self) -> Any:
        # The columnar sidecar (trialog.results.series) is a cache of the log: a failure to keep it costs speed only.
        from trialog.results.series import SeriesWriter

        try:
            return SeriesWriter(self.path, os.fstat(self._fd).st_size)  # type: ignore[arg-type]
        except (OSError, ValueError):
            return None

    def _new_prefix(self, name: str, tag: str | None) -> str:
        if not isinstance(name, str):
            raise TrialogError(f"result name must be a string, not {type(name).__name__} {name!r}")
        if tag is not None and not isinstance(tag, str):
            raise TrialogError(f"result {name!r}: tag must be a string or None, not {type(tag).__name__}")
        prefix = self._prefixes[(name, tag)] = _tag_prefix(name, tag)
        return prefix

    @staticmethod
    def _value_text(name: str, value: Any) -> str:
        if type(value) is float:
            return _float_text(value)
        try:
            return json.dumps(value, default=_json_default)
        except (TypeError, ValueError) as e:
            raise ResultValueError(
                f"result {name!r}: value of type {type(value).__name__} cannot be stored as JSON ({e}); "
                "pass a number, a numpy/torch scalar, or a small array or list of numbers"
            ) from None

    def _undo_append(self, exc: BaseException) -> None:
        """Cut the log back to its last complete record after a failed append (a full disk, a signal)."""
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._size)  # type: ignore[arg-type]
        if is_disk_full(exc):
            raise disk_full_error(self.path, exc) from exc  # type: ignore[misc]

    def _write_rest(self, data: bytes) -> None:
        # Short writes happen only on a full disk or an interrupting signal; finish the line.
        while data:
            data = data[os.write(self._fd, data) :]  # type: ignore[arg-type]

    # -- summary ---------------------------------------------------------------------------------------------

    @property
    def stats(self) -> Mapping[str, ResultStats]:
        """Running statistics per series key (``tag/name``; a bare name finds its one series)."""
        return self._stats

    def names(self) -> list[str]:
        """The series keys, in the order they were first added."""
        return list(self._stats)

    def summary(self) -> SeriesMap:
        """``{key: {"last", "min", "max", "mean", "count"}}`` for every series so far (``.pairs``: key ->
        (name, tag)), and the ``at_best/<key>`` values when a monitor is kept (:mod:`trialog.results.atbest`)."""
        summary = SeriesMap({key: s.as_dict() for key, s in self._stats.items()}, self._stats.pairs)
        if self._at_best is not None:
            summary.update(self._at_best.summary())
        return summary

    def result_names(self) -> list[str]:
        """The result names (not series: a name logged under two tags counts once), first added first."""
        return list(dict.fromkeys(name for name, _ in self._pair_stats))

    def latest(self, name: str) -> Any:
        """The value added last under ``name``, whatever its tag (trixi's ``ResultLogDict[name]``)."""
        try:
            return self._latest[name].last
        except KeyError:
            known = ", ".join(map(repr, self.result_names())) or "none yet"
            raise KeyError(f"no result named {name!r} in {self.path}; known names: {known}") from None

    def last(self, name: str, tag: str | None = None) -> Any:
        """The last value added under ``name`` (and ``tag``; without it the name must have one tag)."""
        return self._get(name, tag).last

    def best(self, name: str, mode: str = "min", tag: str | None = None) -> dict[str, Any] | None:
        """``{"value", "counter", "epoch"}`` of the lowest (mode "min") or highest (mode "max") value of ``name``."""
        return self._get(name, tag).best(mode)

    def _get(self, name: str, tag: str | None = None) -> ResultStats:
        try:
            return self._stats[self._stats.key_of(name, tag)]  # type: ignore[no-any-return]
        except AmbiguousResultError:
            raise
        except KeyError as exc:
            raise KeyError(f"{self.path}: {exc.args[0]}") from None

    def save_summary(self) -> Path:
        """Atomically replace ``results.json`` with the current summary (keyed per series); returns its path.

        After :meth:`keep_summary` the file on disk is left as it is."""
        if self._summary_kept:
            return self.summary_path
        write_json(self.summary_path, self.summary())
        return self.summary_path

    def keep_summary(self) -> None:
        """Never replace ``results.json`` from now on (the log lost records: its summary says more than it)."""
        self._summary_kept = True

    # -- resume ----------------------------------------------------------------------------------------------

    def position(self) -> int:
        """Byte offset of the end of the log (store it with a checkpoint to :meth:`truncate` to on resume)."""
        self._check_open()
        return os.fstat(self._fd).st_size  # type: ignore[arg-type]

    def truncate(self, offset: int) -> None:
        """Drop every record after byte ``offset`` (a value :meth:`position` returned) and rebuild the summary."""
        size = self.position()
        if not 0 <= offset <= size:
            raise TrialogError(f"cannot truncate {self.path} to byte {offset}: the log has {size} bytes")
        if offset:
            with open(self.path, "rb") as f:
                f.seek(offset - 1)
                if f.read(1) != b"\n":
                    raise TrialogError(
                        f"byte {offset} of {self.path} is not the end of a record; pass a value position() returned"
                    )
        os.ftruncate(self._fd, offset)  # type: ignore[arg-type]
        self._size = offset
        self._rebuild(repair=False)
        if self._series is not None:
            self._series.truncate(offset)

    def _rebuild(self, repair: bool) -> None:
        self._stats.clear()
        self._stats.pairs.clear()
        self._pair_stats.clear()
        self._latest.clear()
        if self._at_best is not None:
            self._at_best.reset()
        records = read_results(self.path, warn=False)
        for rec in records:
            stats = self._pair_stats.get((rec["name"], rec["tag"]))
            if stats is None:
                stats = self._new_stats(rec["name"], rec["tag"])
            stats.update(rec["value"], rec["counter"], rec["epoch"])
            self._latest[rec["name"]] = stats
            if self._at_best is not None:
                self._at_best.feed(rec)
        if repair and records.truncated:
            # New records must not be glued onto a torn line: cut the log back to its last complete record.
            warnings.warn(
                f"results log {self.path} ended in an incomplete record (the run was killed while writing); "
                f"dropped {records.dropped_bytes} bytes after the last complete record",
                TrialogWarning,
                stacklevel=3,
            )
            os.ftruncate(self._fd, records.valid_bytes)  # type: ignore[arg-type]
            self._size = records.valid_bytes

    # -- lifetime --------------------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._fd is None:
            raise TrialogError(f"results log {self.path} is closed")

    def sync(self) -> None:
        """fsync the log (records already survive a killed process; this makes them survive a power loss)."""
        self._check_open()
        os.fsync(self._fd)  # type: ignore[arg-type]

    def flush(self) -> None:
        """Write the sidecar's buffered rows, let its table vouch for them, and fsync the log.

        ``Experiment.close`` calls it: nothing is left for garbage collection or interpreter exit to write.
        The log stays open, so a record added later (a checkpoint loaded after close) is still appended.
        """
        if self._fd is None:
            return
        if self._series is not None:
            self._series.flush(vouch=True)
        os.fsync(self._fd)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def close(self) -> None:
        """fsync and close the log (idempotent)."""
        if self._fd is None:
            return
        if self._series is not None:
            self._series.close()
        fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def __del__(self) -> None:
        # A log nobody closed must not keep its descriptor open; records are already with the OS.
        fd = getattr(self, "_fd", None)
        if fd is not None:
            self._fd = None
            os.close(fd)

    def __enter__(self) -> ResultLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else f"{len(self._stats)} series"
        return f"ResultLog({str(self.result_dir)!r}, {state})"


# -- readers ---------------------------------------------------------------------------------------------------


class ResultRecords(list):
    """The records read from a results log (a list of dicts) plus what the reader had to skip.

    ``truncated`` is True when the last line was incomplete or garbled (a run killed mid-write);
    ``valid_bytes`` is where the last complete record ends, ``dropped_bytes`` how much came after it.
    """

    path: Path | None = None
    truncated: bool = False
    valid_bytes: int = 0
    dropped_bytes: int = 0


def _open_log(path: str | os.PathLike[str], name: str) -> tuple[Path, bytes, ResultRecords]:
    """The results log ``path`` names (the file, or ``name`` in a run or result folder), its bytes, no records yet."""
    path = Path(path)
    if path.is_dir():
        for candidate in (path / name, path / "result" / name):
            if candidate.is_file():
                path = candidate
                break
        else:
            raise RunFolderError(f"{path} holds no results log ({name}, also looked in result/)")
    elif not path.is_file():
        raise RunFolderError(f"results log {path} does not exist")
    records = ResultRecords()
    records.path = path
    return path, path.read_bytes(), records


def _record(name: Any, tag: Any, value: Any, counter: Any, epoch: Any, t: Any) -> dict[str, Any]:
    return {"name": name, "tag": tag, "value": value, "counter": counter, "epoch": epoch, "time": t}


def read_results(path: str | os.PathLike[str], *, warn: bool = True) -> ResultRecords:
    """Read trialog's ``results.jsonl`` (or a run/result folder holding one) into record dicts.

    An incomplete or garbled last line (a run killed mid-write) is skipped and reported through
    ``records.truncated`` and a :class:`~trialog.errors.TrialogWarning`; a garbled line before the last is an
    error naming the file and line.
    """
    from trialog.results.series import record_of

    path, data, records = _open_log(path, LOG_NAME)
    lines = data.split(b"\n")
    # data ending in "\n" leaves an empty last piece; anything else there is a record that was never finished.
    tail = lines.pop()
    end = 0
    loads = json.loads
    for lineno, raw in enumerate(lines, 1):
        if raw.strip():
            try:
                records.append(record_of(loads(raw)))
            except (ValueError, KeyError, TypeError) as e:
                if lineno == len(lines) and not tail:
                    tail = raw + b"\n"  # the last line is garbled: same as a torn one
                    break
                err = CorruptFileError(
                    f"{path}, line {lineno}: not a results record ({e}); the log is corrupt before its last line "
                    "(`trialog runs repair RUN` cuts it back to its checkpoint)"
                )
                err.line, err.offset = lineno, end  # type: ignore[attr-defined]
                raise err from None
        end += len(raw) + 1
    records.valid_bytes = end
    if tail:
        records.truncated = True
        records.dropped_bytes = len(data) - end
        if warn:
            warnings.warn(
                f"{path}: skipped an incomplete last record ({records.dropped_bytes} bytes; the run was probably "
                "killed while writing it)",
                TrialogWarning,
                stacklevel=2,
            )
    return records


_RECORD_START = b'{"name": '


def find_damage(path: str | os.PathLike[str]) -> CorruptFileError | None:
    """The error :func:`read_results` raises for this log (a record before the last line that is not one), or None.

    The error names the file and line, and carries ``line`` and ``offset`` (the byte where the bad line
    starts). A torn last line (a run killed mid-write) is not damage. A cheap scan first (every line one
    record, as ``ResultLog`` writes them); only a log that fails it is parsed whole.
    """
    path = Path(path)
    data = path.read_bytes()
    end = data.rfind(b"\n")
    if end < 0:
        return None
    body = data[:end]  # every line but a torn or garbled last one (read_results treats that as torn)
    last = body.rfind(b"\n") + 1
    body = body[:last]
    lines = body.count(b"\n")
    if lines == 0 or (
        body.count(_RECORD_START) == lines
        and body.count(b"}\n") == lines
        and body.startswith(_RECORD_START)
        and body.count(b"\n" + _RECORD_START) == lines - 1
    ):
        return None
    try:
        read_results(path, warn=False)
    except CorruptFileError as exc:
        return exc
    return None


def read_trixi_results(path: str | os.PathLike[str], *, warn: bool = True) -> ResultRecords:
    """Read trixi's ``results-log.json`` (or a trixi run/result folder) into trialog's record dicts.

    trixi writes a JSON array one element per line, ``{"loss": {"data": 1.0, "label": "train", "epoch": 0,
    "counter": 0}},``, and closes it with ``]`` only when the run ends cleanly; a missing ``]``, a trailing
    comma and a torn last element (a killed run) are accepted. ``tag`` is trixi's label, ``time`` is None.
    """
    path, data, records = _open_log(path, TRIXI_LOG_NAME)
    records.valid_bytes = len(data)
    try:
        whole = json.loads(data)
    except ValueError:
        whole = None
    if isinstance(whole, list) and all(isinstance(element, dict) for element in whole):
        for element in whole:
            records.extend(_trixi_records(element))
        return records
    lines = data.split(b"\n")
    last_content = max((i for i, raw in enumerate(lines) if raw.strip()), default=-1)
    end = 0
    for i, raw in enumerate(lines):
        line = raw.strip()
        if line.startswith(b"["):
            line = line[1:].lstrip()
        if line.endswith(b"]") and i == last_content:
            line = line[:-1].rstrip()
        line = line.rstrip(b",").rstrip()
        if line:
            try:
                element = json.loads(line)
                if not isinstance(element, dict):
                    raise TypeError(f"expected an object, got {type(element).__name__}")
            except (ValueError, TypeError) as e:
                if i == last_content:
                    records.truncated = True
                    records.valid_bytes = end
                    records.dropped_bytes = len(data) - end
                    if warn:
                        warnings.warn(
                            f"{path}: skipped an incomplete last element (the trixi run was probably killed)",
                            TrialogWarning,
                            stacklevel=2,
                        )
                    break
                raise TrialogError(f"{path}, line {i + 1}: not a trixi results element ({e})") from None
            records.extend(_trixi_records(element))
        end += len(raw) + 1
    return records


def _trixi_records(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, item in element.items():
        if isinstance(item, dict) and "data" in item:
            out.append(
                _record(name, item.get("label"), item["data"], item.get("counter"), item.get("epoch"), None)
            )
        else:  # a bare value: what trixi's ResultLogDict stores when it was given no dict
            out.append(_record(name, None, item, None, None, None))
    return out


def results_by_name(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Group records per name into arrays: ``{name: {"value", "counter", "epoch", "time", "tag"}}``.

    All tags of a name in one group (``tag`` tells them apart); :func:`results_by_series` keeps them apart.
    """
    return _grouped(records, lambda name, tag: name, {})


def results_by_series(records: Iterable[Mapping[str, Any]]) -> SeriesMap:
    """Like :func:`results_by_name`, one group per series (name, tag), keyed ``tag/name`` (a SeriesMap)."""
    out = SeriesMap()
    return _grouped(records, lambda name, tag: series_key(name, tag), out)  # type: ignore[return-value]


def _grouped(
    records: Iterable[Mapping[str, Any]], key: Any, out: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The arrays of :func:`results_by_name`, grouped by ``key(name, tag)``.

    ``value`` is a float array for scalars (an (n, k) array for lists of one length, an object array
    otherwise); ``counter`` and ``epoch`` are int64 arrays, or float64 where some are floats (counters) or
    missing (NaN);
    ``time`` is float64 (NaN for trixi records); ``tag`` is a list.
    """
    import numpy as np

    grouped: dict[str, dict[str, list[Any]]] = {}
    pairs = getattr(out, "pairs", {})
    for rec in records:
        k = key(rec["name"], rec.get("tag"))
        g = grouped.get(k)
        if g is None:
            pairs.setdefault(k, (rec["name"], rec.get("tag")))
            g = grouped[k] = {"value": [], "counter": [], "epoch": [], "time": [], "tag": []}
        g["value"].append(rec["value"])
        for field in ("counter", "epoch", "time", "tag"):
            g[field].append(rec.get(field))

    def ints(values: list[Any]) -> Any:
        # int64 while every value is an int in its range; a float counter (trixi's epoch + i / n), a missing
        # one or one beyond int64 (an old record): float64
        if all(type(v) is int and -(2**63) <= v < 2**63 for v in values):
            return np.asarray(values, dtype=np.int64)
        return np.asarray([math.nan if v is None else v for v in values], dtype=np.float64)

    def vals(values: list[Any]) -> Any:
        try:
            return np.asarray(values)
        except ValueError:  # ragged lists
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            return arr

    for name, g in grouped.items():
        out[name] = {
            "value": vals(g["value"]),
            "counter": ints(g["counter"]),
            "epoch": ints(g["epoch"]),
            "time": np.asarray([math.nan if t is None else t for t in g["time"]], dtype=np.float64),
            "tag": g["tag"],
        }
    return out
