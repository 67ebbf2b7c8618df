"""trialog_notify: the notifier base (outbox, sender thread, failure policy), secrets and run messages.

The transport here is in memory; trialog-slack and trialog-telegram test the real SDKs against fakes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import warnings

import numpy as np
import pytest
from trialog_notify import (
    FATAL,
    JOB,
    TRANSIENT,
    Notice,
    Notifier,
    ScrubFilter,
    Secret,
    _Series,
    config_lines,
    format_duration,
    metric_lines,
    resolve_token,
    run_error_notice,
    run_finished_notice,
    run_started_notice,
    scrub,
)

from trialog.api import CombinedLogger
from trialog.errors import LoggerConfigError, TrialogError, TrialogWarning

#: Bounds a hang only: every wait in these tests is for an event, never for a time to pass.
HANG = 600.0


class Boom(Exception):
    def __init__(self, kind: str, text: str = "boom", wait: float | None = None):
        super().__init__(text)
        self.kind = kind
        self.wait = wait  # seconds the backend asks to wait (Retry-After)


class MemoryNotifier(Notifier):
    """Posts into lists; ``script`` holds exceptions to raise for the next sends, ``gate`` can hold a send."""

    kind = "memory"

    def __init__(self, **options):
        super().__init__(**options)
        self.posts: list[tuple[int, object]] = []
        self.deleted: list[int] = []
        self.script: list[BaseException] = []
        self.gate: threading.Event | None = None
        self.entered = threading.Event()  # a send began
        self.left = threading.Event()  # a send returned or raised
        self.released = False
        self._ids = 0

    def _send(self, payload):
        self.entered.set()
        try:
            if self.gate is not None:
                self.gate.wait(HANG)
            if self.script:
                raise self.script.pop(0)
            self._ids += 1
            self.posts.append((self._ids, payload))
            return self._ids
        finally:
            self.left.set()

    def _send_message(self, message):
        return self._send(message)

    def _send_image(self, png, caption, filename):
        return self._send((caption, filename, png))

    def _delete(self, handle):
        self.deleted.append(handle)

    def _classify(self, exc):
        return (exc.kind, exc.wait) if isinstance(exc, Boom) else (TRANSIENT, None)

    def _release(self):
        self.released = True

    def _secrets(self):
        return ("s3cr3t-token",)

    def live(self):
        return [payload for handle, payload in self.posts if handle not in self.deleted]


@contextlib.contextmanager
def caught():
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield records


def trialog_warnings(records):
    return [str(w.message) for w in records if issubclass(w.category, TrialogWarning)]


IMAGE = np.arange(12, dtype=np.uint8).reshape(3, 4)


# ---------------------------------------------------------------------------------------------- secrets
def test_scrub_removes_plain_and_url_encoded_forms():
    token = "123:AB/C+d"
    text = f"GET https://x/bot{token}/getMe and https://x/bot123%3AAB%2FC%2Bd/getMe and {token}"
    assert scrub(text, [token]) == "GET https://x/bot***/getMe and https://x/bot***/getMe and ***"
    assert scrub("nothing", ["", "zz"]) == "nothing"


def test_secret_never_shows_itself():
    secret = Secret("xoxb-1")
    assert repr(secret) == str(secret) == "'***'" and f"{secret}" == "'***'"
    assert "xoxb-1" not in repr({"token": secret})
    assert secret.value == "xoxb-1"


def test_scrub_filter_cleans_log_records(caplog):
    log = logging.getLogger("trialog.test_notify.leaky")
    filt = ScrubFilter(["s3cr3t"])
    log.addFilter(filt)
    try:
        with caplog.at_level(logging.INFO, logger=log.name):
            log.info("POST %s/%s", "https://api/bots3cr3t", "sendMessage")
    finally:
        log.removeFilter(filt)
    assert caplog.messages == ["POST https://api/bot***/sendMessage"]


def test_resolve_token(monkeypatch):
    monkeypatch.setenv("MY_TOKEN", " abc ")
    assert resolve_token("x", None, "MY_TOKEN").value == "abc"
    with pytest.raises(LoggerConfigError, match="'token' option is refused") as info:
        resolve_token("x", "t0k3n", "MY_TOKEN")
    assert "t0k3n" not in str(info.value) and "MY_TOKEN" in str(info.value)
    with pytest.raises(LoggerConfigError, match="NAME of an environment variable") as info:
        resolve_token("x", None, "123:pasted-token")
    assert "pasted" not in str(info.value)
    monkeypatch.delenv("MY_TOKEN")
    with pytest.raises(LoggerConfigError, match="MY_TOKEN is empty or not set"):
        resolve_token("x", None, "MY_TOKEN")


# ---------------------------------------------------------------------------------------------- messages
def test_config_lines_flatten_truncate_and_mask():
    config = {
        "lr": 0.1,
        "model": {"depth": 3, "api_key": "k"},
        "name": "x" * 100,
        **{f"k{i}": i for i in range(30)},
    }
    lines = config_lines(config, max_keys=5)
    assert lines[:3] == ["lr: 0.1", "model.depth: 3", "model.api_key: ***"]
    assert lines[3].startswith("name: xxx") and lines[3].endswith("…") and len(lines[3]) < 70
    assert lines[-1] == "… and 29 more"
    assert config_lines(None) == []


def test_metric_lines_pick_best_by_name():
    summary = {
        "val_loss": {"last": 0.5, "min": 0.25, "max": 2.0},
        "top1_acc": {"last": 0.5, "min": 0.1, "max": 0.75},
        "lr": {"last": 0.01, "min": 0.001, "max": 0.1},
        "epochs": 3,
    }
    assert metric_lines(summary) == [
        "val_loss: 0.5 · best 0.25 (min)",
        "top1_acc: 0.5 · best 0.75 (max)",
        "lr: 0.01 · min 0.001, max 0.1",
        "epochs: 3",
    ]


def test_format_duration():
    assert [format_duration(s) for s in (0.4, 59, 61, 3725.2)] == ["0s", "59s", "1m 01s", "1h 02m 05s"]


def test_run_notices():
    run = {"name": "exp1", "host": "node", "pid": 7, "start": "2026-01-01T00:00:00", "n_epochs": 5}
    start = run_started_notice(run, {"lr": 0.1}, folder="/runs/exp1")
    assert start.title == "▶️ exp1 started"
    assert ("host", "node (pid 7)") in start.fields and ("folder", "/runs/exp1") in start.fields
    assert start.block == "lr: 0.1"
    assert run_started_notice({**run, "resumed_from": "/r/0"}, None).title == "▶️ exp1 resumed"

    end = run_finished_notice(
        {**run, "end": "2026-01-01T02:00:30", "status": "stopped"}, {"loss": {"last": 1.0}}
    )
    assert end.title == "⏹️ exp1 stopped" and ("duration", "2h 00m 30s") in end.fields
    assert run_finished_notice({"name": "x"}, None, elapsed=65).fields == [("duration", "1m 05s")]

    error = run_error_notice({**run, "status": "killed"}, KeyboardInterrupt(), "a\nb\nc\nd", tail_lines=2)
    assert error.title == "❌ exp1 was killed" and error.block == "…\nc\nd"
    assert ("error", "KeyboardInterrupt: ") in error.fields
    assert run_error_notice(run, "x", None).title == "❌ exp1 failed"
    assert Notice("t", [("a", "b")], "blk").plain() == "t\na: b\n\nblk"


def test_series_thinning_keeps_first_newest_and_order():
    series = _Series()
    for step in range(10_001):
        series.add(None, float(step), max_points=100)
    counters, values = series.points()
    assert len(values) <= 101
    assert values[0] == 0.0 and values[-1] == 10_000.0 and counters[-1] == 10_001
    assert np.all(np.diff(counters) > 0)


# ---------------------------------------------------------------------------------------------- notifier
def test_hooks_post_through_the_sender_thread_via_the_dispatcher():
    notifier = MemoryNotifier(title="exp")
    clog = CombinedLogger({"m": notifier})
    clog.lifecycle("on_run_start", run={"name": "run7", "host": "h"}, config={"lr": 1})
    clog.show_text("hello", "notes")
    clog.show_image(IMAGE, "img", counter=3)
    clog.lifecycle("on_run_end", run={"name": "run7"}, summary={})
    summary = clog.close()
    assert summary["m"]["failures"] == 0 and notifier.released
    start, text, image, end = notifier.live()
    assert start.title == "▶️ run7 started" and end.title.endswith("run7 finished")
    assert text == "exp · notes: hello"
    caption, filename, png = image
    assert caption == "exp · img (3)" and filename == "img.png" and png.startswith(b"\x89PNG")
    assert notifier.stats["sent"] == 4


def test_title_defaults_to_the_run_name():
    notifier = MemoryNotifier()
    clog = CombinedLogger({"m": notifier})
    clog.lifecycle("on_run_start", run={"name": "run7"}, config={})
    clog.show_text("hi")
    clog.close()
    assert notifier.live()[-1] == "run7: hi"


def test_a_pending_named_post_is_replaced_and_a_sent_one_deleted():
    notifier = MemoryNotifier()
    notifier.gate = threading.Event()
    notifier.show_text("holds the sender", None)
    for shade in (10, 20, 30):
        notifier.show_image(np.full((2, 2), shade, np.uint8), "img", None, None)
    notifier.gate.set()
    notifier.close()
    assert notifier.stats["replaced"] == 2 and len(notifier.posts) == 2

    notifier = MemoryNotifier()
    notifier.show_image(np.full((2, 2), 1, np.uint8), "img", None, None)
    notifier.flush()
    with notifier._cond:
        notifier._cond.wait_for(lambda: notifier.posts, 5)
    notifier.show_image(np.full((2, 2), 2, np.uint8), "img", None, None)
    notifier.close()
    assert notifier.deleted == [1] and len(notifier.live()) == 1


def test_full_outbox_drops_oldest_non_critical():
    notifier = MemoryNotifier(max_pending=3)
    notifier.gate = threading.Event()
    notifier.show_text("in flight", None)
    assert notifier.entered.wait(HANG)  # the sender holds it, so the outbox is empty
    notifier.on_run_start({"name": "r"}, {})
    with caught() as at_drop:
        for i in range(5):
            notifier.show_text(f"t{i}", None)
    # One warning at the first drop, naming the notifier, not only a count at close.
    (message,) = trialog_warnings(at_drop)
    assert "memory notifier" in message and "1 dropped so far" in message and "max_pending=3" in message
    notifier.gate.set()
    with caught() as records:
        notifier.close()
    texts = [p if isinstance(p, str) else p.title for p in notifier.live()]
    assert texts == ["in flight", "▶️ r started", "r: t3", "r: t4"]
    assert notifier.stats["dropped"] == 3
    (message,) = trialog_warnings(records)
    assert "dropped 3 post(s) while more than max_pending=3 waited" in message


def test_fatal_failure_warns_once_scrubbed_and_switches_off():
    notifier = MemoryNotifier()
    notifier.script = [Boom(FATAL, "token s3cr3t-token rejected")]
    with caught() as records:
        notifier.show_text("a", None)
        with notifier._cond:
            notifier._cond.wait_for(lambda: notifier._off, 5)
        notifier.show_text("b", None)
        notifier.on_run_end({"name": "r"}, {})
        notifier.close()
    (message,) = trialog_warnings(records)
    assert "token *** rejected" in message and "s3cr3t" not in message
    assert "notifications are off" in message
    stats = notifier.stats
    assert stats["disabled"] and stats["failed"] == 1 and stats["sent"] == 0 and stats["dropped"] == 2
    assert "s3cr3t" not in stats["last_error"]


def test_job_failure_skips_only_that_post():
    notifier = MemoryNotifier()
    notifier.script = [Boom(JOB, "message too long")]
    with caught() as records:
        notifier.show_text("too long", None)
        notifier.show_text("fine", None)
        notifier.close()
    assert len(trialog_warnings(records)) == 1
    assert notifier.live() == ["fine"] and not notifier.stats["disabled"]


def test_transient_failure_backs_off_and_retries_critical_notices():
    notifier = MemoryNotifier()
    notifier.script = [Boom(TRANSIENT, "503", wait=3600)]  # Retry-After: an hour
    with caught() as records:
        notifier.on_run_start({"name": "r"}, {})
        with notifier._cond:
            assert notifier._cond.wait_for(lambda: notifier._stats["failed"] == 1, 30)
        assert notifier._resume_at > time.monotonic()  # backing off for the hour asked
        assert notifier.posts == [] and notifier._backoff == 2.0
        notifier.close()  # closing skips the back-off: the notice goes now
    assert len(trialog_warnings(records)) == 1
    assert [p.title for p in notifier.live()] == ["▶️ r started"]


def test_close_is_bounded_and_reports_undelivered_once():
    notifier = MemoryNotifier(close_timeout=0.2)
    notifier.gate = threading.Event()
    notifier.show_text("stuck", None)
    assert notifier.entered.wait(HANG)
    notifier.show_text("waiting", None)
    with caught() as records:
        notifier.close()
    # close gave up while the held post was still in the transport: it did not wait for it
    assert not notifier.left.is_set()
    notifier.gate.set()
    (message,) = trialog_warnings(records)
    assert "could not deliver 2 pending post(s)" in message
    assert notifier.stats["undelivered"] == 2


def test_values_are_uploaded_as_one_curve_per_tag_at_close():
    pytest.importorskip("matplotlib")
    notifier = MemoryNotifier(min_interval=3600)
    for step in range(100):
        notifier.show_value(step, "train", step, "loss")
        notifier.show_value(-step, "val", step, "loss")
        notifier.show_value(step, "lr", None, None)
    assert notifier.posts == []
    notifier.close()
    captions = sorted(caption for caption, _, _ in notifier.live())
    assert captions == ["loss", "lr"]


def test_bad_options_are_named():
    with pytest.raises(LoggerConfigError, match="notify must be a list"):
        MemoryNotifier(notify="start")
    with pytest.raises(LoggerConfigError, match="min_interval"):
        MemoryNotifier(min_interval=-1)
    with pytest.raises(LoggerConfigError, match="max_pending"):
        MemoryNotifier(max_pending=0)


@pytest.mark.parametrize(
    ("timeout", "retries", "match"), [(0, 1, "timeout"), (5, -1, "retries"), (5, True, "retries")]
)
def test_transport_options_are_checked_by_name(timeout, retries, match):
    from trialog_notify import check_transport

    with pytest.raises(LoggerConfigError, match=rf"chat logger: {match} must be"):
        check_transport("chat", timeout, retries)


def test_called_on_its_own_with_trixis_required_arguments_only():
    """A notifier called directly (no dispatcher): the spec's defaults fill what trixi leaves out."""
    notifier = MemoryNotifier(title="exp")
    notifier.show_text("Test")
    notifier.show_text("titled", "notes", title="unused")  # trixi's keyword: accepted
    notifier.show_image(IMAGE, "img")
    notifier.show_roc_curve(np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0]), "roc")  # (tensor, labels)
    with pytest.raises(TrialogError, match=r"MemoryNotifier.show_pr_curve\('pr'\): labels must be 0 or 1"):
        notifier.show_pr_curve(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.7, 0.1]), "pr")  # labels first
    notifier.close()
    text, titled, image, roc = notifier.live()
    assert text == "exp: Test" and titled == "exp · notes: titled"
    assert image[1] == "img.png" and roc[1] == "roc.png"
