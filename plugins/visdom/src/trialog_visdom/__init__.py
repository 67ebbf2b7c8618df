"""trialog-visdom: plots on a Visdom server that never stall or break the training loop.

- ``background = True``: the dispatcher calls the hooks on its own thread, so the loop only enqueues.
- Value curves: ``show_value(v, name, tag=t)`` appends to window ``t`` (``name`` when no tag), one trace
  per name, with ``update="append"``. Points are buffered and a sender thread posts each trace's new
  points in one request, so a slow server costs bigger batches, not lost points. The sender is a
  :class:`trialog.api.Delivery`: one coalesced, never-dropped item per window with new points; the
  extra methods' calls are items too, the oldest dropped (counted, warned once at the first drop) when
  more than ``queue_size`` wait.
- A dead or restarting server: one ``TrialogWarning``, then calls are skipped (curve points are kept)
  and the connection is retried every ``retry_secs``; once it answers, windows it lost are redrawn from
  the kept history. Unreachable at start: the same warning, or ``LoggerConfigError`` with
  ``raise_on_unreachable=True``; ``auto_start=True`` starts a local server instead.
- x of a point: its ``counter``, else its call number from the dispatcher (0, 1, 2, ... per name and tag,
  continued after a resume) or one more than the last x, whichever is larger (trixi's rule).
- Kill and resume (trialog's resume contract, ``on_resume``): the value curves are redrawn whole from the
  run's results log up to the checkpoint resumed from (each window closed and sent again; the last
  ``max_points`` of each curve), then continue; a point's x there is its counter or its index per name
  and tag.
- Beyond the hooks (reach them as ``exp.loggers["vis"]`` / ``clog["vis"]``): :meth:`VisdomLogger.show_progress`,
  ``show_contourplot``, ``show_surfaceplot``, ``show_svg``, ``show_histogram_3d``,
  ``show_classification_metrics``, ``plot_model_statistics``; they return at once and are sent by the
  logger's sender thread.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from trialog.api import Delivery, hookimpl
from trialog.errors import LoggerConfigError, TrialogWarning

__all__ = ["VisdomLogger"]

log = logging.getLogger(__name__)

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class _Trace:
    """One curve's points; ``sent`` counts points the server has (absolute, survives trimming)."""

    __slots__ = ("next_x", "offset", "sent", "xs", "ys")

    def __init__(self) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.offset = 0  # points trimmed from the front
        self.sent = 0
        self.next_x = 0


def _abs_mean_std(values: Any) -> tuple[float, float]:
    """Mean |x| and std of a tensor (reduced where it lives, e.g. on the GPU) or an array."""
    if hasattr(values, "detach"):
        data = values.detach().float()
        return data.abs().mean().item(), data.std().item() if data.numel() > 1 else 0.0
    data = np.asarray(values, dtype=float)
    return float(np.abs(data).mean()), float(data.std(ddof=1)) if data.size > 1 else 0.0


def _numpy(value: Any) -> np.ndarray:
    from trialog.api import to_numpy

    return np.array(to_numpy(value), copy=True)


class VisdomLogger:
    """Sends every logger hook to a Visdom server (``http://server:port``, environment ``env``).

    Args:
        run_dir: the run folder (given by the dispatcher); names the default env and the auto-started
            server's ``env_path`` (``run_dir/save/visdom``).
        server, port: where the Visdom server listens.
        env: the Visdom environment (default: the run folder's name, else ``main``).
        username, password: credentials for a server started with ``-enable_login``.
        auto_start: start a local server on 127.0.0.1:``port`` when none answers (server must be local);
            with ``port=0`` it listens on a free port the OS picks (``logger.port`` tells which).
        keep_server: leave an auto-started server running after ``close`` so the plots stay visible.
        raise_on_unreachable: an unreachable server at start is a ``LoggerConfigError`` instead of a warning.
        timeout: seconds one request may take before the server counts as unreachable.
        retry_secs: seconds between reconnection attempts while the server is unreachable.
        embedding_method: ``"pca"`` (fast, numpy) or ``"tsne"`` (scikit-learn) for ``show_embedding``.
        max_points: points kept per curve for redrawing after a server restart.
        queue_size: pending calls of the extra methods before the oldest are dropped.
        save_on_close: ask the server to save the environment to its ``env_path`` at close.
    """

    background = True

    def __init__(
        self,
        run_dir: str | Path | None = None,
        server: str = "http://localhost",
        port: int = 8097,
        env: str | None = None,
        username: str | None = None,
        password: str | None = None,
        auto_start: bool = False,
        keep_server: bool = True,
        raise_on_unreachable: bool = False,
        timeout: float = 5.0,
        retry_secs: float = 2.0,
        embedding_method: str = "pca",
        max_points: int = 100_000,
        queue_size: int = 100,
        save_on_close: bool = True,
    ):
        if embedding_method not in ("pca", "tsne"):
            raise LoggerConfigError(
                f"visdom logger: embedding_method must be 'pca' or 'tsne', got {embedding_method!r}"
            )
        if username and not password:
            raise LoggerConfigError("visdom logger: 'username' is set but 'password' is not; pass both")
        from ._client import Client

        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.env = env or (self.run_dir.name if self.run_dir is not None else "main")
        self.port = int(port)
        self.retry_secs = float(retry_secs)
        self.embedding_method = embedding_method
        self.max_points = int(max_points)
        self.keep_server = keep_server
        self.save_on_close = save_on_close
        self.server_process: Any = None
        self._stats = {"sent": 0, "skipped": 0, "failed": 0, "reconnects": 0}
        self._vis = Client(server, self.port, self.env, username, password, float(timeout))
        self._lock = threading.RLock()  # one request at a time; guards the connection state
        self._down = False
        self._retry_at = 0.0
        self._warned = False
        self._recheck: set[str] = set()
        self._curves: dict[str, dict[str, _Trace]] = {}
        self._titles: dict[str, str] = {}  # curve window -> the title show_value(title=) gave it
        self._text_windows: set[str] = set()
        self._histories: dict[str, list[np.ndarray]] = {}
        self._extra_errors: set[str] = set()
        self._cond = threading.Lock()  # guards the curves (appended by the hooks, read by the sender)
        self._closed = False
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise LoggerConfigError(
                f"visdom logger: queue_size must be a positive integer, got {queue_size!r}"
            )
        self._queue_size = queue_size

        if not self._try_connect():
            host = urlparse(self._vis.server).hostname or ""
            if auto_start and host in _LOCAL_HOSTS:
                self._start_server()
            if self._down:
                where = self._vis.url
                if raise_on_unreachable:
                    raise LoggerConfigError(
                        f"visdom logger: no Visdom server answers at {where}; start one (python -m "
                        "visdom.server) or pass auto_start=True"
                    )
                self._warn_unreachable(f"no server answers at {where} at start")
        self._sender = Delivery(
            self._deliver,
            maxsize=self._queue_size,
            name=f"trialog-visdom-{self.env}",
            label=f"the visdom logger ({self._vis.url}, env {self.env!r})",
            on_error=self._sender_failed,
        )

    @property
    def stats(self) -> dict[str, int]:
        """sent / skipped (server away) / failed (requests that found it away) / reconnects / dropped
        (extra-method calls dropped from a full queue) / undelivered (left at close)."""
        report = self._sender.report()
        return {**self._stats, "dropped": report.dropped, "undelivered": report.undelivered}

    # ------------------------------------------------------------- connection
    def _try_connect(self) -> bool:
        try:
            self._vis.connect()
        except (ConnectionError, OSError):
            self._down = True
            self._retry_at = time.monotonic() + self.retry_secs
            return False
        self._down = False
        return True

    def _start_server(self) -> None:
        from .server import start_server

        env_path = self.run_dir / "save" / "visdom" if self.run_dir is not None else Path.home() / ".visdom"
        try:
            self.server_process = start_server(self.port, env_path)
        except RuntimeError as exc:
            self._warn_unreachable(f"auto_start failed: {exc}")
            return
        # port=0: the OS picked a free one, which the server listens on from the start (no race)
        self.port = self._vis.port = self.server_process.port
        self._vis.server = "http://127.0.0.1"
        self._try_connect()

    def _warn_unreachable(self, why: str) -> None:
        if self._warned:
            log.info("visdom server at %s unreachable again: %s", self._vis.url, why)
            return
        self._warned = True
        warnings.warn(
            f"trialog-visdom: {why} ({self._vis.url}, env {self.env!r}); the run goes on without plots, "
            f"value curves are kept and redrawn once it answers (retrying every {self.retry_secs:g} s)",
            TrialogWarning,
            stacklevel=3,
        )

    def _request(self, fn: Callable[[], Any]) -> bool:
        """Run one client call unless the server is known to be away; False when it was not delivered."""
        with self._lock:
            if self._down:
                if time.monotonic() < self._retry_at:
                    self._stats["skipped"] += 1
                    return False
                if not self._try_connect():
                    self._stats["skipped"] += 1
                    return False
                self._reconnected()
            try:
                fn()
            except (ConnectionError, OSError) as exc:
                self._stats["failed"] += 1
                self._down = True
                self._retry_at = time.monotonic() + self.retry_secs
                self._warn_unreachable(f"the server stopped answering ({exc})")
                return False
            self._stats["sent"] += 1
            return True

    def _reconnected(self) -> None:
        self._stats["reconnects"] += 1
        log.info("visdom server at %s answers again; redrawing value curves it lost", self._vis.url)
        with self._cond:
            self._recheck = set(self._curves)
        for window in list(self._recheck):
            self._mark_dirty(window)

    # ----------------------------------------------------------------- sender
    def _deliver(self, item: tuple[str, Any, Any]) -> None:
        """The sender's handler: one extra-method call, or the new points of one window."""
        kind, what, call = item
        if kind == "extra":
            self._run_extra(what, call)
        else:
            self._send_curves({what})

    def _sender_failed(self, item: tuple[str, Any, Any], exc: BaseException) -> None:
        # e.g. warnings turned into errors: the sender outlives any one item
        log.error("trialog-visdom: sending %s failed: %s: %s", item[1], type(exc).__name__, exc)

    def _run_extra(self, what: str, call: Callable[[], Any]) -> None:
        try:
            self._request(call)
        except Exception as exc:  # the loop that called the method is long gone: warn once per method
            if what not in self._extra_errors:
                self._extra_errors.add(what)
                warnings.warn(
                    f"trialog-visdom: {what} failed: {type(exc).__name__}: {exc}",
                    TrialogWarning,
                    stacklevel=2,
                )

    def _submit(self, what: str, call: Callable[[], Any]) -> None:
        self._sender.put(("extra", what, call))

    def _send_curves(self, windows: set[str]) -> None:
        for window in windows:
            if not self._request(functools.partial(self._check_window, window)):
                self._mark_dirty(window)
                continue
            with self._cond:
                pending = [
                    (name, trace, trace.offset + len(trace.xs), trace.sent - trace.offset)
                    for name, trace in self._curves[window].items()
                    if trace.sent < trace.offset + len(trace.xs)
                ]
                batch = [
                    (n, t, end, np.array(t.xs[start:]), np.array(t.ys[start:]))
                    for n, t, end, start in pending
                ]
            for name, trace, end, xs, ys in batch:
                opts = {"title": self._titles.get(window, window), "showlegend": True}
                sent = self._request(
                    functools.partial(
                        self._vis.line,
                        Y=ys,
                        X=xs,
                        win=window,
                        env=self.env,
                        name=name,
                        update="append",
                        opts=opts,
                    )
                )
                if not sent:
                    self._mark_dirty(window)
                    break
                trace.sent = end

    def _check_window(self, window: str) -> None:
        """After a reconnection: if the server lost ``window``, resend every kept point of its curves."""
        if window not in self._recheck:
            return
        self._recheck.discard(window)
        if not self._vis.window_exists(window, self.env):
            with self._cond:
                for trace in self._curves[window].values():
                    trace.sent = trace.offset

    def _mark_dirty(self, window: str) -> None:
        """Schedule sending ``window``'s new points (after the reconnection delay while the server is away)."""
        if self._down and self._sender.closing:
            return  # closing with the server away: nothing to wait for (counted as skipped)
        due = self._retry_at if self._down else None
        self._sender.put(("curves", window, None), ("curves", window), keep=True, due=due)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until the sender has posted everything it can; False on timeout or while the server is away."""
        return self._sender.wait_idle(timeout)

    # ------------------------------------------------------------ conversions
    def _opts(self, name: str, title: str | None, **more: Any) -> dict[str, Any]:
        opts = {"title": title or name}
        opts.update({k: v for k, v in more.items() if v is not None})
        return opts

    def _image(self, hwc: np.ndarray, name: str, title: str | None) -> None:
        chw = np.ascontiguousarray(hwc.transpose(2, 0, 1))
        self._request(lambda: self._vis.image(chw, win=name, env=self.env, opts=self._opts(name, title)))

    def _project(self, features: np.ndarray, method: str) -> np.ndarray:
        if method == "tsne":
            from sklearn.manifold import TSNE

            perplexity = max(1.0, min(30.0, (features.shape[0] - 1) / 3))
            return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=0).fit_transform(
                features
            )
        from trialog_figures import pca_2d

        return pca_2d(features)

    # ------------------------------------------------------------------ hooks
    @hookimpl
    def show_value(
        self,
        value: float,
        name: str,
        counter: int | None,
        tag: str | None,
        title: str | None,
        call: int | None = None,
    ) -> None:
        """Append a point to window ``tag`` (or ``name``, titled ``title`` once given), trace ``name``; x is
        ``counter``, the call number or (a direct call) the next step."""
        window = tag if tag is not None else name
        if title is not None:
            with self._cond:
                self._titles[window] = str(title)
        if counter is not None:
            self._append(window, name, counter, value)
        else:
            self._append(window, name, call, value, call=True)
        self._mark_dirty(window)

    def _append(self, window: str, name: str, x: Any, value: float, call: bool = False) -> None:
        """Append a point; x None (or, for a call number, one below the next step) is the next step."""
        with self._cond:
            traces = self._curves.setdefault(window, {})
            trace = traces.get(name)
            if trace is None:
                trace = traces[name] = _Trace()
            if x is None or (call and x < trace.next_x):
                x = trace.next_x
            trace.next_x = x + 1
            trace.xs.append(x)
            trace.ys.append(float(value))
            if len(trace.xs) > self.max_points:
                extra = len(trace.xs) - self.max_points
                del trace.xs[:extra], trace.ys[:extra]
                trace.offset += extra
                trace.sent = max(trace.sent, trace.offset)

    @hookimpl
    def on_resume(self, position: int, results: str) -> None:
        """Redraw every value curve whole from the results log's first ``position`` bytes (the checkpoint's)."""
        records: list[Any] = []
        path = Path(results)
        if position and path.is_file():
            with open(path, "rb") as handle:
                head = handle.read(position)
            records = [json.loads(line) for line in head.splitlines() if line.strip()]
        with self._cond:
            windows = set(self._curves)
            self._curves = {}
        counts: dict[tuple[Any, Any], int] = {}
        for record in records:
            value = record.get("value") if isinstance(record, dict) else None
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            name, tag = str(record.get("name")), record.get("tag")
            index = counts.get((name, tag), 0)
            counts[(name, tag)] = index + 1
            counter = record.get("counter")
            self._append(
                str(tag) if tag is not None else name, name, index if counter is None else counter, value
            )
        for window in windows | set(self._curves):
            # the server's window has the killed run's points past the checkpoint: replace it whole
            self._submit(f"close {window}", functools.partial(self._vis.close, win=window, env=self.env))
        for window in self._curves:
            self._mark_dirty(window)

    @hookimpl
    def show_text(self, text: str, name: str | None, title: str | None) -> None:
        """Append text (HTML-escaped, line breaks kept) to window ``name`` (default ``text``, titled ``title``)."""
        window = name or "text"
        body = html.escape(str(text)).replace("\n", "<br>")
        append = window in self._text_windows
        opts = None if title is None else {"title": str(title)}
        if self._request(lambda: self._vis.text(body, win=window, env=self.env, append=append, opts=opts)):
            self._text_windows.add(window)

    @hookimpl
    def show_image(self, image: Any, name: str, title: str | None) -> None:
        from trialog_figures import to_hwc_uint8

        self._image(to_hwc_uint8(image), name, title)

    @hookimpl
    def show_images(self, images: Any, name: str, title: str | None) -> None:
        from trialog_figures import make_grid

        self._image(make_grid(images), name, title)

    @hookimpl
    def show_image_grid(self, images: Any, name: str, title: str | None, nrow: int, normalize: bool) -> None:
        from trialog_figures import make_grid

        self._image(make_grid(images, nrow=nrow, normalize=normalize), name, title)

    @hookimpl
    def show_figure(self, figure: Any, name: str) -> None:
        from trialog_figures import figure_to_array

        self._image(figure_to_array(figure), name, None)

    @hookimpl
    def show_video(self, frames: Any, name: str, fps: int) -> None:
        """An animated GIF (pillow) in window ``name``, embedded the way Visdom's own ``video`` embeds a
        video (a data URL in an HTML pane), so no ffmpeg or OpenCV is needed."""
        import base64

        from trialog_figures import encode_gif

        data = base64.b64encode(encode_gif(frames, fps=fps)).decode("ascii")
        body = f'<img src="data:image/gif;base64,{data}" alt="{html.escape(name)}" style="max-width:100%">'
        opts = {"title": name}
        self._request(lambda: self._vis.text(body, win=name, env=self.env, opts=opts))

    @hookimpl
    def show_barplot(self, array: Any, name: str, labels: Sequence[str] | None, title: str | None) -> None:
        data = np.asarray(array, dtype=float)
        rownames = None if labels is None else [str(label) for label in labels]
        opts = self._opts(name, title, rownames=rownames)
        self._request(lambda: self._vis.bar(data, win=name, env=self.env, opts=opts))

    @hookimpl
    def show_lineplot(
        self, y_vals: Any, x_vals: Any, name: str, labels: Sequence[str] | None, title: str | None
    ) -> None:
        """Lines of ``y_vals`` (one per row when 2-D) over ``x_vals``; replaces the window's content."""
        ys = np.asarray(y_vals, dtype=float)
        ys = ys[None] if ys.ndim == 1 else ys
        xs = np.broadcast_to(
            np.arange(ys.shape[1]) if x_vals is None else np.asarray(x_vals, float), ys.shape
        )
        legend = None if labels is None else [str(label) for label in labels]
        # Visdom wants one column per line.
        opts = self._opts(name, title, legend=legend, showlegend=legend is not None)
        self._request(lambda: self._vis.line(Y=ys.T, X=xs.T, win=name, env=self.env, opts=opts))

    @hookimpl
    def show_scatterplot(
        self, array: Any, name: str, labels: Sequence[str] | None, title: str | None
    ) -> None:
        """Points of an (N, 2) or (N, 3) array; ``labels`` (one per point) colour them by class."""
        points = np.asarray(array, dtype=float)
        classes, legend = self._classes(labels, points.shape[0])
        opts = self._opts(name, title, legend=legend, markersize=5)
        self._request(lambda: self._vis.scatter(points, classes, win=name, env=self.env, opts=opts))

    @staticmethod
    def _classes(labels: Sequence[Any] | None, count: int) -> tuple[np.ndarray | None, list[str] | None]:
        """Per-point labels -> Visdom's class ids 1..K and the legend."""
        if labels is None:
            return None, None
        names = np.asarray([str(label) for label in labels])
        if names.shape != (count,):
            raise ValueError(f"got {names.size} labels for {count} points; pass one label per point")
        legend, ids = np.unique(names, return_inverse=True)
        return ids + 1, legend.tolist()

    @hookimpl
    def show_piechart(self, array: Any, name: str, labels: Sequence[str] | None, title: str | None) -> None:
        parts = np.asarray(array, dtype=float).ravel()
        legend = None if labels is None else [str(label) for label in labels]
        opts = self._opts(name, title, legend=legend)
        self._request(lambda: self._vis.pie(parts, win=name, env=self.env, opts=opts))

    @hookimpl
    def show_boxplot(self, array: Any, name: str, labels: Sequence[str] | None, title: str | None) -> None:
        data = np.asarray(array, dtype=float)
        legend = None if labels is None else [str(label) for label in labels]
        opts = self._opts(name, title, legend=legend)
        self._request(lambda: self._vis.boxplot(data, win=name, env=self.env, opts=opts))

    @hookimpl
    def show_histogram(self, array: Any, name: str, bins: int, title: str | None) -> None:
        values = np.asarray(array, dtype=float).ravel()
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError(f"histogram {name!r} has no finite values")
        opts = self._opts(name, title, numbins=int(bins))
        self._request(lambda: self._vis.histogram(values, win=name, env=self.env, opts=opts))

    @hookimpl
    def show_heatmap(self, array: Any, name: str, title: str | None) -> None:
        data = np.asarray(array, dtype=float)
        if data.ndim != 2:
            raise ValueError(f"heatmap {name!r} must be 2-D, got shape {data.shape}")
        self._request(lambda: self._vis.heatmap(data, win=name, env=self.env, opts=self._opts(name, title)))

    @hookimpl
    def show_pr_curve(self, tensor: Any, labels: Any, name: str, title: str | None) -> None:
        from trialog_figures import precision_recall

        precision, recall, ap = precision_recall(labels, tensor, f"VisdomLogger.show_pr_curve({name!r})")
        opts = self._opts(name, f"{title or name} (AP {ap:.3f})", xlabel="recall", ylabel="precision")
        self._request(lambda: self._vis.line(Y=precision, X=recall, win=name, env=self.env, opts=opts))

    @hookimpl
    def show_roc_curve(self, tensor: Any, labels: Any, name: str, title: str | None) -> None:
        from trialog_figures import roc

        fpr, tpr, auc = roc(labels, tensor, f"VisdomLogger.show_roc_curve({name!r})")
        opts = self._opts(name, f"{title or name} (AUC {auc:.3f})", xlabel="false positive rate",
                          ylabel="true positive rate")  # fmt: skip
        self._request(lambda: self._vis.line(Y=tpr, X=fpr, win=name, env=self.env, opts=opts))

    @hookimpl
    def show_embedding(
        self,
        features: Any,
        name: str,
        labels: Sequence[Any] | None,
        title: str | None,
        method: str | None = None,
    ) -> None:
        """(N, D) features projected to 2-D (PCA, or t-SNE with ``embedding_method="tsne"``), coloured by label.

        ``method`` (trixi's keyword, ``"pca"`` or ``"tsne"``) overrides ``embedding_method`` for this call.
        """
        method = self.embedding_method if method is None else method
        if method not in ("pca", "tsne"):
            raise ValueError(
                f"VisdomLogger.show_embedding({name!r}): method must be 'pca' or 'tsne', got {method!r} "
                "(trixi's other manifold methods are not provided)"
            )
        data = np.asarray(features, dtype=float)
        if data.ndim != 2:
            raise ValueError(f"embedding {name!r} must be (N, D), got shape {data.shape}")
        points = self._project(data, method)
        classes, legend = self._classes(labels, points.shape[0])
        opts = self._opts(name, title, legend=legend, markersize=5)
        self._request(lambda: self._vis.scatter(points, classes, win=name, env=self.env, opts=opts))

    @hookimpl
    def log_config(self, config: Mapping[str, Any]) -> None:
        body = html.escape(json.dumps(config, indent=2, sort_keys=True, default=str))
        self._request(lambda: self._vis.text(f"<pre>{body}</pre>", win="config", env=self.env))

    @hookimpl
    def on_run_end(self, run: Mapping[str, Any] | None, summary: Mapping[str, Any] | None) -> None:
        """A ``summary`` window: each result's last / min / max."""
        rows = ["<tr><th>result</th><th>last</th><th>min</th><th>max</th></tr>"]
        for name, stats in (summary or {}).items():
            stats = stats if isinstance(stats, Mapping) else {"last": stats}
            cells = "".join(f"<td>{html.escape(str(stats.get(k, '')))}</td>" for k in ("last", "min", "max"))
            rows.append(f"<tr><td>{html.escape(str(name))}</td>{cells}</tr>")
        title = html.escape(str((run or {}).get("name", "run")))
        body = f"<b>{title} finished</b><table>{''.join(rows)}</table>"
        self._request(lambda: self._vis.text(body, win="summary", env=self.env))

    @hookimpl
    def flush(self) -> None:
        self.wait_idle(self._vis.timeout)

    @hookimpl
    def close(self) -> None:
        """Send what is pending (not waiting on an unreachable server), save the env, stop the sender."""
        if self._closed:
            return
        self._closed = True
        # Not waiting on an unreachable server: what is pending then is counted as undelivered.
        self._sender.close(0.0 if self._down else self._vis.timeout * 2)
        if self.save_on_close and not self._down:
            self._request(lambda: self._vis.save([self.env]))
        if self.server_process is not None and not self.keep_server:
            from .server import stop_server

            stop_server(self.server_process)
        if self._stats["skipped"] or self._sender.dropped:
            log.info("visdom logger %s closed: %s", self._vis.url, self.stats)

    # ------------------------------------------------------- extra methods
    def show_progress(self, num: float, total: float | None = None, name: str = "progress") -> None:
        """A done / to-do pie: ``num`` of ``total``, or ``num`` as a fraction in [0, 1] without ``total``."""
        if total is None:
            if not 0 <= num <= 1:
                raise ValueError(f"show_progress: without 'total', num must be in [0, 1], got {num}")
            num, total = float(num) * 100, 100.0
        if not 0 <= num <= total:
            raise ValueError(f"show_progress: num must be in [0, total={total}], got {num}")
        parts = np.array([num, total - num], dtype=float)
        opts = {"title": f"{name}: {num:g} / {total:g}", "legend": ["done", "to do"]}
        self._submit("show_progress", lambda: self._vis.pie(parts, win=name, env=self.env, opts=opts))

    def show_contourplot(self, array: Any, name: str = "contour", title: str | None = None) -> None:
        """A contour plot of a 2-D array."""
        data = _numpy(array).astype(float)
        opts = self._opts(name, title)
        self._submit("show_contourplot", lambda: self._vis.contour(data, win=name, env=self.env, opts=opts))

    def show_surfaceplot(self, array: Any, name: str = "surface", title: str | None = None) -> None:
        """A 3-D surface of a 2-D array of heights."""
        data = _numpy(array).astype(float)
        opts = self._opts(name, title)
        self._submit("show_surfaceplot", lambda: self._vis.surf(data, win=name, env=self.env, opts=opts))

    def show_svg(self, svg: str, name: str = "svg", title: str | None = None) -> None:
        """An SVG document (a string)."""
        opts = self._opts(name, title)
        self._submit("show_svg", lambda: self._vis.svg(svgstr=str(svg), win=name, env=self.env, opts=opts))

    def show_histogram_3d(
        self, array: Any, name: str = "histogram_3d", bins: int = 50, keep: int = 50
    ) -> None:
        """Histograms of the last ``keep`` samples of ``array``, one row each (TensorBoard's distribution view)."""
        values = _numpy(array).astype(float).ravel()
        values = values[np.isfinite(values)]
        history = self._histories.setdefault(name, [])
        history.append(values)
        del history[:-keep]
        samples = list(history)
        low = min(float(v.min()) for v in samples if v.size)
        high = max(float(v.max()) for v in samples if v.size)
        edges = np.linspace(low, high if high > low else low + 1, bins + 1)
        counts = np.stack([np.histogram(v, edges)[0] for v in samples]).astype(float)
        centers = [f"{c:.3g}" for c in (edges[:-1] + edges[1:]) / 2]
        opts = {"title": name, "columnnames": centers, "xlabel": "value", "ylabel": "sample"}
        self._submit(
            "show_histogram_3d", lambda: self._vis.heatmap(counts, win=name, env=self.env, opts=opts)
        )

    def show_classification_metrics(
        self,
        tensor: Any,
        labels: Any,
        name: str = "classification",
        metrics: Sequence[str] = ("roc", "pr"),
        class_names: Sequence[str] | None = None,
    ) -> None:
        """ROC and/or PR curves of scores ``tensor`` against ``labels`` (trixi's order, as the curve hooks):
        binary scores (N,), or (N, K) class scores drawn one-vs-rest per class."""
        from trialog_figures import precision_recall, roc

        truth = _numpy(labels).ravel()
        scores = _numpy(tensor).astype(float)
        columns = [(None, truth, scores.ravel())] if scores.ndim == 1 else [
            (class_names[k] if class_names else str(k), (truth == k).astype(int), scores[:, k])
            for k in range(scores.shape[1])
        ]  # fmt: skip
        for metric in metrics:
            if metric not in ("roc", "pr"):
                raise ValueError(f"show_classification_metrics: unknown metric {metric!r}; use 'roc' or 'pr'")
            curves = []
            for label, target, score in columns:
                if metric == "roc":
                    x, y, area = roc(target, score)
                    trace = f"{label or 'ROC'} (AUC {area:.3f})"
                else:
                    y, x, area = precision_recall(target, score)
                    trace = f"{label or 'PR'} (AP {area:.3f})"
                curves.append((trace, x, y))
            axes = (
                ("false positive rate", "true positive rate") if metric == "roc" else ("recall", "precision")
            )
            self._submit(
                f"show_classification_metrics[{metric}]", self._curve_sender(f"{name}_{metric}", curves, axes)
            )

    def _curve_sender(
        self, window: str, curves: list[tuple[str, np.ndarray, np.ndarray]], axes: tuple[str, str]
    ) -> Callable[[], None]:
        """One call that replaces ``window`` with the first curve and adds the others as traces."""

        def send() -> None:
            for index, (trace, x, y) in enumerate(curves):
                opts = {"title": window, "xlabel": axes[0], "ylabel": axes[1], "showlegend": True}
                update = None if index == 0 else "append"
                self._vis.line(Y=y, X=x, win=window, env=self.env, name=trace, update=update, opts=opts)

        return send

    def plot_model_statistics(self, model: Any, name: str = "model", plot_grad: bool = True) -> None:
        """Bar plots of each parameter's mean |value| and std, and of its gradient's (when it has one).

        ``model`` is anything with ``named_parameters()`` yielding tensors or arrays (a ``torch.nn.Module``);
        the statistics are reduced here, on the caller's thread and the tensors' device, and sent in
        background.
        """
        names, weights, grads, grad_names = [], [], [], []
        for param_name, param in model.named_parameters():
            names.append(param_name)
            weights.append(_abs_mean_std(param))
            grad = getattr(param, "grad", None)
            if plot_grad and grad is not None:
                grad_names.append(param_name)
                grads.append(_abs_mean_std(grad))
        legend = ["mean |x|", "std"]
        for suffix, rows, rownames in (("weights", weights, names), ("gradients", grads, grad_names)):
            if not rows:
                continue
            data = np.array(rows, dtype=float)
            opts = {"title": f"{name} {suffix}", "rownames": rownames, "legend": legend}
            if len(rows) == 1:  # Visdom squeezes a single row to 1-D, where rownames and legend clash
                data = data[0]
                opts["rownames"] = [f"{rownames[0]} {what}" for what in opts.pop("legend")]
            window = f"{name}_{suffix}"
            self._submit(
                "plot_model_statistics",
                functools.partial(self._vis.bar, data, win=window, env=self.env, opts=opts),
            )

    def __repr__(self) -> str:
        return f"VisdomLogger({self._vis.url!r}, env={self.env!r})"
