"""trialog.loggers.delivery.Delivery: the one bounded queue of every background logger (synchronised on events)."""

from __future__ import annotations

import threading
import time
import warnings

import pytest

from trialog.errors import TrialogWarning
from trialog.hooks.contracts import BLOCK, DROP_OLDEST
from trialog.loggers.delivery import Delivery, DeliveryReport

#: Bounds a hang only: every wait in these tests is for an event, never for a time to pass.
HANG = 600.0


class Gate:
    """A handler that records items and holds each one until released (``hold`` set)."""

    def __init__(self, hold: bool = True):
        self.got: list[object] = []
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, item):
        self.entered.release()
        assert self.release.wait(HANG)
        self.got.append(item)

    def wait_entered(self) -> None:
        assert self.entered.acquire(timeout=HANG)


def wait_until(predicate) -> None:
    """Spin until ``predicate()`` holds (a state another thread reaches; there is no event to wait on)."""
    deadline = time.monotonic() + 30
    while not predicate():
        assert time.monotonic() < deadline, "the state was never reached"
        time.sleep(0.001)


def trialog_warnings(records):
    return [str(w.message) for w in records if issubclass(w.category, TrialogWarning)]


def test_items_are_delivered_in_order_on_its_own_thread():
    threads = []
    got = []

    def handler(item):
        threads.append(threading.current_thread().name)
        got.append(item)

    queue = Delivery(handler, name="trialog-test-q")
    assert queue.thread is None  # started on first use
    for i in range(50):
        assert queue.put(i)
    assert queue.wait_idle(HANG)
    assert got == list(range(50)) and set(threads) == {"trialog-test-q"}
    report = queue.close(10)
    assert report == DeliveryReport(delivered=50)
    assert not queue.thread.is_alive()


def test_pending_items_of_a_key_are_coalesced_to_the_newest_in_place():
    gate = Gate()
    queue = Delivery(gate)
    queue.put("first")
    gate.wait_entered()
    queue.put("a1", key="a")
    queue.put("b1", key="b")
    assert queue.put("a2", key="a") and queue.put("a3", key="a")
    assert queue.pending("a") and len(queue) == 2
    gate.release.set()
    assert queue.wait_idle(HANG)
    assert gate.got == ["first", "a3", "b1"]
    # once delivered, a key starts afresh
    gate.release.clear()
    queue.put("x")
    for _ in range(3):
        gate.wait_entered()  # the three above (already released) and now "x", held
    queue.put("a4", key="a")
    queue.put("retry", front=True)  # a retry goes first
    gate.release.set()
    assert queue.wait_idle(HANG) and gate.got[-3:] == ["x", "retry", "a4"]
    assert queue.close(10).coalesced == 2


def test_drop_oldest_counts_warns_once_at_the_first_drop_and_keeps_never_dropped_items():
    gate = Gate()
    queue = Delivery(gate, maxsize=3, policy=DROP_OLDEST, label="logger 'net' (fake)")
    queue.put(0)
    gate.wait_entered()
    queue.put("life", keep=True)
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        for i in range(1, 3):
            queue.put(i)
        assert trialog_warnings(records) == []  # full now ("life" counts), nothing dropped yet
        queue.put(3)
        (message,) = trialog_warnings(records)  # at the first drop, not at close
        assert "logger 'net' (fake)" in message and "1 dropped so far" in message
        for i in range(4, 9):
            queue.put(i)
        assert len(trialog_warnings(records)) == 1  # one warning, then only counted
    assert queue.dropped == 6
    gate.release.set()
    report = queue.close(10)
    assert gate.got == [0, "life", 7, 8]
    assert report.dropped == 6 and report.undelivered == 0 and report.delivered == 4


def test_block_applies_back_pressure_and_counts_the_wait():
    gate = Gate()
    queue = Delivery(gate, maxsize=2, policy=BLOCK)
    queue.put(0)
    gate.wait_entered()
    queue.put(1)
    queue.put(2)
    returned = threading.Event()

    def producer():
        queue.put(3)  # the queue is full: waits for room
        returned.set()

    thread = threading.Thread(target=producer)
    thread.start()
    # The producer is inside put until the handler makes room: wait until it counted its wait.
    wait_until(lambda: queue.report().blocked == 1)
    assert not returned.is_set()
    gate.release.set()
    assert returned.wait(HANG)
    thread.join(10)
    report = queue.close(10)
    assert gate.got == [0, 1, 2, 3]
    assert report.dropped == 0 and report.blocked == 1 and report.blocked_s > 0


def test_block_never_deadlocks_the_handler_putting_into_its_own_queue():
    got = []
    queue: Delivery

    def handler(item):
        got.append(item)
        if item < 5:
            queue.put(item + 10)
            queue.put(item + 20)

    queue = Delivery(handler, maxsize=1, policy=BLOCK)
    queue.put(0)
    assert queue.wait_idle(HANG)
    assert sorted(got)[:3] == [0, 10, 20]
    queue.close(10)


def test_close_drains_by_deadline_and_counts_undelivered():
    gate = Gate()
    queue = Delivery(gate)
    queue.put("stuck")
    gate.wait_entered()
    queue.put("waiting")
    queue.put("too", keep=True)
    report = queue.close(timeout=0)
    assert report.undelivered == 3  # two pending + the one in flight
    assert queue.cut_off and queue.closing
    assert not queue.put("late") and queue.report().rejected == 1
    gate.release.set()
    queue.thread.join(10)
    assert not queue.thread.is_alive()  # the thread exits once its item returns
    assert gate.got == ["stuck"]
    assert queue.close() == queue.report()  # a second close reports the same


def test_scheduled_items_wait_for_their_time_but_not_for_a_drain():
    got = []
    queue = Delivery(got.append)
    queue.put("now")
    queue.put("later", key="curve", due=time.monotonic() + 3600)
    queue.put("also now")
    wait_until(lambda: got == ["now", "also now"])  # the scheduled one is passed over, not a blocker
    assert not queue.wait_idle(0) and len(queue) == 1
    queue.put("later2", key="curve")  # coalesced: keeps its place and its time
    assert queue.drain(10)
    assert got == ["now", "also now", "later2"]
    queue.put("again", due=time.monotonic() + 3600)
    queue.expedite()
    assert queue.wait_idle(HANG) and got[-1] == "again"
    assert queue.close(10).undelivered == 0


def test_pause_holds_delivery_and_close_ignores_it():
    got = []
    queue = Delivery(got.append)
    queue.put("a")
    assert queue.wait_idle(HANG)
    queue.pause(time.monotonic() + 3600)
    queue.put("b")
    assert not queue.wait_idle(0) and got == ["a"]
    assert queue.close(10).undelivered == 0
    assert got == ["a", "b"]


def test_discard_drops_everything_pending():
    gate = Gate()
    queue = Delivery(gate)
    queue.put(0)
    gate.wait_entered()
    queue.put(1)
    queue.put(2, keep=True)
    assert queue.discard() == 2
    gate.release.set()
    report = queue.close(10)
    assert gate.got == [0] and report.dropped == 2


def test_handler_errors_are_counted_and_passed_on_the_thread_survives():
    seen = []

    def handler(item):
        if item % 2:
            raise RuntimeError(f"bad {item}")
        seen.append(item)

    queue = Delivery(handler, on_error=lambda item, exc: seen.append(str(exc)))
    for i in range(4):
        queue.put(i)
    report = queue.close(10)
    assert seen == [0, "bad 1", 2, "bad 3"] and report.failed == 2 and report.delivered == 4

    queue = Delivery(handler, label="the test queue")
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        for i in range(4):
            queue.put(i)
        queue.close(10)
    (message,) = trialog_warnings(records)
    assert "the test queue" in message and "bad 1" in message


def test_a_closed_queue_without_items_never_started_a_thread():
    queue = Delivery(lambda item: None)
    assert queue.close(0) == DeliveryReport() and queue.thread is None


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="policy"):
        Delivery(print, policy="lose_some")
    with pytest.raises(ValueError, match="maxsize"):
        Delivery(print, maxsize=0)


def test_it_is_exported_for_plugin_authors():
    import trialog.api as api

    assert api.Delivery is Delivery and "Delivery" in api.__all__
    assert isinstance(Delivery(lambda item: None, name="x").close(), DeliveryReport)  # what close() gives
