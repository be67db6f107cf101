"""Current contact and company scores and their history: what a rescore reads back and stores."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.store.tables import company_score_t, company_t, contact_score_t, contact_t, history_t
from hubsync.store.upsert import upsert_tuples

ScoredKind = Literal["contact", "company"]
_TABLES: dict[ScoredKind, sa.Table] = {"contact": contact_score_t, "company": company_score_t}
# The values of a stored score row, in the order a rescore builds them as tuples (store_scores).
SCORE_COLUMNS: dict[ScoredKind, tuple[str, ...]] = {
    "contact": (
        "contact_id",
        "engagement",
        "profile",
        "completeness",
        "segment",
        "status",
        "fit_light",
        "tier",
        "surge",
        "reason",
        "persona",
        "last_positive_at",
        "handoff_armed",
        "triggers_held_at",
        "hand_raise_at",
        "gates",
        "as_of",
    ),
    "company": (
        "company_id",
        "engagement",
        "profile",
        "completeness",
        "segment",
        "fit_light",
        "tier",
        "buying_center_active",
        "active_contacts",
        "engaged_contacts",
        "personas_missing",
        "reason",
        "as_of",
    ),
}
HISTORY_COLUMNS = ("object_type", "object_id", "engagement", "profile", "segment", "status", "as_of")


def live_company_ids(conn: Connection) -> list[int]:
    live = sa.select(company_t.c.id).where(company_t.c.archived_at.is_(None)).order_by(company_t.c.id)
    return list(conn.execute(live).scalars())


def stored_scores(conn: Connection, kind: ScoredKind, ids: Collection[int]) -> dict[int, Any]:
    """The current score rows of these contacts or companies, by id (rows the caller reads by column name)."""
    table = _TABLES[kind]
    (key,) = table.primary_key.columns
    return {getattr(row, key.name): row for row in conn.execute(sa.select(table).where(key.in_(list(ids))))}


# What a rescore needs of a contact's last scores: whether they changed (history) and its handoff episode.
_RESCORE_COLUMNS = (
    "contact_id",
    "engagement",
    "profile",
    "segment",
    "status",
    "handoff_armed",
    "handed_over_at",
    "triggers_held_at",
    "hand_raise_seen_at",
)


def previous_contact_scores(conn: Connection, ids: Sequence[int]) -> dict[int, Any]:
    """The columns of these contacts' score rows that a rescore reads back (ids ascending; read as their range
    when they fill most of it), by id."""
    key = contact_score_t.c.contact_id
    stmt = sa.select(*(contact_score_t.c[name] for name in _RESCORE_COLUMNS))
    if not ids:
        return {}
    if ids[-1] - ids[0] < 2 * len(ids):
        wanted = set(ids)
        rows = conn.execute(stmt.where(key.between(ids[0], ids[-1])))
        return {row.contact_id: row for row in rows if row.contact_id in wanted}
    return {row.contact_id: row for row in conn.execute(stmt.where(key.in_(list(ids))))}


def stored_contact_status(conn: Connection, contact_id: int) -> str | None:
    query = sa.select(contact_score_t.c.status).where(contact_score_t.c.contact_id == contact_id)
    return conn.execute(query).scalar_one_or_none()


def member_score_rows(conn: Connection, companies: Collection[int]) -> Sequence[Any]:
    """The stored score rows of the live contacts of these companies, each with its `company_id`."""
    stmt = (
        sa.select(contact_score_t, contact_t.c.company_id)
        .join(contact_t, contact_t.c.id == contact_score_t.c.contact_id)
        .where(contact_t.c.company_id.in_(list(companies)), contact_t.c.archived_at.is_(None))
    )
    return list(conn.execute(stmt))


def member_scores(conn: Connection, companies: Collection[int]) -> list[Any]:
    """Of the live contacts of these companies, what a company's score reads of their stored scores (rows with
    `company_id`, `engagement`, `last_positive_at`, `persona`): a full rescore's workers read back every contact's,
    whole rows cost more to read than the companies to score."""
    stmt = (
        sa.select(
            contact_t.c.company_id,
            contact_score_t.c.engagement,
            contact_score_t.c.last_positive_at,
            contact_score_t.c.persona,
        )
        .join(contact_t, contact_t.c.id == contact_score_t.c.contact_id)
        .where(contact_t.c.company_id.in_(list(companies)), contact_t.c.archived_at.is_(None))
    )
    return list(conn.execute(stmt).all())


def store_scores(
    conn: Connection,
    kind: ScoredKind,
    rows: Sequence[tuple[Any, ...]],
    history: Sequence[tuple[Any, ...]],
    *,
    gone: Collection[int],
) -> None:
    """Current scores in (rows of SCORE_COLUMNS[kind], each pending for push), a history row (of HISTORY_COLUMNS)
    for each change, and no score left for a record that is gone."""
    table = _TABLES[kind]
    # Every score written waits for push to diff it (tables.py `_push_pending`).
    upsert_tuples(conn, table, (*SCORE_COLUMNS[kind], "push_pending"), [(*row, True) for row in rows])
    # History rows carry no id: each is a new one.
    upsert_tuples(conn, history_t, HISTORY_COLUMNS, history)
    if gone:
        (key,) = table.primary_key.columns
        conn.execute(sa.delete(table).where(key.in_(list(gone))))


def drop_scores_of_gone_records(conn: Connection) -> None:
    """After a full rescore: no scores for archived, merged-away or deleted records."""
    live_contacts = sa.select(contact_t.c.id).where(contact_t.c.archived_at.is_(None))
    conn.execute(sa.delete(contact_score_t).where(contact_score_t.c.contact_id.not_in(live_contacts)))
    live_companies = sa.select(company_t.c.id).where(company_t.c.archived_at.is_(None))
    conn.execute(sa.delete(company_score_t).where(company_score_t.c.company_id.not_in(live_companies)))


def top_scored_contacts(conn: Connection, *, limit: int) -> Sequence[Any]:
    """The best-scored contacts (engagement, then profile), each row with the contact's name and job title."""
    query = (
        sa.select(
            contact_t.c.id,
            contact_t.c.firstname,
            contact_t.c.lastname,
            contact_t.c.jobtitle,
            contact_score_t.c.engagement,
            contact_score_t.c.profile,
            contact_score_t.c.segment,
            contact_score_t.c.status,
            contact_score_t.c.reason,
        )
        .join(contact_t, contact_t.c.id == contact_score_t.c.contact_id)
        .order_by(contact_score_t.c.engagement.desc(), contact_score_t.c.profile.desc(), contact_t.c.id)
        .limit(limit)
    )
    return conn.execute(query).all()
