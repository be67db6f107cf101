"""What the gateway needs from the configuration, as frozen data: built once from the settings, handed down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hubsync.errors import ConfigError
from hubsync.secret import Secret
from hubsync.settings import PortalConfig, Settings

DEFAULT_BASE_URL: Final = "https://api.hubapi.com"
_SETTINGS_SOURCE: Final = "HubSpot client settings"
_DEFAULT_PORTAL: Final = PortalConfig()


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What the gateway needs, as frozen data handed down from the settings loader."""

    access_token: Secret
    base_url: str = DEFAULT_BASE_URL
    # The defaults are the configuration's (a default `[portal]`): one home for each number.
    # The app's 10-second budget for its tier; the -Max header overrides it.
    requests_per_10s: int = _DEFAULT_PORTAL.effective_requests_per_10s
    # Share of the 10-second budget hubsync uses, so it paces before the limit instead of bouncing off it.
    pace_fraction: float = _DEFAULT_PORTAL.pace_fraction
    search_per_second: int = _DEFAULT_PORTAL.search_requests_per_second
    daily_quota: int = _DEFAULT_PORTAL.effective_daily_quota
    # Fraction of the daily quota left for the account's other integrations.
    daily_reserve: float = _DEFAULT_PORTAL.daily_quota_reserve
    timeout_seconds: float = _DEFAULT_PORTAL.timeout_seconds
    # A 429 asking for a longer wait than this stops the run (RetryAfterTooLong) instead of sleeping.
    max_retry_after_seconds: float = _DEFAULT_PORTAL.max_retry_after_seconds
    # Retries after the first attempt of one call (so max_retries + 1 attempts at most).
    max_retries: int = 5

    def __post_init__(self) -> None:
        checks: list[tuple[str, bool, str]] = [
            ("access_token", bool(self.access_token.reveal().strip()), "a non-empty private app token"),
            ("base_url", self.base_url.startswith(("http://", "https://")), "an http(s) URL"),
            ("requests_per_10s", self.requests_per_10s > 0, "a positive number"),
            ("pace_fraction", 0 < self.pace_fraction <= 1, "a number in (0, 1]"),
            ("search_per_second", self.search_per_second > 0, "a positive number"),
            ("daily_quota", self.daily_quota > 0, "a positive number"),
            ("daily_reserve", 0 <= self.daily_reserve < 1, "a number in [0, 1)"),
            ("timeout_seconds", self.timeout_seconds > 0, "a positive number of seconds"),
            ("max_retry_after_seconds", self.max_retry_after_seconds >= 0, "zero or more seconds"),
            ("max_retries", self.max_retries >= 0, "zero or more"),
        ]
        for key, ok, expected in checks:
            if not ok:
                raise ConfigError(_SETTINGS_SOURCE, key, expected)


def client_settings(settings: Settings, *, max_retries: int = 5) -> ClientSettings:
    """The client's settings from the loaded configuration: the one place the two meet."""
    portal = settings.config.portal
    return ClientSettings(
        access_token=settings.require_token(),
        base_url=settings.api_base_url,
        requests_per_10s=portal.effective_requests_per_10s,
        pace_fraction=portal.pace_fraction,
        search_per_second=portal.search_requests_per_second,
        daily_quota=portal.effective_daily_quota,
        daily_reserve=portal.daily_quota_reserve,
        timeout_seconds=portal.timeout_seconds,
        max_retry_after_seconds=portal.max_retry_after_seconds,
        max_retries=max_retries,
    )
