"""Activities as the pull writes them: upserts, an engagement's activities replaced, a merged contact's moved.

Every function works inside the caller's transaction (`conn`), so a page, its side effects and its cursor are
committed together. Each returns the contact ids it touched, for incremental rescoring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.batching import batches
from hubsync.records import Activity, ActivityKind
from hubsync.store.rows import record_row
from hubsync.store.tables import activity_t
from hubsync.store.upsert import upsert


def store_activities(conn: Connection, activities: Sequence[Activity]) -> set[int]:
    """Upsert activities; returns the contact ids they belong to."""
    upsert(conn, activity_t, [record_row(activity) for activity in activities])
    return {activity.contact_id for activity in activities}


# Engagements per DELETE: one statement for a page of 100; SQLite parses OR chains as nested expressions
# (depth limit 1000), so a larger set is split.
_ENGAGEMENTS_PER_STATEMENT: Final = 200


def _engagement_prefix(engagement_type: str, engagement_id: int) -> str:
    return f"{ActivityKind.CRM_ENGAGEMENT}:{engagement_type}:{engagement_id}:"


def _engagement_filter(conn: Connection, engagement_type: str, engagement_ids: Iterable[int]) -> sa.ColumnElement[bool]:
    """The activities of these engagements: ids starting `crm_engagement:<type>:<id>:`.

    As id ranges ["…:<id>:", "…:<id>;"), since ";" follows ":" in code point order: an index range scan each, where
    a LIKE prefix scans the whole index (seconds per page at a million activities). The ranges hold only where
    the id column sorts by code point: always on SQLite (binary collation), on PostgreSQL under the C collations.
    Under a linguistic collation (en_US, ICU) punctuation barely counts and the ranges would miss rows, so there
    the prefixes are matched as before (exact, without the index)."""
    prefixes = [_engagement_prefix(engagement_type, eid) for eid in engagement_ids]
    column = activity_t.c.id
    if not _ids_sort_by_code_point(conn):
        return sa.or_(*(column.startswith(prefix, autoescape=True) for prefix in prefixes))
    return sa.or_(*(sa.and_(column >= prefix, column < prefix[:-1] + ";") for prefix in prefixes))


_CODE_POINT_ORDER = "hubsync.activity_ids_sort_by_code_point"
# libc locales that compare strings byte by byte (code point order in UTF-8).
_C_LOCALES: Final = frozenset({"c", "posix"})


def _ids_sort_by_code_point(conn: Connection) -> bool:
    """Whether `activity.id` compares by code point; asked once per database connection."""
    if conn.dialect.name != "postgresql":
        return True
    known = conn.info.get(_CODE_POINT_ORDER)
    if known is None:
        known = conn.info[_CODE_POINT_ORDER] = _postgres_code_point_order(conn)
    return bool(known)


def _postgres_code_point_order(conn: Connection) -> bool:
    # The column's collation, or the database's when it has the default one. `datlocprovider` (PostgreSQL 15+:
    # libc, icu, builtin) is read through to_jsonb so that older servers, which lack it, answer too.
    row = conn.execute(
        sa.text(
            "SELECT c.collname, c.collprovider, c.collcollate, d.datcollate, "
            "to_jsonb(d) ->> 'datlocprovider' AS datlocprovider "
            "FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation, pg_database d "
            "WHERE a.attrelid = CAST('activity' AS regclass) AND a.attname = 'id' "
            "AND d.datname = current_database()"
        )
    ).one()
    if row.collname == "default":
        provider, locale = row.datlocprovider or "c", row.datcollate
    else:
        provider, locale = row.collprovider, row.collcollate
    if provider == "b":  # builtin (PostgreSQL 17): C and C.UTF-8, both by code point
        return True
    if provider != "c" or locale is None:  # ICU: linguistic
        return str(row.collname) == "ucs_basic"
    name = str(locale).lower()
    return name in _C_LOCALES or name.startswith("c.")


def replace_engagement_activities(
    conn: Connection, engagement_type: str, engagement_ids: Iterable[int], activities: Sequence[Activity]
) -> set[int]:
    """The activities of these engagements become exactly `activities` (contacts may have been added or removed).
    Returns the contact ids whose activities changed (old and new)."""
    touched: set[int] = set()
    for chunk in batches(sorted(set(engagement_ids)), _ENGAGEMENTS_PER_STATEMENT):
        where = _engagement_filter(conn, engagement_type, chunk)
        touched.update(conn.execute(sa.delete(activity_t).where(where).returning(activity_t.c.contact_id)).scalars())
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
