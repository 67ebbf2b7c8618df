"""trialog-notify: what the chat notifiers (trialog-slack, trialog-telegram) share: the hooks, the outbox, the run messages.

A notifier is a background logger (``background = True``): the dispatcher calls its hooks on its worker
thread. The hooks only do the cheap, local part (record a value, encode an image, render a plot) and
leave a job in the notifier's outbox, a :class:`trialog.api.Delivery` whose thread posts the jobs
through the subclass's transport (``_send_message``, ``_send_image``, ``_delete``).

Why an outbox beside the dispatcher's queue: a post can take seconds (a slow API, Retry-After,
timeouts). Made on the dispatcher's thread, it would hold up every ``show_value`` queued behind it until
that queue drops values. The outbox is the same delivery mechanism, used with what a chat backend
needs: values never enter it (they only mark their curve as changed, and a curve is an item scheduled
at most every ``min_interval`` seconds), a named post replaces its pending predecessor (coalescing by
key), run notices are never dropped, a full outbox drops the oldest post with one warning at the time,
a backend's Retry-After pauses it, and close drains it by ``close_timeout``.

Failures never reach the training loop: the first one gives one ``TrialogWarning`` per notifier (with
the token scrubbed from the text), later ones are counted in :attr:`Notifier.stats`. A rejected token or
an unknown chat switches the notifier off; network errors, 5xx and rate limits make it back off and try
again later.
"""

from __future__ import annotations

import abc
import datetime as _dt
import logging
import os
import re
import threading
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from trialog.api import Delivery, flatten, hookimpl, looks_like_credential_name, metric_mode
from trialog.errors import LoggerConfigError, TrialogWarning

__all__ = [
    "FATAL",
    "JOB",
    "NOTIFY_EVENTS",
    "TRANSIENT",
    "BotNotifier",
    "Notice",
    "Notifier",
    "ScrubFilter",
    "Secret",
    "check_transport",
    "config_lines",
    "format_duration",
    "metric_lines",
    "resolve_token",
    "run_error_notice",
    "run_finished_notice",
    "run_started_notice",
    "scrub",
]

log = logging.getLogger(__name__)

#: Failure classes a transport reports: switch the notifier off, drop this one post, back off and retry later.
FATAL, JOB, TRANSIENT = "fatal", "job", "transient"
NOTIFY_EVENTS = ("start", "end", "error")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_BACKOFF = 300.0


# ---------------------------------------------------------------------------------------------- secrets
class Secret:
    """A string that never shows itself: ``repr``/``str`` give ``'***'``; ``.value`` is the real one."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (as given and URL-encoded, as it appears in request URLs) replaced by ***."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                text = text.replace(form, "***")
    return text


class ScrubFilter(logging.Filter):
    """A logging filter that removes secrets from records (httpx logs every request URL at INFO)."""

    def __init__(self, secrets: Sequence[str]):
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        clean = scrub(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def check_transport(kind: str, timeout: Any, retries: Any) -> None:
    """Reject a request ``timeout`` that is not a positive number and ``retries`` that is not an integer >= 0."""
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise LoggerConfigError(f"{kind} logger: retries must be an integer >= 0, got {retries!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise LoggerConfigError(f"{kind} logger: timeout must be a number of seconds > 0, got {timeout!r}")


def resolve_token(kind: str, token: Any, token_env: str) -> Secret:
    """The bot token from the environment variable ``token_env``; a ``token`` option is refused.

    Logger options travel with the run's configuration (the experiment stores it in config.json, the
    file logger in logger_config.json), so a token given as an option would be written to disk.
    """
    if token is not None:
        raise LoggerConfigError(
            f"{kind} logger: the 'token' option is refused because logger options are stored with the run's "
            f"configuration (config.json); remove it and put the token in the environment variable "
            f"{token_env} (or name another variable with token_env)"
        )
    if not isinstance(token_env, str) or not _ENV_NAME.fullmatch(token_env):
        # Never echo the value: a token pasted here by mistake must not reach a log or a traceback.
        raise LoggerConfigError(
            f"{kind} logger: token_env must be the NAME of an environment variable (letters, digits, _), "
            "not the token itself; put the token in that variable"
        )
    value = os.environ.get(token_env, "").strip()
    if not value:
        raise LoggerConfigError(
            f"{kind} logger: no bot token: the environment variable {token_env} is empty or not set; "
            f"export {token_env}=<your bot token> (or name another variable with token_env)"
        )
    return Secret(value)


# ---------------------------------------------------------------------------------------------- messages
@dataclass
class Notice:
    """A run notification: a headline, ``label: value`` lines and an optional preformatted block."""

    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    block: str | None = None

    def plain(self) -> str:
        """The notice as plain text (what transports without markup send)."""
        lines = [self.title, *(f"{k}: {v}" for k, v in self.fields)]
        if self.block:
            lines += ["", self.block]
        return "\n".join(lines)


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def config_lines(config: Mapping[str, Any] | None, max_keys: int = 20) -> list[str]:
    """The first ``max_keys`` settings of a config as ``dotted.key: value``; secret-looking keys are masked."""
    if not config:
        return []
    items = list(flatten(config).items())
    lines = [f"{k}: {'***' if looks_like_credential_name(k) else _short(v)}" for k, v in items[:max_keys]]
    if len(items) > max_keys:
        lines.append(f"… and {len(items) - max_keys} more")
    return lines


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return _short(value, 24)


def metric_lines(summary: Mapping[str, Mapping[str, Any]] | None, max_metrics: int = 15) -> list[str]:
    """One line per result: the final value and the best one (min for loss-like names, max for accuracy-like)."""
    lines = []
    for name, stats in list((summary or {}).items())[:max_metrics]:
        if not isinstance(stats, Mapping):
            lines.append(f"{name}: {_number(stats)}")
            continue
        last = stats.get("last")
        mode = metric_mode(name, default=None)  # the one rule trialog uses for which way a metric improves
        if mode is not None and mode in stats:
            best = f"best {_number(stats[mode])} ({mode})"
        elif "min" in stats and "max" in stats:
            best = f"min {_number(stats['min'])}, max {_number(stats['max'])}"
        else:
            best = ""
        lines.append(f"{name}: {_number(last)}" + (f" · {best}" if best else ""))
    if summary and len(summary) > max_metrics:
        lines.append(f"… and {len(summary) - max_metrics} more")
    return lines


def format_duration(seconds: float) -> str:
    """``3725.2`` -> ``'1h 02m 05s'``."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _duration(run: Mapping[str, Any], fallback: float | None) -> str | None:
    try:
        start = _dt.datetime.fromisoformat(str(run["start"]))
        end = _dt.datetime.fromisoformat(str(run["end"])) if run.get("end") else None
        if end is not None:
            return format_duration((end - start).total_seconds())
    except (KeyError, TypeError, ValueError):
        pass
    return format_duration(fallback) if fallback is not None else None


def run_started_notice(
    run: Mapping[str, Any], config: Mapping[str, Any] | None, folder: str | None = None, max_keys: int = 20
) -> Notice:
    """Run start: name, host, where, and a summary of the config."""
    name = run.get("name") or "run"
    resumed = run.get("resumed_from")
    notice = Notice(f"▶️ {name} {'resumed' if resumed else 'started'}")
    host = run.get("host")
    if host:
        notice.fields.append(("host", f"{host}" + (f" (pid {run['pid']})" if run.get("pid") else "")))
    if run.get("user"):
        notice.fields.append(("user", str(run["user"])))
    if folder:
        notice.fields.append(("folder", folder))
    if resumed:
        notice.fields.append(("resumed from", str(resumed)))
    if run.get("n_epochs"):
        notice.fields.append(("epochs", str(run["n_epochs"])))
    lines = config_lines(config, max_keys)
    if lines:
        notice.block = "\n".join(lines)
    return notice


def run_finished_notice(
    run: Mapping[str, Any], summary: Mapping[str, Any] | None, elapsed: float | None = None
) -> Notice:
    """Run end: status, duration, final and best value of each result."""
    name = run.get("name") or "run"
    status = run.get("status") or "finished"
    icon = "✅" if status == "finished" else "⏹️"
    notice = Notice(f"{icon} {name} {status}")
    duration = _duration(run, elapsed)
    if duration:
        notice.fields.append(("duration", duration))
    if run.get("epoch") is not None:
        notice.fields.append(("last epoch", str(run["epoch"])))
    lines = metric_lines(summary)
    if lines:
        notice.block = "\n".join(lines)
    return notice


def run_error_notice(
    run: Mapping[str, Any],
    error: BaseException | str | None,
    traceback: str | None,
    elapsed: float | None = None,
    tail_lines: int = 20,
) -> Notice:
    """Run failure: the exception and the last ``tail_lines`` lines of the traceback."""
    name = run.get("name") or "run"
    status = run.get("status") or "error"
    notice = Notice(f"❌ {name} {'was killed' if status == 'killed' else 'failed'}")
    duration = _duration(run, elapsed)
    if duration:
        notice.fields.append(("after", duration))
    if run.get("host"):
        notice.fields.append(("host", str(run["host"])))
    if isinstance(error, BaseException):
        text = f"{type(error).__name__}: {error}"
    else:
        text = str(error or run.get("error") or "unknown error")
    notice.fields.append(("error", _short(text, 300)))
    if traceback:
        lines = traceback.rstrip().splitlines()
        tail = lines[-tail_lines:]
        notice.block = ("…\n" if len(lines) > len(tail) else "") + "\n".join(tail)
    return notice


# ---------------------------------------------------------------------------------------------- notifier
class _Series:
    """One value curve: thinned to at most ``max_points`` by doubling the stride, the newest point kept."""

    __slots__ = ("calls", "counters", "last", "pending", "stride", "values")

    def __init__(self) -> None:
        self.counters: list[float] = []
        self.values: list[float] = []
        self.stride = 1
        self.pending = 0
        self.calls = 0
        self.last: tuple[float, float] | None = None

    def add(self, counter: float | None, value: float, max_points: int) -> None:
        self.calls += 1
        point = (self.calls if counter is None else counter, value)
        self.pending += 1
        if self.pending < self.stride:
            self.last = point
            return
        self.pending = 0
        self.last = None
        self.counters.append(point[0])
        self.values.append(point[1])
        if len(self.values) > max_points:
            del self.counters[1::2], self.values[1::2]
            self.stride *= 2

    def points(self) -> tuple[list[float], list[float]]:
        if self.last is None:
            return list(self.counters), list(self.values)
        return [*self.counters, self.last[0]], [*self.values, self.last[1]]


class _Plot:
    """One curve window: its series, whether an upload is scheduled, when it was last uploaded."""

    __slots__ = ("dirty", "sent_at", "series")

    def __init__(self, now: float) -> None:
        self.series: dict[str, _Series] = {}
        self.dirty = False
        self.sent_at = now


@dataclass
class _Job:
    kind: str  # "message", "image" or "curve"
    what: str  # for warnings: "the run start notice", "image 'samples'"
    payload: Any
    slot: Any = None  # named posts replace the previous post of their slot
    critical: bool = False  # never dropped when the outbox is full


class Notifier(abc.ABC):
    """Base class of chat notifier loggers; subclasses provide the transport.

    Subclass API (called on the sender thread only): ``_send_message(Notice | str) -> handle``,
    ``_send_image(png, caption, filename) -> handle``, ``_delete(handle)``, ``_classify(exc) -> (class,
    wait seconds or None)`` with class :data:`FATAL`, :data:`JOB` or :data:`TRANSIENT`, ``_release()``.
    ``kind`` names the backend in messages; ``_secrets()`` lists what to scrub from error texts.

    The constructor's options are every notifier's: a subclass takes its own and passes the rest on
    with ``**kwargs`` (``super().__init__(**kwargs)``); its options schema then includes these, checked
    by the core before the run folder exists (``trialog.api.check_option_values``).

    Args:
        run_dir: the run folder (given by the experiment).
        title: prefix of every post (default: the run's name).
        min_interval: seconds between two uploads of one value curve (values are only recorded in between).
        delete_last: delete the previous post of a name when posting a new one (trixi's behaviour).
        notify: which run notifications to post: any of ``"start"``, ``"end"``, ``"error"``.
        close_timeout: seconds ``close()`` waits for pending posts (the final notification).
        max_pending: posts waiting to be sent before the oldest non-notification is dropped.
        max_points: points kept per value curve (longer curves are thinned evenly).
        traceback_lines: lines of the traceback in the error notification.
        config_keys: config settings listed in the start notification.
    """

    background = True
    kind = "notifier"

    def __init__(
        self,
        *,
        run_dir: str | Path | None = None,
        title: str | None = None,
        min_interval: float = 60.0,
        delete_last: bool = True,
        notify: Sequence[str] = NOTIFY_EVENTS,
        close_timeout: float = 5.0,
        max_pending: int = 50,
        max_points: int = 2000,
        traceback_lines: int = 20,
        config_keys: int = 20,
    ):
        unknown = set(notify) - set(NOTIFY_EVENTS)
        if isinstance(notify, str) or unknown:
            raise LoggerConfigError(
                f"{self.kind} logger: notify must be a list of {', '.join(NOTIFY_EVENTS)}, got {notify!r}"
            )
        for option, value in (("min_interval", min_interval), ("close_timeout", close_timeout)):
            if not isinstance(value, (int, float)) or value < 0:
                raise LoggerConfigError(
                    f"{self.kind} logger: {option} must be a number of seconds >= 0, got {value!r}"
                )
        for option, value in (("max_pending", max_pending), ("max_points", max_points)):
            if not isinstance(value, int) or value < 2:
                raise LoggerConfigError(
                    f"{self.kind} logger: {option} must be an integer >= 2, got {value!r}"
                )
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.title = title
        self.min_interval = float(min_interval)
        self.delete_last = delete_last
        self.notify = frozenset(notify)
        self.close_timeout = float(close_timeout)
        self.max_pending = max_pending
        self.max_points = max_points
        self.traceback_lines = traceback_lines
        self.config_keys = config_keys

        #: Guards the curves and the counters; notified whenever a post is sent or fails.
        self._cond = threading.Condition()
        self._outbox = Delivery(
            self._execute,
            maxsize=max_pending,
            name=f"trialog-{self.kind}-sender",
            label=f"the {self.kind} notifier (its outbox holds at most max_pending={max_pending} posts)",
            on_error=self._unexpected,
        )
        self._plots: dict[str, _Plot] = {}
        self._posted: dict[Any, Any] = {}
        self._closing = False
        self._closed = False
        self._off = False
        self._warned = False
        self._resume_at = 0.0
        self._backoff = 1.0
        self._config: Mapping[str, Any] | None = None
        self._started_at: float | None = None
        self._stats: dict[str, Any] = {
            "sent": 0,
            "failed": 0,
            "dropped": 0,
            "replaced": 0,
            "deleted": 0,
            "undelivered": 0,
            "disabled": False,
            "last_error": None,
        }

    # ------------------------------------------------------------------ subclass API
    @abc.abstractmethod
    def _send_message(self, message: Notice | str) -> Any:
        """Post a notice or a text; return a handle that ``_delete`` understands."""

    @abc.abstractmethod
    def _send_image(self, png: bytes, caption: str, filename: str) -> Any:
        """Post a PNG with a caption; return a handle that ``_delete`` understands."""

    @abc.abstractmethod
    def _delete(self, handle: Any) -> None:
        """Remove an earlier post (its name got a newer one)."""

    def _classify(self, exc: BaseException) -> tuple[str, float | None]:
        """What a failure means: (FATAL / JOB / TRANSIENT, seconds the backend asked to wait or None)."""
        return TRANSIENT, None

    def _release(self) -> None:
        """Free the transport (called once, by close, after the sender stopped or timed out)."""
        return None  # a client without connections or threads of its own holds nothing

    def _secrets(self) -> tuple[str, ...]:
        return ()

    # ------------------------------------------------------------------ state
    @property
    def stats(self) -> dict[str, Any]:
        """Counts: sent, failed, dropped (outbox full or notifier off), replaced (a newer post of the same
        name came first), deleted (previous posts removed), undelivered (left at close), disabled, last_error."""
        report = self._outbox.report()
        with self._cond:
            stats = dict(self._stats)
        stats["dropped"] += report.dropped
        stats["replaced"] = report.coalesced
        return stats

    def _label(self, name: str | None) -> str:
        return " · ".join(str(p) for p in (self.title, name) if p)

    def _drop(self) -> None:
        with self._cond:
            self._stats["dropped"] += 1

    def _enqueue(self, job: _Job) -> None:
        if self._off or self._closed:
            self._drop()
            return
        if not self._outbox.put(job, job.slot, keep=job.critical):
            self._drop()

    def _curve_changed(self, key: str, plot: _Plot) -> None:
        """Schedule the upload of a curve that changed (called with ``_cond`` held, once per change)."""
        plot.dirty = True
        job = _Job("curve", f"the {key!r} curve", None, slot=("curve", key), critical=True)
        # A curve is one small item per tag, whatever the number of values: it is never dropped.
        self._outbox.put(job, job.slot, keep=True, due=plot.sent_at + self.min_interval)

    def _unexpected(self, job: _Job, exc: BaseException) -> None:
        log.error("%s notifier: sending %s failed unexpectedly: %s", self.kind, job.what, self._scrubbed(exc))

    # ------------------------------------------------------------------ sender thread
    def _curve_data(self, key: str) -> dict[str, tuple[list[float], list[float]]]:
        with self._cond:
            plot = self._plots[key]
            plot.dirty = False
            plot.sent_at = time.monotonic()
            return {name: series.points() for name, series in plot.series.items()}

    def _execute(self, job: _Job) -> None:
        """The outbox's handler: post one job (on the outbox's thread)."""
        if self._off:
            if job.kind == "curve":
                self._plots[job.slot[1]].dirty = False
            self._drop()
            return
        try:
            if job.kind == "message":
                handle = self._send_message(job.payload)
            elif job.kind == "image":
                handle = self._send_image(*job.payload)
            else:
                handle = self._send_image(*self._render_curve(job.slot[1], self._curve_data(job.slot[1])))
        except Exception as exc:
            if self._outbox.cut_off:  # cut off by close(): already counted as undelivered
                log.debug("%s: %s cut off at close: %s", self.kind, job.what, self._scrubbed(exc))
                return
            self._failed(job, exc)
            return
        with self._cond:
            self._stats["sent"] += 1
            self._backoff = 1.0
            previous = self._posted.get(job.slot) if job.slot is not None else None
            if job.slot is not None:
                self._posted[job.slot] = handle
            self._cond.notify_all()
        if previous is not None and self.delete_last:
            try:
                self._delete(previous)
            except Exception as exc:  # the old post may be gone already; the new one is up
                log.debug("%s: could not delete a previous post: %s", self.kind, self._scrubbed(exc))
            else:
                with self._cond:
                    self._stats["deleted"] += 1

    def _render_curve(self, key: str, data: Mapping[str, tuple[list[float], list[float]]]) -> tuple:
        from trialog_figures import render

        with render.LOCK:
            png = render.figure_to_png(render.value_curves(data, key))
        return png, self._label(key), _filename(key)

    def _scrubbed(self, exc: BaseException) -> str:
        return scrub(f"{type(exc).__name__}: {exc}", self._secrets())

    def _failed(self, job: _Job, exc: BaseException) -> None:
        try:
            kind, wait = self._classify(exc)
        except Exception:
            kind, wait = TRANSIENT, None
        error = self._scrubbed(exc)
        with self._cond:
            self._stats["failed"] += 1
            self._stats["last_error"] = error
            if kind == TRANSIENT and self._closing:
                # At close there is no later to retry at: give up rather than hold the run's exit.
                kind = FATAL
            if kind == FATAL:
                self._off = True
                self._stats["disabled"] = True
                self._outbox.discard()  # counted as dropped by the outbox
                for plot in self._plots.values():
                    plot.dirty = False
            elif kind == TRANSIENT:
                delay = max(wait or 0.0, self._backoff)
                self._resume_at = time.monotonic() + delay
                self._backoff = min(self._backoff * 2, _MAX_BACKOFF)
                self._outbox.pause(self._resume_at)
                if job.kind == "curve":
                    plot = self._plots[job.slot[1]]
                    if not plot.dirty:  # no newer point since: upload this state again
                        plot.dirty = True
                        self._outbox.put(job, job.slot, keep=True, front=True)
                elif job.critical:
                    self._outbox.put(job, keep=True, front=True)
            first = not self._warned
            self._warned = True
            self._cond.notify_all()
        if kind == FATAL:
            consequence = "notifications are off for the rest of this run"
            if self._closing:
                consequence = "the rest is dropped (the run is closing)"
        elif kind == JOB:
            consequence = "this post is skipped"
        else:
            consequence = "it will try again later"
        log.info("%s notifier: could not send %s: %s (%s)", self.kind, job.what, error, consequence)
        if first:
            warnings.warn(
                f"trialog: the {self.kind} notifier could not send {job.what}: {error}; {consequence}. "
                "The run goes on; later failures are only counted (see the logger's .stats).",
                TrialogWarning,
                stacklevel=2,
            )

    # ------------------------------------------------------------------ hooks (dispatcher's worker thread)
    @hookimpl
    def show_value(self, value: float, name: str, counter: int | None, tag: str | None) -> None:
        """Record a point of the curve ``tag or name``; the curve is uploaded at most every ``min_interval`` s."""
        if self._off:
            return
        value = float(value)
        key = str(tag if tag is not None else name)
        with self._cond:
            plot = self._plots.get(key)
            if plot is None:
                plot = self._plots[key] = _Plot(time.monotonic())
            series = plot.series.get(name)
            if series is None:
                series = plot.series[name] = _Series()
            series.add(counter, value, self.max_points)
            if not plot.dirty:
                self._curve_changed(key, plot)

    @hookimpl
    def show_text(self, text: str, name: str | None) -> None:
        """Post ``text`` as a message (prefixed with the title and name)."""
        if self._off:
            return self._drop()
        label = self._label(name)
        message = f"{label}: {text}" if label else str(text)
        self._enqueue(_Job("message", f"text {_short(name or text, 40)!r}", message))

    def _post_png(
        self, hook: str, name: str, counter: int | None, png: bytes, title: str | None = None
    ) -> None:
        caption = self._label(name)
        if title and title != name:
            caption += f" · {title}"
        if counter is not None:
            caption += f" ({counter})"
        what = f"{hook.removeprefix('show_')} {name!r}"
        self._enqueue(_Job("image", what, (png, caption, _filename(name)), slot=(hook, name)))

    def _post_plot(self, hook: str, name: str, counter: int | None, drawer: str, *args: Any) -> None:
        """Render ``trialog_figures.render.<drawer>(*args)`` (or a figure given as the only arg) and post it."""
        if self._off:
            return self._drop()
        from trialog_figures import render

        with render.LOCK:
            figure = getattr(render, drawer)(*args) if drawer else args[0]
            png = render.figure_to_png(figure)
        self._post_png(hook, name, counter, png)

    @hookimpl
    def show_image(self, image: Any, name: str, counter: int | None, title: str | None) -> None:
        """Post one image (replacing the previous post of ``name``)."""
        if self._off:
            return self._drop()
        from trialog_figures import encode_png, to_hwc_uint8

        self._post_png("show_image", name, counter, encode_png(to_hwc_uint8(image)), title)

    @hookimpl
    def show_images(self, images: Any, name: str, counter: int | None, title: str | None) -> None:
        """Post a batch of images as one grid image."""
        if self._off:
            return self._drop()
        from trialog_figures import encode_png, make_grid

        self._post_png("show_images", name, counter, encode_png(make_grid(images)), title)

    @hookimpl
    def show_image_grid(
        self, images: Any, name: str, counter: int | None, title: str | None, nrow: int, normalize: bool
    ) -> None:
        """Post a batch of images tiled ``nrow`` per row."""
        if self._off:
            return self._drop()
        from trialog_figures import encode_png, make_grid

        grid = make_grid(images, nrow=nrow, normalize=normalize)
        self._post_png("show_image_grid", name, counter, encode_png(grid), title)

    @hookimpl
    def show_barplot(
        self, array: Any, name: str, counter: int | None, labels: Any, title: str | None
    ) -> None:
        self._post_plot("show_barplot", name, counter, "barplot", array, labels, title or name)

    @hookimpl
    def show_lineplot(
        self, y_vals: Any, x_vals: Any, name: str, counter: int | None, labels: Any, title: str | None
    ) -> None:
        self._post_plot("show_lineplot", name, counter, "lineplot", y_vals, x_vals, labels, title or name)

    @hookimpl
    def show_scatterplot(
        self, array: Any, name: str, counter: int | None, labels: Any, title: str | None
    ) -> None:
        self._post_plot("show_scatterplot", name, counter, "scatterplot", array, labels, title or name)

    @hookimpl
    def show_piechart(
        self, array: Any, name: str, counter: int | None, labels: Any, title: str | None
    ) -> None:
        self._post_plot("show_piechart", name, counter, "piechart", array, labels, title or name)

    @hookimpl
    def show_boxplot(
        self, array: Any, name: str, counter: int | None, labels: Any, title: str | None
    ) -> None:
        self._post_plot("show_boxplot", name, counter, "boxplot", array, labels, title or name)

    @hookimpl
    def show_histogram(
        self, array: Any, name: str, counter: int | None, bins: int, title: str | None
    ) -> None:
        self._post_plot("show_histogram", name, counter, "histogram", array, bins, title or name)

    @hookimpl
    def show_heatmap(self, array: Any, name: str, counter: int | None, title: str | None) -> None:
        self._post_plot("show_heatmap", name, counter, "heatmap", array, title or name)

    @hookimpl
    def show_pr_curve(
        self, tensor: Any, labels: Any, name: str, counter: int | None, title: str | None
    ) -> None:
        what = f"{type(self).__name__}.show_pr_curve({name!r})"
        self._post_plot("show_pr_curve", name, counter, "pr_curve", labels, tensor, title or name, what)

    @hookimpl
    def show_roc_curve(
        self, tensor: Any, labels: Any, name: str, counter: int | None, title: str | None
    ) -> None:
        what = f"{type(self).__name__}.show_roc_curve({name!r})"
        self._post_plot("show_roc_curve", name, counter, "roc_curve", labels, tensor, title or name, what)

    @hookimpl
    def show_embedding(
        self, features: Any, name: str, counter: int | None, labels: Any, title: str | None
    ) -> None:
        self._post_plot("show_embedding", name, counter, "embedding", features, labels, title or name)

    @hookimpl
    def show_figure(self, figure: Any, name: str, counter: int | None) -> None:
        """Post a matplotlib figure as it looks when the dispatcher's worker gets to it."""
        self._post_plot("show_figure", name, counter, "", figure)

    @hookimpl
    def log_config(self, config: Mapping[str, Any]) -> None:
        """Keep the config for the start notice (nothing is posted)."""
        self._config = config

    @hookimpl
    def flush(self) -> None:
        """Upload every curve that changed since its last upload now (not waiting for ``min_interval``)."""
        self._outbox.expedite()

    @hookimpl
    def on_run_start(self, run: Mapping[str, Any], config: Mapping[str, Any] | None) -> None:
        """Post the start notice: name, host, run folder, config summary."""
        self._started_at = time.monotonic()
        run = run or {}
        if self.title is None and run.get("name"):
            self.title = str(run["name"])
        if "start" in self.notify:
            folder = str(self.run_dir) if self.run_dir is not None else None
            notice = run_started_notice(run, config or self._config, folder, self.config_keys)
            self._enqueue(_Job("message", "the run start notice", notice, critical=True))

    def _elapsed(self) -> float | None:
        return time.monotonic() - self._started_at if self._started_at is not None else None

    @hookimpl
    def on_run_end(self, run: Mapping[str, Any], summary: Mapping[str, Any] | None) -> None:
        """Post the end notice: status, duration, final and best results."""
        if "end" in self.notify:
            notice = run_finished_notice(run or {}, summary, self._elapsed())
            self._enqueue(_Job("message", "the run end notice", notice, critical=True))

    @hookimpl
    def on_run_error(
        self, run: Mapping[str, Any], error: BaseException | None, traceback: str | None
    ) -> None:
        """Post the failure notice: the exception and the end of the traceback."""
        if "error" in self.notify:
            notice = run_error_notice(run or {}, error, traceback, self._elapsed(), self.traceback_lines)
            self._enqueue(_Job("message", "the run error notice", notice, critical=True))

    @hookimpl
    def close(self) -> None:
        """Send what is pending (changed curves included) for at most ``close_timeout`` s, then stop."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._closing = True
        # Draining ignores min_interval and back-off: at close there is no later to wait for.
        report = self._outbox.close(self.close_timeout)
        with self._cond:
            self._stats["undelivered"] = report.undelivered
            undelivered = report.undelivered
            dropped = self._stats["dropped"] + report.dropped
            warn = bool(undelivered or dropped) and not self._warned
            self._warned = self._warned or warn
            stats = {**self._stats, "dropped": dropped, "replaced": report.coalesced}
        try:
            self._release()
        except Exception as exc:
            log.debug("%s: releasing the client failed: %s", self.kind, self._scrubbed(exc))
        log.info("%s notifier closed: %s", self.kind, stats)
        if warn:
            lost = []
            if dropped:
                lost.append(
                    f"dropped {dropped} post(s) while more than max_pending={self.max_pending} waited"
                )
            if undelivered:
                lost.append(
                    f"could not deliver {undelivered} pending post(s) within close_timeout={self.close_timeout:g}s"
                )
            warnings.warn(
                f"trialog: the {self.kind} notifier {' and '.join(lost)} (raise max_pending / close_timeout to "
                "keep more)",
                TrialogWarning,
                stacklevel=2,
            )


class BotNotifier(Notifier):
    """A notifier posting through a chat service's web API with a bot token (Slack's, Telegram's).

    Its options are the transport's; a subclass (the service) adds its own and passes these, and the
    :class:`Notifier` options, on with ``**kwargs``.

    Args:
        token_env: the environment variable holding the bot token; the config only ever holds this name.
        token: refused (options are stored with the run's config); use ``token_env``.
        base_url: the web API's root (tests point it at a fake).
        timeout: seconds one HTTP request may take.
        retries: retries of one request after a rate limit, a connection error or a 5xx.
        max_retry_wait: the longest wait a rate limit may ask for inside a request; a longer one makes
            the notifier pause (and retry later) instead.
        **kwargs: the :class:`Notifier` options (``run_dir``, ``title``, ``min_interval``, ...).
    """

    def __init__(
        self,
        *,
        token_env: str,
        token: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        max_retry_wait: float = 30.0,
        **kwargs: Any,
    ):
        check_transport(self.kind, timeout, retries)
        self._token = resolve_token(self.kind, token, token_env)
        super().__init__(**kwargs)
        self.token_env = token_env
        self.base_url = base_url
        self.timeout = float(timeout)
        self.retries = retries
        self.max_retry_wait = float(max_retry_wait)

    def _secrets(self) -> tuple[str, ...]:
        return (self._token.value,)


def _filename(name: str) -> str:
    return (re.sub(r"[^\w.-]+", "_", str(name)).strip("_.")[:60] or "plot") + ".png"
