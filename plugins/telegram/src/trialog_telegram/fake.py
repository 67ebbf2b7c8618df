"""A loopback fake of the Telegram Bot API, for tests and benchmarks (no network, no bot).

``with FakeTelegram() as tg:`` serves ``tg.base_url`` (give it to the Bot as ``base_url``; the token
is appended, as with the real API) on 127.0.0.1 and records messages, photos (their bytes) and
deletions. It implements ``getMe``, ``sendMessage``, ``sendPhoto``, ``sendDocument`` and
``deleteMessage`` and injects faults: ``delay`` seconds per request, HTTP errors, 429 with
``parameters.retry_after`` (flood control), and a 401 for any token but its own.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from trialog.testing import LoopbackAPI, json_reply

__all__ = ["FakeTelegram", "TelegramMessage"]


@dataclass
class TelegramMessage:
    message_id: int
    chat_id: str
    kind: str  # "text", "photo" or "document"
    text: str | None = None
    parse_mode: str | None = None
    data: bytes | None = None
    filename: str | None = None
    deleted: bool = False


@dataclass
class _Fault:
    status: int
    times: int
    body: dict[str, Any] = field(default_factory=dict)


class FakeTelegram(LoopbackAPI):
    """A fake Telegram Bot API on 127.0.0.1.

    Args:
        token: the bot token it accepts (any other gets 401 Unauthorized).
        delay: seconds every request waits before it is answered (a slow API); ``gate`` holds requests
            until the test releases them instead (no clock involved).
    """

    def __init__(self, token: str = "123456789:FAKE-token_for-tests-0123456789abcdef", delay: float = 0.0):
        super().__init__(delay)
        self.token = token
        self.messages: list[TelegramMessage] = []
        #: Every request in arrival order: (method, parameters without file contents).
        self.calls: list[tuple[str, dict[str, Any]]] = []
        #: Paths of every request (they carry the token, as the real API's do).
        self.paths: list[str] = []
        self._faults: list[_Fault] = []
        #: chat id -> the supergroup id it was upgraded to (answered as Telegram does, with migrate_to_chat_id).
        self.migrated: dict[str, int] = {}
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def respond(self, path: str, headers: Message, body: bytes) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(path).path
        with self._cond:
            self.paths.append(path)
        prefix, _, method = path.rpartition("/")
        if not prefix.startswith("/bot"):
            return json_reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        params, files = _parse_body(headers.get("Content-Type", ""), body)
        return json_reply(*self._api(prefix[len("/bot") :], method, params, files))

    # ------------------------------------------------------------------ faults and inspection
    def fail(self, status: int = 500, times: int = 1, description: str = "Internal Server Error") -> None:
        """Answer the next ``times`` requests with HTTP ``status``."""
        with self._cond:
            self._faults.append(_Fault(status, times, {"description": description}))

    def rate_limit(self, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` requests with 429 and ``parameters.retry_after`` (flood control)."""
        with self._cond:
            body = {
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
            self._faults.append(_Fault(429, times, body))

    def methods(self) -> list[str]:
        with self._cond:
            return [method for method, _ in self.calls]

    def live(self, kind: str | None = None) -> list[TelegramMessage]:
        with self._cond:
            return [m for m in self.messages if not m.deleted and (kind is None or m.kind == kind)]

    # ------------------------------------------------------------------ the API
    def _api(
        self, token: str, method: str, params: dict[str, Any], files: dict[str, tuple]
    ) -> tuple[int, dict]:
        with self._cond:
            self.calls.append((method, params))
            for fault in self._faults:
                if fault.times > 0:
                    fault.times -= 1
                    return fault.status, {"ok": False, "error_code": fault.status, **fault.body}
            if token != self.token:
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            handler = getattr(self, "_api_" + method, None)
            if handler is None:
                return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
            if str(params.get("chat_id")) in self.migrated:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: group chat was upgraded to a supergroup chat",
                    "parameters": {"migrate_to_chat_id": self.migrated[str(params["chat_id"])]},
                }
            return handler(params, files)

    def _message(self, chat_id: str, kind: str, **fields: Any) -> tuple[int, dict]:
        message = TelegramMessage(next(self._ids), chat_id, kind, **fields)
        self.messages.append(message)
        answer: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else 1, "type": "private"},
        }
        if kind == "text":
            answer["text"] = message.text
        elif kind == "photo":
            answer["photo"] = [
                {
                    "file_id": f"P{message.message_id}",
                    "file_unique_id": f"U{message.message_id}",
                    "width": 1,
                    "height": 1,
                }
            ]
            answer["caption"] = message.text
        else:
            answer["document"] = {
                "file_id": f"D{message.message_id}",
                "file_unique_id": f"V{message.message_id}",
            }
            answer["caption"] = message.text
        return 200, {"ok": True, "result": answer}

    def _api_getMe(self, params: dict[str, Any], files: dict[str, tuple]) -> tuple[int, dict]:
        user = {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": "trialog",
            "username": "trialog_bot",
        }
        return 200, {"ok": True, "result": user}

    def _api_sendMessage(self, params: dict[str, Any], files: dict[str, tuple]) -> tuple[int, dict]:
        if not params.get("text"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
        return self._message(
            str(params.get("chat_id")), "text", text=params["text"], parse_mode=params.get("parse_mode")
        )

    def _upload(self, kind: str, params: dict[str, Any], files: dict[str, tuple]) -> tuple[int, dict]:
        if kind not in files:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": f"Bad Request: there is no {kind} in the request",
            }
        filename, data = files[kind]
        return self._message(
            str(params.get("chat_id")), kind, text=params.get("caption"), data=data, filename=filename
        )

    def _api_sendPhoto(self, params: dict[str, Any], files: dict[str, tuple]) -> tuple[int, dict]:
        return self._upload("photo", params, files)

    def _api_sendDocument(self, params: dict[str, Any], files: dict[str, tuple]) -> tuple[int, dict]:
        return self._upload("document", params, files)

    def _api_deleteMessage(self, params: dict[str, Any], files: dict[str, tuple]) -> tuple[int, dict]:
        for message in self.messages:
            if message.message_id == int(params.get("message_id", 0)) and not message.deleted:
                message.deleted = True
                return 200, {"ok": True, "result": True}
        return 400, {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message to delete not found",
        }


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, tuple]]:
    """Form fields and uploaded files ({field: (filename, bytes)}) of a request body."""
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        params: dict[str, Any] = {}
        files: dict[str, tuple] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            # PTB attaches files under a random name and refers to them with attach://<name>.
            if filename is not None:
                files[name] = (filename, data)
            else:
                params[name] = data.decode()
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                files[key] = files.pop(value[9:])
                del params[key]
        return params, files
    if "json" in content_type and body:
        return json.loads(body), {}
    return dict(parse_qsl(body.decode())), {}
