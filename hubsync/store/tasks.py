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
from hubsync.store.rows import id_chunks
from hubsync.store.tables import company_t, contact_score_t, contact_t, owner_t, task_t

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
    handoff segment, (when surges count) a surge, or a recent hand-raise. Scoring decides; this only narrows the
    read."""
    triggers = [
        contact_score_t.c.engagement >= floor,
        contact_score_t.c.status.in_(list(statuses)),
        contact_score_t.c.hand_raise_at.isnot(None),
    ]
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


def owners_of(conn: Connection, contact_ids: Collection[int]) -> dict[int, tuple[int | None, int | None]]:
    """(contact owner, owner of its primary company) of each of these contacts."""
    query = sa.select(contact_t.c.id, contact_t.c.owner_id, company_t.c.owner_id.label("company_owner")).select_from(
        contact_t.outerjoin(company_t, company_t.c.id == contact_t.c.company_id)
    )
    found: dict[int, tuple[int | None, int | None]] = {}
    for chunk in id_chunks(contact_ids):
        for row in conn.execute(query.where(contact_t.c.id.in_(chunk))):
            found[int(row.id)] = (row.owner_id, row.company_owner)
    return found


def open_task_ids(conn: Connection, contact_ids: Collection[int]) -> dict[int, str]:
    """The HubSpot id of the open hubsync task of each of these contacts that has one."""
    rows = conn.execute(
        sa.select(task_t.c.contact_id, task_t.c.hubspot_task_id).where(
            task_t.c.state == "open", task_t.c.hubspot_task_id.isnot(None), task_t.c.contact_id.in_(list(contact_ids))
        )
    )
    return {int(contact_id): str(task_id) for contact_id, task_id in rows}


def handoff_of(conn: Connection, contact_id: int) -> tuple[Any | None, Any | None]:
    """A contact's handoff as the last cycle left it, for `hubsync explain`: its score row (episode, hand-raise,
    why it waits) and its newest hubsync task row that reached HubSpot (None for either that does not exist)."""
    episode = conn.execute(sa.select(contact_score_t).where(contact_score_t.c.contact_id == contact_id)).first()
    task = conn.execute(
        sa.select(task_t)
        .where(task_t.c.contact_id == contact_id, task_t.c.state.in_(("open", "done")))
        .order_by(task_t.c.created_at.desc(), task_t.c.id.desc())
        .limit(1)
    ).first()
    return episode, task


# -- writes ---------------------------------------------------------------------------------------------------


def add_intent(
    conn: Connection,
    *,
    contact_id: int,
    owner_id: int,
    subject: str,
    intent_at: datetime,
    due_at: datetime,
    kind: str = "lead",
    over_capacity: str | None = None,
    triggers: Sequence[str] = (),
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
            kind=kind,
            over_capacity=over_capacity,
            triggers=list(triggers),
        )
    ).inserted_primary_key
    if inserted is None:
        raise RuntimeError("the database returned no id for the task intent")
    return int(inserted[0])


def record_created(
    conn: Connection, row_id: int, task_id: int, *, created_at: datetime, armed: bool, handed_over_at: datetime
) -> None:
    """Turn an intent into an open task, and store the contact's new episode with it: `armed`, handed over (and a
    trigger held) at `handed_over_at`, and its current hand-raise heard."""
    contact_id = conn.execute(
        sa.update(task_t)
        .where(task_t.c.id == row_id)
        .values(state="open", hubspot_task_id=str(task_id), created_at=created_at, error=None)
        .returning(task_t.c.contact_id)
    ).scalar_one()
    score = contact_score_t.c
    conn.execute(
        sa.update(contact_score_t)
        .where(score.contact_id == contact_id)
        .values(
            handoff_armed=armed,
            handed_over_at=handed_over_at,
            triggers_held_at=handed_over_at,
            hand_raise_seen_at=sa.func.coalesce(score.hand_raise_at, score.hand_raise_seen_at),
            handoff_waiting=None,
        )
    )


def record_hand_raise_heard(conn: Connection, contact_id: int, hand_raise_at: datetime) -> None:
    """The contact's open task now tells of its hand-raise of `hand_raise_at`."""
    conn.execute(
        sa.update(contact_score_t)
        .where(contact_score_t.c.contact_id == contact_id)
        .values(hand_raise_seen_at=hand_raise_at)
    )


def store_waiting(conn: Connection, reasons: Mapping[int, str]) -> None:
    """Why the last handoff left these contacts without a task they are due; every other contact: none."""
    conn.execute(
        sa.update(contact_score_t).where(contact_score_t.c.handoff_waiting.isnot(None)).values(handoff_waiting=None)
    )
    if reasons:
        conn.execute(
            sa.update(contact_score_t)
            .where(contact_score_t.c.contact_id == sa.bindparam("cid"))
            .values(handoff_waiting=sa.bindparam("why")),
            [{"cid": c, "why": why} for c, why in reasons.items()],
        )


def record_failed(conn: Connection, row_id: int, error: str) -> None:
    conn.execute(sa.update(task_t).where(task_t.c.id == row_id).values(state="failed", error=error[:ERROR_MAX]))


def drop_intent(conn: Connection, row_id: int) -> None:
    """An intent whose task HubSpot never created: it never happened, and the contact is decided again."""
    conn.execute(sa.delete(task_t).where(task_t.c.id == row_id, task_t.c.state == "intent"))


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
