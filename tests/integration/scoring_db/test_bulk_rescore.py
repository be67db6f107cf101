"""The full rescore's bulk path (only the columns scoring needs, activities grouped by signal as they are read)
stores exactly what the per-contact path stores, on a generated database with the awkward cases: times with
microseconds, activities after the scoring instant, archived contacts inside the id range, contacts without
activity or company, an archived company. `bench/score.py` makes the same comparison on 100,000 contacts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.jobs.rescore import rescore
from hubsync.store.db import open_database
from hubsync.store.reads import live_contact_ids
from hubsync.store.tables import activity_t, company_score_t, company_t, contact_score_t, contact_t, history_t
from hubsync.store.upsert import upsert
from tests.unit.scoring.scoring_builders import default_model

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PAGES = ["/", "/preise", "/pricing", "/vergleich/a", "/case-studies/b", "/blog/c", "/jobs"]
FORMS = ["E-Book: Lead Scoring", "Demo anfragen", "Newsletter", "Beratung vereinbaren", "Checkliste CRM"]
TITLES = ["CEO", "Head of Marketing", "Werkstudent", "Marketing Manager", "", None]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _activity(rng: random.Random, n: int, contact_id: int) -> dict[str, Any]:
    # Up to two years back, a few after the scoring instant; microseconds throughout.
    at = NOW - timedelta(days=rng.uniform(-3, 730), microseconds=rng.randint(0, 999_999))
    row: dict[str, Any] = {"id": f"t:{n}", "contact_id": contact_id, "occurred_at": at}
    roll = rng.random()
    if roll < 0.4:
        row |= {"kind": "page_view", "url": "https://www.acme.example" + rng.choice(PAGES)}
    elif roll < 0.6:
        event = rng.choice(["open", "click", "delivered", "unsubscribe", "bounce"])
        row |= {"kind": "email_event", "event_type": event, "status": "hard" if event == "bounce" else None}
    elif roll < 0.75:
        row |= {"kind": "form_submission", "form_name": rng.choice(FORMS), "url": "https://www.acme.example/demo"}
    elif roll < 0.85:
        row |= {"kind": "marketing_event", "event_type": rng.choice(["registered", "attended", "no_show"])}
    else:
        kind = rng.choice(["email", "call", "meeting", "note"])
        row |= {
            "kind": "crm_engagement",
            "event_type": kind,
            "direction": rng.choice(["INCOMING", "OUTGOING", "INBOUND", None]),
            "status": rng.choice(["COMPLETED", "", None]),
        }
    return row


def _generate(engine: Engine, contacts: int = 400, seed: int = 29) -> None:
    rng = random.Random(seed)  # noqa: S311  (test data, not security)
    companies: list[dict[str, Any]] = [
        {
            "id": i,
            "name": f"Co {i}",
            "domain": f"co{i}.example",
            "industry": rng.choice(["COMPUTER_SOFTWARE", "RETAIL", ""]),
            "numberofemployees": rng.choice(["12", "250", "5000", "", "50-100"]),
            "properties": {},
            "archived_at": NOW if i == 3 else None,
        }
        for i in range(1, 41)
    ]
    people: list[dict[str, Any]] = [
        {
            "id": i,
            "email": f"p{i}@{rng.choice(['co1.example', 'gmail.com', 'co7.example'])}",
            "jobtitle": rng.choice(TITLES),
            "company_id": rng.choice([None, *range(1, 41)]),
            "created_at": NOW - timedelta(days=rng.uniform(0, 800)),
            "properties": {"hs_lead_status": rng.choice(["NEW", "OPEN"])},
            "archived_at": NOW if i % 37 == 0 else None,
        }
        for i in range(1, contacts + 1)
    ]
    activities = [_activity(rng, n, rng.randint(1, contacts)) for n in range(contacts * 15)]
    columns = ["url", "form_name", "event_type", "direction", "status"]
    activities = [dict.fromkeys(columns) | a for a in activities]
    with engine.begin() as conn:
        upsert(conn, company_t, companies)
        upsert(conn, contact_t, people)
        upsert(conn, activity_t, activities)


def _stored(engine: Engine) -> dict[str, dict[int, tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: {row[0]: tuple(row) for row in conn.execute(sa.select(table))}
            for table in (contact_score_t, company_score_t)
        }


def _forget_scores(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (contact_score_t, company_score_t, history_t):
            conn.execute(sa.delete(table))


def test_the_bulk_path_stores_what_the_per_contact_path_stores(engine: Engine) -> None:
    model = default_model()
    _generate(engine)
    with engine.connect() as conn:
        live = live_contact_ids(conn)
    per_contact = rescore(engine, model, now=NOW, contact_ids=live)
    expected = _stored(engine)
    _forget_scores(engine)
    bulk = rescore(engine, model, now=NOW)
    assert bulk.contacts_scored == per_contact.contacts_scored == len(live)
    assert bulk.segments == per_contact.segments
    assert _stored(engine) == expected
    with engine.connect() as conn:
        # Stored as every other time is (SQLite compares times as text: a row written another way would not match).
        at_now = sa.select(sa.func.count()).where(contact_score_t.c.as_of >= NOW, contact_score_t.c.as_of <= NOW)
        assert conn.execute(at_now).scalar_one() == len(live)
    # The generated data reaches what the comparison is for.
    assert len(set(bulk.segments)) >= 4
    assert len(expected["contact_score"]) > 350
