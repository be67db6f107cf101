"""Tokens and scopes, HubSpot's rate limits and daily quota, and seeded faults.

Rate windows run on the wall clock (a monotonic one, injectable for tests): they limit how fast a client talks to
the server, which the portal clock knows nothing about. The daily quota resets when the *portal* day changes
(HubSpot resets it at midnight in the account's time zone; the sandbox's account lives in UTC).
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hubsync.sandbox import responses, schema
from hubsync.sandbox.portal import MS_PER_DAY

if TYPE_CHECKING:
    from collections.abc import Callable

# tier -> (requests per 10 s per app, requests per day per account)
TIERS: dict[str, tuple[int, int]] = {
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
    "api_add_on": (250, 2_000_000),
}
# The events API (page views) needs an Enterprise hub.
EVENTS_API_TIERS = frozenset({"enterprise", "api_add_on"})
FAULT_KINDS: tuple[str, ...] = ("500", "502", "503", "504", "slow", "drop", "429")


@dataclass(slots=True)
class LimitSettings:
    tier: str = "enterprise"
    enabled: bool = True
    per_ten_seconds: int | None = None  # overrides the tier's budget
    per_day: int | None = None
    search_per_second: int = 5

    def budget(self) -> tuple[int, int]:
        ten, day = TIERS[self.tier]
        return (self.per_ten_seconds or ten, self.per_day or day)


@dataclass(slots=True)
class FaultSettings:
    rate: float = 0.0  # share of API requests answered by a fault; 0 switches faults off
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 1.5
    burst: int = 5  # a 429 fault answers this many requests in a row with 429


@dataclass(slots=True)
class Verdict:
    reply: responses.Reply | None  # an error to send instead of serving the request
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


class Gate:
    """Decides, for each API request, whether it is served, with which rate-limit headers, or which error."""

    def __init__(
        self,
        limits: LimitSettings | None = None,
        faults: FaultSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or LimitSettings()
        self.faults = faults or FaultSettings()
        self.clock = clock
        self.tokens: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._search_window: deque[float] = deque()
        self._day = -1
        self._day_count = 0
        self._fault_rng = random.Random(self.faults.seed)  # noqa: S311  # faults replay from their seed
        self._burst_left = 0

    def add_token(self, scopes: tuple[str, ...] | frozenset[str] = schema.ALL_SCOPES, token: str | None = None) -> str:
        token = token or f"pat-sandbox-{secrets.token_hex(12)}"
        self.tokens[token] = frozenset(scopes)
        return token

    def set_faults(self, faults: FaultSettings) -> None:
        with self._lock:
            self.faults = faults
            self._fault_rng = random.Random(faults.seed)  # noqa: S311  # faults replay from their seed
            self._burst_left = 0

    def admit(self, authorization: str | None, any_of: tuple[str, ...], *, search: bool, portal_now: int) -> Verdict:
        token = (authorization or "").removeprefix("Bearer ").strip()
        scopes = self.tokens.get(token)
        if scopes is None:
            return Verdict(responses.unauthorized())
        if any_of and not scopes.intersection(any_of):
            return Verdict(responses.missing_scopes(any_of))
        with self._lock:
            fault = self._fault()
            if fault is not None:
                return fault
            return self._rate(token, search=search, day=portal_now // MS_PER_DAY)

    def _fault(self) -> Verdict | None:
        if self._burst_left > 0:
            self._burst_left -= 1
            return Verdict(responses.rate_limited("TEN_SECONDLY_ROLLING", _TEN_SECONDLY_MESSAGE))
        f = self.faults
        if f.rate <= 0 or self._fault_rng.random() >= f.rate:
            return None
        kind = self._fault_rng.choice(f.kinds)
        if kind == "slow":
            return Verdict(None, delay=f.slow_seconds)
        if kind == "drop":
            return Verdict(None, drop=True)
        if kind == "429":
            self._burst_left = max(0, f.burst - 1)
            return Verdict(responses.rate_limited("TEN_SECONDLY_ROLLING", _TEN_SECONDLY_MESSAGE))
        return Verdict(responses.server_error(int(kind)))

    def _rate(self, token: str, *, search: bool, day: int) -> Verdict:
        ten_max, day_max = self.limits.budget()
        enforce = self.limits.enabled
        now = self.clock()
        if day != self._day:
            self._day, self._day_count = day, 0
        if enforce and self._day_count >= day_max:
            return Verdict(responses.rate_limited("DAILY", "You have reached your daily limit."), _daily(day_max, 0))
        if search:
            window = self._search_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if enforce and len(window) >= self.limits.search_per_second:
                return Verdict(responses.rate_limited("SECONDLY", "You have reached your secondly limit."))
            window.append(now)
            self._day_count += 1
            # HubSpot's search answers carry no rate-limit headers.
            return Verdict(None)
        window = self._windows.setdefault(token, deque())
        while window and window[0] <= now - 10.0:
            window.popleft()
        if enforce and len(window) >= ten_max:
            headers = {**_ten(ten_max, 0), **_daily(day_max, day_max - self._day_count)}
            return Verdict(responses.rate_limited("TEN_SECONDLY_ROLLING", _TEN_SECONDLY_MESSAGE), headers)
        window.append(now)
        self._day_count += 1
        headers = {**_ten(ten_max, ten_max - len(window)), **_daily(day_max, day_max - self._day_count)}
        return Verdict(None, headers)


_TEN_SECONDLY_MESSAGE = "You have reached your ten_secondly_rolling limit."


def _ten(maximum: int, remaining: int) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Max": str(maximum),
        "X-HubSpot-RateLimit-Remaining": str(max(0, remaining)),
    }


def _daily(maximum: int, remaining: int) -> dict[str, str]:
    return {"X-HubSpot-RateLimit-Daily": str(maximum), "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, remaining))}
