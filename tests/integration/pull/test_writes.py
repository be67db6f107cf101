"""Store writes of the pull, on SQLite and PostgreSQL: merges move (and re-key) activities and associations,
association replacement reports what changed, recipients resolve to live contacts first."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hubsync.records import Activity, ActivityKind, Association, Contact
from hubsync.store.activities import store_activities
from hubsync.store.associations import replace_associations
from hubsync.store.crm import apply_merges, contact_ids_by_email, store_objects
from hubsync.store.db import open_database, transaction
from hubsync.store.tables import activity_t, association_t, contact_t
from tests.support.statements import WRITES, statements_run

T = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def _activity(activity_id: str, contact_id: int, kind: ActivityKind = ActivityKind.PAGE_VIEW) -> Activity:
    return Activity(id=activity_id, contact_id=contact_id, kind=kind, occurred_at=T)


def test_merge_moves_activities_and_associations(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with transaction(engine) as conn:
            store_objects(conn, [Contact(id=1, email="a@x.example"), Contact(id=2, email="b@x.example")])
            store_activities(
                conn,
                [
                    _activity("page_view:p1", 2),
                    _activity("crm_engagement:call:77:2", 2, ActivityKind.CRM_ENGAGEMENT),
                    # The survivor was on the same meeting: the moved row must not duplicate it.
                    _activity("crm_engagement:meeting:88:1", 1, ActivityKind.CRM_ENGAGEMENT),
                    _activity("crm_engagement:meeting:88:2", 2, ActivityKind.CRM_ENGAGEMENT),
                ],
            )
            replace_associations(conn, "contacts", "companies", [2], [Association("contacts", 2, "companies", 9, 279)])
            replace_associations(conn, "deals", "contacts", [5], [Association("deals", 5, "contacts", 2, 3)])
            touched = apply_merges(conn, {1: [2]})
        with engine.connect() as conn:
            activities = dict(conn.execute(sa.select(activity_t.c.id, activity_t.c.contact_id)).all())
            contacts = set(conn.execute(sa.select(contact_t.c.id)).scalars())
            links = {tuple(r) for r in conn.execute(sa.select(association_t.c.from_id, association_t.c.to_id))}
        assert touched == {1, 2}
        assert contacts == {1}
        assert activities == {
            "page_view:p1": 1,
            "crm_engagement:call:77:1": 1,
            "crm_engagement:meeting:88:1": 1,
        }
        assert links == {(1, 9), (5, 1)}
        # Applying the same merge again (the survivor is re-read every run while in the window) changes nothing.
        with transaction(engine) as conn:
            assert apply_merges(conn, {1: [2]}) == set()
    finally:
        engine.dispose()


def test_replace_associations_reports_changes_only(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        first = [
            Association("contacts", 1, "companies", 9, 279),
            Association("contacts", 1, "companies", 9, 1, "Primary"),
        ]
        with transaction(engine) as conn:
            assert replace_associations(conn, "contacts", "companies", [1, 2], first) == ({1}, {9})
        with transaction(engine) as conn:
            assert replace_associations(conn, "contacts", "companies", [1, 2], first) == (set(), set())
        with transaction(engine) as conn:
            moved = [Association("contacts", 1, "companies", 8, 279)]
            assert replace_associations(conn, "contacts", "companies", [1], moved) == ({1}, {8, 9})
    finally:
        engine.dispose()


def test_replace_associations_stores_exactly_the_new_ones_and_rewrites_only_changed_records(
    database_url: str,
) -> None:
    """Each record's associations end as given (added, removed, relabelled, all gone); a record whose associations
    did not change is not written at all, nor is another type's or another record's."""
    engine = open_database(database_url)

    def stored() -> set[tuple[object, ...]]:
        t = association_t.c
        with engine.connect() as conn:
            return {tuple(r) for r in conn.execute(sa.select(t.from_type, t.from_id, t.to_type, t.to_id, t.label))}

    def a(from_id: int, to_id: int, type_id: int = 279, label: str | None = None) -> Association:
        return Association("contacts", from_id, "companies", to_id, type_id, label)

    try:
        with transaction(engine) as conn:
            replace_associations(conn, "contacts", "companies", [1, 2, 3, 4], [a(1, 9), a(2, 9), a(3, 7), a(4, 6)])
            replace_associations(conn, "deals", "contacts", [2], [Association("deals", 2, "contacts", 1, 3)])
        writes = statements_run(engine, *WRITES)
        with transaction(engine) as conn:
            assert replace_associations(
                conn, "contacts", "companies", [1, 2, 3, 4], [a(1, 9), a(2, 9), a(3, 7), a(4, 6)]
            ) == (set(), set())
        assert writes == []
        with transaction(engine) as conn:
            # 1 gains a label, 2 moves, 3 loses its only one, 4 unchanged.
            changed = replace_associations(
                conn, "contacts", "companies", [1, 2, 3, 4], [a(1, 9, 1, "Primary"), a(1, 9), a(2, 8), a(4, 6)]
            )
        assert changed == ({1, 2, 3}, {7, 8, 9})
        assert stored() == {
            ("contacts", 1, "companies", 9, "Primary"),
            ("contacts", 1, "companies", 9, None),
            ("contacts", 2, "companies", 8, None),
            ("contacts", 4, "companies", 6, None),
            ("deals", 2, "contacts", 1, None),
        }
    finally:
        engine.dispose()


def test_recipients_resolve_to_live_contacts_first(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with transaction(engine) as conn:
            store_objects(conn, [Contact(id=3, email="Same@X.example"), Contact(id=4, email="same@x.example")])
            store_objects(conn, [Contact(id=1, email="same@x.example")], archived_at={1: T})
            store_objects(conn, [Contact(id=5, email="other@x.example")])
        with engine.connect() as conn:
            assert contact_ids_by_email(conn) == {"same@x.example": 3, "other@x.example": 5}
    finally:
        engine.dispose()
