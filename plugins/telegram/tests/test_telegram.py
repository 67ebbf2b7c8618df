"""trialog-telegram with the real python-telegram-bot Bot against a fake Telegram Bot API on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from trialog_figures import decode_png, make_grid
from trialog_telegram import TelegramLogger
from trialog_telegram.fake import FakeTelegram

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
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def token(fake, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    return fake.token


def telegram(url: str, **options) -> CombinedLogger:
    declaration = {
        "type": "telegram",
        "chat_id": 4242,
        "base_url": url,
        "retries": 1,
        "close_timeout": SETTLE,
        **options,
    }
    return CombinedLogger({"tg": declaration})


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
    clog.lifecycle("on_run_start", run=RUN, config={"lr": 0.1, "optimizer": {"name": "adam"}})
    for step in range(steps):
        clog.show_value(1.0 / (step + 1), "loss", counter=step, tag="train")
    clog.show_text("epoch 0 <done> & dusted")
    clog.show_image(IMAGE, "sample")
    if fake is not None:
        assert fake.requests == 0  # the loop returned before the fake answered anything
        if not hold_through_close:
            fake.gate.set()
    end = {**RUN, "status": "finished", "end": "2026-01-01T11:02:03+00:00"}
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
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/bot"


def telegram_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("trialog-telegram")]


# ---------------------------------------------------------------------------------------------- delivery
def test_notifications_text_and_photos_arrive_intact(fake, token):
    with trialog_warnings() as warned:
        clog = telegram(fake.base_url)
        summary = simulate_run(clog, fake)
    assert warned == []
    assert summary["tg"]["failures"] == 0
    assert clog["tg"].stats["sent"] == 5
    assert fake.methods()[0] == "getMe" and fake.methods().count("getMe") == 1

    start, text, end = fake.live("text")
    assert start.parse_mode == "HTML" and start.text.startswith("<b>▶️ demo started</b>")
    assert (
        "host: gpu-node-7 (pid 4242)" in start.text
        and "<pre>lr: 0.1\noptimizer.name: adam</pre>" in start.text
    )
    assert text.parse_mode is None and text.text == "demo: epoch 0 <done> & dusted"
    assert end.text.startswith("<b>✅ demo finished</b>") and "duration: 1h 02m 03s" in end.text
    assert "val_loss: 0.25 · best 0.125 (min)" in end.text
    assert all(m.chat_id == "4242" for m in fake.messages)

    photos = {m.filename: m for m in fake.live("photo")}
    assert set(photos) == {"sample.png", "train.png"}
    assert photos["sample.png"].text == "demo · sample"
    assert np.array_equal(decode_png(photos["sample.png"].data), IMAGE.transpose(1, 2, 0))
    assert decode_png(photos["train.png"].data).shape == (480, 640, 3)


def test_the_bot_runs_on_one_private_loop_that_close_stops(fake, token):
    before = set(telegram_threads())
    clog = telegram(fake.base_url)
    logger = clog["tg"]
    clog.show_text("one")
    clog.show_text("two")
    clog.close()
    assert [m.text for m in fake.live("text")] == ["one", "two"]
    assert logger._loop.is_closed() and not logger._loop_thread.is_alive()
    assert set(telegram_threads()) <= before


def test_grids_plots_and_oversized_images(fake, token):
    rng = np.random.default_rng(0)
    batch = rng.random((6, 3, 8, 8))
    strip = np.zeros((8, 400), np.uint8)  # aspect 50: Telegram refuses it as a photo
    clog = telegram(fake.base_url)
    clog.show_image_grid(batch, "grid", nrow=3)
    clog.show_boxplot(rng.random((20, 3)), "box")
    clog.show_image(strip, "strip")
    clog.close()
    photos = {m.filename: m.data for m in fake.live("photo")}
    assert set(photos) == {"grid.png", "box.png"}
    assert np.array_equal(decode_png(photos["grid.png"]), make_grid(batch, nrow=3))
    (document,) = fake.live("document")
    assert document.filename == "strip.png" and np.array_equal(decode_png(document.data)[..., 0], strip)


def test_delete_last_replaces_the_previous_post_of_a_name(fake, token):
    clog = telegram(fake.base_url)
    clog.show_image(IMAGE, "sample")
    assert fake.wait_for(lambda f: len(f.live("photo")) == 1)
    clog.show_image(255 - IMAGE, "sample")
    clog.close()
    (photo,) = fake.live("photo")
    assert np.array_equal(decode_png(photo.data), (255 - IMAGE).transpose(1, 2, 0))
    assert "deleteMessage" in fake.methods()


def test_show_value_uploads_the_curve_at_most_every_min_interval(fake, token):
    clog = telegram(fake.base_url, min_interval=3600)
    for _ in range(5):
        for step in range(200):
            clog.show_value(float(step), "loss")
        clog.wait_idle(SETTLE)
    assert fake.methods() == []
    clog.close()
    assert fake.methods() == ["getMe", "sendPhoto"]


def test_error_notice_is_escaped_html(fake, token):
    clog = telegram(fake.base_url)
    error = ValueError("bad <input> & more")
    clog.lifecycle(
        "on_run_error", run={**RUN, "status": "error"}, error=error, traceback="line 1\nValueError: <x>"
    )
    clog.close()
    (message,) = fake.live("text")
    assert message.text.startswith("<b>❌ demo failed</b>")
    assert "error: ValueError: bad &lt;input&gt; &amp; more" in message.text
    assert message.text.endswith("<pre>line 1\nValueError: &lt;x&gt;</pre>")


def test_string_chat_ids(fake, token):
    assert TelegramLogger(chat_id="-100123").chat_id == -100123
    assert TelegramLogger(chat_id="@mychannel").chat_id == "@mychannel"
    for bad in (None, True, "", 1.5):
        with pytest.raises(LoggerConfigError, match="chat_id must be"):
            TelegramLogger(chat_id=bad)


def test_a_group_upgraded_to_a_supergroup_is_followed(fake, token):
    fake.migrated["-4242"] = -1004242
    clog = telegram(fake.base_url, chat_id=-4242)
    with trialog_warnings() as warned:
        clog.show_text("hello")
        clog.show_text("again")
        clog.close()
    assert warned == []
    assert [(m.chat_id, m.text) for m in fake.live("text")] == [("-1004242", "hello"), ("-1004242", "again")]
    assert clog["tg"].chat_id == -1004242


# ---------------------------------------------------------------------------------------------- faults
def test_flood_control_retry_after_is_honoured(fake, token, monkeypatch):
    from trialog_telegram import TelegramLogger

    # Record each RetryAfter wait (and what the fake had seen by then) instead of sleeping: no clock.
    waits = []

    async def recorded(self, seconds):
        waits.append((seconds, fake.methods()))

    monkeypatch.setattr(TelegramLogger, "_wait_retry_after", recorded)
    fake.rate_limit(times=1, retry_after=7)
    with trialog_warnings() as warned:
        simulate_run(telegram(fake.base_url), fake)
    assert warned == []
    # one wait of the 7 s flood control asked for, after the refused request and before its retry
    ((seconds, seen),) = waits
    assert seconds == 7 and seen == ["getMe"] and fake.methods()[:2] == ["getMe", "getMe"]
    assert len(fake.live("text")) == 3 and len(fake.live("photo")) == 2


def test_a_passing_500_is_retried(fake, token):
    fake.fail(500, times=1)
    with trialog_warnings() as warned:
        simulate_run(telegram(fake.base_url), fake)
    assert warned == []
    assert len(fake.live("text")) == 3


@pytest.mark.parametrize(
    "fault",
    ["server_down", "flood_control_too_long", "status_500", "status_502", "latency_5s", "invalid_token"],
)
def test_faults_never_stall_or_crash_the_run_and_warn_once(fault, token, monkeypatch, refused_url):
    # close waits for the one failing post (SETTLE); only a held request must be given up on in time
    options = {"close_timeout": 2.0 if fault == "latency_5s" else SETTLE, "timeout": 1.0}
    wrong = "987654321:WRONG-token_abcdefghijklmnopqrstuvwxyz"
    with FakeTelegram(token=token) as fake:
        url, gated = fake.base_url, fake
        if fault == "server_down":
            url, gated = refused_url, None  # connections are refused at once: nothing to hold
        elif fault == "flood_control_too_long":
            fake.rate_limit(times=1000, retry_after=120)
        elif fault.startswith("status_"):
            fake.fail(int(fault[-3:]), times=1000, description="Bad Gateway")
        elif fault == "latency_5s":  # an API that does not answer before the run has closed
            options["timeout"] = 0.3
        elif fault == "invalid_token":
            monkeypatch.setenv("TELEGRAM_BOT_TOKEN", wrong)
        with trialog_warnings() as warned:
            # the loop returns before the fake answers anything; with latency, close() does too
            summary = simulate_run(telegram(url, **options), gated, hold_through_close=fault == "latency_5s")
    messages = warned
    assert len(messages) == 1, messages
    assert token not in messages[0] and wrong not in messages[0] and "WRONG-token" not in messages[0]
    assert summary["tg"]["failures"] == 0
    if fault == "invalid_token":
        # PTB puts the token into InvalidToken's message; the warning has it scrubbed.
        assert "InvalidToken: The token `***` was rejected by the server." in messages[0]
        assert fake.methods() == ["getMe"]


def test_close_waits_a_bounded_time_for_a_slow_server(token):
    with FakeTelegram(token=token) as fake:
        fake.gate = threading.Event()  # the API holds the request: it answers only after close returned
        try:
            clog = telegram(fake.base_url, close_timeout=0.5, timeout=60.0)
            clog.lifecycle("on_run_end", run=RUN, summary=SUMMARY)
            assert fake.wait_for(lambda f: f.held >= 1)
            with trialog_warnings() as warned:
                clog.close()
            assert fake.requests == 0  # close gave up on the held request after close_timeout
        finally:
            fake.gate.set()
    (message,) = warned
    assert "could not deliver 1 pending post" in message
    assert clog["tg"].stats["undelivered"] == 1


# ---------------------------------------------------------------------------------------------- options
def test_the_notifier_options_are_telegrams_without_restating_them(token):
    """TelegramLogger declares only its own options; the transport's and every notifier's come from its bases."""
    from trialog.hooks.options import option_parameters

    params = option_parameters(TelegramLogger)
    assert {
        "chat_id",
        "base_file_url",
        "token_env",
        "timeout",
        "retries",
        "min_interval",
        "max_pending",
    } <= set(params)
    assert "kwargs" not in params
    with pytest.raises(
        LoggerConfigError, match=r"logger 'tg' \(telegram\) does not accept option\(s\) 'min_intervall'"
    ):
        CombinedLogger({"tg": {"type": "telegram", "chat_id": 1, "min_intervall": 1}})
    with pytest.raises(
        LoggerConfigError, match=r"logger 'tg' \(telegram\): option 'max_points' must be an integer"
    ):
        CombinedLogger({"tg": {"type": "telegram", "chat_id": 1, "max_points": "many"}})
    logger = TelegramLogger(chat_id=1, min_interval=5, retries=0, timeout=2)
    assert (logger.min_interval, logger.retries, logger.timeout) == (5.0, 0, 2.0)
    logger.close()


# ---------------------------------------------------------------------------------------------- secrets
def test_token_option_is_refused_and_not_echoed(token):
    with pytest.raises(LoggerConfigError, match="TELEGRAM_BOT_TOKEN") as info:
        CombinedLogger({"tg": {"type": "telegram", "chat_id": 1, "token": "555:secret-option"}})
    assert "555:secret-option" not in str(info.value)


def test_a_token_pasted_into_token_env_is_refused_and_not_echoed():
    with pytest.raises(LoggerConfigError, match="NAME of an environment variable") as info:
        TelegramLogger(chat_id=1, token_env="555:pasted-by-mistake")
    assert "pasted-by-mistake" not in str(info.value)


def test_repr_hides_the_token(fake, token):
    logger = TelegramLogger(chat_id=7, base_url=fake.base_url)
    logger.show_text("hi", None)
    assert fake.wait_for(lambda f: f.live("text"))
    assert repr(logger) == "TelegramLogger(chat_id=7, token_env='TELEGRAM_BOT_TOKEN')"
    assert logger._session.bot is not None and token not in repr(vars(logger))
    logger.close()


def test_request_urls_in_library_logs_are_scrubbed(fake, token, caplog):
    with caplog.at_level(logging.DEBUG):
        clog = telegram(fake.base_url)
        clog.show_text("hi")
        clog.close()
    assert any("/bot***/sendMessage" in r.getMessage() for r in caplog.records)
    assert not any(token in r.getMessage() for r in caplog.records)
    assert token in fake.paths[0]  # the token did travel in the URL, as with the real API


def test_token_never_reaches_the_run_folder(tmp_path, monkeypatch):
    with FakeTelegram(token="111:right-token-for-leak-check") as fake:
        secret = "222:WRONG-token-for-leak-check"
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", secret)  # rejected: PTB's error carries it
        loggers = {"tg": {"type": "telegram", "chat_id": 5, "base_url": fake.base_url, "retries": 0}}
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
    assert stored["loggers"]["tg"] == loggers["tg"]
    files = [p for p in Path(exp.run_dir).rglob("*") if p.is_file()]
    log_text = (exp.log_dir / "debug.log").read_text()
    assert "/getMe" in log_text and "was rejected by the server" in log_text
    for path in files:
        assert b"WRONG-token-for-leak-check" not in path.read_bytes(), path
        assert b"right-token-for-leak-check" not in path.read_bytes(), path


def test_called_on_its_own_with_trixis_required_arguments_only(fake, token):
    """trixi's TelegramMessageLogger was called directly: show_text("Test"), show_image(img, "name"), ..."""
    logger = TelegramLogger(chat_id=4242, base_url=fake.base_url, retries=1)
    logger.show_text("Test")
    logger.show_text("titled", title="ignored by Telegram")  # trixi's keyword: accepted
    logger.show_image(IMAGE, "sample")
    logger.show_value(1.0, "x")
    logger.show_pr_curve(np.array([0.2, 0.8, 0.7, 0.1]), np.array([0, 1, 1, 0]), "pr")  # (tensor, labels)
    logger.close()
    texts = [m.text for m in fake.live("text")]
    assert any(t.endswith("Test") for t in texts) and any(t.endswith("titled") for t in texts)
    assert {"sample.png", "pr.png"} <= {m.filename for m in fake.live("photo")}
