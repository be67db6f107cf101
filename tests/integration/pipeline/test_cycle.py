from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hubsync.errors import Interrupted, SetupRequired
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import client_settings
from hubsync.jobs.cycle import CycleOptions, run_cycle
from hubsync.jobs.setup import setup
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.store.db import open_database
from hubsync.store.tables import contact_score_t, contact_t, run_t
from tests.support.sandbox import portal_now, sandbox_settings


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=300, seed=11, rate_limits=False) as sb:
        yield sb


def test_a_cycle_pulls_scores_and_pushes_then_an_idle_cycle_sends_nothing(sandbox: Sandbox, database_url: str) -> None:
    settings = sandbox_settings(sandbox, database_url)
    engine = open_database(database_url)
    with HubSpotClient(client_settings(settings)) as client:
        setup(client, settings.config.push)
        first = run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal))
        assert first.outcome == "ok"
        assert first.pushed is not None
        with engine.connect() as conn:
            live = conn.execute(sa.select(sa.func.count()).where(contact_t.c.archived_at.is_(None))).scalar_one()
            scored = conn.execute(sa.select(sa.func.count()).select_from(contact_score_t)).scalar_one()
        assert live > 250
        assert scored == live == first.scored.contacts_scored  # type: ignore[union-attr]  # scored is set on "ok"
        assert first.pushed.records_pushed > 0

        # Same instant, no new data: scores cannot move, so nothing may be sent (hubsync's own writes from the first
        # cycle come back through the pull and must not cause a write).
        second = run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal))
        assert second.outcome == "ok"
        assert second.pushed is not None
        assert second.pushed.updates_sent == 0

        # An hour later, still no new data: the first cycle's writes moved every pushed contact's modified date, so
        # the pull reads them again, but only contacts with real new data may be rescored, not all of them.
        sandbox.portal.advance(3600)
        third = run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal))
        assert third.pulled.counts["contacts"].stored >= first.pushed.records_pushed / 2
        assert third.scored is not None
        assert third.scored.contacts_scored < live / 4
        assert second.pushed.tasks_created == 0

    with engine.connect() as conn:
        runs = conn.execute(sa.select(run_t.c.outcome, run_t.c.pulled, run_t.c.api_calls).order_by(run_t.c.id)).all()
    engine.dispose()
    assert [r.outcome for r in runs] == ["ok", "ok", "ok"]
    assert runs[0].pulled > 0
    assert runs[0].api_calls > runs[1].api_calls > 0


def test_a_stop_request_ends_the_cycle_as_stopped(sandbox: Sandbox, database_url: str) -> None:
    settings = sandbox_settings(sandbox, database_url)
    engine = open_database(database_url)
    stop = threading.Event()
    stop.set()
    with HubSpotClient(client_settings(settings), stop=stop) as client, pytest.raises(Interrupted):
        run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal), options=CycleOptions(), stop=stop)
    with engine.connect() as conn:
        run = conn.execute(sa.select(run_t)).one()
    engine.dispose()
    assert (run.outcome, run.pulled) == ("stopped", 0)
    assert run.finished_at is not None


def test_a_cycle_before_setup_stops_at_the_first_batch_with_one_clear_error(
    sandbox: Sandbox, database_url: str
) -> None:
    settings = sandbox_settings(sandbox, database_url)
    engine = open_database(database_url)
    sandbox.reset_stats()
    with HubSpotClient(client_settings(settings)) as client, pytest.raises(SetupRequired, match="hubsync setup"):
        run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal))
    engine.dispose()
    batch_updates = sum(
        sum(by_status.values())
        for endpoint, by_status in sandbox.stats()["endpoints"].items()
        if endpoint.endswith("/batch/update")
    )
    assert batch_updates == 1
