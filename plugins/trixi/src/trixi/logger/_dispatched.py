"""What trixi's standalone logger classes share: one trialog logger behind the core's dispatcher.

The dispatcher (:class:`trialog.api.CombinedLogger`) converts tensors to numpy once, fills the hooks'
defaults, checks the arguments and feeds background loggers (TensorBoard, Visdom, Slack, Telegram) from
their queue; the trialog logger does the work. The classes here only adapt trixi's arguments.
"""

from __future__ import annotations

import atexit
import importlib
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from trialog.api import CombinedLogger, ConfigError

from .abstractlogger import AbstractLogger


def backend(module: str, distribution: str, where: str) -> Any:
    """Import trialog's backend ``module``; when it is missing, an ImportError naming the distribution."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{where} needs the {distribution} distribution ({module} cannot be imported: {exc}); "
            f"install it with: pip install {distribution}",
            name=module,
        ) from exc


def refuse(method: str, options: Mapping[str, Any], allowed: Iterable[str] = ()) -> None:
    """A ConfigError naming the trixi options of ``method`` that trialog-trixi does not provide."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{method}: option(s) {', '.join(map(repr, unknown))} not provided by trialog-trixi "
            "(see docs/trixi.md)"
        )


class DispatchedLogger(AbstractLogger):
    """A trixi logger class over one trialog logger (``self.logger``), called through the dispatcher.

    A call that fails inside the trialog logger is a ``TrialogWarning`` (the run goes on), as in a
    trialog experiment; wrong arguments raise at the call. ``close()`` (also run at exit) flushes and
    closes the trialog logger.
    """

    def __init__(self, logger: Any, name: str, close_at_exit: bool = True) -> None:
        super().__init__()
        #: The trialog logger doing the work (its own methods are reachable here).
        self.logger = logger
        self.clog = CombinedLogger({name: logger}, max_failures=None)
        if close_at_exit:
            _OPEN.add(self)

    def flush(self) -> None:
        """Bring the backend up to date (waits for queued calls of a background logger)."""
        self.clog.flush()
        self.clog.wait_idle()

    def close(self) -> dict[str, Any]:
        """Flush and close the trialog logger; returns the dispatcher's summary (failures, drops)."""
        _OPEN.discard(self)
        return self.clog.close()


#: Loggers not closed yet; closed at interpreter exit so that queued calls reach the backend.
_OPEN: weakref.WeakSet[DispatchedLogger] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    for logger in list(_OPEN):
        logger.close()


__all__ = ["DispatchedLogger", "backend", "refuse"]
