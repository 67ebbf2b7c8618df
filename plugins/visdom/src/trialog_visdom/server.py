"""Start a local Visdom server and wait until it answers (offline-safe: no JS download).

How the port is chosen, race-free: this process binds and listens on the socket itself
(``127.0.0.1:port``, or a port the OS picks with ``port=0``) and hands the listening socket to the
server process (``pass_fds``); a small launcher there serves visdom's tornado ``Application`` on it with
``HTTPServer.add_sockets``. The port is therefore never released between choosing and using it (no
bind-close-reuse), a port in use fails at once with a clear error, and connections made before the
server is ready wait in the socket's backlog instead of being refused.

``python -m visdom.server`` is not used: it downloads JS assets first and fails offline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["ServerProcess", "is_ready", "start_server", "stop_server"]

# Runs in the server process: serve visdom's app on the inherited listening socket (argv: fd, env_path).
_LAUNCH = """
import socket, sys
from tornado import httpserver, ioloop
from visdom.server.app import Application

sock = socket.socket(fileno=int(sys.argv[1]))
sock.setblocking(False)
port = sock.getsockname()[1]
app = Application(port=port, base_url="", env_path=sys.argv[2])
server = httpserver.HTTPServer(app, max_buffer_size=1024**3)
server.add_sockets([sock])
print(f"trialog-visdom: serving on 127.0.0.1:{port}", flush=True)
ioloop.IOLoop.current().start()
"""


class ServerProcess(subprocess.Popen):
    """A Visdom server process started by :func:`start_server`; ``port`` is where it listens."""

    port: int = 0


def is_ready(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """Whether a Visdom server answers ``POST /win_exists`` (``GET /`` is 403 under tornado >= 6.5)."""
    request = urllib.request.Request(
        f"http://{host}:{port}/win_exists",
        data=json.dumps({"win": "__trialog_probe__", "eid": "main"}).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"cannot listen on 127.0.0.1:{port} for a Visdom server: {exc}") from exc
    return sock


def start_server(
    port: int, env_path: str | Path, timeout: float = 30.0, sock: socket.socket | None = None
) -> ServerProcess:
    """Start a Visdom server on 127.0.0.1:``port`` (0: a free port the OS picks) in its own process group.

    Returns the process once it answers; its ``port`` attribute says where it listens. Its output goes
    to ``env_path/visdom-server.log``. Raises ``RuntimeError`` (with the log's tail) if the port cannot
    be bound, or the server exits or does not answer within ``timeout`` seconds.

    ``sock``: serve on this bound socket instead of binding ``port`` (it is handed over: listened on,
    passed to the server and closed here). A caller that restarts a server on one port keeps the port
    reserved meanwhile with a second, never-listening socket bound with ``SO_REUSEPORT`` and passes a
    fresh ``SO_REUSEPORT`` socket each time (see the plugin's tests).
    """
    env_path = Path(env_path)
    env_path.mkdir(parents=True, exist_ok=True)
    log_path = env_path / "visdom-server.log"
    if sock is None:
        sock = _listening_socket(int(port))
    else:
        sock.listen(128)
    try:
        bound = sock.getsockname()[1]
        with open(log_path, "ab") as log:
            process = ServerProcess(
                [sys.executable, "-c", _LAUNCH, str(sock.fileno()), str(env_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                pass_fds=(sock.fileno(),),
                start_new_session=True,
            )
        process.port = bound
    finally:
        sock.close()  # the server process holds its own copy of the listening socket
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if is_ready(bound):
            return process
        time.sleep(delay)  # polling a child process's readiness; there is nothing to wait on instead
        delay = min(delay * 1.5, 0.5)
    stop_server(process)
    tail = log_path.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"the Visdom server on 127.0.0.1:{bound} did not start (log {log_path}):\n{tail}")


def stop_server(process: subprocess.Popen, timeout: float = 5.0) -> None:
    """Stop a server started by :func:`start_server` (its whole process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)
    except ProcessLookupError:
        pass
