"""The one error tree. The CLI turns any HubsyncError into a one-line message and its exit code."""

from __future__ import annotations


class HubsyncError(Exception):
    """Base of every error hubsync raises on purpose. `exit_code` is what the CLI exits with."""

    exit_code = 1


class ConfigError(HubsyncError):
    """The configuration (file or environment) is wrong. Names the source, the key and what was expected."""

    exit_code = 2

    def __init__(self, source: str, key: str, expected: str) -> None:
        self.source = source
        self.key = key
        self.expected = expected
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {expected}")


class StoreError(HubsyncError):
    """The database cannot be reached or is in a state hubsync cannot work with."""

    exit_code = 3


class HubSpotError(HubsyncError):
    """A HubSpot call failed. `status` is the HTTP status when there was a response."""

    exit_code = 4

    def __init__(self, message: str, *, status: int | None = None, category: str | None = None) -> None:
        self.status = status
        self.category = category
        super().__init__(message)


class RetriableHubSpotError(HubSpotError):
    """Worth retrying after a pause: 5xx, timeouts, dropped connections."""


class MalformedAnswer(RetriableHubSpotError):
    """A 2xx answer whose body is not the endpoint's page (not JSON, empty, `null`, a list, an object without its
    results): nothing of it is used, the call is retried, and if it persists the stream fails with its cursor
    where it was."""


class RateLimited(RetriableHubSpotError):
    """429 from a rolling or per-second budget. `retry_after` is in seconds when HubSpot said it."""

    def __init__(self, message: str, *, policy: str | None = None, retry_after: float | None = None) -> None:
        self.policy = policy
        self.retry_after = retry_after
        super().__init__(message, status=429, category="RATE_LIMIT")


class FatalHubSpotError(HubSpotError):
    """Retrying cannot help: a bad request, a bad token, a missing scope."""


class AuthenticationFailed(FatalHubSpotError):
    """401: the access token is wrong, expired or revoked."""

    exit_code = 5


class MissingScopes(FatalHubSpotError):
    """403 MISSING_SCOPES: the private app lacks a scope. `scopes` names what to add."""

    exit_code = 6

    def __init__(self, message: str, *, scopes: tuple[str, ...] = ()) -> None:
        self.scopes = scopes
        super().__init__(message, status=403, category="MISSING_SCOPES")


class StoppedForNow(HubSpotError):
    """HubSpot said "not now": the run stops cleanly (outcome "stopped", everything so far saved) and the next run
    continues. Exit code 7."""

    exit_code = 7


class QuotaExhausted(StoppedForNow):
    """The daily quota (or hubsync's reserve of it) is used up: stop cleanly and resume next run."""


class RetryAfterTooLong(StoppedForNow):
    """A 429 whose Retry-After is beyond `[portal] max_retry_after_seconds`: rather than sleep that long, stop
    cleanly and resume next run."""

    def __init__(self, message: str, *, retry_after: float, policy: str | None = None) -> None:
        self.retry_after = retry_after
        self.policy = policy
        super().__init__(message, status=429, category="RATE_LIMIT")


class Interrupted(HubsyncError):
    """SIGTERM / SIGINT: the current page or batch finished and was saved; stop before the next one.

    Not a failure: the run is recorded as stopped and the command exits 0, to continue on the next run.
    """

    exit_code = 0


class SetupRequired(FatalHubSpotError):
    """hubsync's properties do not exist in the portal: `hubsync setup` has not run (or they were deleted)."""

    exit_code = 2


class NotFound(HubsyncError):
    """What the command line names (a contact, a company) is not in the local database."""

    exit_code = 11


class LeaseBusy(HubsyncError):
    """Another live hubsync process holds the sync lease (one writer per database): nothing was done, or the
    command stopped after the page in hand because another process took the lease over."""

    exit_code = 10
