"""Acceptance 4 (in process): with 10 % injected 5xx, dropped connections, slow answers and 429 bursts, a full sync
and an incremental sync end in the same state as without faults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hubsync.sandbox.limits import FaultSettings
from hubsync.sandbox.server import start_sandbox
from tests.support.sandbox import fast_client

from .portal_state import differences, expected, stored
from .pull_support import UNPACED


@pytest.mark.slow
def test_sync_survives_faults(make_puller: Callable[..., Any]) -> None:
    faults = FaultSettings(
        rate=0.10, seed=1, kinds=("500", "502", "503", "504", "drop", "429", "slow"), slow_seconds=0.2
    )
    with start_sandbox(contacts=600, seed=5, rate_limits=False, per_ten_seconds=UNPACED, faults=faults) as sb:
        # A 429 fault answers the next 5 requests with 429 whatever their timing (the sandbox counts requests, not
        # seconds), and this client's backoff does not sleep: 8 retries leave room for a burst and a 5xx after it.
        puller = make_puller(sb, client=fast_client(sb, max_retries=8))
        first = puller.now()
        puller()
        sb.portal.advance(60)
        sb.portal.bulk_update("contacts", sb.portal.stores["contacts"].live[:300], {"lifecyclestage": "lead"})
        sb.portal.add_page_view(sb.portal.stores["contacts"].live[0], "https://www.leadwerk.example/preise")
        sb.portal.advance(60)
        puller()
        by_status = sb.stats()["byStatus"]
        # Faults really happened, of every kind the client sees as a status (drops are counted as status 0).
        assert int(by_status.get("429", 0)) >= 5
        assert sum(int(by_status.get(s, 0)) for s in ("500", "502", "503", "504")) > 0
        assert int(by_status.get("0", 0)) > 0
        diff = differences(
            expected(sb.portal, run_started=puller.now(), first_run_started=first), stored(puller.engine)
        )
        assert diff == {}, repr(diff)
