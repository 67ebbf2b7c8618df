"""The ``sweep`` entry of ``trialog.plugins``: adds ``trialog sweep`` to the ``trialog`` command line.

Loaded with every plugin manager, so it stays cheap: the sweep modules are imported only when the
command line is built.
"""

from __future__ import annotations

from typing import Any

from trialog.api import hookimpl


@hookimpl
def add_cli_commands(subparsers: Any) -> None:
    """Add ``trialog sweep`` (from :mod:`trialog_sweep.sweep_cli`)."""
    from .sweep_cli import add_parser

    add_parser(subparsers)
