"""Credentials are refused in logger options before a run folder exists and redacted in everything written."""

from __future__ import annotations

import json

import pytest

import trialog
from trialog.errors import LoggerConfigError
from trialog.run.folder import find_runs
from trialog.run.redact import REDACTED, find_credentials, looks_like_credential_name, redact, redact_text

SLACK = "xoxb-1234567890-abcdefghijKLMNOP"
TELEGRAM = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.mark.parametrize(
    "options,found",
    [
        ({"channel": "C0123456", "token": "abc"}, ["token"]),
        ({"token_env": SLACK}, ["token_env"]),  # the variable's name is fine, a token pasted there is not
        ({"token_env": "SLACK_BOT_TOKEN"}, []),
        (
            {"password": "hunter2", "api_key": "k", "client_secret": "s"},
            ["password", "api_key", "client_secret"],
        ),
        ({"chat": {"bot": TELEGRAM}}, ["chat.bot"]),
        ({"headers": ["Bearer abcdefghijklmnopqrstuvwxyz"]}, ["headers[0]"]),
        (
            {"max_tokens": 5, "token": None, "use_token": True},
            [],
        ),  # numbers, unset and switches are not secrets
    ],
)
def test_find_credentials_by_name_and_by_shape(options, found):
    assert find_credentials(options) == found


def test_redact_keeps_everything_else():
    data = {"lr": 0.1, "slack": {"token": "abc", "channel": "C1"}, "note": f"use {SLACK} here", "n": [1, 2]}
    assert redact(data) == {
        "lr": 0.1,
        "slack": {"token": REDACTED, "channel": "C1"},
        "note": f"use {REDACTED} here",
        "n": [1, 2],
    }
    assert redact_text(f"failed with {TELEGRAM}") == f"failed with {REDACTED}"
    assert looks_like_credential_name("SLACK_TOKEN") and not looks_like_credential_name("token_env")


@pytest.mark.parametrize("option", [{"token": SLACK}, {"token_env": SLACK}])
def test_a_token_logger_option_is_refused_before_any_folder_exists(tmp_path, option):
    loggers = {"s": {"type": "slack", "channel": "C0123456", **option}}
    with pytest.raises(LoggerConfigError, match=r"logger 's'.*look like credentials") as err:
        trialog.Experiment(
            config={"loggers": loggers}, base_dir=tmp_path, loggers=loggers, save_sources=False
        )
    assert SLACK not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_credentials_elsewhere_are_redacted_in_every_file_written(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["train.py", "--api-token", SLACK])
    config = {"lr": 0.1, "service": {"api_key": "k-123", "url": "https://x"}, "note": TELEGRAM}
    exp = trialog.Experiment(config=config, base_dir=tmp_path, loggers={}, save_sources=False)
    with pytest.raises(RuntimeError):
        with exp:
            raise RuntimeError(f"could not reach the API with {SLACK}")
    (run_dir,) = find_runs(tmp_path)
    written = "\n".join(p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file())
    assert SLACK not in written and TELEGRAM not in written and "k-123" not in written
    saved = json.loads((run_dir / "config" / "config.json").read_text())
    assert saved["service"] == {"api_key": REDACTED, "url": "https://x"} and saved["lr"] == 0.1
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["argv"] == ["train.py", "--api-token", REDACTED]
    assert meta["error"] == f"RuntimeError: could not reach the API with {REDACTED}"
    assert exp.config["service"]["api_key"] == "k-123"  # the running code still has its config
