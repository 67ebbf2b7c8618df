"""trialog's own exceptions and warnings; every message says what, where (key, plugin, file) and what to do."""

from __future__ import annotations

import threading
import warnings
from typing import Any


class TrialogError(Exception):
    """Base class of every error trialog raises on purpose."""


class ConfigError(TrialogError, ValueError):
    """A configuration is malformed, names an unknown key, or cannot be loaded."""


class PluginError(TrialogError):
    """Base class of plugin discovery and loading errors."""


class UnknownPluginError(PluginError, LookupError):
    """No installed plugin has the requested name in the requested group."""


class PluginConflictError(PluginError):
    """Two distributions register the same name in one entry-point group."""


class PluginLoadError(PluginError, ImportError):
    """A plugin's entry point could not be imported or is not what its group expects."""


class PluginDisabledError(PluginError):
    """A plugin was blocked through TRIALOG_DISABLE_PLUGINS."""


class LoggerConfigError(ConfigError):
    """A logger declaration is malformed or passes options its plugin does not accept."""


class RunFolderError(TrialogError, FileNotFoundError):
    """A path is not a run folder (or not a readable one)."""


class RegistryError(TrialogError, ValueError):
    """A change of a run's registry fields that is not allowed (bad tag, empty note, a trixi run, ...)."""


class CheckpointError(TrialogError):
    """A checkpoint cannot be written, found or read."""


class TrialogWarning(RuntimeWarning):
    """Something went wrong that must not stop a run (a logger failed, items were dropped)."""


class CorruptFileError(TrialogError, ValueError):
    """A file trialog wrote is truncated, holds binary junk or the wrong kind of data; the message names it."""


class DiskFullError(TrialogError, OSError):
    """The disk (or quota) is full: "no space left on device writing PATH". An OSError with errno ENOSPC."""

    def __str__(self) -> str:
        return str(self.strerror)


class CheckpointDiskFullError(DiskFullError, CheckpointError):
    """A checkpoint could not be written because the disk is full (both a DiskFullError and a CheckpointError)."""


class ResultValueError(TrialogError, ValueError):
    """A result cannot be stored as given: a counter or epoch of the wrong type or outside int64, a value
    that is not JSON. Raised before anything is written."""


class ResultsLostError(TrialogError):
    """A run cannot resume: its results log lost records it had when the checkpoint was taken (cut short or
    deleted); the message says how much, from which byte, and the ways on."""


class AmbiguousResultError(TrialogError, KeyError):
    """A bare result name asked for where it was logged under several tags (``accuracy``: train and val)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


def warn_once(seen: set[Any], key: Any, message: str, stacklevel: int = 2) -> bool:
    """Warn ``message`` (a TrialogWarning) unless ``key`` is in ``seen``, which it is afterwards: the one
    warn-once rule. True when it warned."""
    if key in seen:
        return False
    seen.add(key)
    warnings.warn(message, TrialogWarning, stacklevel=stacklevel + 1)
    return True


class FailurePolicy:
    """The one failure policy for code a run calls but does not own: a logger, a ``trialog.plugins`` hook.

    The first failure is warned about once (a TrialogWarning naming ``who`` and the exception), every failure
    is counted, and after ``max_failures`` consecutive ones (None or 0: never) it is disabled, with one more
    warning; a success resets the streak. The dispatcher keeps one per logger, ``PluginHooks`` one per
    plugin hook; the exception never reaches the training loop.
    """

    _lock = threading.Lock()  # failures come from background threads too; they are rare

    def __init__(self, who: str, max_failures: int | None = 5) -> None:
        self.who = who
        self.max_failures = max_failures
        self.failures = 0
        self.consecutive = 0
        self.disabled = False
        self.last_error: str | None = None

    def failed(self, where: str, exc: BaseException, stacklevel: int = 2) -> None:
        """Count a failure of ``exc`` in ``where`` (a hook), warn at the first, disable at the limit."""
        with self._lock:
            self.failures += 1
            self.consecutive += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            first = self.failures == 1
            limit = self.max_failures
            disable = limit is not None and 0 < limit <= self.consecutive and not self.disabled
            self.disabled = self.disabled or disable
        if first:
            warnings.warn(
                f"trialog: {self.who} failed in {where}: {self.last_error} (the run goes on; further failures "
                "are counted, not repeated, and summarised at close)",
                TrialogWarning,
                stacklevel=stacklevel + 1,
            )
        if disable:
            warnings.warn(
                f"trialog: {self.who} failed {self.consecutive} times in a row in {where}: disabled after "
                f"{self.consecutive} consecutive failures, no longer called (last: {self.last_error})",
                TrialogWarning,
                stacklevel=stacklevel + 1,
            )
