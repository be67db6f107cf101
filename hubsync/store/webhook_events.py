"""The webhook event queue (`webhook_event`): stored by the receiver before it answers, taken oldest first by the
active syncer, marked processed in the transaction after the work they caused is committed, pruned days later.

Storing is an INSERT that does nothing on conflict: an event HubSpot delivers again (same `eventId`) is stored
once, whether the first delivery is still queued or long processed, on SQLite and PostgreSQL alike, and two
processes receiving at once cannot store it twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from hubsync.records import ActivityKind, WebhookEvent
from hubsync.store.rows import id_chunks
from hubsync.store.status import FINISHED_WELL
from hubsync.store.tables import activity_t, lease_t, run_t, webhook_event_t


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    event: WebhookEvent
    received_at: datetime


@dataclass(frozen=True, slots=True)
class QueueState:
    depth: int
    # When the oldest unprocessed event arrived; None when none waits.
    oldest_received_at: datetime | None


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    """What `/healthz` and `/metrics` report beyond one process: the lease, the run log, the queue."""

    lease_holder: str | None
    lease_expires_at: datetime | None
    last_good_run_at: datetime | None
    queue: QueueState


def store_events(conn: Connection, events: Sequence[WebhookEvent], *, received_at: datetime) -> int:
    """Store the events not stored before; returns how many were new."""
    if not events:
        return 0
    rows = {
        e.event_id: {
            "event_id": e.event_id,
            "subscription_type": e.subscription_type,
            "object_id": e.object_id,
            "occurred_at": e.occurred_at,
            "received_at": received_at,
            "attempt_number": e.attempt_number,
            "portal_id": e.portal_id,
            "property_name": e.property_name,
            "payload": dict(e.payload),
            "processed_at": None,
        }
        for e in events
    }
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(webhook_event_t).on_conflict_do_nothing(index_elements=["event_id"])
    # RETURNING names the rows written: a conflict writes none (rowcount is not reliable for a multi-row INSERT).
    return len(conn.execute(stmt.returning(webhook_event_t.c.event_id), list(rows.values())).all())


def unprocessed(conn: Connection, *, limit: int) -> list[QueuedEvent]:
    """The oldest `limit` events not processed yet."""
    t = webhook_event_t
    rows = conn.execute(
        sa.select(t).where(t.c.processed_at.is_(None)).order_by(t.c.received_at, t.c.event_id).limit(limit)
    )
    return [
        QueuedEvent(
            WebhookEvent(
                event_id=int(r.event_id),
                subscription_type=str(r.subscription_type),
                object_id=int(r.object_id),
                occurred_at=r.occurred_at,
                attempt_number=int(r.attempt_number),
                portal_id=r.portal_id,
                property_name=r.property_name,
                payload=dict(r.payload or {}),
            ),
            r.received_at,
        )
        for r in rows
    ]


def mark_processed(conn: Connection, event_ids: Collection[int], *, now: datetime) -> None:
    t = webhook_event_t
    for chunk in id_chunks(sorted(event_ids)):
        conn.execute(sa.update(t).where(t.c.event_id.in_(chunk)).values(processed_at=now))


def prune_processed(conn: Connection, *, before: datetime) -> int:
    """Forget events processed before `before` (HubSpot has long stopped delivering them again)."""
    t = webhook_event_t
    return int(conn.execute(sa.delete(t).where(t.c.processed_at < before)).rowcount or 0)


def processed_ids(conn: Connection, event_ids: Collection[int]) -> set[int]:
    """Which of these events are stored and processed."""
    t = webhook_event_t
    found: set[int] = set()
    for chunk in id_chunks(sorted(event_ids)):
        found.update(
            conn.execute(sa.select(t.c.event_id).where(t.c.event_id.in_(chunk), t.c.processed_at.is_not(None)))
            .scalars()
            .all()
        )
    return found


def queue_state(conn: Connection) -> QueueState:
    t = webhook_event_t
    depth, oldest = conn.execute(
        sa.select(sa.func.count(), sa.func.min(t.c.received_at)).where(t.c.processed_at.is_(None))
    ).one()
    return QueueState(int(depth or 0), oldest)


def service_facts(conn: Connection, lease_name: str) -> ServiceFacts:
    held = conn.execute(sa.select(lease_t.c.holder, lease_t.c.expires_at).where(lease_t.c.name == lease_name)).first()
    last_good = conn.execute(
        sa.select(sa.func.max(run_t.c.finished_at)).where(run_t.c.outcome.in_(FINISHED_WELL))
    ).scalar_one()
    return ServiceFacts(
        lease_holder=str(held.holder) if held is not None else None,
        lease_expires_at=held.expires_at if held is not None else None,
        last_good_run_at=last_good,
        queue=queue_state(conn),
    )


def latest_submissions(conn: Connection, contact_ids: Collection[int]) -> dict[int, datetime]:
    """The newest form submission stored for each of `contact_ids` that has one: whether a contact's conversion
    date is news, whoever stored the contact (a cycle's pull may have stored it before its submissions)."""
    t = activity_t
    found: dict[int, datetime] = {}
    for chunk in id_chunks(contact_ids):
        query = (
            sa.select(t.c.contact_id, sa.func.max(t.c.occurred_at))
            .where(t.c.contact_id.in_(chunk), t.c.kind == ActivityKind.FORM_SUBMISSION.value)
            .group_by(t.c.contact_id)
        )
        found.update((int(contact_id), at) for contact_id, at in conn.execute(query).all())
    return found
