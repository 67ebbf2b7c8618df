"""Whether a run is alive: the process behind it (``/proc``), its heartbeat, and the run folder's lock.

``effective_status`` turns a stale "running" into "killed". :class:`RunLock` is the exclusive lock on a run
folder (``run.lock``, ``fcntl.flock``) one process holds for the life of its Experiment; the kernel
releases it when the process dies, SIGKILL included.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialog.errors import RunFolderError
from trialog.fileio import disk_full_error, is_disk_full

__all__ = [
    "LOCK_FILE",
    "STALE_INTERVALS",
    "RunLock",
    "effective_status",
    "lock_holder",
    "now_iso",
    "parse_time",
    "pid_alive",
    "run_status",
]

#: A "running" run whose heartbeat is older than this many heartbeat intervals reads as killed.
STALE_INTERVALS = 3.0
LOCK_FILE = "run.lock"


def now_iso() -> str:
    """The current local time as ISO 8601 with offset and microseconds (sortable, parseable)."""
    return _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="microseconds")


def parse_time(value: Any) -> _dt.datetime | None:
    """Parse a time written by :func:`now_iso` (or trixi's ``%y-%m-%d_%H:%M:%S``); None when absent/unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = _dt.datetime.strptime(value, "%y-%m-%d_%H:%M:%S")
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (Linux), read once; None elsewhere/gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    return stat[stat.rfind(")") + 2 :].split()


def _start_ticks(fields: list[str] | None) -> int | None:
    try:
        return int(fields[19]) if fields else None  # field 22 overall
    except (IndexError, ValueError):
        return None


def process_start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), to tell a reused pid from ours."""
    return _start_ticks(_proc_stat(pid))


def pid_alive(pid: int, start_ticks: int | None = None) -> bool:
    """Whether process ``pid`` on this host still runs (a zombie or a reused pid counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    fields = _proc_stat(pid)  # one read gives the state and the start time
    if fields is None:
        return True  # no /proc (not Linux): kill(0) is all there is
    if fields and fields[0] in ("Z", "X"):
        return False
    current = _start_ticks(fields) if start_ticks is not None else None
    return current is None or current == start_ticks


def effective_status(meta: Mapping[str, Any], now: _dt.datetime | None = None) -> str:
    """The status a run really has: "running" turns into "killed" when its process is gone or silent.

    On the host that wrote the run the process decides (gone, a zombie or a reused pid: killed; alive:
    running, even when it is slow to beat). Elsewhere the heartbeat decides: older than
    ``STALE_INTERVALS`` heartbeat intervals reads as killed.
    """
    status = str(meta.get("status") or "unknown")
    if status != "running":
        return status
    pid = meta.get("pid")
    if meta.get("host") == socket.gethostname() and isinstance(pid, int):
        return "running" if pid_alive(pid, meta.get("pid_start_ticks")) else "killed"
    beat = parse_time(meta.get("heartbeat")) or parse_time(meta.get("start"))
    interval = meta.get("heartbeat_interval")
    if beat is not None and isinstance(interval, (int, float)) and interval > 0:
        now = now or _dt.datetime.now(_dt.UTC)
        if (now - beat).total_seconds() > STALE_INTERVALS * interval:
            return "killed"
    return status


def run_status(
    meta: Mapping[str, Any], run_dir: str | os.PathLike[str] | None = None
) -> tuple[str, str | None]:
    """``(status, why)``: the one status of a trialog run, for ``Run``, ``runs ls``, filters and the browser.

    ``meta`` is run.json as read (its stored status). A stored "running" is "killed" when the process is
    gone (same host: at once, from ``/proc``) or its heartbeat stopped (other hosts: ``STALE_INTERVALS``
    intervals), and "error" when ``run.lock`` says the run ended but could not write run.json (a full
    disk); ``why`` says which. A caller holding an older copy of run.json passes ``run_dir``: a run that
    looks dead is checked against run.json on disk first, so a run that just finished reads "finished",
    never "killed" for a moment (running -> finished, no flicker).
    """
    status = effective_status(meta)
    if meta.get("status") != "running" or run_dir is None:
        return status, None
    ended = lock_holder(run_dir).get("ended")
    if ended:
        return "error", f"ended: {ended}"
    if status == "running":
        return status, None
    try:  # the process is gone: did it finish after our copy of run.json was read?
        fresh = json.loads((Path(run_dir) / "run.json").read_bytes())
    except (OSError, ValueError):
        fresh = None
    if isinstance(fresh, dict) and fresh.get("status") != "running":
        return str(fresh.get("status") or "unknown"), None
    return status, None


#: The holder record is rewritten in place at this size: marking a run ended needs no free block.
_LOCK_SIZE = 512


def _holder_record(**fields: Any) -> bytes:
    text = json.dumps(fields)
    data = text.encode("utf-8")[: _LOCK_SIZE - 1]
    return data + b" " * (_LOCK_SIZE - 1 - len(data)) + b"\n"


def lock_holder(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """What ``run.lock`` of ``run_dir`` says (pid, host, time, and ``ended`` when a run could not write
    run.json as it ended); empty when there is no such file or it says nothing readable. Takes no lock."""
    path = Path(run_dir) / LOCK_FILE
    try:
        if path.is_symlink():
            return {}
        raw = path.read_bytes()[: _LOCK_SIZE * 2]
        data = json.loads(raw.decode("utf-8").strip() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class RunLock:
    """The exclusive lock on one run folder: ``fcntl.flock`` on ``run.lock``, held while a process uses it.

    ``acquire`` raises :class:`~trialog.errors.RunFolderError` naming the pid and host of the holder when
    another process (or another Experiment in this one) holds it. The kernel releases the lock when the
    holder exits, however it exits. Where ``fcntl`` does not exist (Windows) the folder is not locked.
    """

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock (idempotent) and write this process's pid and host into the lock file."""
        if self._fd is not None:
            return self
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            if self.path.is_symlink():
                raise RunFolderError(
                    f"{self.path} is a symbolic link (to {os.readlink(self.path)}); trialog does not follow "
                    "links in a run folder: remove it"
                ) from None
            if is_disk_full(exc):
                raise disk_full_error(self.path, exc) from exc
            raise RunFolderError(
                f"cannot open the run folder lock {self.path}: {exc.strerror or exc}"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = lock_holder(self.run_dir)
            os.close(fd)
            who = (
                f"pid {holder.get('pid')} on {holder.get('host')}"
                if holder.get("pid") is not None
                else "another process (starting: it has not written its pid yet)"
            )
            raise RunFolderError(
                f"run folder {self.run_dir} is in use by {who}, which holds {self.path}; one process at a "
                "time may write a run folder: wait for it to end or stop it"
            ) from None
        try:
            os.pwrite(fd, _holder_record(pid=os.getpid(), host=socket.gethostname(), time=now_iso()), 0)
            os.ftruncate(fd, _LOCK_SIZE)
        except OSError as exc:
            os.close(fd)
            if is_disk_full(exc):
                raise disk_full_error(self.path, exc) from exc
            raise
        self._fd = fd
        return self

    def mark_ended(self, reason: str) -> bool:
        """Record in the lock file, in place, that the run ended (for when run.json cannot be written)."""
        if self._fd is None:
            return False
        record = _holder_record(pid=os.getpid(), host=socket.gethostname(), time=now_iso(), ended=reason)
        try:
            os.pwrite(self._fd, record, 0)
            os.fsync(self._fd)
        except OSError:
            return False
        return True

    def release(self) -> None:
        """Let go of the lock (idempotent). The file stays: deleting it would let two processes lock two files."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            self._fd = None
            with contextlib.suppress(OSError):
                os.close(fd)
