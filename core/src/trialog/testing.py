"""Test helpers for plugin authors: a fake web API served on 127.0.0.1.

Network loggers are tested with their real SDK clients pointed at a fake of the remote API (the
Slack and Telegram plugins' fakes build on :class:`LoopbackAPI`)::

    class FakeEcho(LoopbackAPI):
        def respond(self, path, headers, body):
            return json_reply(200, {"ok": True, "path": path})

    with FakeEcho(delay=0.5) as api:          # every answer 0.5 s late: a slow backend
        client = MyClient(base_url=f"http://127.0.0.1:{api.port}/")
        ...
        assert api.wait_for(lambda a: a.requests >= 3)
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

__all__ = ["LoopbackAPI", "json_reply", "trialog_warnings"]

Reply = tuple[int, dict[str, str], bytes]
_API = TypeVar("_API", bound="LoopbackAPI")


@contextlib.contextmanager
def trialog_warnings() -> Iterator[list[str]]:
    """Collect the message of every TrialogWarning raised in the block, repeats included (filled at exit).

    ``with trialog_warnings() as messages: run(); assert len(messages) == 1`` checks "one warning, not a
    warning per call" — the promise a logger for an unreliable backend makes.
    """
    from trialog.errors import TrialogWarning

    messages: list[str] = []
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            yield messages
        finally:
            messages.extend(str(w.message) for w in records if issubclass(w.category, TrialogWarning))


def json_reply(status: int, answer: Any, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON answer for :meth:`LoopbackAPI.respond`."""
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(answer).encode()


class LoopbackAPI:
    """Lifetime, slow answers and waiting for a fake HTTP API on 127.0.0.1 (one thread per request).

    Subclasses implement :meth:`respond` and keep their records under ``self._cond``, so that
    :meth:`wait_for` sees them; ``requests`` counts the requests answered so far. An API that does not
    answer yet: set ``gate`` to an unset ``threading.Event`` and every request waits (after ``delay``)
    until the test sets it; ``held`` counts the requests that arrived while it was unset.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests = 0
        self.gate: threading.Event | None = None
        self.held = 0
        self._cond = threading.Condition()
        self._stopped = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def respond(self, path: str, headers: Message, body: bytes) -> Reply:
        """Answer one request: (HTTP status, headers incl. Content-Type, body)."""
        raise NotImplementedError

    def start(self: _API) -> _API:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stopped.set()  # releases handlers waiting out a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self: _API) -> _API:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return self._server.server_address[1]

    def wait_for(self: _API, predicate: Callable[[_API], bool], timeout: float = 300.0) -> bool:
        """Block until ``predicate(self)`` holds (checked after every request) or ``timeout`` runs out.

        The default timeout bounds only a hang: a predicate that holds returns at once, and a machine
        under full load may take long to send what a test waits for."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a slow answer (a timeout, close()) is part of the game, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    api: LoopbackAPI

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        api = self.api
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if api.delay and api._stopped.wait(api.delay):
            return  # the fake is shutting down: drop the connection
        gate = api.gate
        if gate is not None and not gate.is_set():
            with api._cond:
                api.held += 1
                api._cond.notify_all()
            gate.wait(60)  # a test that closed the gate opens it (in a finally) before it stops the fake
        try:
            status, headers, data = api.respond(self.path, self.headers, body)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            with api._cond:
                api.requests += 1
                api._cond.notify_all()
