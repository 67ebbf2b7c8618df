"""The early-writeback file formats write checkpoints through: disk writes overlap serialisation, and the
payload is hashed while it is written (the checksum the checkpoint manifest stores)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["WritebackFile"]

_SYNC_FILE_RANGE_WRITE = 2  # start writeback of the range without waiting for it
#: Writes at least this large are hashed on a helper thread while the caller's thread writes them.
_PARALLEL_HASH_BYTES = 1 << 20

_pools: dict[str, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def helper_pool(name: str) -> ThreadPoolExecutor:
    """The process's one-thread pool ``name`` (``"hash"``, ``"crc"``), made on first use.

    A forked child starts without the parent's pools: their worker threads do not exist there, so work
    handed to them would never run (a checkpoint saved in a child would wait forever).
    """
    with _pool_lock:
        pool = _pools.get(name)
        if pool is None:
            pool = _pools[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"trialog-{name}")
        return pool


def on_helper(name: str, function: Callable[..., Any], *args: Any) -> Future[Any]:
    """``function(*args)`` on the helper thread ``name``; run at once on this thread when the interpreter is
    shutting down (an ``atexit`` handler saving a last checkpoint), where no new thread work is taken."""
    try:
        return helper_pool(name).submit(function, *args)
    except RuntimeError:  # "cannot schedule new futures after (interpreter) shutdown"
        done: Future[Any] = Future()
        try:
            done.set_result(function(*args))
        except BaseException as exc:
            done.set_exception(exc)
        return done


def _forget_pools_in_child() -> None:
    global _pool_lock
    _pools.clear()
    _pool_lock = threading.Lock()  # it may have been held by a thread of the parent at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_in_child)


def _find_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_sync_file_range = _find_sync_file_range()


class WritebackFile:
    """A binary file that asks the kernel to start writing each 32 MB to disk as soon as it is written.

    For formats that write large files: the manager fsyncs every checkpoint. Left alone, the kernel keeps
    the whole file dirty in memory and the fsync then writes all of it while the caller waits; started
    early, the disk writes overlap with serialisation and the fsync finds little left to do (RocksDB's
    ``bytes_per_sync``). Linux only; a plain file elsewhere.

    ``hasher``: a hash object (``update``) fed every byte written, in order; large writes are hashed on a
    helper thread at the same time as they are written, so the checksum costs no extra pass. ``error``
    keeps the ``OSError`` a write raised, for formats whose serialiser hides it (torch's).
    """

    CHUNK = 32 << 20

    def __init__(self, raw: Any, *, hasher: Any = None) -> None:
        self.raw = raw
        self.hasher = hasher
        self.written = 0
        self.kicked = 0
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        hashing = None
        if self.hasher is not None:
            if view.nbytes >= _PARALLEL_HASH_BYTES:
                hashing = on_helper("hash", self.hasher.update, view)
            else:
                self.hasher.update(view)
        try:
            self._write_all(view)
        finally:
            if hashing is not None:
                hashing.result()
        self.written += view.nbytes
        if _sync_file_range is not None and self.written - self.kicked >= self.CHUNK:
            _sync_file_range(
                self.raw.fileno(), self.kicked, self.written - self.kicked, _SYNC_FILE_RANGE_WRITE
            )
            self.kicked = self.written
        return view.nbytes

    def _write_all(self, view: memoryview) -> None:
        try:
            n = self.raw.write(view)
            while n is not None and n < view.nbytes:  # unbuffered writes may be partial
                more = self.raw.write(view[n:])
                n += more or 0
        except OSError as exc:
            self.error = exc
            raise

    def flush(self) -> None:
        self.raw.flush()
