"""Talking to a sandbox portal in tests: a client that never slows a test, and the portal's clock as datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import ClientSettings
from hubsync.sandbox.portal import Portal
from hubsync.sandbox.server import Sandbox
from hubsync.secret import Secret
from hubsync.settings import Settings, load_settings
from tests.support.paths import DEFAULT_CONFIG


def fast_client(
    sb: Sandbox, *, token: str | None = None, max_retries: int = 5, per_10s: int = 100_000
) -> HubSpotClient:
    """A client whose own pacing never slows a test (the sandbox's limits still apply) and that never sleeps."""
    return HubSpotClient(
        ClientSettings(
            access_token=Secret(token or sb.token),
            base_url=sb.url,
            requests_per_10s=per_10s,
            pace_fraction=1.0,
            search_per_second=1_000,
            max_retries=max_retries,
        ),
        sleep=lambda _s: None,
    )


def ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def dt_to_ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def portal_now(portal: Portal) -> datetime:
    return ms_to_dt(portal.now)


def sandbox_settings(sb: Sandbox, database_url: str, config: Path = DEFAULT_CONFIG) -> Settings:
    """The shipped config (or `config`), with hubsync pointed at the sandbox and at `database_url`."""
    env = {"HUBSPOT_ACCESS_TOKEN": sb.token, "HUBSYNC_API_BASE_URL": sb.url, "HUBSYNC_DATABASE_URL": database_url}
    return load_settings(env, str(config))
