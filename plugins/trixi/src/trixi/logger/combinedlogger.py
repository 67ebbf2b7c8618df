"""``trixi.logger.combinedlogger``: :class:`trialog.CombinedLogger`."""

from trialog.api import CombinedLogger

__all__ = ["CombinedLogger"]
