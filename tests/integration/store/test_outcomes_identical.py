"""The outcome refresh on a generated portal (SQLite and PostgreSQL) stores exactly the rows of the plain reading:
each contact's facts read on its own, its whole properties decoded in Python, each outcome turned into its row by
`dataclasses.asdict`. The refresh takes shortcuts for speed (batches of contacts with their ids said as the database
plans best, the database extracts the few properties it needs, rows travel as tuples); this says they change
nothing that is stored."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.hubspot.mapping import lifecycle_dates
from hubsync.jobs.outcomes import outcome_facts, refresh_outcomes
from hubsync.scoring.outcomes import derive_outcome
from hubsync.store.reads import live_contact_ids
from hubsync.store.tables import contact_t, outcome_t
from tests.support.sandbox import portal_now
from tests.support.simulated_report import SimulatedRun, simulated_run


@pytest.fixture
def run(database_url: str) -> Iterator[SimulatedRun]:
    # Enough simulated days for deals, handed-over contacts with tasks and the reps' responses, and lifecycle dates.
    with simulated_run(database_url, contacts=120, seed=3, days=24, every=4, full_every=None) as sim:
        yield sim


def _stored(engine: Engine) -> dict[int, dict[str, Any]]:
    with engine.connect() as conn:
        return {row.contact_id: dict(row._mapping) for row in conn.execute(sa.select(outcome_t))}


def _plain(engine: Engine, sim: SimulatedRun, now: datetime) -> dict[int, dict[str, Any]]:
    """The rows as the plain reading derives them: each contact's facts read on their own, its properties from the
    whole decoded JSON, each outcome a row by `dataclasses.asdict`."""
    handoff = sim.settings.config.scoring.handoff
    statuses, segments = {s.value for s in handoff.statuses}, set(handoff.segments)
    out = {}
    with engine.connect() as conn:
        properties = {row.id: row.properties for row in conn.execute(sa.select(contact_t.c.id, contact_t.c.properties))}
        # One contact at a time: what a batch reads for one contact must not depend on the others in it.
        for contact_id in sorted(live_contact_ids(conn)):
            for facts in outcome_facts(conn, [contact_id], now=now)[0]:
                props = properties[facts.contact_id] or {}
                plain = dataclasses.replace(
                    facts, lifecycle=lifecycle_dates(props), lead_status=props.get("hs_lead_status") or None
                )
                outcome = derive_outcome(plain, trigger_statuses=statuses, trigger_segments=segments, now=now)
                out[facts.contact_id] = {**dataclasses.asdict(outcome), "refreshed_at": now}
    return out


def test_a_full_refresh_stores_the_rows_of_the_plain_reading(run: SimulatedRun) -> None:
    engine, now = run.engine, portal_now(run.sandbox.portal)
    with engine.begin() as conn:
        conn.execute(sa.delete(outcome_t))  # as on a first cycle: nothing stored yet

    refresh_outcomes(engine, run.settings.config.scoring, now=now)

    stored, plain = _stored(engine), _plain(engine, run, now)
    with engine.connect() as conn:
        assert set(stored) == set(live_contact_ids(conn))
    assert stored == plain
    # What the comparison covers: each kind of fact the refresh reads shows up in some row.
    rows = plain.values()
    assert sum(r["lead_at"] is not None for r in rows) > 0
    assert sum(r["lead_status"] is not None for r in rows) > 0
    assert sum(r["deals"] > 0 for r in rows) > 0
    assert sum(r["handed_over_at"] is not None for r in rows) > 0
    assert sum(r["first_response_at"] is not None for r in rows) > 0
    assert sum(r["peak_engagement"] is not None for r in rows) > 0
