"""Work a pull left for the rescore: contacts and companies touched by stored pages and not yet rescored.

Marked in the same transaction as the page that touched them and cleared in the same transaction as their new
scores, so work survives a run that dies anywhere in between.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.store.rows import among, id_chunks
from hubsync.store.tables import company_t, contact_t, pending_t
from hubsync.store.upsert import upsert_tuples

Scored = Literal["contacts", "companies"]


@dataclass(frozen=True, slots=True)
class PendingWork:
    # Contacts to score again.
    contacts: frozenset[int]
    # Companies to aggregate again (the rescore adds the companies of the contacts it scores).
    companies: frozenset[int]


def mark_pending(conn: Connection, object_type: Scored, ids: Collection[int], *, now: datetime) -> None:
    """Marks the records pending unless they are already. A first pull touches each contact again with every page of
    its activities: read first, only the marks missing are written (on PostgreSQL the rewrite of existing marks was
    a fifth of storing time, bench/pull.py). Safe because one writer works on the database at a time (the lease;
    in the service the work lock), so no rescore clears a mark between this read and the page's commit."""
    p = pending_t.c
    missing: list[int] = []
    for chunk in id_chunks(sorted(set(ids))):
        held = set(
            conn.execute(
                sa.select(p.object_id).where(
                    p.object_type == object_type,
                    among(conn, p.object_id, chunk),
                )
            ).scalars()
        )
        missing.extend(i for i in chunk if i not in held)
    # As tuples, `now` converted once for all rows rather than once per row's dict.
    upsert_tuples(conn, pending_t, ("object_type", "object_id", "marked_at"), [(object_type, i, now) for i in missing])


def pending_work(conn: Connection) -> PendingWork:
    rows = conn.execute(sa.select(pending_t.c.object_type, pending_t.c.object_id)).all()
    contacts = frozenset(i for kind, i in rows if kind == "contacts")
    return PendingWork(contacts, frozenset(i for kind, i in rows if kind == "companies"))


def clear_pending(conn: Connection, object_type: Scored, ids: Collection[int]) -> None:
    """The records' new scores are stored (or they are gone): nothing is pending for them any more."""
    for chunk in id_chunks(sorted(ids)):
        conn.execute(
            sa.delete(pending_t).where(pending_t.c.object_type == object_type, pending_t.c.object_id.in_(chunk))
        )


def clear_pending_of_gone_records(conn: Connection) -> None:
    """After a full rescore, which scores live records only: archived or deleted ones have nothing left to score."""
    for object_type, table in (("contacts", contact_t), ("companies", company_t)):
        live = sa.select(table.c.id).where(table.c.archived_at.is_(None))
        conn.execute(
            sa.delete(pending_t).where(pending_t.c.object_type == object_type, pending_t.c.object_id.not_in(live))
        )
