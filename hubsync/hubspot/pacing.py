"""Pacing: stay under HubSpot's limits instead of bouncing off them.

HubSpot asks that errors stay under 5 % of daily requests, so hubsync waits *before* a request that would break a
budget rather than retrying after a 429. Three budgets:

* the rolling 10-second window per app (`X-HubSpot-RateLimit-Max` / `-Remaining`), of which hubsync uses only
  `pace_fraction`; the headers are trusted while fresh (they also see other processes using the same app), hubsync's
  own count of what it sent is used when they are absent;
* search, 5 requests per second per account, exempt from the 10-second window and often answered without headers;
* the daily quota, shared with the customer's other integrations: hubsync stops (QuotaExhausted) when what is left
  drops to the configured reserve, so the others keep working.

A priority lane: requests a thread makes inside `priority_lane()` (a webhook batch turning a demo request into a
task) go before the others within the same budgets. While such requests were made in the last 10-second window, the
others leave a tenth of the window's budget and of the search rate (one search a second at 5) to them, so a cycle
that fills the window does not queue a batch behind it; and while a batch is at work, the others hold off (up to a
second per request), so its few requests are answered first.

The pacer never reads the clock or sleeps on its own: both are injected, so tests run without waiting.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import structlog

from hubsync.errors import QuotaExhausted

log = structlog.get_logger(__name__)

# HubSpot counts search requests per second as they arrive, hubsync as it sends them: a tenth of a second of margin
# absorbs the network's jitter (without it, bench/pull.py saw the sandbox count a sixth search in one second).
_SEARCH_WINDOW_S = 1.1

_DAY_SECONDS: Final = 86_400.0
# Daily accounting is kept in one-minute buckets: a day is 1,440 entries, not up to a million timestamps.
_BUCKET_SECONDS: Final = 60.0
_DEFAULT_INTERVAL_SECONDS: Final = 10.0
# The share of the window's budget that other requests leave to the priority lane while it is in use.
_PRIORITY_SHARE: Final = 0.1
# How long a request outside the priority lane holds off while a batch is at work, and how often it looks again: a
# batch's few requests go first, a cycle is slowed, never stopped.
_HOLD_OFF_SECONDS: Final = 1.0
_HOLD_OFF_STEP_SECONDS: Final = 0.02

HEADER_MAX: Final = "X-HubSpot-RateLimit-Max"
HEADER_REMAINING: Final = "X-HubSpot-RateLimit-Remaining"
HEADER_INTERVAL_MS: Final = "X-HubSpot-RateLimit-Interval-Milliseconds"
HEADER_DAILY: Final = "X-HubSpot-RateLimit-Daily"
HEADER_DAILY_REMAINING: Final = "X-HubSpot-RateLimit-Daily-Remaining"


class CallKind(StrEnum):
    STANDARD = "standard"
    SEARCH = "search"


@dataclass(frozen=True, slots=True)
class PacerLimits:
    requests_per_10s: int
    pace_fraction: float
    search_per_second: int
    daily_quota: int
    # Fraction of the daily quota left for the customer's other integrations.
    daily_reserve: float


@dataclass(frozen=True, slots=True)
class _WindowHeaders:
    remaining: int
    seen_at: float
    interval: float
    # How many of our own requests were inside HubSpot's window when the header was produced: as they age out,
    # HubSpot's remaining grows again.
    own_in_window: int


@dataclass(frozen=True, slots=True)
class _DailyHeaders:
    remaining: int
    # hubsync's running request count when the header was seen: what was sent since comes off `remaining`.
    sent_total: int


_lane = threading.local()
# Threads inside an unconditional priority lane now (webhook batches at work), across the process.
_busy_lanes = 0
_busy_lock = threading.Lock()


def _always() -> bool:
    return True


@contextmanager
def priority_lane(when: Callable[[], bool] = _always) -> Iterator[None]:
    """Requests this thread makes inside go in the priority lane (or only while `when()` is true: a cycle holding the
    work lock a webhook batch waits for). While a thread is inside an unconditional lane, the others' requests wait
    (up to `_HOLD_OFF_SECONDS` each): the process's CPU and HubSpot's answers go to the batch first."""
    global _busy_lanes  # noqa: PLW0603  (one count per process: the lanes of every thread)
    previous = getattr(_lane, "when", None)
    _lane.when = when
    busy = when is _always
    if busy:
        with _busy_lock:
            _busy_lanes += 1
    try:
        yield
    finally:
        _lane.when = previous
        if busy:
            with _busy_lock:
                _busy_lanes -= 1


def _in_priority_lane() -> bool:
    when: Callable[[], bool] | None = getattr(_lane, "when", None)
    return when is not None and when()


def header_int(headers: Mapping[str, str] | None, name: str) -> int | None:
    """An integer header, case-insensitively; None when absent or not a number."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            try:
                return int(str(value).strip())
            except ValueError:
                return None
    return None


class Pacer:
    """Decides how long to wait before the next request. Thread-safe: one lock guards all state.

    `acquire(kind)` blocks (through the injected `sleep`) until the request may go, records it, and raises
    QuotaExhausted when the daily reserve is reached. `observe(headers)` feeds back the rate-limit headers of a
    response. The lock is never held while sleeping, so other threads can report headers meanwhile.
    """

    def __init__(
        self,
        limits: PacerLimits,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        if not 0 < limits.pace_fraction <= 1:
            raise ValueError(f"pace_fraction must be in (0, 1], got {limits.pace_fraction}")
        if not 0 <= limits.daily_reserve < 1:
            raise ValueError(f"daily_reserve must be in [0, 1), got {limits.daily_reserve}")
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._search_sent: deque[float] = deque()
        # (bucket start, count) of every request, for the rolling day.
        self._day_buckets: deque[list[float]] = deque()
        self._window_max: int | None = None
        self._interval = _DEFAULT_INTERVAL_SECONDS
        self._window_headers: _WindowHeaders | None = None
        self._daily_total: int | None = None
        self._daily_headers: _DailyHeaders | None = None
        self._daily_exhausted = False
        self._sent_total = 0
        # When the priority lane last asked for a request.
        self._priority_at: float | None = None

    # -- public ---------------------------------------------------------------------------------------------

    def acquire(self, kind: CallKind = CallKind.STANDARD) -> None:
        held_off = 0.0
        while True:
            priority = _in_priority_lane()
            if not priority and _busy_lanes and held_off < _HOLD_OFF_SECONDS:
                self._sleep(_HOLD_OFF_STEP_SECONDS)
                held_off += _HOLD_OFF_STEP_SECONDS
                continue
            with self._lock:
                now = self._clock()
                self._check_daily(now)
                if priority:
                    self._priority_at = now
                wait = (self._search_wait if kind is CallKind.SEARCH else self._window_wait)(now, priority)
                if wait <= 0:
                    self._record(now, kind)
                    return
            log.debug("client.paced", kind=kind.value, wait=round(wait, 3))
            self._sleep(wait)

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Learn from a response's rate-limit headers. Responses without them (search, legacy) change nothing."""
        if not headers:
            return
        with self._lock:
            now = self._clock()
            window_max = header_int(headers, HEADER_MAX)
            if window_max is not None and window_max > 0:
                self._window_max = window_max
            interval_ms = header_int(headers, HEADER_INTERVAL_MS)
            if interval_ms is not None and interval_ms > 0:
                self._interval = interval_ms / 1000
            remaining = header_int(headers, HEADER_REMAINING)
            if remaining is not None:
                self._prune(now)
                self._window_headers = _WindowHeaders(
                    remaining=remaining, seen_at=now, interval=self._interval, own_in_window=len(self._sent)
                )
            daily_total = header_int(headers, HEADER_DAILY)
            if daily_total is not None and daily_total > 0:
                self._daily_total = daily_total
            daily_remaining = header_int(headers, HEADER_DAILY_REMAINING)
            if daily_remaining is not None:
                self._daily_headers = _DailyHeaders(remaining=daily_remaining, sent_total=self._sent_total)

    def mark_daily_exhausted(self) -> None:
        """HubSpot answered 429 DAILY: nothing more goes out (the reset is at the account's midnight)."""
        with self._lock:
            self._daily_exhausted = True

    @property
    def daily_remaining(self) -> int:
        """Best estimate of the daily requests left: the last header minus what was sent since, else own count."""
        with self._lock:
            return self._daily_remaining(self._clock())

    @property
    def daily_reserve_requests(self) -> int:
        with self._lock:
            return self._reserve()

    # -- internals (called with the lock held) --------------------------------------------------------------

    def _window_limit(self) -> int:
        return self._window_max or self._limits.requests_per_10s

    def _window_budget(self) -> int:
        return max(1, math.floor(self._window_limit() * self._limits.pace_fraction))

    def _prune(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self._interval:
            self._sent.popleft()
        while self._search_sent and self._search_sent[0] <= now - _SEARCH_WINDOW_S:
            self._search_sent.popleft()
        while self._day_buckets and self._day_buckets[0][0] <= now - _DAY_SECONDS:
            self._day_buckets.popleft()

    def _priority_reserve(self, now: float, priority: bool, budget: int) -> int:
        """What a request outside the priority lane leaves unused of `budget`, while the lane is in use."""
        if priority or self._priority_at is None or now - self._priority_at >= self._interval:
            return 0
        return math.ceil(budget * _PRIORITY_SHARE)

    def _window_wait(self, now: float, priority: bool = False) -> float:
        self._prune(now)
        reserve = self._priority_reserve(now, priority, self._window_budget())
        budget = max(1, self._window_budget() - reserve)
        waits: list[float] = []
        if len(self._sent) >= budget:
            # Until enough of the oldest have left the window for one more.
            waits.append(self._sent[len(self._sent) - budget] + self._interval - now)
        header_wait = self._header_wait(now, reserve)
        if header_wait > 0:
            waits.append(header_wait)
        return max(waits, default=0.0)

    def _header_wait(self, now: float, reserve: int = 0) -> float:
        """Wait demanded by the last `-Remaining` header, corrected for what we sent and what aged out since."""
        seen = self._window_headers
        if seen is None:
            return 0.0
        stale_at = seen.seen_at + seen.interval
        if now >= stale_at:
            # Everything HubSpot counted in that header has left the window by now: own accounting takes over.
            self._window_headers = None
            return 0.0
        counted_still_in = sum(1 for sent_at in self._sent if sent_at <= seen.seen_at)
        sent_since = len(self._sent) - counted_still_in
        aged_out = seen.own_in_window - counted_still_in
        estimate = seen.remaining - sent_since + aged_out
        headroom = self._window_limit() - self._window_budget() + reserve
        if estimate > headroom:
            return 0.0
        # The next moment the estimate can grow: one of our counted requests ages out, or the header goes stale.
        next_free = [sent_at + seen.interval for sent_at in self._sent if sent_at <= seen.seen_at]
        return min([*next_free, stale_at]) - now

    def _search_wait(self, now: float, priority: bool = False) -> float:
        self._prune(now)
        per_second = max(1, self._limits.search_per_second)
        budget = max(1, per_second - self._priority_reserve(now, priority, per_second))
        if len(self._search_sent) >= budget:
            return self._search_sent[len(self._search_sent) - budget] + _SEARCH_WINDOW_S - now
        return 0.0

    def _record(self, now: float, kind: CallKind) -> None:
        if kind is CallKind.SEARCH:
            self._search_sent.append(now)
        else:
            self._sent.append(now)
        self._sent_total += 1
        if self._day_buckets and now - self._day_buckets[-1][0] < _BUCKET_SECONDS:
            self._day_buckets[-1][1] += 1
        else:
            self._day_buckets.append([now, 1])

    def _daily_remaining(self, now: float) -> int:
        self._prune(now)
        if self._daily_exhausted:
            return 0
        if self._daily_headers is not None:
            return self._daily_headers.remaining - (self._sent_total - self._daily_headers.sent_total)
        own = int(sum(count for _, count in self._day_buckets))
        return self._limits.daily_quota - own

    def _reserve(self) -> int:
        total = self._daily_total or self._limits.daily_quota
        return math.ceil(total * self._limits.daily_reserve)

    def _check_daily(self, now: float) -> None:
        remaining = self._daily_remaining(now)
        reserve = self._reserve()
        if remaining <= reserve:
            log.warning("client.quota_low", daily_remaining=remaining, reserve=reserve)
            raise QuotaExhausted(
                f"HubSpot's daily API quota is down to {max(remaining, 0)} requests, at or below hubsync's reserve of "
                f"{reserve} (kept for the account's other integrations): stopping now; the next run resumes after "
                "the daily reset (midnight in the account's time zone)"
            )
