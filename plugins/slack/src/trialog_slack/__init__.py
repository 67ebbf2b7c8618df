"""trialog-slack: run notifications, value curves, plots and images in Slack, without ever stalling a run.

``{"type": "slack", "channel": "C0123456"}`` (or ``"user_email": "me@lab.org"`` for a direct message)
with the bot token in the environment variable ``SLACK_BOT_TOKEN``. What is posted and how failures
are handled is :class:`trialog_notify.Notifier`'s job; this module is the Slack Web API transport
(``slack_sdk.WebClient``: ``chat.postMessage``, ``chat.delete``, ``files_upload_v2``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from trialog_notify import (
    FATAL,
    JOB,
    TRANSIENT,
    BotNotifier,
    Notice,
)

from trialog.errors import LoggerConfigError

__all__ = ["SlackLogger"]

#: Slack error codes after which nothing this logger sends can succeed (token, scopes, target).
FATAL_ERRORS = frozenset(
    {
        "access_denied",
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "ekm_access_denied",
        "invalid_auth",
        "is_archived",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "not_authed",
        "not_in_channel",
        "org_login_required",
        "restricted_action",
        "team_access_not_granted",
        "token_expired",
        "token_revoked",
        "user_not_found",
        "users_not_found",
    }
)
#: Slack error codes worth another try later.
TRANSIENT_ERRORS = frozenset(
    {"fatal_error", "internal_error", "ratelimited", "request_timeout", "service_unavailable"}
)
# Conversation ids: public (C), private (G) channels and direct messages (D).
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
_TEXT_LIMIT = 3900  # Slack truncates messages beyond 40k characters and advises 4k


def _escape(text: str) -> str:
    # The three characters Slack's mrkdwn reserves for links and mentions.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _truncate(text: str, limit: int = _TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_after(response: Any) -> float | None:
    """Seconds of a ``Retry-After`` header (slack_sdk keeps header values as lists)."""
    headers = getattr(response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            value = value[0] if isinstance(value, (list, tuple)) else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def _retry_handlers(retries: int, max_retry_wait: float) -> list[Any]:
    """Bounded retries: 429 (honouring Retry-After up to ``max_retry_wait`` s), connection errors, 5xx."""
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    class BoundedRateLimitHandler(RateLimitErrorRetryHandler):
        def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
            if response is None or response.status_code != 429:
                return False
            wait = _retry_after(response)
            return wait is None or wait <= max_retry_wait

    class AnyServerErrorHandler(ServerErrorRetryHandler):
        def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
            return response is not None and response.status_code >= 500

    return [
        BoundedRateLimitHandler(max_retry_count=retries),
        ConnectionErrorRetryHandler(max_retry_count=retries),
        AnyServerErrorHandler(max_retry_count=retries),
    ]


@dataclass(frozen=True)
class _Post:
    channel: str
    ts: str | None = None
    file_id: str | None = None


class SlackLogger(BotNotifier):
    """Posts run notifications, value curves, plots, images and text to a Slack channel or DM.

    Args:
        channel: a conversation id (``C…``/``G…``/``D…``) or a channel name (``#runs``, looked up once
            with ``conversations.list``).
        user_email: post to this workspace member's direct messages instead (``users.lookupByEmail``,
            then ``conversations.open``, as trixi did).
        token_env: the environment variable holding the bot token (``xoxb-…``); the config only ever
            holds this name.
        **kwargs: the transport's options (``token``, ``base_url``, default ``https://slack.com/api/``;
            ``timeout``, ``retries``, ``max_retry_wait``: :class:`trialog_notify.BotNotifier`) and every
            notifier's (``run_dir``, ``title``, ``min_interval``, ``notify``, ...: :class:`trialog_notify.Notifier`).
    """

    kind = "slack"

    def __init__(
        self,
        channel: str | None = None,
        user_email: str | None = None,
        token_env: str = "SLACK_BOT_TOKEN",
        **kwargs: Any,
    ):
        if bool(channel) == bool(user_email):
            raise LoggerConfigError(
                "slack logger: give exactly one of 'channel' (an id like C0123456 or a name like #runs) "
                f"and 'user_email' (a direct message), got channel={channel!r}, user_email={user_email!r}"
            )
        super().__init__(token_env=token_env, **kwargs)
        from slack_sdk import WebClient

        self.channel = channel
        self.user_email = user_email
        self._channel_id: str | None = channel if channel and _CHANNEL_ID.fullmatch(channel) else None
        options: dict[str, Any] = {}
        if self.base_url is not None:
            options["base_url"] = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        self._client = WebClient(
            token=self._token.value,
            timeout=self.timeout,  # type: ignore[arg-type]  # urllib takes float seconds
            retry_handlers=_retry_handlers(self.retries, self.max_retry_wait),
            **options,
        )

    def __repr__(self) -> str:
        target = f"channel={self.channel!r}" if self.channel else f"user_email={self.user_email!r}"
        return f"SlackLogger({target}, token_env={self.token_env!r})"

    # ------------------------------------------------------------------ transport (sender thread)
    def _target(self) -> str:
        """The conversation id, looked up on first use (a DM channel for ``user_email``)."""
        if self._channel_id is None:
            if self.user_email:
                user = self._client.users_lookupByEmail(email=self.user_email)["user"]["id"]
                self._channel_id = self._client.conversations_open(users=[user])["channel"]["id"]
            else:
                self._channel_id = self._find_channel(str(self.channel).lstrip("#"))
        return self._channel_id

    def _find_channel(self, name: str) -> str:
        cursor = None
        while True:
            page = self._client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
            )
            for conversation in page.get("channels") or ():
                if conversation.get("name") == name:
                    return conversation["id"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise LoggerConfigError(
                    f"slack logger: no channel named #{name} is visible to the bot; invite the bot to it "
                    "or give the channel id (C…) as 'channel'"
                )

    def _format(self, message: Notice | str) -> str:
        if isinstance(message, str):
            return _truncate(_escape(message))
        lines = [f"*{_escape(message.title)}*"]
        lines += [f"{_escape(key)}: {_escape(value)}" for key, value in message.fields]
        text = "\n".join(lines)
        if message.block:
            room = _TEXT_LIMIT - len(text) - 10
            block = message.block if len(message.block) <= room else "…" + message.block[-room:]
            text += f"\n```{_escape(block)}```"
        return _truncate(text)

    def _send_message(self, message: Notice | str) -> _Post:
        response = self._client.chat_postMessage(channel=self._target(), text=self._format(message))
        return _Post(channel=response.get("channel") or self._target(), ts=response.get("ts"))

    def _send_image(self, png: bytes, caption: str, filename: str) -> _Post:
        channel = self._target()
        response = self._client.files_upload_v2(
            channel=channel, file=png, filename=filename, title=caption or filename
        )
        file = response.get("file") or {}
        return _Post(channel=channel, ts=_share_ts(file, channel), file_id=file.get("id"))

    def _delete(self, post: _Post) -> None:
        # The share's ts is only known when Slack has already listed the share; else delete the file.
        if post.ts:
            self._client.chat_delete(channel=post.channel, ts=post.ts)
        elif post.file_id:
            self._client.files_delete(file=post.file_id)

    def _classify(self, exc: BaseException) -> tuple[str, float | None]:
        import http.client

        from slack_sdk.errors import SlackApiError, SlackRequestError

        if isinstance(exc, SlackApiError):
            response = exc.response
            code = response.get("error") if hasattr(response, "get") else None
            status = getattr(response, "status_code", 200)
            if code in FATAL_ERRORS or status in (401, 403):
                return FATAL, None
            if code in TRANSIENT_ERRORS or status == 429 or status >= 500:
                return TRANSIENT, _retry_after(response)
            return JOB, None
        if isinstance(exc, LoggerConfigError):
            return FATAL, None
        # URLError and socket timeouts are OSErrors: the network, not the post, is the problem.
        if isinstance(exc, (SlackRequestError, http.client.HTTPException, OSError)):
            return TRANSIENT, None
        return JOB, None


def _share_ts(file: dict[str, Any], channel: str) -> str | None:
    """The ts of the message that shares ``file`` in ``channel``, when Slack lists it already."""
    for scope in ("public", "private"):
        shares = ((file.get("shares") or {}).get(scope) or {}).get(channel) or ()
        for share in shares:
            if share.get("ts"):
                return str(share["ts"])
    return None
