"""What the pull tests share: a client for a sandbox portal that does not pace or sleep, and a pull runner whose
clock is the portal's clock (HubSpot's modified dates and the run's start come from the same clock).

Kept out of conftest.py so tests can import it by a name no other test folder uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.jobs.pull import PullOptions, PullResult, pull
from hubsync.sandbox.server import Sandbox
from tests.support.sandbox import portal_now

# Limits off still sends rate-limit headers with the tier's budget, which the pacer follows: a budget this large
# in the headers keeps tests that do not measure pacing from waiting for it.
UNPACED = 10_000_000


@dataclass
class Puller:
    sb: Sandbox
    engine: Engine
    client: HubSpotClient
    options: PullOptions

    def now(self) -> datetime:
        return portal_now(self.sb.portal)

    def __call__(self) -> PullResult:
        return pull(self.client, self.engine, self.options, now=self.now)

    def counted(self) -> tuple[PullResult, dict[str, int]]:
        """One pull, and the calls it made per client operation (e.g. "search contacts": 1)."""
        before = dict(self.client.stats().by_operation)
        result = self()
        after = self.client.stats().by_operation
        return result, {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0)}
