"""How a failed call is retried: only RetriableHubSpotError, with exponential backoff and jitter, never sooner than
the Retry-After HubSpot sent, each wait logged (`client.retry`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter
from tenacity.wait import wait_base

from hubsync.errors import RateLimited, RetriableHubSpotError

log = structlog.get_logger("hubsync.hubspot.client")

_BACKOFF_FIRST_SECONDS: Final = 1.0
_BACKOFF_MAX_SECONDS: Final = 60.0
_BACKOFF_JITTER_SECONDS: Final = 1.0


def retrying(max_retries: int, sleep: Callable[[float], None]) -> Retrying:
    """The retry policy of one client: built once; tenacity keeps each call's state thread-locally."""
    return Retrying(
        retry=retry_if_exception_type(RetriableHubSpotError),
        stop=stop_after_attempt(max_retries + 1),
        wait=_RetryAfterOrBackoff(
            wait_exponential_jitter(
                initial=_BACKOFF_FIRST_SECONDS, max=_BACKOFF_MAX_SECONDS, jitter=_BACKOFF_JITTER_SECONDS
            )
        ),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )


class _RetryAfterOrBackoff(wait_base):
    """Exponential backoff with jitter, but never shorter than the Retry-After HubSpot sent with a 429."""

    def __init__(self, backoff: wait_base) -> None:
        self._backoff = backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = float(self._backoff(retry_state))
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return max(backoff, error.retry_after)
        return backoff


def _log_retry(retry_state: RetryCallState) -> None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    log.warning(
        "client.retry",
        operation=retry_state.args[0] if retry_state.args else None,
        attempt=retry_state.attempt_number,
        wait=round(retry_state.upcoming_sleep, 3),
        status=getattr(error, "status", None),
        error=type(error).__name__ if error else None,
    )
