"""Retry-After as the sandbox portal sends it with a 429: beyond `[portal] max_retry_after_seconds` it is not slept
on (the run stops cleanly, "stopped", and the next one continues); a value that is no number of seconds ("1e999")
is treated as absent, never a traceback."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hubsync.errors import RetryAfterTooLong
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import ClientSettings
from hubsync.sandbox.limits import FaultSettings
from hubsync.sandbox.server import Sandbox, start_sandbox
from hubsync.secret import Secret
from hubsync.store.db import open_database
from hubsync.store.tables import run_t
from tests.support.cli import cli_env, run_hubsync
from tests.support.config import UNPACED_CONFIG, config_with

from .portal_state import differences, expected, stored
from .pull_support import UNPACED


def _client(sb: Sandbox, sleeps: list[float]) -> HubSpotClient:
    """A client that records what it would sleep instead of sleeping; the cap as shipped (60 s)."""
    return HubSpotClient(
        ClientSettings(
            access_token=Secret(sb.token),
            base_url=sb.url,
            requests_per_10s=100_000,
            pace_fraction=1.0,
            search_per_second=1_000,
        ),
        sleep=sleeps.append,
    )


def test_a_retry_after_beyond_the_cap_stops_the_pull_after_one_attempt(make_puller: Callable[..., Any]) -> None:
    faults = FaultSettings(rate=1.0, kinds=("429",), burst=1, retry_after="3600")
    with start_sandbox(contacts=30, seed=2, rate_limits=False, per_ten_seconds=UNPACED, faults=faults) as sb:
        sleeps: list[float] = []
        puller = make_puller(sb, client=_client(sb, sleeps))
        result = puller()
        assert isinstance(result.stopped, RetryAfterTooLong)
        assert result.stopped.retry_after == 3600
        assert sb.stats()["byStatus"] == {"429": 1}
        assert sleeps == []
        # HubSpot lets go: the next run continues and ends equal to the portal.
        sb.set_faults(FaultSettings())
        again = puller()
        assert again.stopped is None
        assert differences(expected(sb.portal, run_started=puller.now()), stored(puller.engine)) == {}


def test_a_retry_after_of_1e999_is_absent_and_the_backoff_decides(make_puller: Callable[..., Any]) -> None:
    faults = FaultSettings(rate=0.2, seed=4, kinds=("429",), burst=1, retry_after="1e999")
    with start_sandbox(contacts=30, seed=2, rate_limits=False, per_ten_seconds=UNPACED, faults=faults) as sb:
        sleeps: list[float] = []
        puller = make_puller(sb, client=_client(sb, sleeps))
        result = puller()
        assert result.stopped is None
        assert int(sb.stats()["byStatus"]["429"]) > 0
        assert sleeps
        assert all(0 < s <= 61 for s in sleeps)
        assert differences(expected(sb.portal, run_started=puller.now()), stored(puller.engine)) == {}


def test_hubsync_sync_stops_cleanly_on_a_long_retry_after(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    faults = FaultSettings(rate=1.0, kinds=("429",), burst=1, retry_after="3600")
    with start_sandbox(contacts=30, seed=2, rate_limits=False, per_ten_seconds=UNPACED, faults=faults) as sb:
        config = config_with(tmp_path, UNPACED_CONFIG)
        started = time.monotonic()
        result = run_hubsync(cli_env(db, sandbox=sb, config=config), "sync", "--no-push")
        elapsed = time.monotonic() - started
        by_status = sb.stats()["byStatus"]
    assert result.returncode == 7, result.stderr
    assert "stopped" in result.stdout
    assert "Traceback" not in result.stderr
    assert "client.retry_after_capped" in result.stderr
    assert by_status == {"429": 1}
    assert elapsed < 60
    engine = open_database(db)
    try:
        with engine.connect() as conn:
            runs = conn.execute(sa.select(run_t.c.kind, run_t.c.outcome, run_t.c.error)).all()
    finally:
        engine.dispose()
    assert len(runs) == 1
    kind, outcome, note = runs[0]
    assert (kind, outcome) == ("sync", "stopped")
    assert "max_retry_after_seconds" in note
