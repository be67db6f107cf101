"""An incremental cycle scores exactly the contacts whose scores can have changed, and leaves the database as a
full rescore would.

One page view at a company of many rescores that one contact (its company's account scores are aggregated again
from the stored contact scores); a company whose employee count changed rescores its contacts, since their
profile and tier read it; a company that only changed its name rescores none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.client_settings import client_settings
from hubsync.jobs.cycle import CycleOptions, run_cycle
from hubsync.jobs.rescore import rescore
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.store.db import open_database
from hubsync.store.tables import company_score_t, company_t, contact_score_t, contact_t
from tests.support.sandbox import portal_now, sandbox_settings

NO_PUSH = CycleOptions(push=False)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=300, seed=17, rate_limits=False) as sb:
        yield sb


def _companies_by_size(engine: Engine) -> list[tuple[int, list[int]]]:
    """Live companies with their live contacts, the largest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(contact_t.c.company_id, contact_t.c.id)
            .join(company_t, company_t.c.id == contact_t.c.company_id)
            .where(contact_t.c.archived_at.is_(None), company_t.c.archived_at.is_(None))
        ).all()
    members: dict[int, list[int]] = {}
    for company_id, contact_id in rows:
        members.setdefault(company_id, []).append(contact_id)
    return sorted(members.items(), key=lambda item: (-len(item[1]), item[0]))


def _scores(engine: Engine) -> dict[str, dict[int, tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            name: {row[0]: tuple(row) for row in conn.execute(sa.select(table).order_by(*table.primary_key))}
            for name, table in (("contacts", contact_score_t), ("companies", company_score_t))
        }


def test_an_incremental_cycle_scores_what_changed_and_equals_a_full_rescore(
    sandbox: Sandbox, database_url: str
) -> None:
    settings = sandbox_settings(sandbox, database_url)
    model = settings.config.scoring
    engine = open_database(database_url)
    portal = sandbox.portal
    with HubSpotClient(client_settings(settings)) as client:
        run_cycle(settings, engine, client, clock=lambda: portal_now(portal), options=NO_PUSH)
        (busy, busy_members), (grown, grown_members), (renamed, renamed_members) = _companies_by_size(engine)[:3]
        assert len(busy_members) >= 3
        assert len(renamed_members) >= 2

        portal.advance(3600)
        portal.add_page_view(busy_members[0], "https://www.leadwerk.example/preise")
        employees = portal.store("companies").by_id[grown].props.get("numberofemployees")
        portal.update("companies", grown, {"numberofemployees": "20000" if employees != "20000" else "12"})
        portal.update("companies", renamed, {"name": "Renamed GmbH"})
        portal.advance(1)
        # Every score as of the instant the next cycle scores at, so that its rows and a full rescore's compare.
        now = portal_now(portal)
        rescore(engine, model, now=now)

        second = run_cycle(settings, engine, client, clock=lambda: portal_now(portal), options=NO_PUSH)
        assert second.outcome == "ok"
        assert second.scored is not None
        assert second.scored.contacts_scored == 1 + len(grown_members)
        assert second.pulled.touched_companies >= {grown, renamed}
        assert busy not in second.pulled.touched_companies
        # The page view's company, the grown and the renamed one, aggregated again (others may join them, when
        # contacts of theirs were among the grown company's, say).
        assert second.scored.companies_scored >= 3

    incremental = _scores(engine)
    full = rescore(engine, model, now=now)
    assert (full.contacts_changed, full.companies_changed) == (0, 0)
    assert _scores(engine) == incremental
    engine.dispose()
