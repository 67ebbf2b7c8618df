"""trialog's default logger: PNG plots and images, CSV scalars and text logs in the run folder.

Layout (trixi's)::

    <run folder>/
        plot/<name>.png                  value curves: one plot per name, one line per tag (train, val),
                                         redrawn from memory at most every plot_every_s
        plot/<name>_<counter>.png        bar, line, scatter, pie, box, histogram, heat map, PR, ROC, embedding
        img/<name>_<counter>.png         show_image, show_image_grid, show_figure
        img/<name>_<i>_<counter>.png     show_images: one file per image of the batch
        img/<name>_<counter>.gif         show_video: an animated GIF (pillow, trialog-file[video])
        log/values.csv                   every show_value: name,tag,counter,value,time
        log/<name or default>.log        show_text (and python_logger) lines with timestamps
        config/logger_config.json        the last log_config (the experiment writes config/config.json)

``show_value`` only queues its CSV row (under a microsecond); a writer thread (a
:class:`trialog.api.Delivery` with the ``"block"`` policy) writes the rows in batches, keeps a bounded,
thinned window of each curve (at most ``MAX_CURVE_POINTS`` points; the CSV has every value) and redraws
changed curves, so the training loop never waits for matplotlib. Memory stays bounded: at most
``ROWS_PER_BATCH * MAX_PENDING_BATCHES`` rows wait for the writer; a loop faster than the disk waits for
it (``stats["blocked"]``, ``stats["blocked_s"]``) and never loses a value. ``flush()`` and ``close()``
bring every file up to date.

Counters: a value's ``counter``, or else its call number from the dispatcher plus one (1, 2, 3, ... per
name and tag, counting every call: with ``every: 10`` the counters are 1, 11, 21, ...; a direct call
counts its own calls), which a resumed run continues.

Value curves show one quantity per axis, as Keras and Lightning draw them: ``plot/loss.png`` holds the
``loss`` of every tag (one line each: ``train``, ``val``; a value without a tag is a line named after
itself), its y axis labelled ``loss``, its x axis with what the counters are: ``epoch`` when every counter
was the epoch the experiment was in (``on_epoch_start``), ``step`` for default counters (the call
numbers), else ``counter``. (trixi drew one plot per *tag* with a line per name, so a ``train`` plot
mixed the loss and the accuracy on one axis; a defect this logger does not repeat. ``exp.elog``'s
``show_value`` keeps trixi's layout.) Each curve PNG carries the points it was drawn from (a tEXt chunk,
read back by :func:`plotted_series`).

Kill and resume (trialog's resume contract, ``on_checkpoint`` / ``on_resume``): at each checkpoint the
CSV rows logged so far are written and fsynced and the CSV's size recorded in
``log/.trialog-checkpoints.json``; a resumed run cuts the CSV back to its size at the checkpoint it resumes
from, continues it, and refills the curves from the whole CSV (within the same bounded window), so the
PNGs show the whole run.
"""

from __future__ import annotations

import atexit
import csv as _csv
import datetime as _dt
import io
import json
import logging
import os
import re
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from trialog_figures import FigureHooks

from trialog.api import Delivery, Range, check_option_values, hookimpl, read_json, write_atomic, write_json
from trialog.errors import LoggerConfigError, TrialogError, TrialogWarning

__all__ = ["FileLogger", "plotted_series"]

#: Points of a curve kept in memory for drawing (thinned beyond; the CSV keeps every value).
MAX_CURVE_POINTS = 5000
#: Rows handed to the writer thread at once, and how many such batches may wait besides the one being
#: written before the caller waits: at most about (MAX_PENDING_BATCHES + 2) * ROWS_PER_BATCH rows in memory.
ROWS_PER_BATCH = 16384
MAX_PENDING_BATCHES = 1
_CSV_HEADER = "name,tag,counter,value,time\n"
#: In the log folder: each checkpoint's CSV sizes (the resume contract's record).
MARKS_FILE = ".trialog-checkpoints.json"
#: The tEXt keyword of a curve PNG holding the points it was drawn from.
SERIES_KEY = "trialog:series"
_UNSAFE = re.compile(r"[^\w.+=@-]")


def _safe_name(name: Any) -> str:
    """A name as a relative path: '/' makes sub-folders (as in trixi); '..', absolute paths and odd characters cannot escape."""
    parts = [_UNSAFE.sub("_", part) for part in re.split(r"[\\/]+", str(name))]
    parts = [p for p in parts if p not in ("", ".", "..")]
    return "/".join(parts) or "unnamed"


def _counter_text(counter: Any) -> str:
    # trixi's iter_format "{:05d}": file names sort by step.
    if isinstance(counter, (int, np.integer)) and not isinstance(counter, bool) and counter >= 0:
        return f"{int(counter):05d}"
    return _safe_name(counter)


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    buffer = io.StringIO()
    _csv.writer(buffer, lineterminator="").writerow([value])
    return buffer.getvalue()


class _Series:
    """One (name, tag): the caller's call count, and the writer's thinned window of the curve.

    The window keeps every ``stride``-th point, doubling ``stride`` (and halving the points) whenever it
    holds more than ``MAX_CURVE_POINTS``; the newest point is always drawn.
    """

    __slots__ = (
        "calls",
        "counters",
        "csv_file",
        "csv_prefix",
        "group",
        "kind",
        "label",
        "last",
        "name",
        "plot",
        "points",
        "stride",
        "values",
    )

    def __init__(self, name: str, tag: str | None, plot: str, csv_file: str, by_tag: bool = False):
        self.calls = 0  # show_value calls (the default counter); caller's thread only
        self.points = 0  # points the writer has seen
        self.counters: list[Any] = []
        self.values: list[float] = []
        self.stride = 1
        self.last: tuple[Any, float] | None = None  # the newest point when the window skipped it
        #: the plot's quantity (its title and y label; None: the plot of a tag mixes quantities) and line
        self.name = None if by_tag else name
        self.label = name if tag is None or by_tag else tag
        self.group = tag if by_tag else name
        #: what the counters are: "epoch", "step" (call numbers), "counter" (mixed or other), None (unknown:
        #: refilled after a resume); set on the caller's thread by show_value
        self.kind: str | None = None
        self.plot = plot
        self.csv_prefix = f"{_csv_field(name)},{_csv_field(tag)}"
        self.csv_file = csv_file

    def add(self, counter: Any, value: float) -> None:
        """Add a point to the window (writer side, under the logger's io lock)."""
        n = self.points
        self.points = n + 1
        if n % self.stride:
            self.last = (counter, value)
            return
        self.last = None
        self.counters.append(counter)
        self.values.append(value)
        if len(self.values) >= MAX_CURVE_POINTS:
            newest = (counter, value)
            odd = len(self.values) % 2 == 0  # the newest index is odd: the halving removes it
            del self.counters[1::2], self.values[1::2]
            self.stride *= 2
            if odd:
                self.last = newest

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        counters, values = self.counters, self.values
        if self.last is not None:
            counters, values = [*counters, self.last[0]], [*values, self.last[1]]
        return np.asarray(counters), np.asarray(values, dtype=float)


class _TextHandler(logging.Handler):
    """Routes python ``logging`` records into one of the logger's text logs."""

    def __init__(self, owner: FileLogger, name: str):
        super().__init__()
        self.owner = owner
        self.log_name = name

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.owner.show_text(self.format(record), self.log_name, None)
        except Exception:
            self.handleError(record)


class FileLogger(FigureHooks):
    """Writes everything logged into a run folder: PNG curves, plots and images, a CSV, text logs.

    Args:
        run_dir: the run folder (passed by the dispatcher / Experiment).
        folder: write here instead of ``run_dir``.
        plot_every_s: redraw changed value curves at most this often (seconds); None: only at
            flush/close.
        flush_every_s: write queued CSV rows to disk at most this often (seconds).
        overwrite: keep only the latest image/plot per name (``img/<name>.png``, trixi's behaviour when
            no counter is given) instead of one file per call.
        csv: "single" (``log/values.csv``), "per_name" (``log/values/<name>.csv``) or "off".
        compress_level: zlib level of the PNGs (0-9; 1 is faster, 6 smaller).
        img_dir, plot_dir, log_dir: write images / plots and curves / the CSV and text logs straight into
            these folders instead of ``<folder>/img``, ``<folder>/plot``, ``<folder>/log`` (trixi's
            standalone file loggers take their folders so).
        group_by: "name" (a curve plot per name, a line per tag: ``plot/loss.png`` with train and val) or
            "tag" (trixi's layout, which trialog-trixi keeps: a plot per tag, a line per name).
    """

    background = False
    #: If the dispatcher ever runs it in background: wait for room, never drop a value.
    queue_policy = "block"

    def __init__(
        self,
        run_dir: str | os.PathLike[str] | None = None,
        folder: str | os.PathLike[str] | None = None,
        plot_every_s: Annotated[float, Range(min=0, min_open=True)] | None = 10.0,
        flush_every_s: Annotated[float, Range(min=0, min_open=True)] = 5.0,
        overwrite: bool = False,
        csv: Literal["single", "per_name", "off"] = "single",
        compress_level: Annotated[int, Range(min=0, max=9)] = 6,
        img_dir: str | os.PathLike[str] | None = None,
        plot_dir: str | os.PathLike[str] | None = None,
        log_dir: str | os.PathLike[str] | None = None,
        group_by: Literal["name", "tag"] = "name",
    ):
        root = folder if folder is not None else run_dir
        kinds = {"img": img_dir, "plot": plot_dir, "log": log_dir}
        if root is None and None not in kinds.values():
            root = log_dir  # every kind has its folder; config/ (log_config) goes next to the logs
        if root is None:
            raise LoggerConfigError(
                "file logger: no folder to write into; pass folder='...', or run_dir (an Experiment or "
                "CombinedLogger(..., run_dir=...) passes it)"
            )
        check_option_values(
            "file logger",
            FileLogger,
            {"plot_every_s": plot_every_s, "flush_every_s": flush_every_s, "overwrite": overwrite, "csv": csv,
             "compress_level": compress_level, "group_by": group_by},
        )  # fmt: skip
        self.folder = Path(root)
        if self.folder.exists() and not self.folder.is_dir():
            raise LoggerConfigError(f"file logger: {self.folder} exists and is not a folder")
        #: Where each kind of file goes (``<folder>/<kind>`` unless given).
        self.folders = {kind: Path(d) if d is not None else self.folder / kind for kind, d in kinds.items()}
        for kind, path in self.folders.items():
            if path.exists() and not path.is_dir():
                raise LoggerConfigError(f"file logger: {kind}_dir {path} exists and is not a folder")
        self.plot_every_s = plot_every_s
        self.flush_every_s = float(flush_every_s)
        self.overwrite = overwrite
        self.csv_mode = csv
        self.compress_level = compress_level
        self.group_by = group_by
        #: Value curves drawn so far (each a full PNG); the throttling shows here.
        self.renders = 0
        # The one figure every curve is drawn into, cleared each time: redrawing costs no new memory.
        self._figure: Any = None
        self._series: dict[tuple[str, str | None], _Series] = {}
        self._plots: dict[str, list[_Series]] = {}
        self._drawn: dict[str, int] = {}
        # The epoch the experiment is in (on_epoch_start): a counter equal to it makes an "epoch" x axis.
        self._epoch: int | None = None
        # Appended by the caller, taken by the writer (deque: both ends thread-safe without a lock).
        self._rows: deque[tuple[_Series, Any, float, float]] = deque()
        self._unbatched = 0
        self._csv_files: dict[str, Any] = {}
        self._text_files: dict[str, Any] = {}
        self._counters: dict[tuple[str, str], int] = {}
        self._made: set[Path] = set()
        self._handlers: list[tuple[logging.Logger, _TextHandler]] = []
        self._errors: list[str] = []
        self._io_lock = threading.RLock()
        self._writer = Delivery(
            self._write,
            maxsize=MAX_PENDING_BATCHES,
            policy="block",
            name=f"trialog-file:{self.folder}",
            label=f"the file logger ({self.folder})",
            on_error=lambda item, exc: self._background_error(f"{type(exc).__name__}: {exc}"),
        )
        self._tick_s = min(self.flush_every_s, plot_every_s or self.flush_every_s)
        self._next_plot = float("inf")
        #: Writer wake-ups on its timer (rows written, files flushed, curves redrawn when due).
        self.ticks = 0
        self._closed = False
        _OPEN.add(self)

    # ------------------------------------------------------------------ values
    @hookimpl
    def show_value(
        self, value: float, name: str, counter: int | None, tag: str | None, call: int | None = None
    ) -> None:
        """Record a scalar: a CSV row and a point of the line ``tag`` in the curve ``plot/<name>.png``."""
        series = self._series.get((name, tag))
        if series is None:
            series = self._new_series(name, tag)
        series.calls += 1
        if counter is None:
            counter = series.calls if call is None else call + 1
            kind = "step"
        else:
            kind = "epoch" if counter == self._epoch else "counter"
        if series.kind != kind and series.kind != "counter":
            series.kind = kind if series.kind is None else "counter"
        self._rows.append((series, counter, float(value), time.time()))
        self._unbatched += 1
        if self._unbatched >= ROWS_PER_BATCH:
            self._unbatched = 0
            # One item per full batch: with MAX_PENDING_BATCHES waiting, this waits for the writer.
            self._writer.put("rows")

    @property
    def stats(self) -> dict[str, Any]:
        """The writer's counts: rows waiting, how often / how long show_value waited for the writer."""
        report = self._writer.report()
        return {
            "pending_rows": len(self._rows),
            "blocked": report.blocked,
            "blocked_s": report.blocked_s,
            "dropped": report.dropped,  # always 0: the file logger never drops a value
        }

    def _new_series(self, name: str, tag: str | None) -> _Series:
        if self._closed:
            raise TrialogError(
                f"file logger for {self.folder} is closed; show_value({name!r}) was not recorded"
            )
        by_tag = self.group_by == "tag" and tag is not None
        plot = _safe_name(tag if by_tag else name)
        csv_file = "values" if self.csv_mode == "single" else f"values/{_safe_name(name)}"
        series = _Series(name, tag, plot, csv_file, by_tag)
        self._plots.setdefault(plot, []).append(series)
        self._series[(name, tag)] = series
        if len(self._series) == 1:
            self._next_plot = time.monotonic() + (self.plot_every_s or float("inf"))
            self._schedule_tick()
        return series

    def _schedule_tick(self) -> None:
        self._writer.put("tick", "tick", keep=True, due=time.monotonic() + self._tick_s)

    def _write(self, item: str) -> None:
        """The writer's handler: write the waiting rows; on its timer also flush and redraw due curves."""
        try:
            with self._io_lock:
                self._write_rows(flush=item == "tick")
                if item == "tick":
                    self.ticks += 1
                    if time.monotonic() >= self._next_plot:
                        self._draw_curves()
                        self._next_plot = time.monotonic() + (self.plot_every_s or float("inf"))
        finally:
            if item == "tick" and not self._writer.closing:
                self._schedule_tick()

    def _background_error(self, message: str) -> None:
        if message not in self._errors:
            self._errors.append(message)
            warnings.warn(
                f"trialog file logger ({self.folder}): {message}; reported again at flush/close",
                TrialogWarning,
                stacklevel=2,
            )

    def _write_rows(self, flush: bool) -> None:
        rows = self._rows
        if self.csv_mode == "off":
            while rows:
                series, counter, value, _ = rows.popleft()
                series.add(counter, value)
            return
        popleft = rows.popleft
        batch = [popleft() for _ in range(len(rows))]
        chunks: dict[str, list[str]] = {}
        if self.csv_mode == "single":
            lines: list[str] = []
            chunks["values"] = lines
            append = lines.append
            for series, counter, value, stamp in batch:
                if type(counter) is int:
                    append(f"{series.csv_prefix},{counter},{value!r},{stamp:.6f}\n")
                else:
                    append(f"{series.csv_prefix},{_csv_field(counter)},{value!r},{stamp:.6f}\n")
        else:
            for series, counter, value, stamp in batch:
                counter_text = str(counter) if type(counter) is int else _csv_field(counter)
                line = f"{series.csv_prefix},{counter_text},{value!r},{stamp:.6f}\n"
                chunks.setdefault(series.csv_file, []).append(line)
        try:
            for file in chunks:
                if file not in self._csv_files:
                    self._csv_files[file] = self._open_csv(file)
        except BaseException:
            # Nothing was written: the rows go back to the front and are retried at the next flush.
            rows.extendleft(reversed(batch))
            raise
        for file, lines in chunks.items():
            self._csv_files[file].write("".join(lines))
        for series, counter, value, _ in batch:
            series.add(counter, value)
        if flush:
            for handle in self._csv_files.values():
                handle.flush()

    def _open_csv(self, file: str) -> Any:
        path = self._path("log", file + ".csv")
        is_new = not path.exists() or path.stat().st_size == 0
        handle = open(path, "a", encoding="utf-8", newline="")
        if is_new:
            handle.write(_CSV_HEADER)
        return handle

    def _draw_curves(self) -> None:
        from trialog_figures import render

        for plot, members in list(self._plots.items()):
            points = sum(s.points for s in members)
            if self._drawn.get(plot) == points:
                continue
            series = {}
            for s in list(members):
                counters, values = s.snapshot()
                if values.size:
                    series[s.label] = (counters, values)
            data = {label: [c.tolist(), v.tolist()] for label, (c, v) in series.items()}
            if self._figure is None:
                self._figure = render.new_figure()
            kinds = {s.kind for s in members if s.kind is not None}
            xlabel = kinds.pop() if len(kinds) == 1 else "counter"
            group, quantity = str(members[0].group), members[0].name
            title = f"{group} per {xlabel}" if xlabel != "counter" else group
            png = render.figure_to_png(
                render.value_curves(series, group, self._figure, ylabel=quantity, xlabel=xlabel, title=title),
                self.compress_level,
                {SERIES_KEY: json.dumps(data, allow_nan=True, separators=(",", ":"))},
            )
            write_atomic(self._path("plot", plot + ".png"), png, durable=False)  # redrawn every few seconds
            self._drawn[plot] = points
            self.renders += 1

    # ------------------------------------------------------------------- text
    @hookimpl
    def show_text(self, text: str, name: str | None, counter: int | None) -> None:
        """Append ``text`` with a timestamp (and counter) to ``log/<name or default>.log``."""
        self._check_open("show_text")
        key = _safe_name(name) if name is not None else "default"
        stamp = _dt.datetime.now().isoformat(sep=" ", timespec="milliseconds")
        line = f"{stamp} [{counter}] {text}\n" if counter is not None else f"{stamp} {text}\n"
        with self._io_lock:
            handle = self._text_files.get(key)
            if handle is None:
                path = self._path("log", key + ".log")
                handle = self._text_files[key] = open(path, "a", encoding="utf-8")
            handle.write(line)
            # Text logs are rare and read while a run is alive (tail -f): no buffering.
            handle.flush()

    def python_logger(self, name: str = "default", level: int = logging.INFO) -> logging.Logger:
        """A python ``logging.Logger`` whose records go to ``log/<name>.log`` (trixi's TextFileLogger)."""
        logger = logging.getLogger(f"trialog.file.{id(self)}.{name}")
        logger.setLevel(level)
        logger.propagate = False
        handler = _TextHandler(self, name)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        self._handlers.append((logger, handler))
        return logger

    # ----------------------------------------------------------------- images
    @hookimpl
    def show_image(self, image: Any, name: str, counter: int | None, title: str | None) -> None:
        """Save one image as ``img/<name>_<counter>.png``."""
        from trialog_figures import to_hwc_uint8

        self._save_png("img", name, counter, to_hwc_uint8(image), title)

    @hookimpl
    def show_images(self, images: Any, name: str, counter: int | None, title: str | None) -> None:
        """Save each image of a batch as ``img/<name>_<i>_<counter>.png`` (trixi's naming)."""
        from trialog_figures import to_hwc_uint8

        batch = list(images) if isinstance(images, (list, tuple)) else list(np.asarray(images))
        if not batch:
            raise TrialogError(f"file logger: show_images({name!r}) got an empty batch")
        converted = [to_hwc_uint8(img) for img in batch]  # all checked before any file is written
        counter = self._next_counter("img", name, counter)
        for i, image in enumerate(converted):
            self._save_png("img", f"{name}_{i}", counter, image, title, resolved=True)

    @hookimpl
    def show_image_grid(
        self,
        images: Any,
        name: str,
        counter: int | None,
        title: str | None,
        nrow: int,
        normalize: bool,
    ) -> None:
        """Save a batch tiled as one grid (torchvision's make_grid) as ``img/<name>_<counter>.png``."""
        from trialog_figures import make_grid

        self._save_png("img", name, counter, make_grid(images, nrow=nrow, normalize=normalize), title)

    @hookimpl
    def show_figure(self, figure: Any, name: str, counter: int | None) -> None:
        """Render a matplotlib figure (inline: the caller may change it afterwards) to ``img/<name>_<counter>.png``."""
        from trialog_figures import figure_to_array

        self._save_png("img", name, counter, figure_to_array(figure), None)

    @hookimpl
    def show_video(self, frames: Any, name: str, counter: int | None, fps: int) -> None:
        """Save the frames as an animated GIF ``img/<name>_<counter>.gif`` (needs pillow; no video codec is used)."""
        from trialog_figures import encode_gif

        self._save_file("img", name, counter, encode_gif(frames, fps=fps), ".gif")

    # ------------------------------------------------------------------ plots
    # show_barplot ... show_embedding come from FigureHooks: each drawn figure lands here.
    def emit_figure(self, name: str, counter: int | None, figure: Any, call: int | None) -> None:
        """A drawn plot hook's figure as ``plot/<name>_<counter>.png`` (the logger's own counters)."""
        from trialog_figures import figure_to_array

        self._save_png("plot", name, counter, figure_to_array(figure), None)

    # ----------------------------------------------------------------- config
    @hookimpl
    def log_config(self, config: Mapping[str, Any]) -> None:
        """Write ``config/logger_config.json`` (values JSON cannot hold are written as strings)."""
        self._check_open("log_config")
        write_json(self._path("config", "logger_config.json"), dict(config), fallback=str)

    # ------------------------------------------------------- resume contract
    @hookimpl
    def on_epoch_start(self, epoch: int) -> None:
        """Note the experiment's epoch: curves whose counters are the epoch get an ``epoch`` x axis."""
        self._epoch = epoch

    @hookimpl
    def on_checkpoint(self, step: int) -> None:
        """Write and fsync every CSV row logged so far and record the CSV sizes for checkpoint ``step``."""
        self._check_open("on_checkpoint")
        with self._io_lock:
            self._write_rows(flush=True)
            sizes = {}
            for file, handle in self._csv_files.items():
                os.fsync(handle.fileno())
                sizes[file] = handle.tell()
            marks = self._read_marks()
            marks[str(int(step))] = {"csv": sizes}
            self._write_marks(marks)

    @hookimpl
    def on_resume(self, step: int | None, source: str | None, position: int, results: str | None) -> None:
        """Cut the CSV back to checkpoint ``step`` (None: to nothing), refill the curves from it and redraw them.

        Resumed in a new run folder (``source`` another run's): the old run's CSV up to the checkpoint is
        copied here first, so this folder's CSV and curves hold the whole run. With ``csv="off"`` the
        curves are refilled from the results log ``results`` up to ``position`` instead (its numbers; a
        record without a counter at its index per name and tag plus one).
        """
        self._check_open("on_resume")
        with self._io_lock:
            self._write_rows(flush=True)
            for handle in self._csv_files.values():
                handle.close()
            self._csv_files.clear()
            old = Path(source) / "log" if source else None
            if old is not None and old.is_dir() and old.resolve() != self.folders["log"].resolve():
                self._adopt(old, step)
            marks = self._read_marks()
            mark = {"csv": {}} if step is None else marks.get(str(int(step)))
            files = sorted(self._existing_csv())
            if mark is None:
                warnings.warn(
                    f"trialog file logger: {self._path('log', MARKS_FILE)} has no record of checkpoint {step}: "
                    "the CSV rows logged after it stay",
                    TrialogWarning,
                    stacklevel=2,
                )
            else:
                for file in files:
                    path = self._path("log", file + ".csv")
                    size = mark["csv"].get(file, 0)
                    if path.stat().st_size > size:
                        os.truncate(path, size)
                self._write_marks(
                    {k: v for k, v in marks.items() if step is not None and int(k) <= int(step)}
                )
            self._series, self._plots, self._drawn = {}, {}, {}
            if self.csv_mode == "off":
                self._refill_from_results(results, position)
            for file in files:
                self._refill(self._path("log", file + ".csv"))
            self._draw_curves()

    def _refill_from_results(self, results: str | None, position: int) -> None:
        if not results or not position or not os.path.isfile(results):
            return
        with open(results, "rb") as handle:
            head = handle.read(position)
        for line in head.splitlines():
            record = json.loads(line) if line.strip() else None
            if not isinstance(record, dict):
                continue
            value = record.get("value")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            name, tag = str(record["name"]), record.get("tag")
            series = self._series.get((name, tag)) or self._new_series(name, tag)
            series.calls += 1
            counter = record.get("counter")
            series.add(series.calls if counter is None else counter, float(value))

    def _existing_csv(self) -> list[str]:
        """The CSV files (without ``.csv``, relative to the log folder) this logger's mode writes, as on disk."""
        log = self.folders["log"]
        found = ["values"] if (log / "values.csv").is_file() else []
        if (log / "values").is_dir():
            found += [f"values/{p.stem}" for p in (log / "values").glob("*.csv")]
        return found

    def _refill(self, path: Path) -> None:
        """Feed every row of a CSV into the curves' windows (streamed: memory stays bounded)."""
        with open(path, encoding="utf-8", newline="") as handle:
            for row in _csv.DictReader(handle):
                name, tag = row["name"], row["tag"] or None
                series = self._series.get((name, tag)) or self._new_series(name, tag)
                series.calls += 1
                series.add(_parse_counter(row["counter"]), float(row["value"]))

    def _adopt(self, old: Path, step: int | None) -> None:
        """Copy another run's CSV files as they were at checkpoint ``step``, with its records up to it."""
        marks = self._read_marks(old / MARKS_FILE)
        mark = {"csv": {}} if step is None else marks.get(str(int(step)))
        if mark is None:
            return  # on_resume warns that there is no record
        for file, size in mark["csv"].items():
            with (
                open(old / (file + ".csv"), "rb") as source,
                open(self._path("log", file + ".csv"), "wb") as copy,
            ):
                copy.write(source.read(size))
        self._write_marks({k: v for k, v in marks.items() if step is not None and int(k) <= int(step)})

    def _read_marks(self, path: Path | None = None) -> dict[str, Any]:
        path = path or self._path("log", MARKS_FILE)
        return read_json(path, what="the file logger's checkpoint marks") if path.exists() else {}

    def _write_marks(self, marks: Mapping[str, Any]) -> None:
        write_json(self._path("log", MARKS_FILE), marks, indent=None)

    # --------------------------------------------------------------- lifetime
    @hookimpl
    def flush(self) -> None:
        """Write every queued CSV row and redraw every changed curve now."""
        with self._io_lock:
            self._write_rows(flush=True)
            self._unbatched = 0  # nothing waits now: the next batch starts afresh
            self._draw_curves()
            for handle in self._text_files.values():
                handle.flush()
        if self._errors:
            errors, self._errors = self._errors, []
            raise TrialogError(f"file logger ({self.folder}): the helper thread failed: {'; '.join(errors)}")

    @hookimpl
    def close(self) -> None:
        """Stop the helper thread, bring every file up to date and close them; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        _OPEN.discard(self)
        # Later show_value calls find no series and raise instead of vanishing.
        self._series = {}
        # No deadline: a file writer delivers every row (what it did not write, the flush below does).
        self._writer.close(None)
        for logger, handler in self._handlers:
            logger.removeHandler(handler)
        try:
            self.flush()
        finally:
            with self._io_lock:
                for handle in (*self._csv_files.values(), *self._text_files.values()):
                    handle.close()
                self._csv_files.clear()
                self._text_files.clear()

    # ---------------------------------------------------------------- helpers
    def _check_open(self, what: str) -> None:
        if self._closed:
            raise TrialogError(f"file logger for {self.folder} is closed; {what!r} was not written")

    def _path(self, kind: str, relative: str) -> Path:
        base = self.folders.get(kind)
        path = (base if base is not None else self.folder / kind) / relative
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        return path

    def _next_counter(self, kind: str, name: str, counter: Any) -> Any:
        key = (kind, name)
        if counter is None:
            counter = self._counters.get(key, 0) + 1
        if isinstance(counter, (int, np.integer)):
            self._counters[key] = max(int(counter), self._counters.get(key, 0))
        return counter

    def _save_png(
        self, kind: str, name: str, counter: Any, image: np.ndarray, title: str | None, resolved: bool = False
    ) -> Path:
        from trialog_figures import encode_png

        self._check_open(name)
        data = encode_png(image, self.compress_level, {"Title": str(title)} if title else None)
        return self._save_file(kind, name, counter, data, ".png", resolved)

    def _save_file(
        self, kind: str, name: str, counter: Any, data: bytes, suffix: str, resolved: bool = False
    ) -> Path:
        self._check_open(name)
        if self.overwrite:
            path = self._path(kind, _safe_name(name) + suffix)
            write_atomic(path, data, durable=False)
            return path
        if not resolved:
            counter = self._next_counter(kind, name, counter)
        stem = f"{_safe_name(name)}_{_counter_text(counter)}"
        # Never overwrite: the same counter twice (or a resumed run) gets -2, -3, ...
        for attempt in range(1, 10_000):
            path = self._path(kind, f"{stem}{suffix}" if attempt == 1 else f"{stem}-{attempt}{suffix}")
            try:
                with open(path, "xb") as handle:
                    handle.write(data)
                return path
            except FileExistsError:
                continue
        raise TrialogError(f"file logger: 10000 files named {stem}*{suffix} already exist in {path.parent}")


def _parse_counter(text: str) -> Any:
    """A CSV counter as the value it was: an int, a float, else the text (None when empty)."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def plotted_series(png: str | os.PathLike[str]) -> dict[str, tuple[list[Any], list[float]]]:
    """The points a curve PNG (``plot/<tag or name>.png``) was drawn from: {line label: (counters, values)}.

    Raises TrialogError naming the file when it is not a curve PNG of this logger.
    """
    import struct

    data = Path(png).read_bytes()
    offset = 8
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"tEXt":
            key, _, text = body.partition(b"\0")
            if key.decode("latin-1") == SERIES_KEY:
                lines = json.loads(text.decode("latin-1"))
                return {label: (points[0], points[1]) for label, points in lines.items()}
    raise TrialogError(f"{png}: no {SERIES_KEY!r} chunk; not a curve drawn by trialog's file logger")


#: Loggers not closed yet; closed at interpreter exit so queued CSV rows and curves reach the disk.
_OPEN: weakref.WeakSet[FileLogger] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for logger in list(_OPEN):
        if not logger._closed:
            try:
                logger.close()
            except Exception as exc:
                warnings.warn(
                    f"trialog file logger {logger.folder}: closing at exit failed: {exc}",
                    TrialogWarning,
                    stacklevel=1,
                )
