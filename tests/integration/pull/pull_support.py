"""What the pull tests share: a client for a sandbox portal that does not pace or sleep, and a pull runner whose
clock is the portal's clock (HubSpot's modified dates and the run's start come from the same clock).

Kept out of conftest.py so tests can import it by a name no other test folder uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import ClientSettings
from hubsync.jobs.pull import PullOptions, PullResult, pull
from hubsync.sandbox.server import Sandbox
from hubsync.secret import Secret

from .portal_state import portal_time

# Limits off still sends rate-limit headers with the tier's budget, which the pacer follows: a budget this large
# in the headers keeps tests that do not measure pacing from waiting for it.
UNPACED = 10_000_000


def fast_client(sb: Sandbox, *, max_retries: int = 5, per_10s: int = 100_000) -> HubSpotClient:
    """A client for a sandbox with rate limits off: the pacer's own budget high enough not to slow the test."""
    return HubSpotClient(
        ClientSettings(
            access_token=Secret(sb.token),
            base_url=sb.url,
            requests_per_10s=per_10s,
            pace_fraction=1.0,
            search_per_second=1_000,
            max_retries=max_retries,
        ),
        sleep=lambda _s: None,
    )


@dataclass
class Puller:
    sb: Sandbox
    engine: Engine
    client: HubSpotClient
    options: PullOptions

    def now(self) -> datetime:
        return portal_time(self.sb.portal)

    def __call__(self) -> PullResult:
        return pull(self.client, self.engine, self.options, now=self.now)

    def counted(self) -> tuple[PullResult, dict[str, int]]:
        """One pull, and the calls it made per client operation (e.g. "search contacts": 1)."""
        before = dict(self.client.stats().by_operation)
        result = self()
        after = self.client.stats().by_operation
        return result, {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0)}
