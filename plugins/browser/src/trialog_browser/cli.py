"""``trialog browse [DIR ...]``: the command line of the browser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trialog.errors import RunFolderError


def add_commands(subparsers: Any) -> None:
    """Add ``trialog browse`` to the ``trialog`` CLI's subparsers."""
    parser = subparsers.add_parser(
        "browse",
        help="browse, compare and annotate runs in a local web page",
        description="Serve a local web page listing the runs under DIR (trialog and trixi run folders).",
    )
    parser.add_argument(
        "dirs", nargs="*", default=["runs"], metavar="DIR", help="folders of runs (default: runs)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one, printed)")
    parser.add_argument(
        "--no-open", action="store_true", help="do not open the page in the default web browser"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="where the run index is cached (default: $XDG_CACHE_HOME/trialog or ~/.cache/trialog)",
    )
    parser.set_defaults(func=browse_command)


def browse_command(args: argparse.Namespace) -> int:
    from .serve import BrowserServer, is_loopback

    for d in args.dirs:
        if not Path(d).is_dir():
            raise RunFolderError(f"{d!r} is not a folder of runs (it does not exist or is not a folder)")
    if not is_loopback(args.host):
        print(
            f"trialog browse: warning: serving on {args.host}, reachable from other machines; anyone who can reach "
            "it can read these runs (changes still need this page's token)",
            file=sys.stderr,
        )
    server = BrowserServer(args.dirs, host=args.host, port=args.port, cache_dir=args.cache_dir)
    print(f"trialog browse: {len(server.browser.index)} runs at {server.url}  (Ctrl-C stops)", flush=True)
    if not args.no_open:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return 0
