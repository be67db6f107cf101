"""The work lock between a cycle and webhook batches, with real threads: who runs when is observed through events
and a shared log, never through timing."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hubsync.jobs.work_lock import WorkLock
from tests.integration.webhooks.world import wait_until


class Trace:
    """What ran, in order, and a check that no two holders ever overlap."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self._inside = 0
        self._lock = threading.Lock()

    def work(self, name: str) -> None:
        with self._lock:
            self._inside += 1
            assert self._inside == 1, f"{name} ran while another holder was inside"
            self.log.append(name)
            self._inside -= 1


def _join(*threads: threading.Thread) -> None:
    """A liveness bound, not a performance figure: a lock that never lets a thread in fails instead of hanging."""
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), f"{thread.name} never got the lock"


def _batch(lock: WorkLock, trace: Trace, name: str) -> threading.Thread:
    def run() -> None:
        with lock.held(urgent=True):
            trace.work(name)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def _in_cycle(lock: WorkLock, body: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        with lock.held():
            body()

    thread = threading.Thread(target=run, name="cycle", daemon=True)
    thread.start()
    return thread


def test_a_waiting_batch_runs_between_the_units_of_a_cycle_and_the_cycle_goes_on_after_it() -> None:
    lock, trace = WorkLock(), Trace()
    unit_one_done, batch_waits = threading.Event(), threading.Event()

    def cycle() -> None:
        trace.work("unit 1")
        unit_one_done.set()
        batch_waits.wait()
        lock.between_units()
        trace.work("unit 2")

    cycling = _in_cycle(lock, cycle)
    unit_one_done.wait()
    batch = _batch(lock, trace, "batch")
    wait_until(lambda: lock.batch_waiting, what="the batch to wait for the lock")
    batch_waits.set()
    _join(batch, cycling)
    assert trace.log == ["unit 1", "batch", "unit 2"]


def test_between_units_returns_at_once_when_no_batch_waits() -> None:
    lock, trace = WorkLock(), Trace()

    def cycle() -> None:
        trace.work("unit 1")
        lock.between_units()
        trace.work("unit 2")

    _join(_in_cycle(lock, cycle))
    assert trace.log == ["unit 1", "unit 2"]
    assert not lock.batch_waiting


def test_a_batch_waits_for_a_cycle_that_does_not_yield() -> None:
    lock, trace = WorkLock(), Trace()
    inside, finish = threading.Event(), threading.Event()

    def cycle() -> None:
        inside.set()
        finish.wait()
        trace.work("whole cycle")

    cycling = _in_cycle(lock, cycle)
    inside.wait()
    batch = _batch(lock, trace, "batch")
    wait_until(lambda: lock.batch_waiting, what="the batch to wait for the lock")
    assert trace.log == []
    finish.set()
    _join(cycling, batch)
    assert trace.log == ["whole cycle", "batch"]


def test_batches_run_while_the_cycle_waits_for_a_page_and_the_cycle_then_comes_first() -> None:
    lock, trace = WorkLock(), Trace()
    waiting_for_page, page_arrives = threading.Event(), threading.Event()
    batches: list[threading.Thread] = []

    def cycle() -> None:
        with lock.released():
            waiting_for_page.set()
            page_arrives.wait()
        trace.work("page stored")

    cycling = _in_cycle(lock, cycle)
    waiting_for_page.wait()
    # The lock is free while the cycle waits for HubSpot: batches run at once, one after the other.
    for name in ("batch 1", "batch 2"):
        batches.append(_batch(lock, trace, name))
        _join(batches[-1])
    page_arrives.set()
    _join(cycling)
    assert trace.log == ["batch 1", "batch 2", "page stored"]


def test_a_stream_of_batches_cannot_starve_a_cycle() -> None:
    """A cycle that yields lets in the batch waiting then, and takes its turn before a batch that comes later."""
    lock, trace = WorkLock(), Trace()
    first_in, first_may_end, yielded = threading.Event(), threading.Event(), threading.Event()

    def cycle() -> None:
        trace.work("unit 1")
        yielded.set()
        lock.between_units()
        trace.work("unit 2")

    def first_batch() -> None:
        with lock.held(urgent=True):
            first_in.set()
            first_may_end.wait()
            trace.work("batch 1")

    # Batch 1 waits before the cycle starts to yield, so it is let in; batch 2 comes while batch 1 runs.
    holder_ready, cycle_may_start = threading.Event(), threading.Event()

    def cycle_after_batch_waits() -> None:
        holder_ready.set()
        cycle_may_start.wait()
        cycle()

    cycling = _in_cycle(lock, cycle_after_batch_waits)
    holder_ready.wait()
    one = threading.Thread(target=first_batch, name="batch 1", daemon=True)
    one.start()
    wait_until(lambda: lock.batch_waiting, what="batch 1 to wait")
    cycle_may_start.set()
    first_in.wait()
    yielded.wait()
    two = _batch(lock, trace, "batch 2")
    wait_until(lambda: lock.batch_waiting, what="batch 2 to wait")
    first_may_end.set()
    _join(one, cycling, two)
    assert trace.log == ["unit 1", "batch 1", "unit 2", "batch 2"]


def test_a_batch_goes_before_a_cycle_that_waits_for_the_lock() -> None:
    lock, trace = WorkLock(), Trace()
    inside, finish = threading.Event(), threading.Event()

    def first_batch() -> None:
        with lock.held(urgent=True):
            inside.set()
            finish.wait()
            trace.work("batch 1")

    one = threading.Thread(target=first_batch, name="batch 1", daemon=True)
    one.start()
    inside.wait()
    cycling = _in_cycle(lock, lambda: trace.work("cycle"))
    two = _batch(lock, trace, "batch 2")
    wait_until(lambda: lock.batch_waiting, what="batch 2 to wait")
    finish.set()
    _join(one, two, cycling)
    assert trace.log == ["batch 1", "batch 2", "cycle"]
