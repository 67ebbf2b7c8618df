"""One bounded-delivery mechanism: a queue served by its own thread, for every logger that works in background.

:class:`Delivery` is what the dispatcher's background loggers, the chat notifiers, Visdom's sender and
the file logger's writer share:

- **bounded**: at most ``maxsize`` pending items; when full, ``policy`` decides: ``"drop_oldest"``
  (network loggers: the oldest droppable item goes, counted, with one ``TrialogWarning`` at the first
  drop) or ``"block"`` (file writers: the caller waits for room; the waits are counted and timed, and
  nothing is ever dropped).
- **coalescing by key**: an item put with a ``key`` that is still pending replaces the pending one in
  its place (the newest image of a window, a curve to redraw).
- **never dropped**: items put with ``keep=True`` (lifecycle events, flush, close) are never dropped.
- **scheduled**: an item may be ``due`` at a later time (a curve uploaded at most every N seconds);
  :meth:`Delivery.pause` holds everything until a time (a backend's Retry-After). Draining ignores both.
- **drained by deadline**: :meth:`Delivery.close` delivers what it can until the deadline, then stops
  the thread and returns a :class:`DeliveryReport` (delivered, dropped, coalesced, undelivered, ...).

The handler runs on the queue's thread, one item at a time, in order; an exception it raises is
counted and passed to ``on_error`` (or warned about once), and the thread goes on.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from trialog.errors import TrialogWarning, warn_once
from trialog.hooks.contracts import BLOCK, DROP_OLDEST, POLICIES

__all__ = ["BLOCK", "DROP_OLDEST", "POLICIES", "Delivery", "DeliveryReport"]


@dataclass(frozen=True)
class DeliveryReport:
    """What became of the items put into a :class:`Delivery`.

    ``delivered``: handled (raising included, see ``failed``); ``dropped``: removed from a full queue
    (or discarded); ``coalesced``: replaced by a newer item of the same key; ``undelivered``: still
    pending (or being handled) when the deadline passed; ``rejected``: put after close began;
    ``blocked``/``blocked_s``: how often and how long callers waited for room (policy ``"block"``).
    """

    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    coalesced: int = 0
    undelivered: int = 0
    rejected: int = 0
    blocked: int = 0
    blocked_s: float = 0.0


class Delivery:
    """A bounded queue served in order by its own daemon thread, which calls ``handler(item)``.

    Args:
        handler: called on the queue's thread with each item.
        maxsize: pending items before ``policy`` applies (items put with ``keep=True`` count, but are
            never dropped; a full queue of such items admits more).
        policy: ``"drop_oldest"`` or ``"block"`` (see the module docstring).
        name: the thread's name.
        label: who is delivering, for warnings (e.g. ``"logger 'vis' (visdom)"``).
        on_error: ``on_error(item, exc)`` for an exception of the handler; default: warn once.
        warn_drops: warn (once, at the first drop) when an item is dropped.
    """

    def __init__(
        self,
        handler: Callable[[Any], Any],
        *,
        maxsize: int = 1000,
        policy: str = DROP_OLDEST,
        name: str = "trialog-delivery",
        label: str | None = None,
        on_error: Callable[[Any, BaseException], Any] | None = None,
        warn_drops: bool = True,
    ):
        if policy not in POLICIES:
            raise ValueError(f"delivery policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"delivery maxsize must be a positive integer, got {maxsize!r}")
        self.handler = handler
        self.maxsize = maxsize
        self.policy = policy
        self.name = name
        self.label = label or name
        self.on_error = on_error
        self.warn_drops = warn_drops
        # An entry is [item, key, keep, due]; ``_pending`` maps a key to its entry while it waits.
        self._entries: deque[list[Any]] = deque()
        self._pending: dict[Hashable, list[Any]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # the server waits here for work
        self._changed = threading.Condition(self._lock)  # callers wait here for room / idleness
        self._server_waiting = False
        self._watchers = 0
        self._scheduled = 0  # entries with a due time
        self._resume_at = 0.0
        self._busy = False
        self._draining = 0
        self._closing = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._warned: set[str] = set()
        self._delivered = 0
        self._failed = 0
        self._dropped = 0
        self._coalesced = 0
        self._rejected = 0
        self._blocked = 0
        self._blocked_s = 0.0
        self._undelivered = 0

    # ------------------------------------------------------------------ callers
    def put(
        self,
        item: Any,
        key: Hashable | None = None,
        *,
        keep: bool = False,
        due: float | None = None,
        front: bool = False,
    ) -> bool:
        """Queue ``item``; False if it was refused because close began.

        ``key``: a pending item with the same key is replaced by this one (in its place, keeping its
        ``due``; counted as coalesced); ``keep``: never drop this item; ``due``: ``time.monotonic()``
        value before which it is not delivered (ignored while draining); ``front``: deliver it next (a
        retry).
        """
        drop_warning = None
        with self._lock:
            if self._closing and threading.current_thread() is not self._thread:
                self._rejected += 1
                return False
            if key is not None:
                entry = self._pending.get(key)
                if entry is not None:
                    entry[0] = item
                    if keep:
                        entry[2] = True
                    self._coalesced += 1
                    return True
            if len(self._entries) >= self.maxsize and not keep:
                if self.policy == BLOCK:
                    self._wait_for_room()
                    if self._closing and threading.current_thread() is not self._thread:
                        self._rejected += 1
                        return False
                else:
                    drop_warning = self._drop_oldest()
            entry = [item, key, keep, due]
            if front:
                self._entries.appendleft(entry)
            else:
                self._entries.append(entry)
            if key is not None:
                self._pending[key] = entry
            if due is not None:
                self._scheduled += 1
            if self._thread is None:
                self._start()
            elif self._server_waiting:
                self._wake.notify()
        if drop_warning is not None:
            warnings.warn(drop_warning, TrialogWarning, stacklevel=3)
        return True

    def _wait_for_room(self) -> None:
        # The server thread itself never waits for room it alone can make.
        if threading.current_thread() is self._thread:
            return
        start = time.perf_counter()
        self._blocked += 1
        self._watchers += 1
        try:
            while len(self._entries) >= self.maxsize and not self._closing and self._alive():
                if not any(not e[2] for e in self._entries):
                    break  # only never-dropped items: they are bounded by their own rarity
                self._changed.wait(0.5)
        finally:
            self._watchers -= 1
            self._blocked_s += time.perf_counter() - start

    def _drop_oldest(self) -> str | None:
        for i, entry in enumerate(self._entries):
            if not entry[2]:
                del self._entries[i]
                self._forget(entry)
                self._dropped += 1
                if self._dropped == 1 and self.warn_drops:
                    return (
                        f"trialog: {self.label} cannot keep up: its queue ({self.maxsize} items) is full and "
                        f"the oldest items are being dropped ({self._dropped} dropped so far; the total is "
                        "reported at close)"
                    )
                return None
        return None  # nothing droppable: the item is admitted beyond maxsize

    def _forget(self, entry: list[Any]) -> None:
        if entry[1] is not None and self._pending.get(entry[1]) is entry:
            del self._pending[entry[1]]
        if entry[3] is not None:
            self._scheduled -= 1

    def discard(self) -> int:
        """Drop every pending item (counted as dropped); the number dropped."""
        with self._lock:
            n = len(self._entries)
            self._entries.clear()
            self._pending.clear()
            self._scheduled = 0
            self._dropped += n
            self._changed.notify_all()
        return n

    def pause(self, until: float) -> None:
        """Deliver nothing before ``time.monotonic() >= until`` (a backend asked to wait); draining ignores it."""
        with self._lock:
            self._resume_at = until
            self._wake.notify_all()

    def expedite(self) -> None:
        """Make every scheduled item due now (a flush)."""
        with self._lock:
            for entry in self._entries:
                entry[3] = None
            self._scheduled = 0
            self._wake.notify_all()

    # ------------------------------------------------------------------ state
    def __len__(self) -> int:
        return len(self._entries)

    def pending(self, key: Hashable) -> bool:
        """Whether an item of ``key`` waits."""
        return key in self._pending

    @property
    def closing(self) -> bool:
        """Whether close began (the handler may give up retrying)."""
        return self._closing

    @property
    def cut_off(self) -> bool:
        """Whether close stopped waiting (what the handler does now is counted as undelivered)."""
        return self._stopped

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    @property
    def dropped(self) -> int:
        return self._dropped

    def report(self) -> DeliveryReport:
        with self._lock:
            return self._report()

    def _report(self) -> DeliveryReport:
        return DeliveryReport(
            delivered=self._delivered,
            failed=self._failed,
            dropped=self._dropped,
            coalesced=self._coalesced,
            undelivered=self._undelivered,
            rejected=self._rejected,
            blocked=self._blocked,
            blocked_s=self._blocked_s,
        )

    # ------------------------------------------------------------------ waiting
    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _idle(self) -> bool:
        return not self._entries and not self._busy

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every pending item (scheduled ones too) was handled; False if ``timeout`` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            return self._wait(deadline)

    def _wait(self, deadline: float | None) -> bool:
        self._watchers += 1
        try:
            while not self._idle():
                if not self._alive():
                    return False
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
            return True
        finally:
            self._watchers -= 1

    def drain(self, timeout: float | None = None) -> bool:
        """Deliver everything pending now (due times and pauses ignored) for at most ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._draining += 1
            self._wake.notify_all()
            try:
                return self._wait(deadline)
            finally:
                self._draining -= 1

    def close(self, timeout: float | None = None) -> DeliveryReport:
        """Refuse new items, drain for at most ``timeout`` seconds, stop the thread; what became of everything.

        A second call returns the first one's report.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            if self._stopped:
                return self._report()
            self._closing = True
            self._draining += 1
            self._wake.notify_all()
            self._changed.notify_all()
            if threading.current_thread() is not self._thread:  # the handler closing its own queue
                self._wait(deadline)
            self._undelivered = len(self._entries) + int(self._busy)
            self._entries.clear()
            self._pending.clear()
            self._scheduled = 0
            self._stopped = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(left)
        return self.report()

    # ------------------------------------------------------------------ server thread
    def _start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()

    def _take(self) -> tuple[bool, Any, float | None]:
        """(found, item, None) or (False, None, seconds to wait or None for 'until woken')."""
        now = None
        if not self._draining:
            if self._resume_at:
                now = time.monotonic()
                if now < self._resume_at:
                    return False, None, self._resume_at - now
                self._resume_at = 0.0
            if self._scheduled:
                now = now or time.monotonic()
                soonest = None
                for i, entry in enumerate(self._entries):
                    due = entry[3]
                    if due is None or due <= now:
                        del self._entries[i]
                        self._forget(entry)
                        return True, entry[0], None
                    soonest = due if soonest is None else min(soonest, due)
                return False, None, None if soonest is None else soonest - now
        entry = self._entries.popleft()
        self._forget(entry)
        return True, entry[0], None

    def _serve(self) -> None:
        while True:
            with self._lock:
                self._busy = False
                if self._watchers:
                    self._changed.notify_all()
                while True:
                    if self._stopped:
                        return
                    if self._entries:
                        found, item, wait = self._take()
                        if found:
                            break
                    else:
                        wait = None
                    self._server_waiting = True
                    self._wake.wait(wait)
                    self._server_waiting = False
                self._busy = True
                if self._watchers:
                    self._changed.notify_all()
            try:
                self.handler(item)
            except Exception as exc:
                self._failed += 1
                self._error(item, exc)
            finally:
                self._delivered += 1

    def _error(self, item: Any, exc: BaseException) -> None:
        if self.on_error is not None:
            try:
                self.on_error(item, exc)
            except Exception:  # the thread must outlive a broken error handler too
                pass
            return
        warn_once(
            self._warned,
            "error",
            f"trialog: {self.label} failed to deliver an item: {type(exc).__name__}: {exc} (later "
            "failures are only counted)",
        )
