"""Start a local Visdom server and wait until it answers (offline-safe: no JS download)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["is_ready", "start_server", "stop_server"]

# ``python -m visdom.server`` downloads JS assets first and crashes offline; its ``main`` does not.
_LAUNCH = "from visdom.server.run_server import main; main()"


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


def start_server(port: int, env_path: str | Path, timeout: float = 30.0) -> subprocess.Popen:
    """Start ``visdom.server`` on 127.0.0.1:``port`` in its own process group; return it once it answers.

    Its output goes to ``env_path/visdom-server.log``. Raises ``RuntimeError`` (with the log's tail) if
    it exits or does not answer within ``timeout`` seconds.
    """
    env_path = Path(env_path)
    env_path.mkdir(parents=True, exist_ok=True)
    log_path = env_path / "visdom-server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, "-port", str(port), "-bind_local", "-env_path", str(env_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if is_ready(port):
            return process
        time.sleep(delay)  # polling a child process's readiness; there is nothing to wait on instead
        delay = min(delay * 1.5, 0.5)
    stop_server(process)
    tail = log_path.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"the Visdom server on 127.0.0.1:{port} did not start (log {log_path}):\n{tail}")


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
