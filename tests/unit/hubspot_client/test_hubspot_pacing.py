"""The pacer with a fake clock: nothing here really waits."""

from __future__ import annotations

import threading

import pytest

from hubsync.errors import QuotaExhausted
from hubsync.hubspot.pacing import CallKind, Pacer, PacerLimits, header_int

from .hubspot_fakes import FakeClock


def make(clock: FakeClock, **overrides: float) -> Pacer:
    limits = {
        "requests_per_10s": 10,
        "pace_fraction": 0.8,
        "search_per_second": 5,
        "daily_quota": 1_000_000,
        "daily_reserve": 0.1,
        **overrides,
    }
    return Pacer(
        PacerLimits(
            requests_per_10s=int(limits["requests_per_10s"]),
            pace_fraction=limits["pace_fraction"],
            search_per_second=int(limits["search_per_second"]),
            daily_quota=int(limits["daily_quota"]),
            daily_reserve=limits["daily_reserve"],
        ),
        clock=clock,
        sleep=clock.sleep,
    )


def test_window_allows_the_paced_share_then_waits_for_the_oldest_to_age_out() -> None:
    clock = FakeClock()
    pacer = make(clock)
    for _ in range(8):  # 0.8 x 10
        pacer.acquire()
    assert clock.sleeps == []
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_window_is_rolling_not_fixed() -> None:
    clock = FakeClock()
    pacer = make(clock)
    for _ in range(8):
        pacer.acquire()
        clock.advance(1.0)
    # Sent at t=0..7, now t=8: the first leaves the window at t=10.
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(2.0)]


def test_remaining_header_slows_down_when_others_use_the_app() -> None:
    clock = FakeClock()
    pacer = make(clock)
    pacer.acquire()
    # HubSpot says only 3 of 10 are left (another process uses the same app); 2 are headroom (1 - 0.8).
    pacer.observe({"X-HubSpot-RateLimit-Max": "10", "X-HubSpot-RateLimit-Remaining": "3"})
    pacer.acquire()  # estimate 3 > 2: go
    assert clock.sleeps == []
    clock.advance(4.0)
    pacer.acquire()  # estimate 2: wait until our counted request (t=0) ages out of HubSpot's window (t=10)
    assert clock.sleeps == [pytest.approx(6.0)]


def test_remaining_header_goes_stale_after_one_interval() -> None:
    clock = FakeClock()
    pacer = make(clock)
    pacer.observe({"x-hubspot-ratelimit-max": "10", "x-hubspot-ratelimit-remaining": "0"})
    pacer.acquire()
    # Nothing of ours was counted: wait until everything HubSpot counted has left the window.
    assert clock.sleeps == [pytest.approx(10.0)]
    for _ in range(7):
        pacer.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_max_header_overrides_the_configured_budget() -> None:
    clock = FakeClock()
    pacer = make(clock, requests_per_10s=100)
    pacer.observe({"X-HubSpot-RateLimit-Max": "5", "X-HubSpot-RateLimit-Interval-Milliseconds": "2000"})
    for _ in range(4):  # floor(5 x 0.8)
        pacer.acquire()
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(2.0)]


def test_search_has_its_own_five_per_second_limit() -> None:
    clock = FakeClock()
    pacer = make(clock)
    for _ in range(5):
        pacer.acquire(CallKind.SEARCH)
    # Search is exempt from the 10-second window: the standard budget is untouched.
    for _ in range(8):
        pacer.acquire(CallKind.STANDARD)
    assert clock.sleeps == []
    pacer.acquire(CallKind.SEARCH)
    assert clock.sleeps == [pytest.approx(1.1)]


def test_daily_reserve_from_own_count_raises_quota_exhausted() -> None:
    clock = FakeClock()
    pacer = make(clock, requests_per_10s=10_000, daily_quota=100, daily_reserve=0.1)
    for _ in range(90):
        pacer.acquire()
    assert pacer.daily_remaining == 10
    with pytest.raises(QuotaExhausted, match="reserve of 10"):
        pacer.acquire()


def test_own_daily_count_is_a_rolling_day() -> None:
    clock = FakeClock()
    pacer = make(clock, requests_per_10s=10_000, daily_quota=100, daily_reserve=0.1)
    for _ in range(90):
        pacer.acquire()
    clock.advance(24 * 3600 + 61)
    assert pacer.daily_remaining == 100
    pacer.acquire()


def test_daily_header_wins_over_own_count() -> None:
    clock = FakeClock()
    pacer = make(clock, requests_per_10s=10_000, daily_quota=250_000, daily_reserve=0.1)
    pacer.acquire()
    pacer.observe({"X-HubSpot-RateLimit-Daily": "1000", "X-HubSpot-RateLimit-Daily-Remaining": "102"})
    assert pacer.daily_reserve_requests == 100  # of the header's 1,000, not of the configured 250,000
    assert pacer.daily_remaining == 102
    pacer.acquire()
    pacer.acquire()
    assert pacer.daily_remaining == 100
    with pytest.raises(QuotaExhausted):
        pacer.acquire()


def test_marked_exhausted_stops_everything() -> None:
    clock = FakeClock()
    pacer = make(clock)
    pacer.mark_daily_exhausted()
    assert pacer.daily_remaining == 0
    with pytest.raises(QuotaExhausted):
        pacer.acquire(CallKind.SEARCH)


def test_odd_headers_are_ignored() -> None:
    clock = FakeClock()
    pacer = make(clock)
    pacer.observe({"X-HubSpot-RateLimit-Remaining": "lots", "X-HubSpot-RateLimit-Daily-Remaining": ""})
    pacer.observe({})
    for _ in range(8):
        pacer.acquire()
    assert clock.sleeps == []
    assert header_int({"A": " 7 "}, "a") == 7
    assert header_int(None, "a") is None


def test_concurrent_acquires_are_all_counted() -> None:
    clock = FakeClock()
    pacer = make(clock, requests_per_10s=100_000, daily_quota=10_000, daily_reserve=0.0)

    def worker() -> None:
        for _ in range(250):
            pacer.acquire()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pacer.daily_remaining == 10_000 - 2_000


@pytest.mark.parametrize(("key", "value"), [("pace_fraction", 0.0), ("pace_fraction", 1.5), ("daily_reserve", 1.0)])
def test_nonsense_limits_are_refused(key: str, value: float) -> None:
    with pytest.raises(ValueError, match=key):
        make(FakeClock(), **{key: value})
