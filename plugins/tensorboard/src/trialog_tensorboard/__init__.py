"""trialog-tensorboard: a TensorBoard logger writing event files off the training thread.

Layout of what it writes (``logdir`` is ``<run_dir>/save/tensorboard`` unless given):

- ``show_value(v, name)`` -> scalar ``name`` in the main run (``logdir``).
- ``show_value(v, name, tag=t)`` -> scalar ``name`` in the sub-run ``logdir/t`` (one per tag: ``train/``,
  ``val/``): TensorBoard draws one card per name with one line per tag (``show_value(l, "loss",
  tag="train")`` and ``show_value(l, "loss", tag="val")`` overlay in the card ``loss``), the layout of
  Keras' TensorBoard callback and Lightning (trialog's convention: the name is the quantity, the tag the
  phase). An experiment is one run folder per tag, never one per (tag, name) pair.
- images, image grids, figures and bar/line/scatter/pie/box/heat-map/ROC plots -> images (plots rendered
  with :mod:`trialog_figures.render`), histograms -> histograms, text -> text, PR curves -> the PR-curve plugin,
  embeddings -> the projector (``logdir/<step>/<name>/``), videos -> animated GIF images (pillow; the
  format tensorboardX's ``add_video`` writes, without moviepy), ``log_config`` -> hyper-parameters, written
  with the final metrics at run end (``on_run_end``) or, failing that, at ``close``.

Steps: a call's ``counter``, or else its call number from the dispatcher (0, 1, 2, ... per hook, name and
tag, counting every call: with ``every: 10`` the steps are 0, 10, 20, ...), which a resumed run continues;
after an explicit counter larger than that, one more than the last step (trixi's rule).

Kill and resume (trialog's resume contract, ``on_checkpoint`` / ``on_resume``): at each checkpoint every
event file is fsynced and its size recorded in ``logdir/.trialog-checkpoints.json`` (the events are on disk
when the checkpoint is; between checkpoints they reach the OS every ``flush_secs``). A resumed run cuts
each event file back to its size at the checkpoint it resumes from, removes event files begun after it,
and starts each run folder's new event file the way TensorBoard's own writer does with ``purge_step``: a
``SessionLog.START`` event at the step after the checkpoint's last one, so a TensorBoard that already read
the discarded events drops them too. The steps continue from there.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import socket
import struct
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from trialog_figures import FigureHooks

from trialog.api import Range, check_option_values, flatten, hookimpl, read_json, write_json
from trialog.errors import LoggerConfigError, TrialogWarning

__all__ = ["TensorBoardLogger", "flatten_config"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._\-]+")
#: In ``logdir``: each checkpoint's event file sizes and next steps (the resume contract's record).
MARKS_FILE = ".trialog-checkpoints.json"
_EVENTS_GLOB = "events.out.tfevents.*"


def _path_part(text: str) -> str:
    """A tag as one safe folder name (TensorBoard shows run folders by name)."""
    part = _UNSAFE.sub("_", str(text)).strip(".") or "_"
    return part


def flatten_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config -> {"a.b": value} with values TensorBoard's hparams accept (bool, number, str)."""
    flat: dict[str, Any] = {}
    for key, value in flatten(config, keep_empty=False).items():
        if value is None or isinstance(value, (bool, int, float, str)):
            flat[prefix + key] = value
        elif hasattr(value, "item") and getattr(value, "size", 2) == 1:
            flat[prefix + key] = value.item()
        else:
            flat[prefix + key] = str(value)
    return flat


def _crc32c() -> Any:
    try:
        from google_crc32c import value  # C implementation: ~0.7 us per record instead of ~6 us

        return value
    except ImportError:
        from tensorboardX.crc32c import crc32c

        return crc32c


class _EventFile:
    """One run folder's event file (TFRecord framing), written synchronously by the logger's thread.

    tensorboardX's own writer hands each event to a ``multiprocessing.Queue`` and a feeder thread, which
    costs ~70 us per scalar and competes with the training loop for the GIL; framing records here with a
    C CRC costs a few microseconds.
    """

    _serial = itertools.count()

    def __init__(self, logdir: Path, max_queue: int):
        from tensorboardX.proto.event_pb2 import Event

        logdir.mkdir(parents=True, exist_ok=True)
        # pid and a serial keep two writers of one folder and second apart from sharing a file name; the
        # time sorts it after the folder's earlier files (TensorBoard reads them in name order), also
        # after those of a run killed in this same second.
        stamp = int(time.time())
        for earlier in logdir.glob(_EVENTS_GLOB):
            parts = earlier.name.split(".")
            if len(parts) > 3 and parts[3].isdigit():
                stamp = max(stamp, int(parts[3]) + 1)
        name = f"events.out.tfevents.{stamp}.{socket.gethostname()}.{os.getpid()}.{next(self._serial)}"
        self.path = logdir / name
        self.file = open(self.path, "wb")
        self.crc = _crc32c()
        self.max_queue = max(1, max_queue)
        self.pending = 0
        self.write(Event(wall_time=time.time(), file_version="brain.Event:2"))

    def _masked_crc(self, data: bytes) -> bytes:
        crc = self.crc(data)
        return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)

    def write(self, event: Any) -> None:
        data = event.SerializeToString()
        header = struct.pack("<Q", len(data))
        self.file.write(header + self._masked_crc(header) + data + self._masked_crc(data))
        self.pending += 1
        if self.pending >= self.max_queue:
            self.push()

    def add(self, summary: Any, step: int | None) -> None:
        from tensorboardX.proto.event_pb2 import Event

        event = Event(summary=summary, wall_time=time.time())
        if step is not None:
            event.step = int(step)
        self.write(event)

    def push(self) -> None:
        """Hand buffered records to the OS, where TensorBoard can read them."""
        if self.pending:
            self.file.flush()
            self.pending = 0

    def sync(self) -> None:
        """Push and make the file durable (fsync)."""
        self.push()
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.sync()
        self.file.close()


class TensorBoardLogger(FigureHooks):
    """Writes every logger hook as TensorBoard events (tensorboardX protos) under ``logdir``.

    ``background = True``: the dispatcher feeds it from a bounded queue on its own thread, so the
    training loop pays only the enqueue (a few microseconds per ``show_value``). ``queue_policy =
    "block"``: a file writer never drops a value; a loop faster than the writer waits for room (the
    dispatcher's close summary reports how often and how long: ``blocked``, ``blocked_s``).

    Args:
        run_dir: the run folder (given by the dispatcher); events go to ``run_dir/save/tensorboard``.
        logdir: write here instead (one of ``run_dir`` / ``logdir`` is required).
        flush_secs: hand buffered events to the OS (visible to TensorBoard) at least this often (seconds).
        max_queue: hand them over once this many are buffered in one event file.
        num_thresholds: thresholds of PR curves (TensorBoard caps them at 127).
        max_embedding_points: embeddings larger than this are subsampled (the projector gets slow).
        group_by: "name" (a card per name, a sub-run per tag: Keras' layout) or "tag" (trixi's and
            tensorboardX's ``add_scalars`` layout, which trialog-trixi keeps: a card per tag, a sub-run
            ``tag/name`` per name).
    """

    background = True
    queue_policy = "block"

    def __init__(
        self,
        run_dir: str | Path | None = None,
        logdir: str | Path | None = None,
        flush_secs: Annotated[float, Range(min=0, min_open=True)] = 10.0,
        max_queue: Annotated[int, Range(min=1)] = 100,
        num_thresholds: Annotated[int, Range(min=2)] = 127,
        max_embedding_points: Annotated[int, Range(min=1)] = 10_000,
        group_by: Literal["name", "tag"] = "name",
    ):
        if logdir is None and run_dir is None:
            raise LoggerConfigError(
                "tensorboard logger: no folder to write to; pass 'logdir' or use it in an experiment / "
                "CombinedLogger(..., run_dir=...) so it writes to <run_dir>/save/tensorboard"
            )
        self.logdir = Path(logdir) if logdir is not None else Path(run_dir) / "save" / "tensorboard"  # type: ignore[arg-type]
        check_option_values(
            "tensorboard logger",
            TensorBoardLogger,
            {"flush_secs": flush_secs, "max_queue": max_queue, "num_thresholds": num_thresholds,
             "max_embedding_points": max_embedding_points, "group_by": group_by},
        )  # fmt: skip
        self.flush_secs = float(flush_secs)
        self.max_queue = int(max_queue)
        self.num_thresholds = min(int(num_thresholds), 127)
        self.max_embedding_points = int(max_embedding_points)
        self.group_by = group_by
        self._lock = threading.Lock()
        self._files: dict[str, _EventFile] = {}
        self._steps: dict[tuple[str, Any, Any], int] = {}
        #: run folder ("" the main one) -> one more than the largest step written there
        self._next: dict[str, int] = {}
        self._last: dict[str, float] = {}
        self._config: dict[str, Any] | None = None
        self._hparams_written = False
        self._closed = False
        try:
            self._main = self._file("")
        except OSError as exc:
            raise LoggerConfigError(
                f"tensorboard logger: cannot write event files to {self.logdir} ({exc.strerror or exc}); "
                "pass a writable 'logdir'"
            ) from exc
        self._stop = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_periodically, name="trialog-tb-flush", daemon=True
        )
        self._flusher.start()

    # ------------------------------------------------------------- plumbing
    def _file(self, sub: str) -> _EventFile:
        events = self._files.get(sub)
        if events is None:
            events = self._files[sub] = _EventFile(self.logdir / sub if sub else self.logdir, self.max_queue)
        return events

    def _step(
        self, kind: str, name: Any, counter: int | None, tag: Any = None, call: int | None = None
    ) -> int:
        """``counter`` when given, else one more than the last step of this (kind, name, tag) (trixi's rule)
        or the dispatcher's call number, whichever is larger."""
        key = (kind, name, tag)
        if counter is not None:
            step = int(counter)
        else:
            step = self._steps.get(key, 0)
            if call is not None and call > step:
                step = int(call)
        self._steps[key] = step + 1
        return step

    def _write(self, summary: Any, step: int | None, sub: str = "") -> None:
        with self._lock:
            if self._closed:
                return
            self._file(sub).add(summary, step)
            if step is not None and step >= self._next.get(sub, 0):
                self._next[sub] = int(step) + 1

    def _flush_periodically(self) -> None:
        while not self._stop.wait(self.flush_secs):
            with self._lock:
                if self._closed:
                    return
                for events in self._files.values():
                    events.push()

    def _image(self, tag: str, hwc: Any, step: int) -> None:
        from tensorboardX.proto.summary_pb2 import Summary
        from trialog_figures import encode_png

        height, width, channels = hwc.shape
        image = Summary.Image(
            height=height, width=width, colorspace=channels, encoded_image_string=encode_png(hwc, 1)
        )
        self._write(Summary(value=[Summary.Value(tag=tag, image=image)]), step)

    def _figure(self, tag: str, figure: Any, step: int) -> None:
        from trialog_figures import figure_to_array

        self._image(tag, figure_to_array(figure), step)

    # show_barplot, show_lineplot, show_scatterplot, show_piechart, show_boxplot, show_heatmap and
    # show_roc_curve come from FigureHooks (TensorBoard has no native form of them): drawn, then here.
    def emit_figure(self, name: str, counter: int | None, figure: Any, call: int | None) -> None:
        """A drawn plot hook's figure as an image summary ``name``."""
        self._figure(name, figure, self._step("plot", name, counter, call=call))

    # ---------------------------------------------------------------- hooks
    @hookimpl
    def show_value(
        self, value: float, name: str, counter: int | None, tag: str | None, call: int | None = None
    ) -> None:
        """A scalar: ``name`` in the main run, or in the sub-run ``tag`` (card ``name``, one line per tag)."""
        from tensorboardX.proto.summary_pb2 import Summary

        value = float(value)
        step = self._step("value", name, counter, tag, call)
        if tag is None:
            self._write(Summary(value=[Summary.Value(tag=name, simple_value=value)]), step)
            self._last[name] = value
            return
        if self.group_by == "tag":  # trixi's: card ``tag``, a sub-run per name
            sub, card = f"{_path_part(tag)}/{_path_part(name)}", tag
        else:  # Keras': card ``name``, a sub-run per tag
            sub, card = _path_part(tag), name
        self._write(Summary(value=[Summary.Value(tag=card, simple_value=value)]), step, sub)
        self._last[f"{tag}/{name}"] = value

    @hookimpl
    def show_text(self, text: str, name: str | None, counter: int | None, call: int | None = None) -> None:
        from tensorboardX.summary import text as text_summary

        name = name or "text"
        self._write(text_summary(name, str(text)), self._step("text", name, counter, call=call))

    @hookimpl
    def show_image(self, image: Any, name: str, counter: int | None, call: int | None = None) -> None:
        from trialog_figures import to_hwc_uint8

        self._image(name, to_hwc_uint8(image), self._step("image", name, counter, call=call))

    @hookimpl
    def show_images(self, images: Any, name: str, counter: int | None, call: int | None = None) -> None:
        """A batch as one image per item, tagged ``name/0``, ``name/1``, ... (TensorBoard groups them)."""
        from trialog_figures import to_hwc_uint8

        step = self._step("images", name, counter, call=call)
        # (N, C, H, W), (N, H, W, C), (N, H, W) and sequences all iterate as single images.
        for index, image in enumerate(images):
            self._image(f"{name}/{index}", to_hwc_uint8(image), step)

    @hookimpl
    def show_image_grid(
        self, images: Any, name: str, counter: int | None, nrow: int, normalize: bool, call: int | None = None
    ) -> None:
        from trialog_figures import make_grid

        grid = make_grid(images, nrow=nrow, normalize=normalize)
        self._image(name, grid, self._step("image", name, counter, call=call))

    @hookimpl
    def show_figure(self, figure: Any, name: str, counter: int | None, call: int | None = None) -> None:
        self._figure(name, figure, self._step("figure", name, counter, call=call))

    @hookimpl
    def show_video(
        self, frames: Any, name: str, counter: int | None, fps: int, call: int | None = None
    ) -> None:
        """An animated GIF in an image summary (what tensorboardX's ``add_video`` writes, without moviepy).

        TensorBoard's image dashboard plays it; the GIF is encoded with pillow.
        """
        from tensorboardX.proto.summary_pb2 import Summary
        from trialog_figures import encode_gif, to_frames

        clip = to_frames(frames)
        height, width, channels = clip[0].shape
        image = Summary.Image(
            height=height,
            width=width,
            colorspace=1 if channels == 1 else 3,
            encoded_image_string=encode_gif(clip, fps=fps),
        )
        self._write(
            Summary(value=[Summary.Value(tag=name, image=image)]),
            self._step("video", name, counter, call=call),
        )

    @hookimpl
    def show_histogram(
        self, array: Any, name: str, counter: int | None, bins: int, call: int | None = None
    ) -> None:
        """A TensorBoard histogram (distribution over steps) of the finite values of ``array``."""
        import numpy as np
        from tensorboardX.summary import histogram

        values = np.asarray(array, dtype=float).ravel()
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError(f"histogram {name!r} has no finite values")
        self._write(histogram(name, values, int(bins)), self._step("histogram", name, counter, call=call))

    @hookimpl
    def show_pr_curve(
        self, tensor: Any, labels: Any, name: str, counter: int | None, call: int | None = None
    ) -> None:
        """TensorBoard's PR curve of probabilities ``tensor`` against 0/1 ``labels`` (both checked, never clipped)."""
        import numpy as np
        from tensorboardX.summary import pr_curve
        from trialog_figures import binary_labels

        from trialog.errors import TrialogError

        what = f"TensorBoardLogger.show_pr_curve({name!r})"
        positives, scores = binary_labels(labels, tensor, what)
        if not ((scores >= 0.0) & (scores <= 1.0)).all():  # TensorBoard's thresholds span [0, 1] only
            raise TrialogError(
                f"{what}: TensorBoard's PR curve needs scores in [0, 1] (probabilities), got "
                f"{np.nanmin(scores):.3g} .. {np.nanmax(scores):.3g}; apply a sigmoid or softmax first"
            )
        summary = pr_curve(name, positives.astype(np.int64), scores, num_thresholds=self.num_thresholds)
        self._write(summary, self._step("pr", name, counter, call=call))

    @hookimpl
    def show_embedding(
        self,
        features: Any,
        name: str,
        counter: int | None,
        labels: Sequence[Any] | None,
        call: int | None = None,
    ) -> None:
        """Projector files under ``logdir/<step>/<name>/`` plus an entry in ``projector_config.pbtxt``."""
        import numpy as np

        matrix = np.asarray(features, dtype=float)
        if matrix.ndim != 2:
            raise ValueError(f"embedding {name!r} must be (N, D), got shape {matrix.shape}")
        label_list = None if labels is None else [str(label) for label in labels]
        if label_list is not None and len(label_list) != matrix.shape[0]:
            raise ValueError(f"embedding {name!r}: {len(label_list)} labels for {matrix.shape[0]} points")
        if matrix.shape[0] > self.max_embedding_points:
            keep = np.random.default_rng(0).choice(matrix.shape[0], self.max_embedding_points, replace=False)
            keep.sort()
            matrix = matrix[keep]
            label_list = None if label_list is None else [label_list[i] for i in keep]
        step = self._step("embedding", name, counter, call=call)
        subdir = f"{step:05d}/{_path_part(name)}"
        folder = self.logdir / subdir
        folder.mkdir(parents=True, exist_ok=True)
        np.savetxt(folder / "tensors.tsv", matrix, delimiter="\t", fmt="%.7g")
        entry = [f'embeddings {{\ntensor_name: "{name}:{step:05d}"\ntensor_path: "{subdir}/tensors.tsv"\n']
        if label_list is not None:
            clean = [label.replace("\t", " ").replace("\n", " ") for label in label_list]
            (folder / "metadata.tsv").write_text("\n".join(clean) + "\n", encoding="utf-8")
            entry.append(f'metadata_path: "{subdir}/metadata.tsv"\n')
        entry.append("}\n")
        with open(self.logdir / "projector_config.pbtxt", "a", encoding="utf-8") as config:
            config.write("".join(entry))

    @hookimpl
    def log_config(self, config: Mapping[str, Any]) -> None:
        """Remember the config; it is written as hyper-parameters with the final metrics at run end."""
        self._config = flatten_config(config)
        self._hparams_written = False
        self._write_config_text()

    def _write_config_text(self) -> None:
        from tensorboardX.summary import text as text_summary

        assert self._config is not None
        lines = ["| key | value |", "| --- | --- |"]
        lines += [f"| {key} | {value} |" for key, value in self._config.items()]
        self._write(text_summary("config", "\n".join(lines)), 0)

    @hookimpl
    def on_run_end(self, run: Mapping[str, Any] | None, summary: Mapping[str, Any] | None) -> None:
        """Write the hyper-parameters with each result's last value as the run's final metrics."""
        metrics: dict[str, float] = {}
        for name, stats in (summary or {}).items():
            value = stats.get("last") if isinstance(stats, Mapping) else stats
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                metrics[str(name)] = float(value)
        self._write_hparams(metrics or dict(self._last), (run or {}).get("name"))
        self.flush()

    def _write_hparams(self, metrics: Mapping[str, float], run_name: str | None = None) -> None:
        """The HParams plugin's three summaries plus one ``hparam/<metric>`` scalar per final metric."""
        from tensorboardX.proto.summary_pb2 import Summary
        from tensorboardX.summary import hparams

        if self._config is None or self._hparams_written:
            return
        hparam_dict = dict(self._config)
        if run_name and "run" not in hparam_dict:
            hparam_dict["run"] = str(run_name)
        metric_tags = {f"hparam/{name}": value for name, value in metrics.items()}
        experiment, start, end = hparams(hparam_dict, metric_tags)
        step = max(self._next.values(), default=1) - 1  # the last step logged (continued after a resume)
        for summary in (experiment, start):
            self._write(summary, 0)
        for tag, value in metric_tags.items():
            self._write(Summary(value=[Summary.Value(tag=tag, simple_value=value)]), step)
        self._write(end, step)
        self._hparams_written = True

    # ------------------------------------------------------- resume contract
    @hookimpl
    def on_checkpoint(self, step: int) -> None:
        """Make every event file durable and record its size and each run folder's next step for ``step``."""
        with self._lock:
            if self._closed:
                return
            files = {}
            for events in self._files.values():
                events.sync()
                files[events.path.relative_to(self.logdir).as_posix()] = events.file.tell()
            marks = self._read_marks()
            own = [[*key, n] for key, n in self._steps.items()]  # a direct call's default steps
            marks[str(int(step))] = {"files": files, "next": dict(self._next), "steps": own}
            self._write_marks(marks)

    @hookimpl
    def on_resume(self, step: int | None, source: str | None) -> None:
        """Cut the event files back to checkpoint ``step`` (None: to nothing) and purge past it, as ``purge_step``.

        Resumed in a new run folder (``source`` another run's): the old run's event files up to the
        checkpoint are copied here first, so this folder holds the whole run.
        """
        from tensorboardX.proto.event_pb2 import Event, SessionLog

        with self._lock:
            if self._closed:
                return
            old = Path(source) / "save" / "tensorboard" if source else None
            if old is not None and old.is_dir() and old.resolve() != self.logdir.resolve():
                self._adopt(old, step)
            marks = self._read_marks()
            mark = {"files": {}, "next": {}} if step is None else marks.get(str(int(step)))
            if mark is None:
                warnings.warn(
                    f"trialog-tensorboard: {self.logdir / MARKS_FILE} has no record of checkpoint {step}: the "
                    "events logged after it stay in the event files",
                    TrialogWarning,
                    stacklevel=2,
                )
                return
            own = {events.path for events in self._files.values()}
            sizes = mark["files"]
            for path in sorted(self.logdir.rglob(_EVENTS_GLOB)):
                if path in own:
                    continue
                size = sizes.get(path.relative_to(self.logdir).as_posix())
                if size is None:
                    path.unlink()  # begun after the checkpoint
                elif path.stat().st_size > size:
                    os.truncate(path, size)
            self._next = {sub: int(n) for sub, n in mark["next"].items()}
            self._steps = {(kind, name, tag): int(n) for kind, name, tag, n in mark.get("steps", ())}
            for sub, after in self._next.items():
                # TensorBoard's purge_step: a reader drops the events at this step and later it already has.
                start = SessionLog(status=SessionLog.START)
                self._file(sub).write(Event(step=max(after, 1), wall_time=time.time(), session_log=start))
            kept = {k: v for k, v in marks.items() if step is not None and int(k) <= int(step)}
            self._write_marks(kept)

    def _adopt(self, old: Path, step: int | None) -> None:
        """Copy another logdir's event files as they were at checkpoint ``step``, with its records up to it."""
        marks = self._read_marks(old)
        mark = {"files": {}} if step is None else marks.get(str(int(step)))
        if mark is None:
            return  # on_resume warns that there is no record
        for relative, size in mark["files"].items():
            target = self.logdir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(old / relative, "rb") as source, open(target, "wb") as copy:
                copy.write(source.read(size))
        self._write_marks({k: v for k, v in marks.items() if step is not None and int(k) <= int(step)})

    def _read_marks(self, logdir: Path | None = None) -> dict[str, Any]:
        path = (logdir or self.logdir) / MARKS_FILE
        return read_json(path, what="the TensorBoard logger's checkpoint marks") if path.exists() else {}

    def _write_marks(self, marks: Mapping[str, Any]) -> None:
        write_json(self.logdir / MARKS_FILE, marks, indent=None)

    @hookimpl
    def flush(self) -> None:
        with self._lock:
            if self._closed:  # the periodic flusher may wake once more after close
                return
            for events in self._files.values():
                events.sync()

    @hookimpl
    def close(self) -> None:
        """Write pending hyper-parameters (last scalar values as metrics), flush and close every file."""
        if self._closed:
            return
        self._write_hparams(dict(self._last))
        self._stop.set()
        with self._lock:
            self._closed = True
            for events in self._files.values():
                events.close()

    def __repr__(self) -> str:
        return f"TensorBoardLogger(logdir={os.fspath(self.logdir)!r})"
