"""The sales tasks hubsync tracks (`task`: intent → open → done, or failed), the owners' open-task load, and the
score rows a handoff starts from.

A task row in state "intent" is committed before the task is created in HubSpot and turned "open" with HubSpot's id
right after (`record_created`); an intent still there means a run stopped in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from hubsync.store.reads import owner_from_row
from hubsync.store.tables import contact_score_t, contact_t, owner_t, task_t

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection

    from hubsync.records import Owner

# The longest error text kept on a failed task row.
ERROR_MAX = 2000


@dataclass(frozen=True, slots=True)
class LocalTask:
    """A task row that is open or an intent."""

    id: int
    contact_id: int
    state: str
    hubspot_task_id: str | None


@dataclass(frozen=True, slots=True)
class AdoptedTask:
    """An open task found in HubSpot that has no row yet."""

    contact_id: int
    owner_id: int | None
    hubspot_task_id: int
    subject: str
    created_at: datetime
    due_at: datetime | None


# -- reads ----------------------------------------------------------------------------------------------------


def intents(conn: Connection) -> list[tuple[int, int]]:
    """(row id, contact id) of every intent a stopped run left behind."""
    rows = conn.execute(sa.select(task_t.c.id, task_t.c.contact_id).where(task_t.c.state == "intent"))
    return [(int(row_id), int(contact_id)) for row_id, contact_id in rows]


def known_task_ids(conn: Connection) -> set[str]:
    """The HubSpot ids of every task hubsync has a row for, whatever its state."""
    return {
        str(r)
        for r in conn.execute(sa.select(task_t.c.hubspot_task_id).where(task_t.c.hubspot_task_id.isnot(None))).scalars()
    }


def live_tasks(conn: Connection) -> list[LocalTask]:
    """The rows in state "open" or "intent"."""
    rows = conn.execute(
        sa.select(task_t.c.id, task_t.c.contact_id, task_t.c.state, task_t.c.hubspot_task_id).where(
            task_t.c.state.in_(("open", "intent"))
        )
    )
    return [LocalTask(int(r.id), int(r.contact_id), str(r.state), r.hubspot_task_id) for r in rows]


def done_tasks(conn: Connection, task_ids: Collection[int]) -> list[tuple[int, int]]:
    """(row id, contact id) of the "done" rows of the given HubSpot tasks."""
    rows = conn.execute(
        sa.select(task_t.c.id, task_t.c.contact_id).where(
            task_t.c.hubspot_task_id.in_([str(t) for t in task_ids]), task_t.c.state == "done"
        )
    )
    return [(int(row_id), int(contact_id)) for row_id, contact_id in rows]


def owners(conn: Connection) -> list[Owner]:
    return [owner_from_row(r) for r in conn.execute(sa.select(owner_t))]


def handoff_rows(
    conn: Connection, *, floor: int, statuses: Collection[str], segments: Collection[str], surge: bool
) -> list[Mapping[Any, Any]]:
    """Score rows of live contacts that might trigger a handoff: engagement at the floor, a handoff status, a
    handoff segment, or (when surges count) a surge. Scoring decides; this only narrows the read."""
    triggers = [contact_score_t.c.engagement >= floor, contact_score_t.c.status.in_(list(statuses))]
    if segments:
        triggers.append(contact_score_t.c.segment.in_(list(segments)))
    if surge:
        triggers.append(contact_score_t.c.surge.is_(True))
    query = (
        sa.select(contact_score_t)
        .select_from(contact_score_t.outerjoin(contact_t, contact_t.c.id == contact_score_t.c.contact_id))
        .where(sa.or_(*triggers), contact_t.c.archived_at.is_(None))
    )
    return list(conn.execute(query).mappings())


# -- writes ---------------------------------------------------------------------------------------------------


def add_intent(
    conn: Connection, *, contact_id: int, owner_id: int, subject: str, intent_at: datetime, due_at: datetime
) -> int:
    """The row written (and to be committed) before the create; its id."""
    inserted = conn.execute(
        sa.insert(task_t).values(
            contact_id=contact_id,
            owner_id=owner_id,
            state="intent",
            subject=subject,
            intent_at=intent_at,
            due_at=due_at,
        )
    ).inserted_primary_key
    if inserted is None:
        raise RuntimeError("the database returned no id for the task intent")
    return int(inserted[0])


def record_created(conn: Connection, row_id: int, task_id: int, *, created_at: datetime, armed: bool) -> None:
    """Turn an intent into an open task, and store the contact's handoff state (`armed`) with it."""
    contact_id = conn.execute(
        sa.update(task_t)
        .where(task_t.c.id == row_id)
        .values(state="open", hubspot_task_id=str(task_id), created_at=created_at, error=None)
        .returning(task_t.c.contact_id)
    ).scalar_one()
    conn.execute(
        sa.update(contact_score_t).where(contact_score_t.c.contact_id == contact_id).values(handoff_armed=armed)
    )


def record_failed(conn: Connection, row_id: int, error: str) -> None:
    conn.execute(sa.update(task_t).where(task_t.c.id == row_id).values(state="failed", error=error[:ERROR_MAX]))


def mark_done(conn: Connection, row_ids: Sequence[int]) -> None:
    if row_ids:
        conn.execute(sa.update(task_t).where(task_t.c.id.in_(row_ids)).values(state="done"))


def reopen(conn: Connection, row_ids: Sequence[int]) -> None:
    if row_ids:
        conn.execute(sa.update(task_t).where(task_t.c.id.in_(row_ids)).values(state="open"))


def adopt(conn: Connection, tasks: Sequence[AdoptedTask]) -> None:
    """Rows for open tasks found in HubSpot, in state "open" as of their creation."""
    if tasks:
        conn.execute(
            sa.insert(task_t),
            [
                {
                    "contact_id": t.contact_id,
                    "owner_id": t.owner_id,
                    "state": "open",
                    "hubspot_task_id": str(t.hubspot_task_id),
                    "subject": t.subject,
                    "intent_at": t.created_at,
                    "created_at": t.created_at,
                    "due_at": t.due_at,
                }
                for t in tasks
            ],
        )


def store_owner_load(conn: Connection, counts: Mapping[int, int]) -> None:
    """Open hubsync tasks per owner into `owner.open_tasks`, for `status` and the report (set-based: a reset, then
    one executemany update)."""
    conn.execute(sa.update(owner_t).values(open_tasks=0))
    if counts:
        conn.execute(
            sa.update(owner_t).where(owner_t.c.id == sa.bindparam("oid")).values(open_tasks=sa.bindparam("n")),
            [{"oid": o, "n": n} for o, n in counts.items()],
        )
