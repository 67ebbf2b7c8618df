"""trixi's result dicts: ``exp.results`` of trialog-trixi's experiments over the run's log, and the standalone ``ResultLogDict``/``LogDict``.

``exp.results["loss"]`` is the last value recorded under "loss"; ``exp.results["loss"] = 0.3`` records
a value (one line in ``result/results.jsonl`` at once, like :meth:`trialog.Experiment.add_result` without
plotting); iterating gives the names. The log's own methods (``stats``, ``summary()``, ``best()``,
``last()``, ``position()``) stay reachable on the same object.

:class:`ResultLogDict` is trixi's standalone class, a dict that writes every assignment to a file of its
own in trixi's results-log format (a JSON array, one element a line, closed by :meth:`ResultLogDict.close`)::

    d = ResultLogDict("results-log.json", base_dir="out")
    d["loss"] = 0.25                       # {"loss": {"data": 0.25, "counter": 0}},
    d["loss"] = {"data": 0.2, "label": "train", "epoch": 1, "counter": 1.5}
    d.close()                              # the file is now one valid JSON array

Each element reaches the operating system with one ``os.write`` on an ``O_APPEND`` descriptor (a killed
process loses nothing it already assigned) and :meth:`~LogDict.close` fsyncs. Reopening a file in mode
``"a"`` continues it: a torn last element (a killed writer) is cut off with a warning, a closed array is
reopened, and a file that is not a results log (garbled before its last line, not a JSON array) is a
:class:`~trialog.errors.CorruptFileError`, never appended to. :func:`trialog.results.log.read_trixi_results`
(and ``trialog.Run`` on a trixi run folder) reads the file, closed or not.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from trialog.api import fileio
from trialog.errors import ConfigError, CorruptFileError, TrialogError, TrialogWarning


class ResultElement(dict):  # type: ignore[type-arg]
    """One result (trixi's ``ResultElement``): ``{"data", "label", "epoch", "counter"}``."""

    def __init__(
        self, data: Any = None, label: str | None = None, epoch: int | None = None, counter: Any = None
    ):
        super().__init__(data=data, label=label, epoch=epoch, counter=counter)


class ResultDict(Mapping[str, Any]):
    """The results of one experiment as a mapping name -> last value, writable like trixi's ResultLogDict.

    Args:
        experiment: the experiment that records what is assigned (:meth:`trialog.Experiment.add_result`).
        log: its :class:`trialog.results.log.ResultLog` (``Experiment.results`` of the core class).
    """

    def __init__(self, experiment: Any, log: Any) -> None:
        from trialog.api import Experiment

        self._experiment = experiment
        self._log = log
        # the core's own methods: a subclass's add_result may take trixi's arguments (``label``)
        self._add = Experiment.add_result
        self._add_without_epoch = Experiment.add_result_without_epoch

    @property
    def log(self) -> Any:
        """The underlying :class:`trialog.results.log.ResultLog`."""
        return self._log

    def __getitem__(self, name: str) -> Any:
        return self._log.latest(name)

    def __setitem__(self, name: str, value: Any) -> None:
        exp = self._experiment
        if type(value) is float or type(value) is int:  # the hot path of a training loop
            self._add(exp, value, name, plot_result=False)
        elif isinstance(value, Mapping) and "data" in value and ("label" in value or "epoch" in value):
            data, counter, label = value["data"], value.get("counter"), value.get("label")
            epoch = value.get("epoch", exp.epoch)
            if epoch is None:
                self._add_without_epoch(exp, data, name, counter, label, plot_result=False)
            elif epoch == exp.epoch:
                self._add(exp, data, name, counter, label, plot_result=False)
            else:  # trixi's element names its own epoch: record it under that one
                current, exp.epoch = exp.epoch, epoch
                try:
                    self._add(exp, data, name, counter, label, plot_result=False)
                finally:
                    exp.epoch = current
        else:
            self._add(exp, value, name, plot_result=False)

    def __delitem__(self, name: str) -> None:
        raise TypeError("results are append-only: a recorded result cannot be deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(self._log.result_names())

    def __len__(self) -> int:
        return len(self._log.result_names())

    def __contains__(self, name: object) -> bool:
        return name in self._log.result_names()

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._log, attr)

    def __repr__(self) -> str:
        return f"ResultDict({ {k: self[k] for k in self}!r})"


class LogDict(dict):  # type: ignore[type-arg]
    """trixi's ``LogDict(file_name, base_dir=None, to_console=False, mode='a')``: a dict with a text file.

    The file is ``base_dir/file_name`` (``file_name`` alone without ``base_dir``), opened for appending
    (``mode="a"``) or emptied first (``mode="w"``). :meth:`log_complete_content` writes the whole dict as one
    line; ``to_console`` prints each line to stdout too. Assigning items writes nothing (as in trixi).

    One writer per file: a write cut short (a full disk) is cut back to the file's size before it, which is
    only this writer's line when no other process or object appends to the same file.
    """

    def __init__(
        self,
        file_name: str | os.PathLike[str],
        base_dir: str | os.PathLike[str] | None = None,
        to_console: bool = False,
        mode: str = "a",
    ) -> None:
        super().__init__()
        if mode not in ("a", "w"):
            raise ConfigError(
                f"{type(self).__name__} mode must be 'a' (append) or 'w' (overwrite), not {mode!r}"
            )
        path = Path(file_name) if base_dir is None else Path(base_dir) / file_name
        self.file_name = str(path)
        self.to_console = bool(to_console)
        self.mode = mode
        self._fd: int | None = None
        existed = path.exists()
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, flags | (os.O_TRUNC if mode == "w" else 0), 0o644)
        except OSError as exc:
            if fileio.is_disk_full(exc):
                raise fileio.disk_full_error(path, exc) from exc
            what = "is a symbolic link; trialog does not write through links" if path.is_symlink() else ""
            raise TrialogError(
                f"cannot open {self.file_name} for {type(self).__name__}: {what or exc.strerror or exc}"
            ) from None
        if not existed:
            fileio.fsync_dir(path.parent)  # the new file's name survives a power loss

    def _write(self, text: str) -> None:
        fd = self._fd
        if fd is None:
            raise TrialogError(f"{type(self).__name__} {self.file_name} is closed")
        line = data = (text + "\n").encode("utf-8")
        try:
            while data:
                data = data[os.write(fd, data) :]
        except BaseException as exc:
            # A line cut short (a full disk, a signal) must not stay: the next one would be glued onto it.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, os.fstat(fd).st_size - (len(line) - len(data)))
            if fileio.is_disk_full(exc):
                raise fileio.disk_full_error(self.file_name, exc) from exc
            raise
        if self.to_console:
            print(text, file=sys.stdout, flush=True)

    def log_complete_content(self) -> None:
        """Write the current content of the dict to the file as one line (``str(dict)``, as trixi did)."""
        self._write(str(dict(self)))

    def sync(self) -> None:
        """fsync the file (lines already survive a killed process; this makes them survive a power loss)."""
        if self._fd is not None:
            os.fsync(self._fd)

    @property
    def closed(self) -> bool:
        return self._fd is None

    def close(self) -> None:
        """fsync and close the file (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            self._fd = None
            os.close(fd)

    def __enter__(self) -> LogDict:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # A dict subclass holding a descriptor: copies are plain dicts, never a second writer of the file.
    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


def _is_element(item: Any) -> bool:
    return isinstance(item, Mapping) and "data" in item and "label" in item and "epoch" in item


class ResultLogDict(LogDict):
    """trixi's ``ResultLogDict(file_name, base_dir=None, running_mean_length=10, **kwargs)``.

    ``d[name] = value`` writes ``{name: {"data": value, "counter": n}},`` (``n`` counts the assignments of
    ``name``: 0, 1, ...), keeps the value as ``d[name]`` and the last ``running_mean_length`` values in
    ``running_mean_dict[name]``. A value ``{"data", "label", "epoch"[, "counter"]}`` (a ResultElement)
    is written with its label and epoch, and its counter (an int or a float) continues the count.
    ``kwargs`` are LogDict's (``to_console``, ``mode``).
    """

    def __init__(
        self,
        file_name: str | os.PathLike[str],
        base_dir: str | os.PathLike[str] | None = None,
        running_mean_length: int = 10,
        **kwargs: Any,
    ) -> None:
        unknown = sorted(set(kwargs) - {"to_console", "mode"})
        if unknown:
            raise ConfigError(f"ResultLogDict: unknown keyword arguments {unknown} (known: to_console, mode)")
        super().__init__(file_name, base_dir, **kwargs)
        length = int(running_mean_length)
        self.running_mean_dict: defaultdict[str, deque[Any]] = defaultdict(lambda: deque(maxlen=length))
        self._counters: dict[str, Any] = {}
        try:
            self._continue_file()
        except BaseException:
            LogDict.close(self)  # a file refused as corrupt stays exactly as it was
            raise

    def _continue_file(self) -> None:
        from trialog.api import read_trixi_results

        size = os.fstat(self._fd).st_size  # type: ignore[arg-type]
        if size == 0:
            self.print_to_file("[")
            return
        path = Path(self.file_name)
        head = path.read_bytes()[:4096].lstrip()
        if not head.startswith(b"["):
            raise CorruptFileError(
                f"{self.file_name} is not a ResultLogDict file (it does not start with '['); "
                "refusing to append to it: pass another file name or mode='w'"
            )
        try:
            records = read_trixi_results(path, warn=False)
        except TrialogError as exc:
            raise CorruptFileError(
                f"{exc}; refusing to append to a corrupt ResultLogDict file: repair it, or pass mode='w'"
            ) from None
        if records.truncated:
            warnings.warn(
                f"{self.file_name} ended in an incomplete element (its writer was killed); dropped "
                f"{records.dropped_bytes} bytes after the last complete element",
                TrialogWarning,
                stacklevel=3,
            )
            os.ftruncate(self._fd, records.valid_bytes)  # type: ignore[arg-type]
        data = path.read_bytes()
        end = len(data.rstrip())
        if data[:end].endswith(b"]"):  # a closed array: reopen it
            end = len(data[: end - 1].rstrip())
            os.ftruncate(self._fd, end)  # type: ignore[arg-type]
            self._write("" if data[:end].endswith(b"[") else ",")
        elif data[:end].endswith(b"}"):  # an element without its comma (a close cut short)
            self._write(",")

    def __setitem__(self, key: str, item: Any) -> None:
        from trialog.api import coerce_counter

        if not isinstance(key, str):
            raise TrialogError(f"ResultLogDict {self.file_name}: a result name must be a string, not {key!r}")
        if _is_element(item):
            data = item["data"]
            if item.get("counter") is not None:
                self._counters[key] = coerce_counter(item["counter"], key)
            element = {"data": data, "label": item["label"], "epoch": item["epoch"]}
        else:
            data = item
            element = {"data": data}
        counter = self._counters.get(key, 0)
        element["counter"] = counter
        element = {k: v for k, v in element.items() if v is not None}
        try:
            text = json.dumps({key: element}, default=fileio.json_default)
        except (TypeError, ValueError) as exc:
            raise TrialogError(
                f"ResultLogDict {self.file_name}: the value of {key!r} ({type(data).__name__}) cannot be "
                f"stored as JSON ({exc}); store numbers, strings, lists or numpy values"
            ) from None
        self._write(text + ",")
        self._counters[key] = counter + 1
        self.running_mean_dict[key].append(data)
        super().__setitem__(key, data)

    def print_to_file(self, text: str) -> None:
        """Write ``text`` as a line of the file (trixi writes the opening ``[`` this way)."""
        self._write(str(text))

    def load(self, reload_dict: Mapping[str, Any]) -> None:
        """Fill the dict from ``reload_dict`` ({name: value or ResultElement}) without writing to the file.

        A ResultElement's counter continues the count of its name (the next assignment gets counter + 1).
        """
        from trialog.api import coerce_counter

        if not isinstance(reload_dict, Mapping):
            raise TrialogError(
                f"ResultLogDict.load needs a mapping of name -> value, not {type(reload_dict).__name__}"
            )
        for key, item in reload_dict.items():
            data = item
            if _is_element(item):
                data = item["data"]
                if item.get("counter") is not None:
                    self._counters[key] = coerce_counter(item["counter"], key)
            self._counters[key] = self._counters.get(key, 0) + 1
            super().__setitem__(key, data)

    def close(self) -> None:
        """Close the JSON array (drop the last comma, add ``]``), fsync and close the file (idempotent)."""
        fd = self._fd
        if fd is not None:
            size = os.fstat(fd).st_size
            if size >= 2 and os.pread(fd, 2, size - 2) == b",\n":
                os.ftruncate(fd, size - 2)
            self._write("\n]")
        super().close()


__all__ = ["LogDict", "ResultDict", "ResultElement", "ResultLogDict"]
