"""The ``local`` sweeper: every trial a process forked from a warm trial server, N at a time.

The driver starts one trial server per sweep (``python -m trialog_sweep.sweep_local --serve SWEEP_DIR``): it
imports trialog, loads the plugins, imports the framework plugin (the sweep's trainer, which imports
torch) and the user's modules the config names (``"model:Net"`` beside the config, the sweep's
Experiment class) once, with what their source imports inside functions and what the plugins'
``preload_trials`` hook imports (trialog-torch: ``torch._dynamo``), and then forks one child per trial. The child
resets every per-process state (:class:`trialog_sweep.trialproc.ProcessSnapshot`: fresh RNGs, environment,
logging, plugin registrations, the sweep's recorded thread count) and runs the trial exactly as a fresh
``python -m trialog_sweep.sweep_local
TRIAL_FILE`` process would, so a trial's results are bitwise those of the trial run alone; starting it
costs a fork instead of an interpreter and the torch import. The server never runs a trial itself
(nor any torch computation: a fork after OpenMP started would not be safe).

Crash isolation stays: a trial child that dies (a crash, SIGKILL, out of memory) takes nothing else
down and is started again with ``resume=<its run folder>`` up to ``max_failures`` times, so it continues
from its last checkpoint with trialog's exact resume; a server that dies is started again. The server
dies with the driver and the trial children with the server (``PR_SET_PDEATHSIG`` on Linux), and
``trialog sweep --resume SWEEP_DIR`` continues every trial that did not finish.

Options (``--option KEY=VALUE``): ``warm=0`` starts a fresh interpreter per trial instead (no server).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import json
import os
import queue
import re
import selectors
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from trialog.errors import ConfigError, TrialogError

from .sweep import Sweep, read_sweep, run_trial

__all__ = ["LocalSweeper", "TrialServer", "main"]

_PARENT_ENV = "TRIALOG_SWEEP_PARENT"
_PR_SET_PDEATHSIG = 1
_OPTIONS = ("warm",)


class LocalSweeper:
    """Run a sweep's trials in ``parallel`` processes on this machine (forked from a warm trial server)."""

    name = "local"

    def __init__(
        self,
        parallel: int | None = None,
        address: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if address:
            raise ConfigError("--address connects to a Ray cluster; use --sweeper ray with it")
        self.parallel = 1 if parallel is None else int(parallel)
        if self.parallel < 1:
            raise ConfigError(f"--parallel must be >= 1, got {parallel}")
        options = dict(options or {})
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ConfigError(f"--option {unknown}: the local sweeper knows only {', '.join(_OPTIONS)}")
        self.warm = str(options.get("warm", "1")).lower() not in ("0", "false", "no")
        self._server: TrialServer | None = None
        self._server_lock = threading.Lock()

    def run(self, sweep: Sweep) -> None:
        if sweep.spec.early_stopping is not None:
            raise ConfigError(
                "sweep key 'early_stopping': the local sweeper runs every trial to the end; use --sweeper ray "
                "for ASHA early stopping"
            )
        if sweep.spec.search != "random":
            raise ConfigError(f"sweep key 'search': {sweep.spec.search!r} needs --sweeper ray")
        todo = sweep.pending()
        try:
            with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="trialog-sweep") as pool:
                for future in [pool.submit(self._trial, sweep, t["id"]) for t in todo]:
                    future.result()
        finally:
            if self._server is not None:
                self._server.close()
                self._server = None

    def _start(self, sweep: Sweep, cmd: list[str], log: Path) -> int:
        """Run one attempt of a trial (``cmd``: the trial file and ``--resume``); its exit status."""
        if not self.warm:
            env = sweep_env(sweep)
            with open(log, "ab") as out:
                return subprocess.call(
                    [sys.executable, "-m", "trialog_sweep.sweep_local", *cmd],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
        with self._server_lock:
            if self._server is None or not self._server.alive():
                self._server = TrialServer(sweep)
            server = self._server
        return server.run(cmd, log)

    def _trial(self, sweep: Sweep, trial_id: str) -> None:
        trial = sweep.trial(trial_id)
        file = sweep.write_trial_file(trial)  # rewritten: it carries the sweep's recorded thread count
        log = sweep.folder / "trials" / f"{trial_id}.log"
        failures = 0
        while True:
            previous = sweep.run_folder(trial_id)
            sweep.update(
                trial_id, status="running", attempts=trial.get("attempts", 0) + 1, **sweep.collect(trial_id)
            )
            cmd = [str(file)]
            if previous is not None:
                cmd += ["--resume", str(previous)]
            rc = self._start(sweep, cmd, log)
            fields = sweep.collect(trial_id)
            if rc == 0:
                sweep.update(trial_id, status="finished", error=None, **fields)
                return
            failures += 1
            why = f"exit status {rc}" if rc > 0 else f"killed by signal {-rc}"
            if failures > sweep.spec.max_failures:
                sweep.update(trial_id, status="error", error=f"{why}; see {log}", **fields)
                return
            sweep.update(trial_id, error=f"attempt {failures}: {why}; retrying", **fields)


def sweep_env(sweep: Sweep) -> dict[str, str]:
    """The environment of a sweep's trial processes: the sweep's thread count, the driver's pid."""
    from .trialproc import environment

    return environment(sweep.threads, {_PARENT_ENV: str(os.getpid())})


class TrialServer:
    """The driver's handle on a warm trial server: ``run(argv, log)`` forks a trial there, returns its status.

    Thread-safe: the local sweeper's N driver threads share one server; each request gets its own answer.
    """

    def __init__(self, sweep: Sweep) -> None:
        (sweep.folder / "trials").mkdir(exist_ok=True)
        self._log = open(sweep.folder / "trials" / "server.log", "ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "trialog_sweep.sweep_local", "--serve", str(sweep.folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=sweep_env(sweep),
        )
        self._lock = threading.Lock()
        self._answers: dict[int, queue.Queue[dict[str, Any] | None]] = {}
        self._next = 0
        self._reader = threading.Thread(target=self._read, name="trialog-trial-server", daemon=True)
        self._reader.start()

    def alive(self) -> bool:
        return self._proc.poll() is None

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            with contextlib.suppress(ValueError):
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
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(
                    (json.dumps({"id": request_id, "argv": argv, "log": str(log)}) + "\n").encode()
                )
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError):
                box.put(None)
        try:
            while True:
                answer = box.get()
                if answer is None:
                    return 1 << 8  # the server died (see trials/server.log): a failed attempt
                if "rc" in answer:
                    return int(answer["rc"])
        finally:
            with self._lock:
                self._answers.pop(request_id, None)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()  # EOF: the server exits once its children are reaped
        try:
            self._proc.wait(600)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            self._proc.kill()
            self._proc.wait()
        self._reader.join()
        self._log.close()


# ---------------------------------------------------------------------------------------- the server

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


def _child(
    request: Mapping[str, Any], snapshot: Any, threads: int, closing: tuple[int, ...], learn_fd: int
) -> None:
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
            os.close(fd)
        _die_with_parent(os.getppid())
        log_fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        os.close(null)
        args = _parser().parse_args(request["argv"])
        sys.argv = ["trialog_sweep.sweep_local", *request["argv"]]
        snapshot.reset(threads)
        code = _run_one(args)
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
            atexit._run_exitfuncs()  # what the interpreter's exit would run
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(sweep_dir: Path) -> int:
    """The trial server's loop: requests on stdin, ``{"id", "pid"}`` and ``{"id", "rc"}`` answers on stdout."""
    from .trialproc import ProcessSnapshot, threads_from_env

    _die_with_parent(int(os.environ.get(_PARENT_ENV) or 0) or None)
    answer_fd = os.dup(1)
    os.dup2(2, 1)  # nothing but answers on the answer pipe: stray prints go to the server log
    preload(sweep_dir)
    threads = threads_from_env() or 1
    snapshot = ProcessSnapshot()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    answers = os.fdopen(answer_fd, "w", buffering=1)
    children: dict[int, int] = {}
    learning: dict[int, bytes] = {}  # a pipe from each running trial: the modules it imported
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
    selector.register(wake_r, selectors.EVENT_READ, "child")
    pending = b""
    open_input = True
    while open_input or children:
        for key, _ in selector.select():
            if key.data == "child":
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
                continue
            if key.data == "learn":
                fd = int(key.fd)
                data = os.read(fd, 65536)
                if data:
                    learning[fd] += data
                    continue
                selector.unregister(fd)
                os.close(fd)
                _learn(learning.pop(fd))
                continue
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                open_input = False
                selector.unregister(sys.stdin.fileno())
                continue
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                sys.stdout.flush()
                sys.stderr.flush()
                learn_r, learn_w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    others = (answer_fd, wake_r, wake_w, learn_r, *learning)
                    _child(request, snapshot, threads, others, learn_w)
                os.close(learn_w)
                learning[learn_r] = b""
                selector.register(learn_r, selectors.EVENT_READ, "learn")
                children[pid] = request["id"]
                _answer(answers, {"id": request["id"], "pid": pid})
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            request_id = children.pop(pid, None)
            if request_id is not None:
                _answer(answers, {"id": request_id, "rc": os.waitstatus_to_exitcode(status)})
    return 0


def _learn(data: bytes) -> None:
    """Import in the server what a trial imported (never run: no thread starts, no torch computation)."""
    with contextlib.suppress(ValueError):
        _import_quietly(json.loads(data or b"[]"))


def _import_quietly(names: list[str]) -> None:
    import importlib

    for name in names:
        if name not in sys.modules:
            with contextlib.suppress(BaseException):
                importlib.import_module(name)


def _answer(stream: IO[str], answer: Mapping[str, Any]) -> None:
    with contextlib.suppress(BrokenPipeError):
        stream.write(json.dumps(dict(answer)) + "\n")


def _die_with_parent(parent: int | None) -> None:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trialog_sweep.sweep_local")
    parser.add_argument("trial_file", type=Path, nargs="?")
    parser.add_argument("--resume", type=Path)
    parser.add_argument(
        "--serve", type=Path, metavar="SWEEP_DIR", help="run a warm trial server (the driver's)"
    )
    return parser


def _run_one(args: Any) -> int:
    run_dir = run_trial(args.trial_file, resume=args.resume)
    print(f"run folder: {run_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m trialog_sweep.sweep_local TRIAL_FILE [--resume RUN_DIR]``: one trial process (or ``--serve``)."""
    args: Any = _parser().parse_args(argv)
    if args.serve is not None:
        return serve(args.serve)
    if args.trial_file is None:
        _parser().error("give a TRIAL_FILE (or --serve SWEEP_DIR)")
    _die_with_parent(int(os.environ.get(_PARENT_ENV) or 0) or None)
    return _run_one(args)


if __name__ == "__main__":
    sys.exit(main())
