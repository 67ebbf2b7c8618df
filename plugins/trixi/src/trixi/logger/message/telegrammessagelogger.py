"""``trixi.logger.message.telegrammessagelogger``: trixi's TelegramMessageLogger on :class:`trialog_telegram.TelegramLogger`."""

from __future__ import annotations

from typing import Any

from .._dispatched import backend
from ._chat import ChatLogger, token_variable

_telegram = backend("trialog_telegram", "trialog-telegram", "trixi.logger.message.telegrammessagelogger")


class TelegramMessageLogger(ChatLogger):
    """trixi's ``TelegramMessageLogger(token, chat_id, exp_name=None)``: posts to the chat ``chat_id``,
    each post prefixed with ``exp_name``.

    :class:`trialog_telegram.TelegramLogger` posts from its own thread; further keyword arguments are its
    options. ``token=None`` reads the token from ``TELEGRAM_BOT_TOKEN`` (or the variable named by
    ``token_env``).
    """

    def __init__(
        self, token: str | None, chat_id: int | str, exp_name: str | None = None, **kwargs: Any
    ) -> None:
        with token_variable("telegram", token, {"chat_id": chat_id, "title": exp_name, **kwargs}) as options:
            logger = _telegram.TelegramLogger(**options)
        super().__init__(logger, "telegram")
        self.exp_name = exp_name
        self.chat_id = chat_id


__all__ = ["TelegramMessageLogger"]
