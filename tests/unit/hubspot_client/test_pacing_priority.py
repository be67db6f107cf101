"""The pacer's priority lane (a webhook batch's requests) with a fake clock: nothing here really waits."""

from __future__ import annotations

import threading

import pytest

from hubsync.hubspot.pacing import CallKind, Pacer, priority_lane

from .hubspot_fakes import FakeClock
from .test_hubspot_pacing import make


def test_without_the_priority_lane_the_whole_budget_is_used_as_before() -> None:
    clock = FakeClock()
    pacer = make(clock, requests_per_10s=100, pace_fraction=0.9)
    for _ in range(90):  # 0.9 x 100
        pacer.acquire()
    assert clock.sleeps == []


def _lane_used_then_others_up_to_their_share(clock: FakeClock) -> Pacer:
    """A budget of 90: one request in the lane, then 80 others, which fill the window up to 81 (90 less the lane's
    9) without waiting."""
    pacer = make(clock, requests_per_10s=100, pace_fraction=0.9)
    with priority_lane():
        pacer.acquire()
    for _ in range(80):
        pacer.acquire()
    assert clock.sleeps == []
    return pacer


def test_while_the_lane_is_in_use_others_leave_a_tenth_of_the_budget_to_it() -> None:
    clock = FakeClock()
    pacer = _lane_used_then_others_up_to_their_share(clock)
    # The lane still finds room at once.
    with priority_lane():
        for _ in range(9):
            pacer.acquire()
    assert clock.sleeps == []
    # The window holds the whole budget: the lane too waits for the oldest request to age out, never beyond.
    with priority_lane():
        pacer.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_others_wait_while_only_the_lane_s_share_is_left() -> None:
    clock = FakeClock()
    pacer = _lane_used_then_others_up_to_their_share(clock)
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_the_reserve_ends_a_window_after_the_lane_was_last_used() -> None:
    clock = FakeClock()
    pacer = make(clock, requests_per_10s=100, pace_fraction=0.9)
    with priority_lane():
        pacer.acquire()
    clock.advance(10.0)
    for _ in range(90):
        pacer.acquire()
    assert clock.sleeps == []


def test_the_lane_can_be_conditional_and_ends_with_its_block() -> None:
    clock = FakeClock()
    pacer = make(clock, requests_per_10s=100, pace_fraction=0.9)
    urgent = False
    with priority_lane(when=lambda: urgent):
        for _ in range(81):  # not urgent: no lane, no reserve
            pacer.acquire()
        urgent = True
        for _ in range(9):  # urgent: the rest of the budget at once
            pacer.acquire()
    assert clock.sleeps == []
    # Outside the block the thread is back in the ordinary lane, which now leaves the lane its share.
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_while_the_lane_is_in_use_others_leave_it_one_search_a_second() -> None:
    clock = FakeClock()
    pacer = make(clock, search_per_second=5)
    with priority_lane():
        pacer.acquire()
    for _ in range(4):
        pacer.acquire(CallKind.SEARCH)
    assert clock.sleeps == []
    with priority_lane():
        pacer.acquire(CallKind.SEARCH)
    assert clock.sleeps == []
    pacer.acquire(CallKind.SEARCH)
    assert clock.sleeps == [pytest.approx(1.1)]


def test_while_a_batch_is_at_work_the_others_hold_off_up_to_a_second() -> None:
    clock = FakeClock()
    pacer = make(clock)
    inside, done = threading.Event(), threading.Event()

    def batch() -> None:
        with priority_lane():
            pacer.acquire()
            inside.set()
            done.wait(timeout=10)

    at_work = threading.Thread(target=batch, daemon=True)
    at_work.start()
    inside.wait(timeout=10)
    pacer.acquire()  # held off in steps of the fake clock, then sent: slowed, never stopped
    done.set()
    at_work.join(timeout=10)
    assert sum(clock.sleeps) == pytest.approx(1.0)
    clock.sleeps.clear()
    pacer.acquire()  # no batch at work: at once
    assert clock.sleeps == []
