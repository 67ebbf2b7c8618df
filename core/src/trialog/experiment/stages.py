"""The bodies of :class:`trialog.Experiment`'s stages and run-folder helpers; the class's methods delegate here.

:func:`begin_run`, :func:`end_epoch`, :func:`finish_run`, :func:`fail_run` and :func:`close` write run.json,
the results summary and the checkpoints around the stages :func:`trialog.experiment.lifecycle.drive_lifecycle` orders;
:func:`save_config` writes ``config/<name>.json``. ``exp`` is an Experiment (typed ``Any``: this module never
imports :mod:`trialog.experiment.experiment`).
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import os
import threading
import traceback
from pathlib import Path
from typing import Any

from trialog.errors import ConfigError
from trialog.fileio import inside, is_disk_full
from trialog.loggers.dispatch import to_scalar
from trialog.run.capture import ConsoleCapture, write_error
from trialog.run.folder import RunMeta, atomic_write_json
from trialog.run.redact import find_credentials, redact, redact_text

#: Members trialog-trixi's classes add (its ``TrixiAPI`` mixin): named when an Experiment lacks them.
TRIXI_MEMBERS = frozenset(
    "elog exp_name get_result_without_epoch save_dict load_dict save_numpy_data load_numpy_data save_pickle "
    "load_pickle save_file".split()
)


def missing_attribute(exp: Any, name: str) -> AttributeError:
    """The error for an attribute an Experiment lacks; trixi's names say where they went."""
    if name in TRIXI_MEMBERS:
        return AttributeError(
            f"{type(exp).__name__}.{name} is trixi's API, which comes with trialog-trixi: pip install "
            "trialog-trixi and subclass trialog_trixi.TrixiExperiment (or trixi's Experiment / PytorchExperiment)"
        )
    return AttributeError(f"{type(exp).__name__!r} object has no attribute {name!r}")


def snapshot_after_init(cls: type) -> None:
    """Wrap ``cls``'s own constructor so that what exists when it returns is recorded as configuration."""
    init = cls.__dict__.get("__init__")
    if init is not None and not getattr(init, "_trialog_snapshot", False):

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kw: Any) -> None:
            init(self, *args, **kw)
            self._reserved_attributes = frozenset(self.__dict__) | {"_reserved_attributes"}

        __init__._trialog_snapshot = True  # type: ignore[attr-defined]
        cls.__init__ = __init__  # type: ignore[misc]


def plain_config(exp: Any) -> dict[str, Any]:
    """The config as loggers and plugins see it: plain values, credentials redacted."""
    plain = exp.config.to_plain() if hasattr(exp.config, "to_plain") else dict(exp.config)
    return redact(plain)


def begin_run(exp: Any) -> None:
    exp._saved_events.thread_id = threading.get_ident()
    exp._run_lock.acquire()  # released when an earlier run() ended
    exp.meta.update(status="running", end=None, pid=os.getpid())
    if exp._console is not None:
        exp._console.start()
    exp.meta.start_heartbeat()
    exp.clog.log_config(plain_config(exp))
    exp._fire("on_run_start", experiment=exp, run=copy.deepcopy(exp.meta.data), config=plain_config(exp))


def end_epoch(exp: Any, epoch: int) -> None:
    exp._fire("on_epoch_end", experiment=exp, epoch=epoch)
    last = epoch + 1 >= exp.n_epochs
    if exp.checkpoint_every and ((epoch + 1) % exp.checkpoint_every == 0 or last or exp._stop_requested):
        exp.save_checkpoint()
    exp._results.save_summary()
    exp.meta.update(epoch=epoch)


def finish_run(exp: Any, status: str | None) -> None:
    if status is None:
        status = "stopped" if exp._stop_requested else "finished"
    exp.wait_checkpoints()
    summary = exp.save_results()
    exp.clog.flush()
    exp.clog.wait_idle()
    exp.meta.finish(status, epoch=exp.epoch)
    exp._run_lock.release()
    _stop_console(exp._console)
    exp._fire("on_run_end", experiment=exp, run=copy.deepcopy(exp.meta.data), summary=summary)


def fail_run(exp: Any, exc: BaseException, status: str) -> None:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    with contextlib.suppress(Exception):
        exp.process_err(exc)
    with contextlib.suppress(Exception):
        exp.wait_checkpoints()
    with contextlib.suppress(Exception):
        exp._results.save_summary()
    error = redact_text(f"{type(exc).__name__}: {exc}")
    crash: dict[str, Any] = {}
    if exp._console is not None:
        with contextlib.suppress(OSError):
            crash["traceback"] = write_error(exp.log_dir, exc)
    try:
        exp.meta.finish(status, error=error, epoch=exp.epoch, **crash)
    except OSError as meta_exc:  # run.json cannot be written (a full disk): say so in run.lock
        exp._run_lock.mark_ended(f"disk full ({error})" if is_disk_full(meta_exc) else error)
    exp._run_lock.release()
    exp._fire("on_run_error", experiment=exp, run=copy.deepcopy(exp.meta.data), error=exc, traceback=tb)
    with contextlib.suppress(Exception):
        exp.clog.flush()
    _stop_console(exp._console)


def close(exp: Any) -> dict[str, Any]:
    if exp._closed:
        return {}
    exp._closed = True
    exp._finalizer.detach()
    try:
        exp.wait_checkpoints()
    finally:
        if exp.meta.data.get("status") == "running":
            exp.save_results()
            exp.meta.finish("finished", epoch=exp.epoch)
        exp._results.flush()  # the columnar sidecar too: nothing left for interpreter exit to write
        exp.meta.stop_heartbeat()
        exp._run_lock.release()
        _stop_console(exp._console)
    return exp.clog.close()


def _stop_console(console: ConsoleCapture | None) -> None:
    if console is not None:
        console.stop()


def close_quietly(clog: Any, meta: RunMeta, console: ConsoleCapture | None = None) -> None:
    """Interpreter exit or garbage collection: flush what the loggers hold; never raise from here."""
    with contextlib.suppress(Exception):
        _stop_console(console)
    with contextlib.suppress(Exception):
        meta.stop_heartbeat()
    with contextlib.suppress(Exception):
        clog.close()


def add_running_mean(
    exp: Any, value: Any, name: str, counter: float | None, tag: str | None, plot_result: bool
) -> None:
    """``add_result(plot_running_mean=True)``: record ``value``, plot the mean of the last values."""
    if type(value) is not float and type(value) is not int:
        value = to_scalar(value)
    if not isinstance(value, (int, float)):
        raise ConfigError(
            f"add_result({name!r}, plot_running_mean=True): a running mean needs a number, not "
            f"{type(value).__name__}"
        )
    exp._add_result(value, name, counter, tag, False, epoch=exp.epoch)
    window = exp._running_means.get(name)
    if window is None:
        length = max(1, int(exp.running_mean_length))
        window = exp._running_means[name] = collections.deque(maxlen=length)
    window.append(value)
    if plot_result and exp._value_listeners:
        # the hook spec still types counter as int; float counters (trixi's) reach loggers as they are
        exp.clog.show_value(sum(window) / len(window), name, counter=counter, tag=tag)


def config_path(exp: Any, name: str) -> Path:
    """``config/<name>.json`` inside the run's config folder (a name that leaves it is refused)."""
    return inside(exp.config_dir, name if name.endswith(".json") else name + ".json", "config name")


def save_config(exp: Any, data: Any, name: str) -> Path:
    from trialog.config.config import Config

    path = config_path(exp, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if find_credentials(data):
        data = Config(config=redact(data)) if isinstance(data, Config) else redact(data)
    if hasattr(data, "dump"):
        data.dump(path)
    else:
        atomic_write_json(path, data)
    return path


__all__ = [
    "TRIXI_MEMBERS",
    "add_running_mean",
    "begin_run",
    "close",
    "close_quietly",
    "config_path",
    "end_epoch",
    "fail_run",
    "finish_run",
    "missing_attribute",
    "plain_config",
    "save_config",
    "snapshot_after_init",
]


def load_config(exp: Any, name: str) -> Any:
    """``config/<name>.json`` as a :class:`trialog.Config` (tags stay unresolved)."""
    from trialog.config.config import Config

    return Config(config_path(exp, name))
