"""Outcomes in the database (SQLite and PostgreSQL): migration 0005 on an existing database, and the refresh that
derives `contact_outcome` from what the pull and the push stored."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hubsync.jobs.outcomes import refresh_outcomes
from hubsync.records import Activity, ActivityKind, Association, Contact, Deal
from hubsync.store import outcomes as outcome_store
from hubsync.store.activities import store_activities
from hubsync.store.associations import replace_associations
from hubsync.store.crm import mark_archived, store_engagements, store_objects
from hubsync.store.db import head_revision, make_engine, open_database, transaction, upgrade
from hubsync.store.scores import store_scores
from hubsync.store.tables import outcome_t
from hubsync.store.tasks import ClosedTask, add_intent, mark_done, record_closed, record_created
from tests.support.migrations import table, upgrade_to
from tests.unit.scoring.scoring_builders import default_model

AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_0005_adds_the_outcomes_and_lists_contacts_again_once(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            sa.insert(table(engine, "task")).values(contact_id=1, state="done", subject="[hubsync] x", intent_at=AT)
        )
        conn.execute(sa.insert(table(engine, "engagement")).values(object_type="calls", id=5, created_at=AT))
        cursors = table(engine, "sync_cursor")
        conn.execute(
            sa.insert(cursors),
            [{"stream": "contacts", "state": {"mode": "incremental"}}, {"stream": "deals", "state": {"mode": "x"}}],
        )

    assert upgrade(engine) == head_revision()
    with engine.connect() as conn:
        tasks = table(engine, "task").c
        task = conn.execute(sa.select(tasks.state, tasks.closed_as, tasks.completed_at)).one()
        engagement = conn.execute(sa.select(table(engine, "engagement").c.owner_id)).one()
        streams = set(conn.execute(sa.select(table(engine, "sync_cursor").c.stream)).scalars())
        outcomes = conn.execute(sa.select(sa.func.count()).select_from(table(engine, "contact_outcome"))).scalar()
    engine.dispose()
    # Rows are kept; how an old task ended is unknown; who logged an old engagement too.
    assert tuple(task) == ("done", None, None)
    assert engagement.owner_id is None
    # The contacts are read again (with their lifecycle dates); every other stream goes on where it was.
    assert streams == {"deals"}
    assert outcomes == 0


def _history(contact_id: int, when: datetime, engagement: int, segment: str, status: str) -> tuple[object, ...]:
    # In store.scores.HISTORY_COLUMNS order.
    return ("contact", contact_id, engagement, 80, segment, status, when)


def _engagement(kind: str, engagement_id: int, contact_id: int, when: datetime, direction: str) -> Activity:
    return Activity(
        f"crm_engagement:{kind}:{engagement_id}:{contact_id}",
        contact_id,
        ActivityKind.CRM_ENGAGEMENT,
        when,
        event_type=kind,
        direction=direction,
    )


def _portal_copy(engine: sa.Engine) -> None:
    """What a pull and a push would have stored: four contacts, two deals, score history, a completed task and the
    rep's engagements."""
    props = {
        "hs_lifecyclestage_lead_date": "2026-08-01T00:00:00Z",
        "hs_lifecyclestage_salesqualifiedlead_date": "2026-10-04T09:00:00.000Z",
        "hs_lead_status": "IN_PROGRESS",
    }
    with transaction(engine) as conn:
        store_objects(
            conn,
            [
                Contact(1, company_id=500, created_at=at(8, 1), properties=props),
                Contact(2, company_id=500, created_at=at(8, 1)),  # a colleague
                Contact(3, created_at=at(5, 1)),
                Contact(4, created_at=at(5, 1)),
            ],
        )
        store_objects(
            conn,
            [
                Deal(
                    900, stage="closedwon", closed_won=True, close_date=at(11, 2), amount="12500", created_at=at(10, 10)
                ),
                Deal(901, stage="closedlost", closed_won=False, close_date=at(6, 20), created_at=at(6, 1)),
                Deal(902, stage="qualifiedtobuy", created_at=at(10, 12)),  # on the account, naming no contact
            ],
        )
        replace_associations(
            conn, "deals", "contacts", [900, 901], [_link(900, "contacts", 1), _link(901, "contacts", 3)]
        )
        replace_associations(
            conn, "deals", "companies", [900, 902], [_link(900, "companies", 500), _link(902, "companies", 500)]
        )
        store_scores(
            conn,
            "contact",
            [],
            [
                _history(1, at(9, 1), 10, "B4", "nurture"),
                _history(1, at(10, 1), 75, "B1", "sales_ready"),
                _history(1, at(10, 2), 80, "A1", "sales_ready"),
                _history(1, at(10, 20), 95, "A1", "sales_ready"),
                _history(2, at(9, 1), 5, "B4", "nurture"),
                _history(2, at(9, 15), 40, "B3", "mql"),
                _history(3, at(9, 1), 0, "D4", "nurture"),
                _history(4, at(9, 1), 0, "D4", "nurture"),
            ],
            gone=[],
        )
        row = add_intent(
            conn, contact_id=1, owner_id=7, subject="[hubsync] x", intent_at=at(10, 3, 8), due_at=at(10, 4),
            triggers=["sales_ready"],
        )  # fmt: skip
        record_created(conn, row, 77, created_at=at(10, 3), armed=False, handed_over_at=at(10, 3))
        mark_done(conn, [row])
        record_closed(conn, [ClosedTask(row, "completed", at(10, 6))])
        store_activities(
            conn,
            [
                Activity("page_view:1", 1, ActivityKind.PAGE_VIEW, at(9, 30, 15)),  # made it sales_ready on 10-01
                _engagement("call", 5001, 1, at(10, 4, 10), "OUTBOUND"),  # another rep's call
                _engagement("email", 5002, 1, at(10, 5), "OUTGOING"),  # the owner's email: the response
            ],
        )
        store_engagements(conn, "calls", {5001: at(10, 4)}, owners={5001: 9})
        store_engagements(conn, "emails", {5002: at(10, 5)}, owners={5002: 7})


def _link(deal_id: int, to_type: str, to_id: int) -> Association:
    return Association("deals", deal_id, to_type, to_id, type_id=3)


def _outcomes(engine: sa.Engine) -> dict[int, sa.Row[object]]:
    with engine.connect() as conn:
        return {row.contact_id: row for row in conn.execute(sa.select(outcome_t))}


def test_the_refresh_derives_each_contacts_outcome_from_the_stored_records(database_url: str) -> None:
    engine = open_database(database_url)
    _portal_copy(engine)
    model = default_model()
    assert refresh_outcomes(engine, model, now=at(11, 30)) == 4
    rows = _outcomes(engine)

    one = rows[1]
    assert (one.lead_at, one.sql_at, one.lead_status) == (at(8, 1, 0), at(10, 4), "IN_PROGRESS")
    assert (one.scored_from, one.hubsync_mql_at) == (at(9, 1), at(10, 1))
    # The peak before the deal of 10-10: 80 in A1 (the 95 came after it).
    assert (one.peak_engagement, one.peak_segment) == (80, "A1")
    assert (one.handed_over_at, one.handoff_owner_id, one.handoff_trigger) == (at(10, 3), 7, "sales_ready")
    # sales_ready unbroken from the scoring of 10-01 to the handoff; that scoring found the page view of 09-30.
    assert one.triggered_at == at(9, 30, 15)
    assert (one.task_closed, one.task_completed_at) == ("completed", at(10, 6))
    # Rep 9's call does not answer rep 7's task; rep 7's email of 10-05 does, before the task's completion.
    assert (one.first_response_at, one.response_kind) == (at(10, 5), "email")
    # Its own deal 900 and the account's deal 902.
    assert (one.deals, one.deal_created_at) == (2, at(10, 10))
    assert (one.won_deal_created_at, one.won_at, one.won_amount) == (at(10, 10), at(11, 2), 12500.0)

    # The colleague: deal 900 names contact 1, so it is not hers; the account's deal 902 is.
    two = rows[2]
    assert (two.deals, two.deal_created_at, two.won_at) == (1, at(10, 12), None)
    assert (two.peak_engagement, two.peak_segment, two.hubsync_mql_at) == (40, "B3", at(9, 15))
    assert two.handed_over_at is None

    three = rows[3]  # a lost deal from before hubsync scored the contact: history
    assert (three.deals, three.deal_created_at, three.lost_at, three.won_at) == (1, at(6, 1), at(6, 20), None)
    assert (three.peak_engagement, three.peak_segment) == (0, "D4")

    # A contact archived since: a full refresh drops its outcome, an incremental one of it too.
    with transaction(engine) as conn:
        mark_archived(conn, "contacts", [4], at(11, 29))
    refresh_outcomes(engine, model, now=at(11, 30), contact_ids=[4])
    assert set(_outcomes(engine)) == {1, 2, 3}
    engine.dispose()


def test_a_deal_change_names_the_contacts_whose_outcome_it_is(database_url: str) -> None:
    engine = open_database(database_url)
    _portal_copy(engine)
    with engine.connect() as conn:
        assert outcome_store.contacts_of_deals(conn, {902}) == {1, 2}
        assert outcome_store.contacts_of_deals(conn, {901}) == {3}
        assert outcome_store.contacts_with_open_tasks(conn) == set()
        assert not outcome_store.has_outcomes(conn)
    engine.dispose()
