"""A loopback fake of the Slack Web API, for tests and benchmarks (no network, no workspace).

``with FakeSlack() as slack:`` serves ``slack.url`` on 127.0.0.1 and records what arrives: messages,
uploaded files (their bytes), deletions. It implements what :class:`trialog_slack.SlackLogger` uses —
``chat.postMessage``, ``chat.delete``, ``users.lookupByEmail``, ``conversations.open``,
``conversations.list``, ``files.getUploadURLExternal`` + the upload URL + ``files.completeUploadExternal``,
``files.delete`` — and injects faults: ``delay`` seconds per request, HTTP errors, 429 with
``Retry-After``, a token it rejects (``invalid_auth``, as Slack answers: HTTP 200 with ``ok: false``).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from trialog.testing import LoopbackAPI, json_reply

__all__ = ["FakeSlack", "SlackFile", "SlackMessage"]


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    deleted: bool = False


@dataclass
class SlackFile:
    id: str
    filename: str
    length: int
    data: bytes = b""
    title: str | None = None
    channel: str | None = None
    ts: str | None = None
    deleted: bool = False


@dataclass
class _Fault:
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


class FakeSlack(LoopbackAPI):
    """A fake Slack Web API on 127.0.0.1; ``url`` is the ``base_url`` to give the client.

    Args:
        token: the bot token it accepts (others get ``invalid_auth``).
        delay: seconds every request waits before it is answered (a slow API); ``gate`` holds requests
            until the test releases them instead (no clock involved).
        users: e-mail -> user id known to ``users.lookupByEmail``.
        channels: name -> id listed by ``conversations.list``.
        share_ts: list the sharing message's ts in ``files.completeUploadExternal``'s answer (Slack fills
            ``shares`` asynchronously; False mimics the answer before it has).
    """

    def __init__(
        self,
        token: str = "xoxb-0000-fake-token",
        delay: float = 0.0,
        users: dict[str, str] | None = None,
        channels: dict[str, str] | None = None,
        share_ts: bool = True,
    ):
        super().__init__(delay)
        self.token = token
        self.users = dict(users or {"me@example.org": "U0000001"})
        self.channels = dict(channels or {"runs": "C0000001"})
        self.share_ts = share_ts
        self.messages: list[SlackMessage] = []
        self.files: dict[str, SlackFile] = {}
        #: Every request in arrival order: (API method or "upload", parameters).
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def respond(self, path: str, headers: Message, body: bytes) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(path)
        if url.path.startswith("/upload/"):
            status = self._upload(url.path.rsplit("/", 1)[1], body)
            return status, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode()
        params: dict[str, Any] = dict(parse_qsl(url.query))
        kind = headers.get("Content-Type", "")
        if "json" in kind and body:
            params.update(json.loads(body))
        elif body:
            params.update(parse_qsl(body.decode()))
        status, extra, answer = self._api(
            url.path.removeprefix("/api/"), params, headers.get("Authorization")
        )
        return json_reply(status, answer, extra)

    # ------------------------------------------------------------------ faults and inspection
    def fail(self, status: int = 500, times: int = 1, error: str = "internal_error") -> None:
        """Answer the next ``times`` API requests with HTTP ``status``."""
        with self._cond:
            self._faults.append(_Fault(status, times, body={"ok": False, "error": error}))

    def rate_limit(self, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` API requests with 429 and ``Retry-After: retry_after``."""
        with self._cond:
            self._faults.append(
                _Fault(429, times, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"})
            )

    def methods(self) -> list[str]:
        with self._cond:
            return [method for method, _ in self.calls]

    def live_messages(self) -> list[SlackMessage]:
        with self._cond:
            return [m for m in self.messages if not m.deleted]

    def live_files(self) -> list[SlackFile]:
        with self._cond:
            return [f for f in self.files.values() if f.channel and not f.deleted]

    # ------------------------------------------------------------------ the API
    def _next_ts(self) -> str:
        n = next(self._ids)
        return f"{1700000000 + n}.{n:06d}"

    def _api(self, method: str, params: dict[str, Any], auth: str | None) -> tuple[int, dict, dict]:
        with self._cond:
            self.calls.append((method, params))
            for fault in self._faults:
                if fault.times > 0:
                    fault.times -= 1
                    return fault.status, fault.headers, fault.body
            if auth != f"Bearer {self.token}":
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            handler = getattr(self, "_api_" + method.replace(".", "_"), None)
            if handler is None:
                return 404, {}, {"ok": False, "error": "unknown_method"}
            return 200, {}, handler(params)

    def _api_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(p.get("channel"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        message = SlackMessage(channel, self._next_ts(), p.get("text", ""))
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": {"text": message.text}}

    def _api_chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages:
            if message.channel == p.get("channel") and message.ts == p.get("ts") and not message.deleted:
                message.deleted = True
                return {"ok": True, "channel": message.channel, "ts": message.ts}
        for file in self.files.values():
            if file.channel == p.get("channel") and file.ts == p.get("ts") and not file.deleted:
                file.deleted = True
                return {"ok": True, "channel": file.channel, "ts": file.ts}
        return {"ok": False, "error": "message_not_found"}

    def _api_users_lookupByEmail(self, p: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(p.get("email", ""))
        if user is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": user, "profile": {"email": p["email"]}}}

    def _api_conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        users = str(p.get("users", "")).split(",")
        if not users or users[0] not in self.users.values():
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + users[0][1:]}}

    def _api_conversations_list(self, p: dict[str, Any]) -> dict[str, Any]:
        listed = [{"id": cid, "name": name} for name, cid in self.channels.items()]
        return {"ok": True, "channels": listed, "response_metadata": {"next_cursor": ""}}

    def _api_files_getUploadURLExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):07d}"
        self.files[file_id] = SlackFile(file_id, p.get("filename", ""), int(p.get("length", 0)))
        return {
            "ok": True,
            "file_id": file_id,
            "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}",
        }

    def _api_files_completeUploadExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(p.get("channel_id"))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        answered = []
        for item in json.loads(p.get("files", "[]")):
            file = self.files.get(item.get("id"))
            if file is None or len(file.data) != file.length:
                return {"ok": False, "error": "file_not_found"}
            file.title, file.channel, file.ts = item.get("title"), channel, self._next_ts()
            entry: dict[str, Any] = {"id": file.id, "title": file.title}
            if self.share_ts:
                entry["shares"] = {"public": {channel: [{"ts": file.ts}]}}
            answered.append(entry)
        return {"ok": True, "files": answered}

    def _api_files_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(p.get("file", ""))
        if file is None or file.deleted:
            return {"ok": False, "error": "file_not_found"}
        file.deleted = True
        return {"ok": True}

    def _resolve(self, channel: str | None) -> str | None:
        if not channel:
            return None
        if channel.lstrip("#") in self.channels:
            return self.channels[channel.lstrip("#")]
        known = set(self.channels.values()) | {"D" + user[1:] for user in self.users.values()}
        return channel if channel in known else None

    def _upload(self, file_id: str, data: bytes) -> int:
        with self._cond:
            self.calls.append(("upload", {"file_id": file_id, "length": len(data)}))
            file = self.files.get(file_id)
            if file is None:
                return 404
            file.data = data
            return 200
