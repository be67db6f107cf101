"""Where "now" comes from. The CLI chooses a clock once and passes it down; nothing else reads the time.

The sandbox portal has a clock of its own that its users advance (a simulated week passes in a second). With
`HUBSYNC_CLOCK=sandbox` hubsync scores as of the portal's time instead of the machine's, so the demo and the
end-to-end tests see the portal's activity as recent. Against HubSpot the clock is always the system clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import requests

from hubsync.errors import HubSpotError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def sandbox_clock(base_url: str, *, timeout: float = 10.0) -> Clock:
    url = base_url.rstrip("/") + "/__sandbox__/clock"
    session = requests.Session()

    def now() -> datetime:
        try:
            response = session.get(url, timeout=timeout)
            response.raise_for_status()
            return datetime.fromtimestamp(int(response.json()["now"]) / 1000, UTC)
        except (requests.RequestException, ValueError, KeyError, TypeError) as err:
            raise HubSpotError(
                f"HUBSYNC_CLOCK=sandbox but the sandbox portal's clock at {url} cannot be read ({type(err).__name__})"
            ) from None

    return now


def make_clock(source: str, base_url: str) -> Clock:
    return sandbox_clock(base_url) if source == "sandbox" else system_clock
