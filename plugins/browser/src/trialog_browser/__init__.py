"""trialog-browser: ``trialog browse``, a fast, safe, live web browser for run folders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Browser", "BrowserServer", "RunIndex", "create_app"]

if TYPE_CHECKING:  # pragma: no cover
    from .app import Browser, create_app
    from .index import RunIndex
    from .serve import BrowserServer


def __getattr__(name: str) -> Any:
    # Lazy: the entry point loads trialog_browser.hooks for every Experiment; starlette waits for `browse`.
    if name in ("Browser", "create_app"):
        from . import app

        return getattr(app, name)
    if name == "RunIndex":
        from .index import RunIndex

        return RunIndex
    if name == "BrowserServer":
        from .serve import BrowserServer

        return BrowserServer
    raise AttributeError(f"module 'trialog_browser' has no attribute {name!r}")
