"""Fixtures for pull tests: a sandbox portal in this process, a client on it, a database, and a pull runner whose
clock is the portal's clock (HubSpot's modified dates and the run's start come from the same clock)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from portal_state import portal_time
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import ClientSettings, HubSpotClient
from hubsync.hubspot.pull import PullOptions, PullResult, pull
from hubsync.sandbox.server import Sandbox
from hubsync.secret import Secret
from hubsync.store.db import open_database

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


@pytest.fixture
def make_puller(database_url: str) -> Iterator[Callable[..., Puller]]:
    made: list[Puller] = []

    def make(sb: Sandbox, options: PullOptions | None = None, client: HubSpotClient | None = None) -> Puller:
        engine = open_database(database_url)
        puller = Puller(sb, engine, client or fast_client(sb), options or PullOptions())
        made.append(puller)
        return puller

    yield make
    for puller in made:
        puller.client.close()
        puller.engine.dispose()
