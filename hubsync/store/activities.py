"""Activities as the pull writes them: upserts, an engagement's activities replaced, a merged contact's moved.

Every function works inside the caller's transaction (`conn`), so a page, its side effects and its cursor are
committed together. Each returns the contact ids it touched, for incremental rescoring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.records import Activity, ActivityKind
from hubsync.store.rows import id_chunks, record_row
from hubsync.store.tables import activity_t
from hubsync.store.upsert import upsert


def store_activities(conn: Connection, activities: Sequence[Activity]) -> set[int]:
    """Upsert activities; returns the contact ids they belong to."""
    upsert(conn, activity_t, [record_row(activity) for activity in activities])
    return {activity.contact_id for activity in activities}


def _engagement_prefix(engagement_type: str, engagement_id: int) -> str:
    return f"{ActivityKind.CRM_ENGAGEMENT}:{engagement_type}:{engagement_id}:"


def _engagement_filter(engagement_type: str, engagement_ids: Iterable[int]) -> sa.ColumnElement[bool]:
    return sa.or_(
        *(
            activity_t.c.id.startswith(_engagement_prefix(engagement_type, eid), autoescape=True)
            for eid in engagement_ids
        )
    )


def replace_engagement_activities(
    conn: Connection, engagement_type: str, engagement_ids: Iterable[int], activities: Sequence[Activity]
) -> set[int]:
    """The activities of these engagements become exactly `activities` (contacts may have been added or removed).
    Returns the contact ids whose activities changed (old and new)."""
    touched: set[int] = set()
    for chunk in id_chunks(sorted(set(engagement_ids))):
        where = _engagement_filter(engagement_type, chunk)
        touched.update(conn.execute(sa.select(activity_t.c.contact_id).where(where)).scalars())
        conn.execute(sa.delete(activity_t).where(where))
    return touched | store_activities(conn, activities)


def delete_engagement_activities(conn: Connection, engagement_type: str, engagement_ids: Iterable[int]) -> set[int]:
    return replace_engagement_activities(conn, engagement_type, engagement_ids, [])


def move_activities(conn: Connection, survivor: int, old_ids: list[int]) -> bool:
    """A merge: the merged-away contacts' activities become the survivor's. Whether there was any."""
    selected = sa.select(activity_t).where(activity_t.c.contact_id.in_(old_ids))
    rows = [dict(r) for r in conn.execute(selected).mappings()]
    if not rows:
        return False
    conn.execute(sa.delete(activity_t).where(activity_t.c.contact_id.in_(old_ids)))
    for row in rows:
        row["contact_id"] = survivor
        if row["kind"] == ActivityKind.CRM_ENGAGEMENT:
            # Engagement activity ids end in the contact id (one per associated contact): re-key to the survivor,
            # so a later re-read of the engagement finds (and replaces) the same row.
            row["id"] = f"{row['id'].rsplit(':', 1)[0]}:{survivor}"
    upsert(conn, activity_t, rows)
    return True


def recently_active_contacts(conn: Connection, since: datetime) -> set[int]:
    return set(
        conn.execute(sa.select(activity_t.c.contact_id).where(activity_t.c.occurred_at >= since).distinct()).scalars()
    )
