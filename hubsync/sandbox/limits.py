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

# tier -> (requests per 10 s per app, requests per day per account). The names and figures are those of hubsync's
# `[portal] tier` (settings.py; a unit test holds the two equal): HubSpot's subscriptions, and the API limit
# increase pack, modelled here on top of Enterprise.
TIERS: dict[str, tuple[int, int]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
    "api_limit_increase": (250, 2_000_000),
}
# The events API (page views) needs an Enterprise hub.
EVENTS_API_TIERS = frozenset({"enterprise", "api_limit_increase"})
# Faults of the transport: an error status, a slow answer, a dropped connection, a burst of 429s.
FAULT_KINDS: tuple[str, ...] = ("500", "502", "503", "504", "slow", "drop", "429")
# Faults of the body: the request is served, then its 2xx answer is replaced by one that is not the endpoint's page
# (a cut-off body that is not JSON, no body, `null`, `[]`, `{}`, or the answer without its list of results).
BODY_FAULT_KINDS: tuple[str, ...] = ("not_json", "empty", "null", "array", "object", "no_results")


def check_tier(tier: str) -> str:
    """`tier` if the sandbox knows it, else a ValueError that names the known ones."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; known: {', '.join(TIERS)}")
    return tier


@dataclass(slots=True)
class LimitSettings:
    tier: str = "enterprise"
    enabled: bool = True
    per_ten_seconds: int | None = None  # overrides the tier's budget
    per_day: int | None = None
    search_per_second: int = 5

    def __post_init__(self) -> None:
        check_tier(self.tier)

    def budget(self) -> tuple[int, int]:
        ten, day = TIERS[self.tier]
        return (self.per_ten_seconds or ten, self.per_day or day)


@dataclass(slots=True)
class FaultSettings:
    rate: float = 0.0  # share of API requests answered by a fault; 0 switches faults off
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS  # drawn from FAULT_KINDS and BODY_FAULT_KINDS
    slow_seconds: float = 1.5
    burst: int = 5  # a 429 fault answers this many requests in a row with 429
    # Only requests to these endpoints draw faults: a prefix of the endpoint as `stats()` names it
    # ("GET /form-integrations/v1/submissions/forms/{formGuid}") or of its path template ("/form-integrations").
    # Empty: every endpoint.
    endpoints: tuple[str, ...] = ()
    # The Retry-After header of a 429 fault, sent as written ("3600", "1e999", "soon"); None sends none.
    retry_after: str | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - set(FAULT_KINDS) - set(BODY_FAULT_KINDS))
        if unknown:
            known = ", ".join((*FAULT_KINDS, *BODY_FAULT_KINDS))
            raise ValueError(f"unknown fault kind(s) {', '.join(unknown)}; known: {known}")

    def targets(self, endpoint: str) -> bool:
        path = endpoint.split(" ", 1)[-1]
        return not self.endpoints or any(endpoint.startswith(e) or path.startswith(e) for e in self.endpoints)


@dataclass(slots=True)
class Verdict:
    reply: responses.Reply | None  # an error to send instead of serving the request
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    bad_body: str | None = None  # serve the request, then replace a 2xx answer's body (a BODY_FAULT_KINDS kind)


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
        self._answers_to_lose: dict[str, int] = {}

    def add_token(self, scopes: tuple[str, ...] | frozenset[str] = schema.ALL_SCOPES, token: str | None = None) -> str:
        token = token or f"pat-sandbox-{secrets.token_hex(12)}"
        self.tokens[token] = frozenset(scopes)
        return token

    def set_faults(self, faults: FaultSettings) -> None:
        with self._lock:
            self.faults = faults
            self._fault_rng = random.Random(faults.seed)  # noqa: S311  # faults replay from their seed
            self._burst_left = 0

    def lose_answers(self, endpoint: str, count: int = 1) -> None:
        """The next `count` successful answers of `endpoint` ("POST /crm/v3/properties/{objectType}") are lost: the
        request is processed (a create creates), then the connection closes without an answer, as when a network
        drops a reply. Failed answers are sent as usual and do not count."""
        with self._lock:
            self._answers_to_lose[endpoint] = count

    def answer_lost(self, endpoint: str, status: int) -> bool:
        """Whether this answer, already processed, is to be dropped instead of sent (see `lose_answers`)."""
        with self._lock:
            left = self._answers_to_lose.get(endpoint, 0)
            if left <= 0 or status // 100 != 2:  # noqa: PLR2004  # 2xx
                return False
            self._answers_to_lose[endpoint] = left - 1
            return True

    def admit(
        self,
        authorization: str | None,
        any_of: tuple[str, ...],
        *,
        search: bool,
        portal_now: int,
        endpoint: str = "",
    ) -> Verdict:
        token = (authorization or "").removeprefix("Bearer ").strip()
        scopes = self.tokens.get(token)
        if scopes is None:
            return Verdict(responses.unauthorized())
        if any_of and not scopes.intersection(any_of):
            return Verdict(responses.missing_scopes(any_of))
        with self._lock:
            fault = self._fault(endpoint)
            if fault is not None and fault.bad_body is None:
                return fault
            verdict = self._rate(token, search=search, day=portal_now // MS_PER_DAY)
            if fault is not None and verdict.reply is None:
                verdict.bad_body = fault.bad_body
            return verdict

    def _fault(self, endpoint: str) -> Verdict | None:
        f = self.faults
        if not f.targets(endpoint):
            return None
        if self._burst_left > 0:
            self._burst_left -= 1
            return self._rate_limited()
        if f.rate <= 0 or self._fault_rng.random() >= f.rate:
            return None
        return self._fault_of_kind(self._fault_rng.choice(f.kinds))

    def _fault_of_kind(self, kind: str) -> Verdict:
        f = self.faults
        if kind == "slow":
            return Verdict(None, delay=f.slow_seconds)
        if kind == "drop":
            return Verdict(None, drop=True)
        if kind == "429":
            self._burst_left = max(0, f.burst - 1)
            return self._rate_limited()
        if kind in BODY_FAULT_KINDS:
            return Verdict(None, bad_body=kind)
        return Verdict(responses.server_error(int(kind)))

    def _rate_limited(self) -> Verdict:
        reply = responses.rate_limited("TEN_SECONDLY_ROLLING", _TEN_SECONDLY_MESSAGE)
        if self.faults.retry_after is not None:
            reply.headers["Retry-After"] = self.faults.retry_after
        return Verdict(reply)

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
