"""An idle day: the daily full rescore of a portal where nothing happened pushes only what time itself changes.

Scores decay and windows pass, so some values do change without new data; those are the documented set (docs/scoring.md,
"What changes on an idle day"). No text may change on its own: a reason is written only together with a score,
status, segment or flag that moved.
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
from hubsync.jobs.setup import setup
from hubsync.sandbox import Sandbox, start_sandbox
from hubsync.store.db import open_database
from hubsync.store.tables import pushed_t
from tests.support.sandbox import portal_now, sandbox_settings

# What time alone may change, without the prefix: decay moves engagement scores (and with them segments, statuses,
# an account's engaged contacts), the surge and buying-center windows pass.
MOVES_WITH_TIME = {
    "contacts": {"engagement_score", "segment", "lead_status", "surge"},
    "companies": {"account_engagement", "account_segment", "engaged_contacts", "buying_center_active"},
}
TEXTS = {"reason", "account_reason"}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(contacts=300, seed=5, rate_limits=False) as sb:
        yield sb


def _pushed(engine: Engine) -> dict[tuple[str, int], dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(pushed_t.c.object_type, pushed_t.c.object_id, pushed_t.c["values"])).all()
    return {(object_type, object_id): dict(values) for object_type, object_id, values in rows}


def test_a_daily_rescore_of_an_idle_portal_pushes_only_what_time_changes(sandbox: Sandbox, database_url: str) -> None:
    settings = sandbox_settings(sandbox, database_url)
    prefix = settings.config.push.property_prefix
    engine = open_database(database_url)
    with HubSpotClient(client_settings(settings)) as client:
        setup(client, settings.config.push)
        first = run_cycle(settings, engine, client, clock=lambda: portal_now(sandbox.portal))
        assert first.pushed is not None
        assert first.pushed.records_pushed > 250
        before = _pushed(engine)

        sandbox.portal.advance(86_400)
        daily = run_cycle(
            settings, engine, client, clock=lambda: portal_now(sandbox.portal), options=CycleOptions(full_rescore=True)
        )
        assert daily.outcome == "ok"
        assert daily.pushed is not None
        after = _pushed(engine)
    engine.dispose()

    changed = {
        key: {name.removeprefix(prefix) for name, value in values.items() if before[key].get(name) != value}
        for key, values in after.items()
        if values != before.get(key)
    }
    assert daily.pushed.records_pushed == len(changed)
    # Far fewer than a day's churn of texts would give (every contact with a decayed or inactive part).
    assert len(changed) < first.pushed.records_pushed / 4
    for (object_type, object_id), names in changed.items():
        assert names & MOVES_WITH_TIME[object_type], (object_type, object_id, names)
        assert names <= MOVES_WITH_TIME[object_type] | TEXTS, (object_type, object_id, names)
