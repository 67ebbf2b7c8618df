"""Serving the browser: a socket bound first (the OS picks a free port, and we keep it), then uvicorn on it."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .app import Browser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one, which stays ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: a response's headers and body go out at once, not 40 ms apart
    # (Nagle's algorithm waiting on the client's delayed ACK on a reused connection).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class BrowserServer:
    """``trialog browse`` as an object: bind, serve in this thread (:meth:`run`) or a background one (:meth:`start`)."""

    def __init__(
        self,
        dirs: Sequence[str | Path],
        host: str = "127.0.0.1",
        port: int = 0,
        browser: Browser | None = None,
        **kwargs: Any,
    ) -> None:
        """``browser``: serve this :class:`Browser` (its own folders and options; ``dirs`` is then unused)."""
        import uvicorn

        if browser is not None and kwargs:
            raise TypeError(
                f"BrowserServer: options {sorted(kwargs)} belong to the Browser passed as browser="
            )

        self.sock = bind(host, port)
        self.host = host
        self.port = int(self.sock.getsockname()[1])
        if browser is None:
            browser = Browser(dirs, host, self.port, **kwargs)
        else:
            browser.set_address(host, self.port)  # its Host allow-list now names the bound port
        self.browser = browser
        config = uvicorn.Config(
            self.browser.app,
            http="h11",  # h11 enforces the header size cap below
            log_level="warning",
            access_log=False,
            h11_max_incomplete_event_size=16 * 1024,  # caps request line + headers
            limit_concurrency=64,
            timeout_keep_alive=5,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C)."""
        try:
            asyncio.run(self.server.serve(sockets=[self.sock]))
        finally:
            self.sock.close()

    def start(self) -> BrowserServer:
        """Serve from a daemon thread; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self.run, name="trialog-browse", daemon=True)
        self._thread.start()
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the browser server stopped while starting")
            self._thread.join(0.01)  # waits on the server thread itself, not on a clock
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> BrowserServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
