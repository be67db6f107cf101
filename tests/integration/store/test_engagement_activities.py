"""An engagement's activities are found by id range (its prefix), exactly: neighbours that share digits, other
engagement types and other kinds are left alone, on SQLite and PostgreSQL, and under a linguistic collation too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.records import Activity, ActivityKind
from hubsync.store import activities
from hubsync.store.activities import delete_engagement_activities, replace_engagement_activities, store_activities
from hubsync.store.db import open_database
from hubsync.store.tables import activity_t

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def _engagement(kind: str, engagement_id: int, contact_id: int, minutes: int = 0) -> Activity:
    return Activity(
        f"{ActivityKind.CRM_ENGAGEMENT}:{kind}:{engagement_id}:{contact_id}",
        contact_id,
        ActivityKind.CRM_ENGAGEMENT,
        T0 + timedelta(minutes=minutes),
        event_type=kind,
    )


# Engagement email 12 (contacts 5 and 6) among ids that share its digits, its type or its shape.
NEIGHBOURS = [
    _engagement("email", 12, 5),
    _engagement("email", 12, 6),
    _engagement("email", 1, 25),  # "…:email:1:25" shares the characters of "…:email:12:5"
    _engagement("email", 123, 5),
    _engagement("email", 120, 9),
    _engagement("email", 11, 5),
    _engagement("call", 12, 5),
    Activity("page_view:crm_engagement:email:12:5", 5, ActivityKind.PAGE_VIEW, T0),
]


def _stored_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(activity_t.c.id)).scalars())


@pytest.fixture(params=["id ranges", "prefix match"])
def lookup(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of finding an engagement's activities must give the same rows: ranges where ids sort by code
    point, the prefix match (the former way) elsewhere."""
    if request.param == "prefix match":
        monkeypatch.setattr(activities, "_ids_sort_by_code_point", lambda _conn: False)
    return str(request.param)


def test_replacing_an_engagement_touches_exactly_its_activities(engine: Engine, lookup: str) -> None:
    with engine.begin() as conn:
        store_activities(conn, NEIGHBOURS)
    moved = [_engagement("email", 12, 6, minutes=30), _engagement("email", 12, 7, minutes=30)]
    with engine.begin() as conn:
        touched = replace_engagement_activities(conn, "email", [12], moved)
    assert touched == {5, 6, 7}, lookup
    others = {a.id for a in NEIGHBOURS[2:]}
    assert _stored_ids(engine) == others | {a.id for a in moved}
    with engine.begin() as conn:
        assert delete_engagement_activities(conn, "email", [12, 120, 4711]) == {6, 7, 9}
    assert _stored_ids(engine) == others - {NEIGHBOURS[4].id}


def test_many_engagements_in_one_call(engine: Engine, lookup: str) -> None:
    """More engagements than one statement takes (a deletion sweep can name many)."""
    many = [_engagement("note", n, n % 50 + 1) for n in range(1, 451)]
    with engine.begin() as conn:
        store_activities(conn, [*many, *NEIGHBOURS])
    with engine.begin() as conn:
        touched = delete_engagement_activities(conn, "note", range(1, 451))
    assert touched == set(range(1, 51)), lookup
    assert _stored_ids(engine) == {a.id for a in NEIGHBOURS}


@pytest.mark.postgres
def test_a_linguistic_collation_is_noticed(database_url: str) -> None:
    """Under ICU's en-US collation ':' and ';' hardly count, so the ranges would miss rows: hubsync notices the
    collation and matches the prefixes instead, with the same result."""
    if not database_url.startswith("postgresql"):
        pytest.skip("collations are PostgreSQL's")
    engine = open_database(database_url)
    try:
        with engine.begin() as conn:
            if conn.execute(sa.text("SELECT 1 FROM pg_collation WHERE collname = 'en-US-x-icu'")).first() is None:
                pytest.skip("this PostgreSQL has no ICU collations")
            assert activities._ids_sort_by_code_point(conn)  # the test server's C.UTF-8
            conn.execute(sa.text('ALTER TABLE activity ALTER COLUMN id TYPE VARCHAR COLLATE "en-US-x-icu"'))
        with engine.begin() as conn:
            conn.info.clear()
            assert not activities._ids_sort_by_code_point(conn)
            store_activities(conn, NEIGHBOURS)
            assert replace_engagement_activities(conn, "email", [12], []) == {5, 6}
        assert _stored_ids(engine) == {a.id for a in NEIGHBOURS[2:]}
    finally:
        engine.dispose()
