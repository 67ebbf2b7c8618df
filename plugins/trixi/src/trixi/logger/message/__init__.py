"""``trixi.logger.message``: trixi's chat loggers on trialog-slack and trialog-telegram.

Each class is imported on first use, so one works without the other installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .slackmessagelogger import SlackMessageLogger
    from .telegrammessagelogger import TelegramMessageLogger

_MODULES = {"SlackMessageLogger": "slackmessagelogger", "TelegramMessageLogger": "telegrammessagelogger"}
__all__ = ["SlackMessageLogger", "TelegramMessageLogger"]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'trixi.logger.message' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
