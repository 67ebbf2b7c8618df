"""The ``browser`` entry of ``trialog.plugins``: adds ``trialog browse``; nothing heavy is imported here."""

from __future__ import annotations

from typing import Any

from trialog.api import hookimpl


@hookimpl
def add_cli_commands(subparsers: Any) -> None:
    """Add ``trialog browse`` (from :mod:`trialog_browser.cli`)."""
    from .cli import add_commands

    add_commands(subparsers)
