"""The ``runs`` entry of ``trialog.plugins``: adds ``trialog runs``; nothing heavy is imported here."""

from __future__ import annotations

from typing import Any

from trialog.api import hookimpl


@hookimpl
def add_cli_commands(subparsers: Any) -> None:
    """Add ``trialog runs`` and its sub-commands (from :mod:`trialog_runs.cli`)."""
    from .cli import add_parser

    add_parser(subparsers)
