"""trialog-slack with the real slack_sdk WebClient against a fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
from trialog_figures import decode_png, make_grid
from trialog_slack import SlackLogger
from trialog_slack.fake import FakeSlack

from trialog import Experiment
from trialog.errors import LoggerConfigError, TrialogWarning
from trialog.loggers.dispatch import CombinedLogger
from trialog.testing import trialog_warnings

IMAGE = (np.arange(3 * 12 * 20) % 251).astype(np.uint8).reshape(3, 12, 20)
RUN = {"name": "demo", "host": "gpu-node-7", "pid": 4242, "start": "2026-01-01T10:00:00+00:00"}
SUMMARY = {
    "val_loss": {"last": 0.25, "min": 0.125, "max": 1.5, "mean": 0.5, "count": 10},
    "val_acc": {"last": 0.875, "min": 0.25, "max": 0.9375, "mean": 0.6, "count": 10},
}


#: close_timeout where a test waits for delivery: long enough for a machine under full load; it bounds only a
#: hang (tests that check the bound itself pass their own short close_timeout).
SETTLE = 300.0


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def token(fake, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
    return fake.token


def slack(url: str, **options) -> CombinedLogger:
    declaration = {
        "type": "slack",
        "channel": "C0000001",
        "base_url": url,
        "retries": 1,
        "close_timeout": SETTLE,
        **options,
    }
    return CombinedLogger({"slack": declaration})


def simulate_run(clog: CombinedLogger, fake=None, steps: int = 200, hold_through_close: bool = False) -> dict:
    """A short run through the dispatcher; returns the close summary.

    With ``fake``, its gate holds every request unanswered until the loop has returned: the loop
    returning with nothing answered shows that it never waited for the API. ``hold_through_close``
    keeps the gate shut through ``close()`` as well: close then returns with the request still
    unanswered, bounded by close_timeout and not by the API.
    """
    if fake is not None:
        fake.gate = threading.Event()
    try:
        summary = _run(clog, fake, steps, hold_through_close)
    finally:
        if fake is not None:
            fake.gate.set()
    return summary


def _run(clog: CombinedLogger, fake, steps: int, hold_through_close: bool) -> dict:
    clog.log_config({"lr": 0.1})
    clog.lifecycle(
        "on_run_start", run=RUN, config={"lr": 0.1, "optimizer": {"name": "adam", "betas": [0.9, 0.99]}}
    )
    for step in range(steps):
        clog.show_value(1.0 / (step + 1), "loss", counter=step, tag="train")
    clog.show_text("epoch 0 done")
    clog.show_image(IMAGE, "sample")
    if fake is not None:
        assert fake.requests == 0  # the loop returned before the fake answered anything
        if not hold_through_close:
            fake.gate.set()
    end = {**RUN, "status": "finished", "end": "2026-01-01T11:02:03+00:00", "epoch": 9}
    clog.lifecycle("on_run_end", run=end, summary=SUMMARY)
    summary = clog.close()
    if fake is not None and hold_through_close:
        assert fake.requests == 0  # close() gave up on the unanswered request: it is bounded
    return summary


@pytest.fixture
def refused_url():
    """A base URL on 127.0.0.1 whose port is held by a bound socket that never listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/"


# ---------------------------------------------------------------------------------------------- delivery
def test_notifications_text_and_images_arrive_intact(fake, token):
    with trialog_warnings() as warned:
        clog = slack(fake.url)
        summary = simulate_run(clog, fake)
    assert warned == []
    assert summary["slack"]["failures"] == 0
    stats = clog["slack"].stats
    assert stats["sent"] == 5 and stats["failed"] == 0 and stats["undelivered"] == 0

    start, text, end = (m.text for m in fake.live_messages())
    assert start.startswith("*▶️ demo started*")
    assert "host: gpu-node-7 (pid 4242)" in start
    assert "lr: 0.1" in start and "optimizer.name: adam" in start
    assert text == "demo: epoch 0 done"
    assert end.startswith("*✅ demo finished*")
    assert "duration: 1h 02m 03s" in end
    assert "val_loss: 0.25 · best 0.125 (min)" in end and "val_acc: 0.875 · best 0.9375 (max)" in end

    files = {f.filename: f for f in fake.live_files()}
    assert set(files) == {"sample.png", "train.png"}
    assert files["sample.png"].title == "demo · sample"
    assert np.array_equal(decode_png(files["sample.png"].data), IMAGE.transpose(1, 2, 0))
    curve = decode_png(files["train.png"].data)
    assert curve.shape == (480, 640, 3) and curve.std() > 0
    assert all(f.channel == "C0000001" for f in files.values())


def test_plots_grids_and_figures_are_uploaded_as_png(fake, token):
    from matplotlib.figure import Figure

    rng = np.random.default_rng(0)
    batch = rng.random((6, 3, 8, 8))
    figure = Figure(figsize=(2, 2), dpi=50)
    figure.add_subplot(1, 1, 1).plot([0, 1], [1, 0])
    with trialog_warnings() as warned:
        clog = slack(fake.url)
        clog.show_image_grid(batch, "grid", nrow=3)
        clog.show_images(batch[:2], "pair")
        clog.show_barplot(np.array([1.0, 3.0, 2.0]), "bars", labels=["a", "b", "c"])
        clog.show_histogram(rng.normal(size=300), "weights", bins=10)
        clog.show_heatmap(rng.random((3, 3)), "confusion")
        clog.show_figure(figure, "custom")
        clog.close()
    assert warned == []
    files = {f.filename: f.data for f in fake.live_files()}
    assert set(files) == {"grid.png", "pair.png", "bars.png", "weights.png", "confusion.png", "custom.png"}
    assert np.array_equal(decode_png(files["grid.png"]), make_grid(batch, nrow=3))
    assert np.array_equal(decode_png(files["pair.png"]), make_grid(batch[:2]))
    assert decode_png(files["custom.png"]).shape[:2] == (100, 100)
    for data in files.values():
        assert data.startswith(b"\x89PNG")


def test_user_email_gets_a_direct_message(fake, token):
    clog = CombinedLogger({"dm": {"type": "slack", "user_email": "me@example.org", "base_url": fake.url}})
    clog.show_text("hi")
    clog.show_image(IMAGE, "sample")
    clog.close()
    assert fake.methods()[:2] == ["users.lookupByEmail", "conversations.open"]
    assert [m.channel for m in fake.live_messages()] == ["D0000001"]
    assert [f.channel for f in fake.live_files()] == ["D0000001"]


def test_channel_name_is_looked_up_once(fake, token):
    clog = slack(fake.url, channel="#runs")
    clog.show_text("one")
    clog.show_text("two")
    clog.close()
    assert fake.methods().count("conversations.list") == 1
    assert [m.channel for m in fake.live_messages()] == ["C0000001", "C0000001"]


@pytest.mark.parametrize("share_ts", [True, False])
def test_delete_last_replaces_the_previous_post_of_a_name(token, share_ts):
    with FakeSlack(token=token, share_ts=share_ts) as fake:
        clog = slack(fake.url)
        first = IMAGE
        second = 255 - IMAGE
        clog.show_image(first, "sample")
        assert fake.wait_for(lambda f: len(f.live_files()) == 1)
        clog.show_image(second, "sample")
        clog.show_image(first, "other")
        clog.close()
        live = {f.filename: f.data for f in fake.live_files()}
        assert np.array_equal(decode_png(live["sample.png"]), second.transpose(1, 2, 0))
        assert set(live) == {"sample.png", "other.png"}
        # Slack lists the share's ts: the message goes; it does not yet: the file goes.
        assert ("chat.delete" in fake.methods()) == share_ts
        assert ("files.delete" in fake.methods()) != share_ts
        assert clog["slack"].stats["deleted"] == 1


def test_delete_last_false_keeps_every_post(fake, token):
    clog = slack(fake.url, delete_last=False)
    clog.show_image(IMAGE, "sample")
    assert fake.wait_for(lambda f: len(f.live_files()) == 1)
    clog.show_image(IMAGE, "sample")
    clog.close()
    assert len(fake.live_files()) == 2 and "chat.delete" not in fake.methods()


def test_show_value_records_cheaply_and_uploads_the_curve_at_most_every_min_interval(fake, token):
    clog = slack(fake.url, min_interval=3600)
    for _ in range(10):
        for step in range(200):
            clog.show_value(float(step), "loss", tag="train")
            clog.show_value(float(-step), "val", tag="train")
        clog.wait_idle(SETTLE)  # a loop with no work between calls would outrun any background queue
    assert fake.methods() == []  # nothing uploaded yet: min_interval has not passed
    plot = clog["slack"]._plots["train"]
    assert plot.series["loss"].calls == plot.series["val"].calls == 2000
    summary = clog.close()
    assert summary["slack"]["dropped"] == 0
    assert fake.methods() == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    (curve,) = fake.live_files()
    assert curve.filename == "train.png" and decode_png(curve.data).std() > 0


def test_flush_uploads_changed_curves_now(fake, token):
    clog = slack(fake.url, min_interval=3600)
    clog.show_value(1.0, "loss")
    clog.flush()
    assert fake.wait_for(lambda f: len(f.live_files()) == 1)
    clog.show_value(2.0, "loss")
    clog.close()
    assert [f.filename for f in fake.live_files()] == ["loss.png"]
    assert fake.methods().count("files.completeUploadExternal") == 2


def test_notify_option_selects_run_notifications(fake, token):
    clog = slack(fake.url, notify=["error"])
    simulate_run(clog, steps=3)
    assert not any(m.text.startswith("*▶️") or m.text.startswith("*✅") for m in fake.live_messages())


def test_error_notice_has_the_exception_and_the_traceback_tail(fake, token):
    clog = slack(fake.url, traceback_lines=3)
    try:
        raise RuntimeError("CUDA out of memory")
    except RuntimeError as exc:
        import traceback

        tb = "".join(f"  frame {i}\n" for i in range(50)) + traceback.format_exc()
        clog.lifecycle("on_run_error", run={**RUN, "status": "error"}, error=exc, traceback=tb)
    clog.close()
    (message,) = fake.live_messages()
    assert message.text.startswith("*❌ demo failed*")
    assert "error: RuntimeError: CUDA out of memory" in message.text
    block = message.text.split("```")[1]
    assert block.splitlines()[0] == "…" and len(block.splitlines()) == 4
    assert block.splitlines()[-1] == "RuntimeError: CUDA out of memory"


# ---------------------------------------------------------------------------------------------- faults
def test_rate_limit_is_honoured_and_everything_arrives(fake, token, monkeypatch):
    from slack_sdk.http_retry import builtin_handlers

    # The SDK waits out Retry-After with time.sleep: record the wait (and what the fake had seen by
    # then) instead of sleeping, so the test needs no clock.
    waits = []
    fake_time = types.SimpleNamespace(sleep=lambda seconds: waits.append((seconds, fake.methods())))
    monkeypatch.setattr(builtin_handlers, "time", fake_time)
    fake.rate_limit(times=1, retry_after=7)
    with trialog_warnings() as warned:
        simulate_run(slack(fake.url), fake)
    assert warned == []
    # one wait, of the Retry-After the fake sent (the SDK adds under a second of jitter to the value it
    # passes to sleep: a number handed over, not a clock), after the 429'd request and before its retry
    ((requested, seen),) = waits
    assert int(requested) == 7 and seen == ["chat.postMessage"]
    assert fake.methods().count("chat.postMessage") == 4  # the 429 and its retry, then two more
    assert len(fake.live_messages()) == 3 and len(fake.live_files()) == 2


def test_a_passing_500_is_retried(fake, token):
    fake.fail(500, times=1)
    with trialog_warnings() as warned:
        simulate_run(slack(fake.url), fake)
    assert warned == []
    assert len(fake.live_messages()) == 3


@pytest.mark.parametrize(
    "fault",
    ["server_down", "rate_limited_too_long", "status_500", "status_503", "latency_5s", "invalid_token"],
)
def test_faults_never_stall_or_crash_the_run_and_warn_once(fault, token, monkeypatch, refused_url):
    # close waits for the one failing post (SETTLE); only a held request must be given up on in time
    options = {"close_timeout": 2.0 if fault == "latency_5s" else SETTLE, "timeout": 1.0}
    with FakeSlack(token=token) as fake:
        url, gated = fake.url, fake
        if fault == "server_down":
            url, gated = refused_url, None  # connections are refused at once: nothing to hold
        elif fault == "rate_limited_too_long":
            fake.rate_limit(times=1000, retry_after=120)
        elif fault.startswith("status_"):
            fake.fail(int(fault[-3:]), times=1000)
        elif fault == "latency_5s":  # an API that does not answer before the run has closed
            options["timeout"] = 0.3
        elif fault == "invalid_token":
            monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-wrong-token-123")
        with trialog_warnings() as warned:
            # the loop returns before the fake answers anything; with latency, close() does too
            summary = simulate_run(slack(url, **options), gated, hold_through_close=fault == "latency_5s")
    messages = warned
    assert len(messages) == 1, messages
    assert "the run goes on" in messages[0].lower() or "could not deliver" in messages[0]
    assert token not in messages[0] and "xoxb-wrong-token-123" not in messages[0]
    assert summary["slack"]["failures"] == 0  # the dispatcher saw no exception from the logger
    if fault == "invalid_token":
        assert fake.methods() == ["chat.postMessage"]  # switched off after the rejected token
        assert "invalid_auth" in messages[0]


def test_a_dead_server_is_retried_later_then_given_up_at_close(token, refused_url):
    clog = slack(refused_url, retries=0, close_timeout=1.0)
    with trialog_warnings() as warned:
        for step in range(50):
            clog.show_text(f"step {step}")
        clog.close()
    assert len(warned) == 1
    stats = clog["slack"].stats
    assert stats["disabled"] and stats["failed"] >= 1
    assert stats["sent"] == 0 and stats["dropped"] + stats["failed"] + stats["undelivered"] >= 50


def test_close_waits_a_bounded_time_for_a_slow_server(token):
    with FakeSlack(token=token) as fake:
        fake.gate = threading.Event()  # the API holds the request: it answers only after close returned
        try:
            clog = slack(fake.url, close_timeout=0.5, timeout=60.0)
            clog.lifecycle("on_run_end", run=RUN, summary=SUMMARY)
            assert fake.wait_for(lambda f: f.held == 1)
            with trialog_warnings() as warned:
                clog.close()
            assert fake.requests == 0  # close gave up on the held request after close_timeout
        finally:
            fake.gate.set()
    (message,) = warned
    assert "could not deliver 1 pending post" in message
    assert clog["slack"].stats["undelivered"] == 1


def test_full_outbox_drops_oldest_text_but_keeps_notifications(token):
    with FakeSlack(token=token, delay=0.3) as fake:
        clog = slack(fake.url, max_pending=3)
        with trialog_warnings() as warned:
            clog.lifecycle("on_run_start", run=RUN, config={})
            for step in range(10):
                clog.show_text(f"line {step}")
            clog.lifecycle("on_run_end", run=RUN, summary={})
            clog.close()
    # one warning at the first drop (when it happens, naming the notifier), one summary at close
    at_drop, summary = warned
    assert "slack notifier" in at_drop and "1 dropped so far" in at_drop
    assert "while more than max_pending=3 waited" in summary
    texts = [m.text for m in fake.live_messages()]
    assert texts[0].startswith("*▶️") and texts[-1].startswith("*✅")
    assert texts[-2] == "demo: line 9"
    stats = clog["slack"].stats
    assert stats["dropped"] >= 6 and stats["sent"] == len(texts)


# ---------------------------------------------------------------------------------------------- options
def test_the_notifier_options_are_slacks_without_restating_them(token):
    """SlackLogger declares only its own options; the transport's and every notifier's come from its bases."""
    from trialog.hooks.options import option_parameters

    params = option_parameters(SlackLogger)
    assert {"channel", "user_email", "token_env", "timeout", "retries", "min_interval", "max_pending"} <= set(
        params
    )
    assert "kwargs" not in params
    with pytest.raises(
        LoggerConfigError, match=r"logger 's' \(slack\) does not accept option\(s\) 'min_intervall'"
    ):
        CombinedLogger({"s": {"type": "slack", "channel": "C0000001", "min_intervall": 1}})
    with pytest.raises(
        LoggerConfigError, match=r"logger 's' \(slack\): option 'max_points' must be an integer"
    ):
        CombinedLogger({"s": {"type": "slack", "channel": "C0000001", "max_points": "many"}})
    logger = SlackLogger(channel="C0000001", min_interval=5, retries=0, timeout=2)
    assert (logger.min_interval, logger.retries, logger.timeout) == (5.0, 0, 2.0)
    logger.close()


# ---------------------------------------------------------------------------------------------- secrets
def test_token_option_is_refused_and_not_echoed(token):
    with pytest.raises(LoggerConfigError, match="SLACK_BOT_TOKEN") as info:
        CombinedLogger({"s": {"type": "slack", "channel": "C0000001", "token": "xoxb-secret-999"}})
    assert "xoxb-secret-999" not in str(info.value)


def test_a_token_pasted_into_token_env_is_refused_and_not_echoed():
    with pytest.raises(LoggerConfigError, match="NAME of an environment variable") as info:
        SlackLogger(channel="C0000001", token_env="xoxb-pasted-by-mistake")
    assert "xoxb-pasted-by-mistake" not in str(info.value)


def test_missing_token_names_the_variable(monkeypatch):
    monkeypatch.delenv("MY_SLACK", raising=False)
    with pytest.raises(LoggerConfigError, match="MY_SLACK is empty or not set"):
        SlackLogger(channel="C0000001", token_env="MY_SLACK")


@pytest.mark.parametrize("target", [{}, {"channel": "C0000001", "user_email": "me@example.org"}])
def test_exactly_one_target(token, target):
    with pytest.raises(LoggerConfigError, match="exactly one of 'channel'"):
        SlackLogger(**target)


def test_repr_and_attributes_hide_the_token(token):
    logger = SlackLogger(channel="C0000001")
    assert repr(logger) == "SlackLogger(channel='C0000001', token_env='SLACK_BOT_TOKEN')"
    assert token not in repr(vars(logger)) and token not in repr(logger._token)


def test_token_never_reaches_the_run_folder(tmp_path, monkeypatch):
    with FakeSlack(token="xoxb-1111-2222-leakcheck") as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1111-2222-wrong")  # rejected: errors get logged
        loggers = {"slack": {"type": "slack", "channel": "C0000001", "base_url": fake.url, "retries": 0}}
        config = {"lr": 0.1, "n_epochs": 2, "loggers": loggers}

        class Train(Experiment):
            def train(self, epoch):
                for step in range(20):
                    self.add_result(1.0 / (step + 1), "loss", counter=epoch * 20 + step)
                self.clog.show_text(f"epoch {epoch}")

        root = logging.getLogger()
        with trialog_warnings() as warned:
            exp = Train(config, base_dir=tmp_path, loggers=config["loggers"], save_sources=False)
            debug_log = logging.FileHandler(exp.log_dir / "debug.log")
            root.addHandler(debug_log)
            level = root.level
            root.setLevel(logging.DEBUG)
            try:
                exp.run()
                exp.close()
            finally:
                root.removeHandler(debug_log)
                root.setLevel(level)
                debug_log.close()
    assert len(warned) == 1
    stored = json.loads((exp.config_dir / "config.json").read_text())
    assert stored["loggers"]["slack"].get("token") is None
    files = [p for p in Path(exp.run_dir).rglob("*") if p.is_file()]
    assert any(p.name == "debug.log" and p.stat().st_size > 0 for p in files)
    for path in files:
        data = path.read_bytes()
        assert b"xoxb-1111-2222" not in data, path
    assert b"invalid_auth" in (exp.log_dir / "debug.log").read_bytes()


def test_called_on_its_own_with_trixis_required_arguments_only(fake, token):
    """trixi's SlackMessageLogger was called directly: show_text("Test"), show_value(1.0, "x"), ..."""
    logger = SlackLogger(channel="C0000001", base_url=fake.url, retries=1, min_interval=0.0)
    logger.show_text("Test")
    logger.show_text("titled", title="ignored by Slack")  # trixi's keyword: accepted
    logger.show_image(IMAGE, "sample")
    logger.show_value(1.0, "x")
    logger.show_roc_curve(np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0]), "roc")  # (tensor, labels)
    logger.close()
    texts = [m.text for m in fake.live_messages()]
    assert any(t.endswith("Test") for t in texts) and any(t.endswith("titled") for t in texts)
    assert {"sample.png", "roc.png"} <= {f.filename for f in fake.live_files()}
