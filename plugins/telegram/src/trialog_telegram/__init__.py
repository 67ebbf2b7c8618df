"""trialog-telegram: run notifications, value curves, plots and images in a Telegram chat, never stalling a run.

``{"type": "telegram", "chat_id": 123456789}`` with the bot token in the environment variable
``TELEGRAM_BOT_TOKEN``. What is posted and how failures are handled is
:class:`trialog_notify.Notifier`'s job; this module is the transport on python-telegram-bot's async
``telegram.Bot``, driven from the notifier's (synchronous) sender thread through one private event
loop that runs in a daemon thread owned by the logger. The Bot lives and dies on that loop.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import html
import logging
import struct
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from trialog_notify import (
    FATAL,
    JOB,
    TRANSIENT,
    BotNotifier,
    Notice,
    ScrubFilter,
)

from trialog.errors import LoggerConfigError

__all__ = ["TelegramLogger"]

_TEXT_LIMIT = 4096
_CAPTION_LIMIT = 1024
# sendPhoto refuses images whose sides add up to more than 10000 px or whose aspect ratio exceeds 20.
_PHOTO_SIDES, _PHOTO_RATIO = 10000, 20
# Loggers that can carry the token: httpx logs each request URL (the token is in its path) at INFO,
# telegram.Bot logs its base URL at DEBUG.
_LEAKY_LOGGERS = ("httpx", "telegram.Bot")


class _Session:
    """Holds the Bot away from reprs: ``repr(telegram.Bot)`` is ``Bot[token=<the token>]``."""

    __slots__ = ("bot",)

    def __init__(self) -> None:
        self.bot: Any = None

    def __repr__(self) -> str:
        return "<telegram.Bot session>"


def _chat_id(value: Any) -> int | str:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        raise LoggerConfigError(
            f"telegram logger: chat_id must be a chat's number (e.g. 123456789, -1001234567890) or "
            f"'@channelname', got {value!r}"
        )
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _retry_after(exc: Any) -> float:
    # RetryAfter keeps a timedelta; its public attribute warns about a type change while PTB migrates.
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, _dt.timedelta) else float(value)


class TelegramLogger(BotNotifier):
    """Posts run notifications, value curves, plots, images and text to a Telegram chat.

    Args:
        chat_id: the chat to post to (a user's or group's number, or ``"@channelname"``).
        token_env: the environment variable holding the bot token (``123456:ABC…``); the config only
            ever holds this name.
        base_file_url: the Bot API's file root (default ``https://api.telegram.org/file/bot``; the token
            is appended; tests point it at a fake, as ``base_url``, default ``https://api.telegram.org/bot``).
        **kwargs: the transport's options (``token``, ``base_url``, ``timeout`` for each of connect,
            read and write, ``retries`` after RetryAfter (flood control), a network error or a 5xx,
            ``max_retry_wait``: :class:`trialog_notify.BotNotifier`) and every notifier's (``run_dir``,
            ``title``, ``min_interval``, ``notify``, ...: :class:`trialog_notify.Notifier`).
    """

    kind = "telegram"

    def __init__(
        self,
        chat_id: int | str | None = None,
        token_env: str = "TELEGRAM_BOT_TOKEN",
        base_file_url: str | None = None,
        **kwargs: Any,
    ):
        chat = _chat_id(chat_id)
        super().__init__(token_env=token_env, **kwargs)
        self.chat_id = chat
        self.base_file_url = base_file_url
        self._session = _Session()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._inflight: Any = None
        self._loop_lock = threading.Lock()
        # Imported here, at set-up, so that the first post does not pay (on the GIL) during training.
        import telegram.request  # noqa: F401

        self._filter = ScrubFilter(self._secrets())
        for name in _LEAKY_LOGGERS:
            logging.getLogger(name).addFilter(self._filter)

    def __repr__(self) -> str:
        return f"TelegramLogger(chat_id={self.chat_id!r}, token_env={self.token_env!r})"

    # ------------------------------------------------------------------ the private event loop
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=self._run_loop, args=(loop,), name="trialog-telegram-loop", daemon=True
                )
                thread.start()
                self._loop, self._loop_thread = loop, thread
            return self._loop

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.run_forever()

    def _call(self, request: Callable[[Any], Awaitable[Any]]) -> Any:
        """Run ``request(bot)`` on the private loop, with bounded retries, and wait for its result."""
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(self._with_retries(request), loop)
        self._inflight = future
        # HTTP timeouts bound each attempt; this bounds the whole call should the loop itself hang.
        limit = (self.retries + 1) * (3 * self.timeout + 1) + self.retries * self.max_retry_wait
        try:
            return future.result(limit)
        except TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer from the Telegram Bot API within {limit:.0f} s") from None
        finally:
            self._inflight = None

    async def _ready_bot(self) -> Any:
        if self._session.bot is None:
            from telegram import Bot
            from telegram.request import HTTPXRequest

            def request() -> HTTPXRequest:
                t = self.timeout
                return HTTPXRequest(
                    connection_pool_size=2,
                    connect_timeout=t,
                    read_timeout=t,
                    write_timeout=t,
                    pool_timeout=t,
                    media_write_timeout=t,
                )

            urls = {}
            if self.base_url:
                urls["base_url"] = self.base_url
            if self.base_file_url:
                urls["base_file_url"] = self.base_file_url
            bot = Bot(self._token.value, request=request(), get_updates_request=request(), **urls)
            self._session.bot = bot
        await self._session.bot.initialize()  # getMe once: checks the token; a no-op afterwards
        return self._session.bot

    async def _wait_retry_after(self, seconds: float) -> None:
        """Wait out flood control's RetryAfter before the next attempt (one place, so tests can see it)."""
        await asyncio.sleep(seconds)

    async def _with_retries(self, request: Callable[[Any], Awaitable[Any]]) -> Any:
        from telegram.error import BadRequest, ChatMigrated, NetworkError, RetryAfter

        delay = 0.5
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                return await request(await self._ready_bot())
            except RetryAfter as exc:
                wait = _retry_after(exc)
                if last or wait > self.max_retry_wait:
                    raise
                await self._wait_retry_after(wait)
            except ChatMigrated as exc:  # a group became a supergroup: follow it
                self.chat_id = exc.new_chat_id
                if last:
                    raise
            except BadRequest:
                raise
            except (NetworkError, OSError):  # TimedOut is a NetworkError; 5xx arrive as NetworkError
                if last:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable: the last attempt returns or raises")

    # ------------------------------------------------------------------ transport (sender thread)
    def _send_message(self, message: Notice | str) -> int:
        if isinstance(message, str):
            text, mode = _truncate(message, _TEXT_LIMIT), None
        else:
            text, mode = self._format(message), "HTML"

        async def send(bot: Any) -> Any:
            return await bot.send_message(chat_id=self.chat_id, text=text, parse_mode=mode)

        return self._call(send).message_id

    @staticmethod
    def _format(notice: Notice) -> str:
        lines = [f"<b>{html.escape(notice.title, quote=False)}</b>"]
        lines += [f"{html.escape(k, quote=False)}: {html.escape(v, quote=False)}" for k, v in notice.fields]
        text = "\n".join(lines)
        if notice.block:
            room = _TEXT_LIMIT - len(text) - 200  # escaping grows the block; stay well inside the limit
            block = notice.block if len(notice.block) <= room // 2 else "…" + notice.block[-(room // 2) :]
            text += f"\n<pre>{html.escape(block, quote=False)}</pre>"
        return text

    def _send_image(self, png: bytes, caption: str, filename: str) -> int:
        width, height = _png_size(png)
        as_photo = width + height <= _PHOTO_SIDES and max(width, height) <= _PHOTO_RATIO * min(width, height)
        shown: str | None = _truncate(caption, _CAPTION_LIMIT) or None

        async def send(bot: Any) -> Any:
            if as_photo:
                return await bot.send_photo(self.chat_id, photo=png, caption=shown, filename=filename)
            # Too large or too narrow for a photo: a document keeps every pixel.
            return await bot.send_document(self.chat_id, document=png, caption=shown, filename=filename)

        return self._call(send).message_id

    def _delete(self, message_id: int) -> None:
        async def delete(bot: Any) -> Any:
            return await bot.delete_message(chat_id=self.chat_id, message_id=message_id)

        self._call(delete)

    def _classify(self, exc: BaseException) -> tuple[str, float | None]:
        from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

        if isinstance(exc, (InvalidToken, Forbidden)):
            return FATAL, None
        if isinstance(exc, BadRequest):
            text = str(exc).lower()
            return (FATAL if "chat not found" in text or "chat_id is empty" in text else JOB), None
        if isinstance(exc, RetryAfter):
            return TRANSIENT, _retry_after(exc)
        if isinstance(exc, (NetworkError, OSError)):  # OSError covers TimeoutError
            return TRANSIENT, None
        return JOB, None

    def _release(self) -> None:
        """Cancel what is in flight, shut the Bot down on its loop, stop the loop and its thread."""
        loop, thread = self._loop, self._loop_thread
        try:
            if loop is None or thread is None:
                return
            inflight = self._inflight
            if inflight is not None:
                inflight.cancel()

            async def shutdown() -> None:
                current = asyncio.current_task()
                tasks = [t for t in asyncio.all_tasks() if t is not current]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                if self._session.bot is not None:
                    await self._session.bot.shutdown()

            try:
                asyncio.run_coroutine_threadsafe(shutdown(), loop).result(max(1.0, self.timeout))
            except Exception:  # a hung client must not hold close(); the loop goes anyway
                pass
            loop.call_soon_threadsafe(loop.stop)
            thread.join(2.0)
            if not thread.is_alive():
                loop.close()
        finally:
            for name in _LEAKY_LOGGERS:
                logging.getLogger(name).removeFilter(self._filter)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
