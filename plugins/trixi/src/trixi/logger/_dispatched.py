"""What trixi's standalone logger classes share: one trialog logger behind the core's dispatcher.

The dispatcher (:class:`trialog.api.CombinedLogger`) converts tensors to numpy once, fills the hooks'
defaults, checks the arguments and feeds background loggers (TensorBoard, Visdom, Slack, Telegram) from
their queue; the trialog logger does the work. The classes here only adapt trixi's arguments.
"""

from __future__ import annotations

import atexit
import importlib
import warnings
import weakref
from collections.abc import Iterable
from typing import Any

from trialog.api import CombinedLogger
from trialog.errors import ConfigError, TrialogWarning

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


#: trixi's per-call Visdom options that have no trialog counterpart: refused by name, never dropped.
MEANINGFUL = frozenset({"opts", "env_appendix", "caption", "show_legend", "reduce_to_n_samples"})


def refuse(method: str, options: dict[str, Any], allowed: Iterable[str] = (), ignored: bool = False) -> Any:
    """Check the extra keyword arguments of a trixi ``method``; returns ``options.get("title")``.

    ``title`` (trixi's window or figure title: the caller passes it on) and the names in ``allowed`` stay
    in ``options``. Any other keyword is a ConfigError naming it, except with ``ignored`` (the methods
    whose ``**kwargs`` trixi itself ignored: Visdom, TensorBoard, Slack, Telegram), where a keyword that
    is not one of trixi's :data:`MEANINGFUL` options is removed from ``options`` with a ``TrialogWarning``
    naming it (accepted as trixi accepts it, never silently). The file and seaborn loggers stay strict:
    trixi handed their keywords to matplotlib/seaborn (``cmap``, ``palette``), so dropping one would
    change the picture silently.
    """
    unknown = sorted(set(options) - set(allowed) - {"title"})
    refused = [k for k in unknown if not ignored or k in MEANINGFUL]
    if refused:
        raise ConfigError(
            f"{method}: option(s) {', '.join(map(repr, refused))} not provided by trialog-trixi "
            "(see docs/trixi.md)"
        )
    if unknown:
        warnings.warn(
            f"{method}: keyword argument(s) {', '.join(map(repr, unknown))} ignored (trixi ignores them too)",
            TrialogWarning,
            stacklevel=3,
        )
        for key in unknown:
            del options[key]
    return options.get("title")


def untitled(method: str, options: dict[str, Any]) -> None:
    """For a method whose trialog counterpart draws no title: ``title`` is removed with a TrialogWarning."""
    if options.pop("title", None) is not None:
        warnings.warn(f"{method}: title ignored (this window has no title)", TrialogWarning, stacklevel=3)


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


__all__ = ["MEANINGFUL", "DispatchedLogger", "backend", "refuse", "untitled"]
