"""Work a dying run leaves behind is finished by the next plain cycle: nothing the pull stored is left unscored.

A process that dies (SIGKILL, OOM, power) keeps only what it committed. These tests stop the cycle with an exception
no code path handles, at the moments a kill would hurt most — right after the pull committed its pages, and halfway
through the rescore — which leaves the database exactly as a kill there would (the run row stays "running", the
pages and cursors are committed, nothing in memory survives). Real SIGKILLs at random moments are
`bench/chaos.py`'s job.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import client_settings
from hubsync.jobs import cycle, rescore
from hubsync.jobs.cycle import run_cycle
from hubsync.jobs.setup import setup
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.store import scores
from hubsync.store.db import open_database
from hubsync.store.tables import contact_score_t, contact_t, pending_t, run_t
from tests.support.portal_checks import assert_properties_in_portal
from tests.support.sandbox import portal_now, sandbox_settings


class Killed(BaseException):
    """Not an Exception: nothing in hubsync catches it, as nothing survives a kill."""


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=300, seed=23, rate_limits=False) as sb:
        yield sb


def _counts(database_url: str) -> dict[str, Any]:
    engine = open_database(database_url)
    with engine.connect() as conn:
        live = conn.execute(sa.select(sa.func.count()).where(contact_t.c.archived_at.is_(None))).scalar_one()
        scored = conn.execute(sa.select(sa.func.count()).select_from(contact_score_t)).scalar_one()
        pending = conn.execute(sa.select(sa.func.count()).select_from(pending_t)).scalar_one()
        runs = [r.outcome for r in conn.execute(sa.select(run_t.c.outcome).order_by(run_t.c.id))]
    engine.dispose()
    return {"live": live, "scored": scored, "pending": pending, "runs": runs}


def _die_when_scoring_starts(*_: object, **__: object) -> None:
    raise Killed


def test_a_run_that_dies_after_the_pull_is_scored_and_pushed_by_the_next_plain_cycle(
    sandbox: Sandbox, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = sandbox_settings(sandbox, database_url)
    engine = open_database(database_url)
    with HubSpotClient(client_settings(settings)) as client:
        setup(client, settings.config.push)
        with monkeypatch.context() as patched:
            patched.setattr(cycle, "rescore", _die_when_scoring_starts)
            with pytest.raises(Killed):
                run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal))
        died = _counts(database_url)
        assert died["live"] > 250
        assert died["scored"] == 0
        assert died["pending"] >= died["live"]  # the contacts and their companies
        assert died["runs"] == ["running"]

        # A plain cycle, with nothing new in the portal: it owes the dead run's work and does it.
        after = run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal))
        assert after.outcome == "ok"
        assert after.scored is not None
        assert after.scored.contacts_scored == died["live"]
        assert after.pushed is not None
        assert after.pushed.records_pushed >= died["live"]
        assert_properties_in_portal(sandbox, engine, settings.config.push)
    engine.dispose()
    done = _counts(database_url)
    assert (done["scored"], done["pending"]) == (died["live"], 0)


def test_a_run_that_dies_halfway_through_the_rescore_leaves_the_rest_to_the_next_cycle(
    sandbox: Sandbox, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = sandbox_settings(sandbox, database_url)
    engine = open_database(database_url)
    stored_batches = 0

    def store_then_die_on_the_third_batch(*args: Any, **kwargs: Any) -> None:
        nonlocal stored_batches
        stored_batches += 1
        if stored_batches == 3:
            raise Killed
        scores.store_scores(*args, **kwargs)

    with HubSpotClient(client_settings(settings)) as client:
        setup(client, settings.config.push)
        with monkeypatch.context() as patched:
            patched.setattr(rescore, "BATCH", 50)
            patched.setattr("hubsync.jobs.rescore.store_scores", store_then_die_on_the_third_batch)
            with pytest.raises(Killed):
                run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal))
        died = _counts(database_url)
        assert died["scored"] == 100  # two batches of 50 were committed before the kill
        assert died["pending"] >= died["live"] - 100

        after = run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal))
        assert after.outcome == "ok"
        assert after.scored is not None
        # At least the rest of the dead run's contacts (the new pull may touch a few more again).
        assert after.scored.contacts_scored >= died["live"] - 100
        assert_properties_in_portal(sandbox, engine, settings.config.push)
    engine.dispose()
    assert _counts(database_url)["pending"] == 0
