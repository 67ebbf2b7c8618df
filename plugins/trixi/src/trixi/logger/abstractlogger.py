"""``trixi.logger.abstractlogger``: trixi's AbstractLogger interface and its two decorators."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from trialog.api import to_numpy


class AbstractLogger:
    """trixi's abstract interface of a visual logger: ``show_*`` methods a subclass implements.

    trialog's own loggers implement hooks (``trialog.hooks.specs.LoggerSpec``, ``@trialog.hookimpl``)
    instead; this class is here so that trixi code subclassing it, or checking ``isinstance``, runs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def process_params(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``f`` with torch tensors among the arguments converted to numpy arrays."""
        return f(self, *[to_numpy(a) for a in args], **{k: to_numpy(v) for k, v in kwargs.items()})

    def show_image(self, *args: Any, **kwargs: Any) -> Any:
        """Log an image (implement in a subclass)."""
        raise NotImplementedError

    def show_value(self, *args: Any, **kwargs: Any) -> Any:
        """Log a value (implement in a subclass)."""
        raise NotImplementedError

    def show_text(self, *args: Any, **kwargs: Any) -> Any:
        """Log a text (implement in a subclass)."""
        raise NotImplementedError

    def show_barplot(self, *args: Any, **kwargs: Any) -> Any:
        """Log a bar plot (implement in a subclass)."""
        raise NotImplementedError

    def show_lineplot(self, *args: Any, **kwargs: Any) -> Any:
        """Log a line plot (implement in a subclass)."""
        raise NotImplementedError

    def show_scatterplot(self, *args: Any, **kwargs: Any) -> Any:
        """Log a scatter plot (implement in a subclass)."""
        raise NotImplementedError

    def show_piechart(self, *args: Any, **kwargs: Any) -> Any:
        """Log a pie chart (implement in a subclass)."""
        raise NotImplementedError


def convert_params(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: call the method through its logger's ``process_params`` (tensors become numpy arrays)."""

    @functools.wraps(f)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self.process_params(f, *args, **kwargs)

    return wrapper


def threaded(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: run the call in a new daemon thread and return that thread."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> threading.Thread:
        thread = threading.Thread(target=f, args=args, kwargs=kwargs, daemon=True)
        thread.start()
        return thread

    return wrapper


__all__ = ["AbstractLogger", "convert_params", "threaded"]
