"""Current contact and company scores and their history: what a rescore reads back and stores."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.store.tables import company_score_t, company_t, contact_score_t, contact_t, history_t
from hubsync.store.upsert import upsert

ScoredKind = Literal["contact", "company"]
_TABLES: dict[ScoredKind, sa.Table] = {"contact": contact_score_t, "company": company_score_t}


def live_company_ids(conn: Connection) -> list[int]:
    live = sa.select(company_t.c.id).where(company_t.c.archived_at.is_(None)).order_by(company_t.c.id)
    return list(conn.execute(live).scalars())


def stored_scores(conn: Connection, kind: ScoredKind, ids: Collection[int]) -> dict[int, Any]:
    """The current score rows of these contacts or companies, by id (rows the caller reads by column name)."""
    table = _TABLES[kind]
    (key,) = table.primary_key.columns
    return {getattr(row, key.name): row for row in conn.execute(sa.select(table).where(key.in_(list(ids))))}


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


def store_scores(
    conn: Connection,
    kind: ScoredKind,
    rows: Sequence[Mapping[str, Any]],
    history: Sequence[Mapping[str, Any]],
    *,
    gone: Collection[int],
) -> None:
    """Current scores in, a history row for each change, and no score left for a record that is gone."""
    table = _TABLES[kind]
    upsert(conn, table, rows)
    if history:
        conn.execute(sa.insert(history_t), list(history))
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
