"""How a failed call is retried: only RetriableHubSpotError, with exponential backoff and jitter, never sooner than
the Retry-After HubSpot sent, each wait logged (`client.retry`).

A 429 of the 10-second or per-second limit is not a failure of HubSpot but a queue in front of it (other apps of
the account share the budget): such a call gets more attempts than one that failed (`max_retries` each,
`_RATE_LIMITED_ATTEMPTS` times over), and waits no longer than one rolling window between them unless HubSpot asks
for longer. Measured with bench/chaos.py: at 30 % faults with 429 bursts, six attempts gave up on most runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential_jitter
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from hubsync.errors import RateLimited, RetriableHubSpotError

log = structlog.get_logger("hubsync.hubspot.client")

_BACKOFF_FIRST_SECONDS: Final = 1.0
_BACKOFF_MAX_SECONDS: Final = 60.0
_BACKOFF_JITTER_SECONDS: Final = 1.0
# A rate-limited call may take this many times the attempts of a failed one.
_RATE_LIMITED_ATTEMPTS: Final = 3
# HubSpot's rate windows roll over within ten seconds: a longer wait after a 429 only loses time.
_RATE_WINDOW_SECONDS: Final = 10.0


def retrying(max_retries: int, sleep: Callable[[float], None]) -> Retrying:
    """The retry policy of one client: built once; tenacity keeps each call's state thread-locally."""
    return Retrying(
        retry=retry_if_exception_type(RetriableHubSpotError),
        stop=_StopAfter(max_retries + 1),
        wait=_RetryAfterOrBackoff(
            wait_exponential_jitter(
                initial=_BACKOFF_FIRST_SECONDS, max=_BACKOFF_MAX_SECONDS, jitter=_BACKOFF_JITTER_SECONDS
            )
        ),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )


class _StopAfter(stop_base):
    """Two budgets per call: `attempts` failures (5xx, drops, timeouts, bad bodies), and `_RATE_LIMITED_ATTEMPTS`
    times as many 429s. A burst of 429s followed by one 503 has used one failure, not six."""

    def __init__(self, attempts: int) -> None:
        self._attempts = attempts

    def __call__(self, retry_state: RetryCallState) -> bool:
        # tenacity keeps one RetryCallState per call: the place for this call's count of 429s.
        limited: int = getattr(retry_state, "hubsync_rate_limited", 0)
        if isinstance(_error(retry_state), RateLimited):
            limited += 1
            retry_state.hubsync_rate_limited = limited  # type: ignore[attr-defined]  # our own counter, see above
        failures = retry_state.attempt_number - limited
        return failures >= self._attempts or limited >= self._attempts * _RATE_LIMITED_ATTEMPTS


class _RetryAfterOrBackoff(wait_base):
    """Exponential backoff with jitter, but never shorter than the Retry-After HubSpot sent with a 429, and after a
    429 without one never longer than a rate window."""

    def __init__(self, backoff: wait_base) -> None:
        self._backoff = backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = float(self._backoff(retry_state))
        error = _error(retry_state)
        if not isinstance(error, RateLimited):
            return backoff
        if error.retry_after is not None:
            return max(min(backoff, _RATE_WINDOW_SECONDS), error.retry_after)
        return min(backoff, _RATE_WINDOW_SECONDS)


def _error(retry_state: RetryCallState) -> BaseException | None:
    return retry_state.outcome.exception() if retry_state.outcome else None


def _log_retry(retry_state: RetryCallState) -> None:
    error = _error(retry_state)
    log.warning(
        "client.retry",
        operation=retry_state.args[0] if retry_state.args else None,
        attempt=retry_state.attempt_number,
        wait=round(retry_state.upcoming_sleep, 3),
        status=getattr(error, "status", None),
        error=type(error).__name__ if error else None,
    )
