"""The warm trial server: one process imports what a sweep's trials import, then forks every trial.

It imports trialog, loads the plugins, imports the framework plugin (the sweep's trainer, which imports
torch) and the user's modules the config names (``"model:Net"`` beside the config, the sweep's Experiment
class) once, with what their source imports inside functions and what the plugins' ``preload_trials``
hook imports (trialog-torch: ``torch._dynamo``), and then forks one child per trial. The child takes the
driver's environment and working folder, resets every per-process state
(:class:`trialog_sweep.trialproc.ProcessSnapshot`: fresh RNGs, logging, plugin registrations, the sweep's
thread count) and runs the trial exactly as a fresh ``python -m trialog_sweep.sweep_local TRIAL_FILE``
process would, so its results are bitwise those of the trial run alone. The server never runs a trial
itself, nor any torch computation (a fork after OpenMP started would not be safe).

Two lifetimes:

* **per sweep** (the default): the local sweeper starts a server for its sweep, connected by a socket
  pair. It ends with the sweep, dies with the driver (``PR_SET_PDEATHSIG`` on Linux), and its trials die
  with it.
* **kept warm** (``--option keep_warm=SECONDS``): the server listens on a Unix socket in the user's
  runtime folder (:func:`runtime_dir`) named by a key of everything that decides what a trial would import
  (:func:`server_key`: the python, the working folder, the environment, the config's folder and
  Experiment, the site-packages folders' mtimes). The next sweep with the same key connects to it instead
  of starting one, and pays no import at all. Before it serves a new sweep, the server checks that no
  file of a module it imported changed since it imported it (an edited ``model.py``, a reinstalled
  plugin). If one did, it retires and the sweep starts a fresh server. It ends after SECONDS with no
  sweep connected, or at ``trialog sweep servers --stop``. A driver that dies takes its running trials
  with it: the server SIGKILLs them when the driver's connection closes.

The protocol is JSON lines over a stream socket. The driver sends ``{"hello": SWEEP_DIR}`` and gets
``{"ready": PID}``, or ``{"stale": WHY}`` from a retiring server. Then it sends ``{"id", "argv", "log",
"env", "cwd", "threads"}`` for each trial and gets ``{"id", "pid"}``, and later ``{"id", "rc"}``.
``{"status": 1}`` and ``{"stop": 1}`` serve ``trialog sweep servers``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import fcntl
import hashlib
import json
import os
import queue
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from trialog.errors import TrialogError

from .sweep import Sweep, read_sweep, run_trial

__all__ = ["RUNTIME_ENV", "TrialServer", "kept_servers", "runtime_dir", "server_key"]

#: Where kept-warm servers' sockets live (default ``$XDG_RUNTIME_DIR/trialog``, else ``/tmp/trialog-UID``).
RUNTIME_ENV = "TRIALOG_RUNTIME_DIR"
PARENT_ENV = "TRIALOG_SWEEP_PARENT"
_PR_SET_PDEATHSIG = 1
_SHELL_VARS = {"COLUMNS", "LINES", "PWD", "OLDPWD", "SHLVL", "_", "PYTEST_CURRENT_TEST", "WINDOWID", "STY"}
_SHELL_PREFIXES = ("SSH_", "TERM", "TMUX", "XDG_SESSION_")
_SOCKET_PATH_MAX = 100  # bytes: sun_path holds 108 on Linux, 104 on macOS


# ------------------------------------------------------------------------------------- the driver's side


class TrialServer:
    """The driver's handle on a warm trial server: ``run(argv, log)`` forks a trial there, returns its status.

    ``keep_warm`` 0: a server of this sweep's own; > 0: a kept-warm server, found or started (see the
    module). Thread-safe: the local sweeper's N driver threads share one server; each request gets its own
    answer.
    """

    def __init__(self, sweep: Sweep, env: Mapping[str, str], keep_warm: float = 0.0) -> None:
        self._env = dict(env)
        self._threads = sweep.threads
        self._proc: subprocess.Popen[bytes] | None = None
        if keep_warm > 0:
            self._sock, self._stream, self.pid = _connect_kept(sweep, self._env, keep_warm)
        else:
            self._sock, self._stream, self.pid, self._proc = _start_own(sweep, self._env)
        self._lock = threading.Lock()
        self._answers: dict[int, queue.Queue[dict[str, Any] | None]] = {}
        self._next = 0
        self._reader = threading.Thread(target=self._read, name="trialog-trial-server", daemon=True)
        self._reader.start()

    def alive(self) -> bool:
        return self._reader.is_alive() and (self._proc is None or self._proc.poll() is None)

    def _read(self) -> None:
        for line in self._stream:
            with contextlib.suppress(ValueError, AttributeError):
                answer = json.loads(line)
                box = self._answers.get(answer.get("id"))
                if box is not None:
                    box.put(answer)
        with self._lock:  # the server is gone: every trial waiting on it failed
            for box in self._answers.values():
                box.put(None)

    def run(self, argv: list[str], log: Path) -> int:
        box: queue.Queue[dict[str, Any] | None] = queue.Queue()
        with self._lock:
            self._next += 1
            request_id = self._next
            self._answers[request_id] = box
            request = {
                "id": request_id,
                "argv": argv,
                "log": str(log),
                "env": self._env,
                "cwd": os.getcwd(),
                "threads": self._threads,
            }
            try:
                self._sock.sendall((json.dumps(request) + "\n").encode())
            except OSError:
                box.put(None)
        try:
            while True:
                answer = box.get()
                if answer is None:
                    return 1 << 8  # the server died (see its log): a failed attempt
                if "rc" in answer:
                    return int(answer["rc"])
        finally:
            with self._lock:
                self._answers.pop(request_id, None)

    def close(self) -> None:
        """Let go of the server: one of this sweep's own ends once its trials are reaped; a kept one stays."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)
        if self._proc is not None:
            try:
                self._proc.wait(600)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
                self._proc.kill()
                self._proc.wait()
        else:
            self._sock.close()  # a kept server kills trials still running on this connection
        self._reader.join()
        self._stream.close()
        self._sock.close()


def _greet(sock: socket.socket, stream: IO[bytes], sweep_dir: Path) -> dict[str, Any] | None:
    """Send ``hello``; the server's answer (None: it closed the connection)."""
    try:
        sock.sendall((json.dumps({"hello": str(sweep_dir)}) + "\n").encode())
        line = stream.readline()
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None


def _spawn(fd: int, mode: str, env: Mapping[str, str], log: Path, extra: list[str], detach: bool) -> Any:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "trialog_sweep.sweep_local", mode, str(fd), *extra],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=dict(env),
            start_new_session=detach,
        )


def _start_own(sweep: Sweep, env: Mapping[str, str]) -> tuple[socket.socket, IO[bytes], int, Any]:
    (sweep.folder / "trials").mkdir(exist_ok=True)
    ours, theirs = socket.socketpair()
    log = sweep.folder / "trials" / "server.log"
    try:
        proc = _spawn(theirs.fileno(), "--serve-fd", env, log, [], detach=False)
    finally:
        theirs.close()
    stream = ours.makefile("rb")
    answer = _greet(ours, stream, sweep.folder)
    if not answer or "ready" not in answer:
        proc.wait()
        raise TrialogError(
            f"the sweep's trial server did not start (exit status {proc.returncode}); see {log}"
        )
    return ours, stream, int(answer["ready"]), proc


def runtime_dir() -> Path:
    """The folder of the kept-warm servers' sockets: ``$TRIALOG_RUNTIME_DIR``, else ``$XDG_RUNTIME_DIR/trialog``,
    else ``/tmp/trialog-UID``; created with mode 0700, and refused unless it is this user's alone."""
    given = os.environ.get(RUNTIME_ENV)
    if given:
        folder = Path(given)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "trialog"
    else:
        folder = Path(tempfile.gettempdir()) / f"trialog-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise TrialogError(
            f"{folder}: the folder of the kept-warm trial servers must belong to you alone (chmod 700), "
            f"else another user could run code as you through them (set {RUNTIME_ENV} to another folder)"
        )
    return folder


def server_key(sweep: Sweep, env: Mapping[str, str]) -> str:
    """The key of the kept-warm server a sweep may use: equal keys import the same things.

    The python, this working folder (``python -m`` puts it first on the path), the trials' environment
    (each trial gets the driver's whole environment; the key leaves out its thread settings, which each
    trial sets, and the terminal's and shell's variables, which no import reads), the config's folder and
    Experiment, and the site-packages folders' mtimes (a package installed or removed changes them).
    """
    from trialog.api import threads

    volatile = {PARENT_ENV, *threads.THREAD_VARS, *_SHELL_VARS}
    sites = [
        (entry, os.stat(entry).st_mtime_ns)
        for entry in sys.path
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry)
    ]
    data = [
        sys.executable,
        os.getcwd(),
        sorted(
            (key, value)
            for key, value in env.items()
            if key not in volatile and not key.startswith(_SHELL_PREFIXES)
        ),
        str(sweep.spec.config_dir),
        sweep.spec.experiment or "",
        sites,
    ]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]


@contextlib.contextmanager
def _locked(lock_path: Path, blocking: bool = True) -> Iterator[bool]:
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    return sock


def _connect_kept(
    sweep: Sweep, env: Mapping[str, str], keep_warm: float
) -> tuple[socket.socket, IO[bytes], int]:
    folder = runtime_dir()
    key = server_key(sweep, env)
    path = folder / f"trials-{key}.sock"
    if len(os.fsencode(path)) > _SOCKET_PATH_MAX:
        raise TrialogError(f"{path}: too long for a Unix socket; set {RUNTIME_ENV} to a shorter folder")
    with _locked(folder / f"trials-{key}.lock"):
        sock = _connect(path)
        if sock is not None:
            stream = sock.makefile("rb")
            answer = _greet(sock, stream, sweep.folder)
            if answer and "ready" in answer:
                return sock, stream, int(answer["ready"])
            stream.close()  # stale (it retires) or gone: a fresh one takes its place
            sock.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            listener.listen(64)
            server_env = {k: v for k, v in env.items() if k != PARENT_ENV}  # it outlives this driver
            extra = ["--socket", str(path), "--idle", str(keep_warm)]
            log = folder / f"trials-{key}.log"
            log.write_bytes(b"")
            _spawn(listener.fileno(), "--listen-fd", server_env, log, extra, detach=True)
        finally:
            listener.close()
        sock = _connect(path)
        answer = None
        if sock is not None:
            stream = sock.makefile("rb")
            answer = _greet(sock, stream, sweep.folder)
        if sock is None or not answer or "ready" not in answer:
            raise TrialogError(f"the kept-warm trial server {path} did not start; see {log}")
        return sock, stream, int(answer["ready"])


def kept_servers(stop: bool = False) -> list[dict[str, Any]]:
    """The kept-warm trial servers of this user (``status`` of each); ``stop``: ask each to end.

    A socket no server answers any more (one killed) is removed and reported with ``"gone": True``.
    """
    folder = runtime_dir()
    found = []
    for path in sorted(folder.glob("trials-*.sock")):
        with _locked(path.with_suffix(".lock")):
            sock = _connect(path)
            if sock is None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                found.append({"socket": str(path), "gone": True})
                continue
            with sock, sock.makefile("rb") as stream:
                try:
                    sock.sendall((json.dumps({"stop" if stop else "status": 1}) + "\n").encode())
                    answer = json.loads(stream.readline() or b"{}")
                except (OSError, ValueError):
                    answer = {}
            found.append({"socket": str(path), **answer})
    return found


# -------------------------------------------------------------------------------------------- the server

_MODULE_REF = re.compile(r"^([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*):[A-Za-z_][\w.]*$")


def _user_modules(value: Any, config_dir: Path) -> set[str]:
    """Top-level modules beside the config that its ``"module:Attr"`` strings name (``model:Net``)."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for item in value.values():
            found |= _user_modules(item, config_dir)
    elif isinstance(value, list):
        for item in value:
            found |= _user_modules(item, config_dir)
    elif isinstance(value, str) and (match := _MODULE_REF.match(value)):
        module = match.group(1)
        top = module.split(".")[0]
        if (config_dir / f"{top}.py").is_file() or (config_dir / top / "__init__.py").is_file():
            found.add(module)
    return found


def preload(sweep_dir: Path) -> None:
    """Import what every trial of the sweep imports: trialog, its plugins, the trainer, the user's modules."""
    import importlib

    from trialog.api import package_versions, plugins

    from .sweep import saved_spec

    data = read_sweep(sweep_dir)
    spec = saved_spec(data, sweep_dir)
    config_dir = str(spec.config_dir)
    if config_dir not in sys.path:
        sys.path.insert(0, config_dir)
    plugins.get_plugin_manager()
    package_versions()  # cached per process: every run.json lists the installed packages
    if spec.experiment:
        importlib.import_module(spec.experiment.partition(":")[0])
    else:
        trainer = (
            (spec.base.get("trainer") or {}).get("type")
            if isinstance(spec.base.get("trainer"), Mapping)
            else None
        )
        if isinstance(trainer, str):
            with contextlib.suppress(TrialogError):
                plugins.load("trialog.trainers", trainer)
    modules = sorted(_user_modules(spec.base, spec.config_dir))
    for module in modules:
        with contextlib.suppress(Exception):  # a module that fails to import fails in its trial, named there
            importlib.import_module(module)
    if spec.experiment:
        modules.append(spec.experiment.partition(":")[0])
    _import_quietly(
        sorted(set().union(*map(_imports_in, modules)))
    )  # their lazy imports (sklearn in a class)
    try:
        plugins.get_plugin_manager().hook.preload_trials(config=spec.base)  # the framework's (torch._dynamo)
    except Exception:  # a trial that needs it fails in its own log, named there
        traceback.print_exc()


def _imports_in(module: str) -> set[str]:
    """The absolute imports anywhere in an imported module's source, those inside functions too."""
    import ast

    filename = getattr(sys.modules.get(module), "__file__", None) or ""
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8")) if filename.endswith(".py") else None
    except (OSError, SyntaxError, ValueError):
        tree = None
    found: set[str] = set()
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def trial_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trialog_sweep.sweep_local")
    parser.add_argument("trial_file", type=Path, nargs="?")
    parser.add_argument("--resume", type=Path)
    parser.add_argument("--serve-fd", type=int, help=argparse.SUPPRESS)  # a sweep's own server
    parser.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)  # a kept-warm server
    parser.add_argument("--socket", help=argparse.SUPPRESS)
    parser.add_argument("--idle", type=float, default=0.0, help=argparse.SUPPRESS)
    return parser


def run_one(args: Any) -> int:
    run_dir = run_trial(args.trial_file, resume=args.resume)
    print(f"run folder: {run_dir}")
    return 0


def _child(request: Mapping[str, Any], snapshot: Any, closing: tuple[int, ...], learn_fd: int) -> None:
    """In the forked trial process: a fresh process's state, the trial's log as stdout/stderr, the trial.

    At its end it tells the server (``learn_fd``) which modules the trial imported, so the server imports
    them too and the next trials start with them (a trial's lazy imports: sklearn, matplotlib...).
    """
    code = 1
    before = set(sys.modules)
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in closing:
            with contextlib.suppress(OSError):
                os.close(fd)
        die_with_parent(os.getppid())
        if request.get("cwd"):
            os.chdir(request["cwd"])  # the driver's: relative paths in the request are relative to it
        log_fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        os.close(null)
        args = trial_parser().parse_args(request["argv"])
        sys.argv = ["trialog_sweep.sweep_local", *request["argv"]]
        snapshot.reset(request.get("threads"), environ=request.get("env"))
        code = run_one(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(BaseException):
            imported = sorted(name for name in set(sys.modules) - before if not name.startswith("__"))
            os.write(learn_fd, json.dumps(imported).encode())
            os.close(learn_fd)
        with contextlib.suppress(BaseException):
            _skip_teardown()
            atexit._run_exitfuncs()  # what the interpreter's exit would run
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


#: Exit finalizers that only tear a library down in memory: a trial process about to end skips them (torch's
#: operator libraries take 45 ms to unregister; the files a trial wrote are not theirs).
_TEARDOWN_ONLY = ("torch.library",)


def _skip_teardown() -> None:
    import weakref

    registry = getattr(weakref.finalize, "_registry", {})
    for info in list(registry.values()):
        if getattr(info.func, "__module__", None) in _TEARDOWN_ONLY:
            info.atexit = False


def _module_files() -> dict[str, int]:
    """The source file of every imported module and its mtime (what a kept server checks for edits)."""
    files = {}
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str):
            with contextlib.suppress(OSError):
                files[name] = os.stat(name).st_mtime_ns
    return files


def _changed(files: Mapping[str, int]) -> str | None:
    for name, mtime in files.items():
        try:
            if os.stat(name).st_mtime_ns != mtime:
                return f"{name} changed since the server imported it"
        except OSError:
            return f"{name} is gone since the server imported it"
    return None


class _Server:
    """The server's state: its connections, its trial children, the modules it has imported."""

    def __init__(self, fd: int, listening: bool, socket_path: str | None, idle: float) -> None:
        self.selector = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.kept = listening  # a kept-warm server: it checks its modules' files before each new sweep
        self.conns: dict[int, tuple[socket.socket, list[bytes]]] = {}
        if listening:
            self.listener = socket.socket(fileno=fd)
            self.selector.register(self.listener, selectors.EVENT_READ, "accept")
            self.inode = os.stat(socket_path).st_ino if socket_path else None
        else:
            self._add(socket.socket(fileno=fd))
        self.socket_path, self.idle = socket_path, idle
        self.children: dict[int, tuple[int, int]] = {}  # pid: (connection fd, request id)
        self.learning: dict[int, bytes] = {}  # a pipe from each running trial: the modules it imported
        self.files: dict[str, int] = {}
        self.snapshot: Any = None
        self.retiring = False
        self.sweeps = 0
        self.started = time.time()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        self.selector.register(self.wake_r, selectors.EVENT_READ, "child")

    def _add(self, conn: socket.socket) -> None:
        self.conns[conn.fileno()] = (conn, [b""])
        self.selector.register(conn, selectors.EVENT_READ, "conn")

    def _answer(self, fd: int, answer: Mapping[str, Any]) -> None:
        conn = self.conns.get(fd)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn[0].sendall((json.dumps(dict(answer)) + "\n").encode())

    def loop(self) -> int:
        last_busy = time.monotonic()
        while True:
            timeout = None
            if not self.conns and not self.children:
                if self.listener is None or self.retiring:
                    return 0
                timeout = self.idle - (time.monotonic() - last_busy)
                if timeout <= 0:
                    if self._release():
                        return 0
                    timeout = 0.1  # a driver holds the lock: it is connecting
            for key, _ in self.selector.select(timeout):
                if key.data == "child":
                    with contextlib.suppress(BlockingIOError):
                        os.read(self.wake_r, 4096)
                elif key.data == "accept":
                    self._accept()
                elif key.data == "learn":
                    self._read_learning(int(key.fd))
                else:
                    self._read(int(key.fd))
            self._reap()
            if self.conns or self.children:
                last_busy = time.monotonic()

    def _accept(self) -> None:
        assert self.listener is not None
        with contextlib.suppress(BlockingIOError, InterruptedError):
            conn, _ = self.listener.accept()
            peercred = getattr(socket, "SO_PEERCRED", None)  # Linux; elsewhere the 0700 folder guards it
            if peercred is not None:
                peer = conn.getsockopt(socket.SOL_SOCKET, peercred, 12)
                if int.from_bytes(peer[4:8], sys.byteorder) != os.getuid():  # another user's process
                    conn.close()
                    return
            self._add(conn)

    def _read(self, fd: int) -> None:
        conn, pending = self.conns[fd]
        try:
            chunk = conn.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:  # the driver closed its connection, or died: its trials end with it
            self.selector.unregister(conn)
            del self.conns[fd]
            conn.close()
            for pid, (owner, _) in list(self.children.items()):
                if owner == fd:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    self.children[pid] = (-1, 0)
            return
        pending[0] += chunk
        while b"\n" in pending[0]:
            line, pending[0] = pending[0].split(b"\n", 1)
            with contextlib.suppress(ValueError):
                self._handle(fd, json.loads(line))

    def _handle(self, fd: int, request: Mapping[str, Any]) -> None:
        if "hello" in request:
            why = "it was asked to stop" if self.retiring else _changed(self.files) if self.kept else None
            if why:
                self._retire(unlink=False)  # the driver, holding the lock, puts a fresh server in its place
                self._answer(fd, {"stale": why})
                return
            try:
                preload(Path(request["hello"]))
            except Exception:  # a trial that needs it fails in its own log, named there
                traceback.print_exc()
            self.snapshot = _snapshot()
            if self.kept:
                self.files = {**_module_files(), **self.files}  # mtimes as first imported
            self.sweeps += 1
            self._answer(fd, {"ready": os.getpid()})
        elif "status" in request or "stop" in request:
            if "stop" in request:
                self._retire(unlink=True)
            self._answer(fd, self._status())
        elif "argv" in request and self.snapshot is not None:
            self._fork(fd, request)

    def _status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "cwd": os.getcwd(),
            "started": self.started,
            "sweeps": self.sweeps,
            "trials_running": len(self.children),
            "connections": len(self.conns),
            "keep_warm": self.idle,
            "stopping": self.retiring,
        }

    def _fork(self, fd: int, request: Mapping[str, Any]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        learn_r, learn_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            listener = (self.listener.fileno(),) if self.listener is not None else ()
            others = (*self.conns, *listener, self.wake_r, self.wake_w, learn_r, *self.learning)
            _child(request, self.snapshot, others, learn_w)
        os.close(learn_w)
        self.learning[learn_r] = b""
        self.selector.register(learn_r, selectors.EVENT_READ, "learn")
        self.children[pid] = (fd, request["id"])
        self._answer(fd, {"id": request["id"], "pid": pid})

    def _read_learning(self, fd: int) -> None:
        data = os.read(fd, 65536)
        if data:
            self.learning[fd] += data
            return
        self.selector.unregister(fd)
        os.close(fd)
        with contextlib.suppress(ValueError):
            _import_quietly(json.loads(self.learning.pop(fd) or b"[]"))
        if self.kept:
            self.files = {**_module_files(), **self.files}

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            owner, request_id = self.children.pop(pid, (-1, 0))
            self._answer(owner, {"id": request_id, "rc": os.waitstatus_to_exitcode(status)})

    def _retire(self, unlink: bool) -> None:
        """Take no new sweep; end once the connected ones and their trials are done."""
        self.retiring = True
        if self.listener is not None:
            if unlink:
                self._unlink()
            self.selector.unregister(self.listener)
            self.listener.close()
            self.listener = None

    def _unlink(self) -> None:
        with contextlib.suppress(OSError):
            if self.socket_path and os.stat(self.socket_path).st_ino == self.inode:
                os.unlink(self.socket_path)

    def _release(self) -> bool:
        """Idle for ``idle`` seconds: remove the socket and end, unless a driver is connecting right now."""
        assert self.socket_path is not None
        with _locked(Path(self.socket_path).with_suffix(".lock"), blocking=False) as locked:
            if not locked:
                return False
            self._unlink()
            return True


def _snapshot() -> Any:
    from .trialproc import ProcessSnapshot

    return ProcessSnapshot()


def serve(args: Any) -> int:
    """The trial server's main: ``--serve-fd FD`` (a sweep's own) or ``--listen-fd FD`` (kept warm)."""
    listening = args.listen_fd is not None
    if not listening:
        die_with_parent(int(os.environ.get(PARENT_ENV) or 0) or None)
    server = _Server(args.listen_fd if listening else args.serve_fd, listening, args.socket, args.idle)
    return server.loop()


def _import_quietly(names: list[str]) -> None:
    import importlib

    for name in names:
        if name not in sys.modules:
            with contextlib.suppress(BaseException):
                importlib.import_module(name)


def die_with_parent(parent: int | None) -> None:
    """Ask the kernel to SIGKILL this process when ``parent`` dies (Linux; elsewhere a no-op)."""
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
