from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.jobs.rescore import rescore
from hubsync.scoring import ScoringModel
from hubsync.store.db import open_database
from hubsync.store.tables import activity_t, company_score_t, company_t, contact_score_t, contact_t, history_t
from hubsync.store.upsert import upsert
from hubsync.validation import parse
from tests.support.paths import DEFAULT_CONFIG

DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> ScoringModel:
    data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    return parse(ScoringModel, data["scoring"], str(DEFAULT_CONFIG), ("scoring",))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _company(conn: Any, company_id: int, employees: str) -> None:
    upsert(
        conn,
        company_t,
        [
            {
                "id": company_id,
                "name": f"Co {company_id}",
                "domain": f"co{company_id}.example",
                "industry": "COMPUTER_SOFTWARE",
                "numberofemployees": employees,
                "properties": {},
            }
        ],
    )


def _contact(conn: Any, contact_id: int, company_id: int, title: str = "CEO") -> None:
    upsert(
        conn,
        contact_t,
        [
            {
                "id": contact_id,
                "email": f"p{contact_id}@co{company_id}.example",
                "jobtitle": title,
                "company_id": company_id,
                "owner_id": 7,
                "properties": {},
            }
        ],
    )


def _activity(conn: Any, contact_id: int, n: int, day: float, kind: str, **attrs: str) -> None:
    upsert(
        conn,
        activity_t,
        [
            {
                "id": f"t:{contact_id}:{n}",
                "contact_id": contact_id,
                "kind": kind,
                "occurred_at": DAY0 + timedelta(days=day),
                **attrs,
            }
        ],
    )


def _jan(conn: Any) -> None:
    _company(conn, 10, "500")
    _contact(conn, 1, 10)
    _activity(conn, 1, 1, 0, "form_submission", form_name="E-Book: Lead Scoring", url="https://www.acme.example/ebook")
    _activity(conn, 1, 2, 7, "marketing_event", event_type="attended", event_name="Webinar: Scoring")
    _activity(conn, 1, 3, 14, "page_view", url="https://www.acme.example/preise")


def _score_of(engine: Engine, contact_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(contact_score_t).where(contact_score_t.c.contact_id == contact_id)).one()


def test_worked_example_1_through_the_database(engine: Engine, model: ScoringModel) -> None:
    with engine.begin() as conn:
        _jan(conn)
    result = rescore(engine, model, now=DAY0 + timedelta(days=14))
    assert (result.contacts_scored, result.contacts_changed, result.companies_scored) == (1, 1, 1)
    day14 = _score_of(engine, 1)
    assert (day14.engagement, day14.status, day14.handoff_armed) == (45, "mql", True)
    with engine.begin() as conn:
        _activity(conn, 1, 4, 16, "form_submission", form_name="Beratung vereinbaren")
    rescore(engine, model, now=DAY0 + timedelta(days=16), contact_ids=[1])
    day16 = _score_of(engine, 1)
    assert (day16.engagement, day16.status) == (95, "sales_ready")
    assert "demo" in day16.reason.lower() or "consultation" in day16.reason.lower()
    with engine.connect() as conn:
        history = conn.execute(
            sa.select(history_t.c.engagement, history_t.c.status)
            .where(history_t.c.object_type == "contact")
            .order_by(history_t.c.as_of)
        ).all()
    assert [tuple(h) for h in history] == [(45, "mql"), (95, "sales_ready")]


def test_unchanged_scores_write_no_history(engine: Engine, model: ScoringModel) -> None:
    with engine.begin() as conn:
        _jan(conn)
    now = DAY0 + timedelta(days=15)
    rescore(engine, model, now=now)
    again = rescore(engine, model, now=now + timedelta(hours=1))
    assert again.contacts_changed == 0
    assert again.companies_changed == 0


def test_incremental_rescore_touches_only_what_it_is_given(engine: Engine, model: ScoringModel) -> None:
    with engine.begin() as conn:
        _jan(conn)
        _company(conn, 20, "30")
        _contact(conn, 2, 20)
        _activity(conn, 2, 1, 1, "page_view", url="https://www.acme.example/preise")
    first = DAY0 + timedelta(days=14)
    rescore(engine, model, now=first)
    result = rescore(engine, model, now=first + timedelta(days=1), contact_ids=[2])
    assert (result.contacts_scored, result.companies_scored) == (1, 1)
    assert _score_of(engine, 1).as_of == first
    assert _score_of(engine, 2).as_of == first + timedelta(days=1)


def test_a_company_is_aggregated_again_from_its_contacts_stored_scores(engine: Engine, model: ScoringModel) -> None:
    """Which contacts a company change rescores is the pull's decision (jobs/pull/company_inputs.py); a company
    given on its own is only aggregated again, and its contacts' scores are read, not computed."""
    with engine.begin() as conn:
        _jan(conn)
        _contact(conn, 2, 10, title="Head of Marketing")
        _activity(conn, 2, 1, 12, "form_submission", form_name="E-Book: Lead Scoring")
        _activity(conn, 2, 2, 13, "marketing_event", event_type="attended", event_name="Webinar: Scoring")
        _activity(conn, 2, 3, 14, "page_view", url="https://www.acme.example/preise")
    now = DAY0 + timedelta(days=14)
    rescore(engine, model, now=now, contact_ids=[1])
    with engine.connect() as conn:
        assert conn.execute(sa.select(company_score_t.c.engaged_contacts)).scalar_one() == 1
    later = now + timedelta(days=1)
    result = rescore(engine, model, now=later, contact_ids=[2])
    assert (result.contacts_scored, result.companies_scored) == (1, 1)
    assert _score_of(engine, 1).as_of == now
    with engine.connect() as conn:
        account = conn.execute(sa.select(company_score_t)).one()
    assert (account.engaged_contacts, account.as_of) == (2, later)
    alone = rescore(engine, model, now=later, contact_ids=[], company_ids=[10])
    assert (alone.contacts_scored, alone.companies_scored) == (0, 1)


def test_dry_run_stores_nothing(engine: Engine, model: ScoringModel) -> None:
    with engine.begin() as conn:
        _jan(conn)
    result = rescore(engine, model, now=DAY0 + timedelta(days=14), write=False)
    assert result.contacts_scored == 1
    assert result.statuses == {"mql": 1}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(contact_score_t)).scalar_one() == 0


def test_full_rescore_drops_scores_of_archived_contacts(engine: Engine, model: ScoringModel) -> None:
    with engine.begin() as conn:
        _jan(conn)
    now = DAY0 + timedelta(days=14)
    rescore(engine, model, now=now)
    with engine.begin() as conn:
        conn.execute(sa.update(contact_t).where(contact_t.c.id == 1).values(archived_at=now))
    rescore(engine, model, now=now)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(contact_score_t)).scalar_one() == 0


def test_buying_center_example_8_through_the_database(engine: Engine, model: ScoringModel) -> None:
    with engine.begin() as conn:
        _company(conn, 30, "120")
        for contact_id in (31, 32, 33):
            _contact(conn, contact_id, 30, title="Head of Marketing")
            _activity(conn, contact_id, 1, 0, "marketing_event", event_type="attended", event_name="Webinar")
            _activity(conn, contact_id, 2, 3, "page_view", url="https://www.acme.example/pricing")
    rescore(engine, model, now=DAY0 + timedelta(days=10))
    with engine.connect() as conn:
        engagements = conn.execute(sa.select(contact_score_t.c.engagement)).scalars().all()
        account = conn.execute(sa.select(company_score_t)).one()
    assert min(engagements) >= 31
    assert account.buying_center_active
    assert account.engagement == max(engagements) + 20
    assert account.engaged_contacts == 3
