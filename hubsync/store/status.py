"""What `hubsync status` reads: the run log, cursors, score counts, open tasks and the lease, in one connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.records import Contact, Owner
from hubsync.store.reads import contact_from_row, counts_by, owner_from_row
from hubsync.store.tables import contact_score_t, contact_t, cursor_t, lease_t, owner_t, run_t, task_t

# Outcomes of a run that ended as it should: done, or stopped cleanly (quota reserve, a stop request).
FINISHED_WELL = ("ok", "stopped")


@dataclass(frozen=True, slots=True)
class StoredStatus:
    runs: list[dict[str, Any]]
    failed_runs: list[Any]
    last_finished: Any | None
    last_good: datetime | None
    last_handoff: Any | None
    cursors: list[Any]
    segments: dict[str, int]
    statuses: dict[str, int]
    open_task_owners: list[int | None]
    lease: Any | None
    handoff: StoredHandoff


@dataclass(frozen=True, slots=True)
class WaitingContact:
    """A contact the last handoff left without a task it is due, and why (`contact_score.handoff_waiting`)."""

    contact: Contact
    engagement: int
    why: str


@dataclass(frozen=True, slots=True)
class OwnerLoad:
    """An owner's open hubsync tasks, and how many of them took it beyond capacity, per exemption."""

    owner_id: int | None
    # None for an owner hubsync does not know (not pulled yet).
    owner: Owner | None
    open_tasks: int
    over_capacity: dict[str, int]


@dataclass(frozen=True, slots=True)
class StoredHandoff:
    # Contacts per waiting reason, and the first `top` of each reason by engagement.
    waiting_counts: dict[str, int]
    waiting: list[WaitingContact]
    owners: list[OwnerLoad]
    # Every known owner named above: those with open tasks and those of the waiting contacts (who may hold none).
    known_owners: dict[int, Owner]


def read_status(conn: Connection, *, last: int, top: int = 5) -> StoredStatus:
    # Row._mapping is SQLAlchemy's documented row-as-mapping accessor, despite the underscore.
    recent = conn.execute(sa.select(run_t).order_by(run_t.c.id.desc()).limit(last))
    return StoredStatus(
        runs=[dict(r._mapping) for r in recent],  # noqa: SLF001
        failed_runs=list(
            conn.execute(sa.select(run_t).where(run_t.c.outcome == "failed").order_by(run_t.c.id.desc()).limit(5))
        ),
        last_finished=conn.execute(
            sa.select(run_t).where(run_t.c.finished_at.is_not(None)).order_by(run_t.c.id.desc()).limit(1)
        ).first(),
        last_good=conn.execute(
            sa.select(sa.func.max(run_t.c.finished_at)).where(run_t.c.outcome.in_(FINISHED_WELL))
        ).scalar_one(),
        last_handoff=conn.execute(
            sa.select(run_t.c.effective_threshold, run_t.c.free_capacity)
            .where(run_t.c.effective_threshold.is_not(None))
            .order_by(run_t.c.id.desc())
            .limit(1)
        ).first(),
        cursors=list(conn.execute(sa.select(cursor_t).order_by(cursor_t.c.stream))),
        segments=counts_by(conn, "segment"),
        statuses=counts_by(conn, "status"),
        open_task_owners=list(conn.execute(sa.select(task_t.c.owner_id).where(task_t.c.state == "open")).scalars()),
        lease=conn.execute(sa.select(lease_t.c.holder, lease_t.c.expires_at)).first(),
        handoff=read_handoff(conn, top=top),
    )


def read_handoff(conn: Connection, *, top: int) -> StoredHandoff:
    """Who waits for a task and why (the `top` best by engagement per reason), and each owner's open hubsync tasks
    with those beyond capacity counted per exemption."""
    score = contact_score_t.c
    counts = {
        str(why): int(n)
        for why, n in conn.execute(
            sa.select(score.handoff_waiting, sa.func.count())
            .where(score.handoff_waiting.is_not(None))
            .group_by(score.handoff_waiting)
        )
    }
    rank = (
        sa.func.row_number()
        .over(partition_by=score.handoff_waiting, order_by=(score.engagement.desc(), score.contact_id))
        .label("rank")
    )
    ranked = (
        sa.select(score.contact_id, score.engagement, score.handoff_waiting, rank)
        .where(score.handoff_waiting.is_not(None))
        .subquery()
    )
    waiting = [
        WaitingContact(contact_from_row(row), int(row.engagement), str(row.handoff_waiting))
        for row in conn.execute(
            sa.select(contact_t, ranked.c.engagement, ranked.c.handoff_waiting)
            .join(ranked, ranked.c.contact_id == contact_t.c.id)
            .where(ranked.c.rank <= top)
            .order_by(ranked.c.handoff_waiting, ranked.c.engagement.desc(), contact_t.c.id)
        )
    ]
    open_rows = conn.execute(
        sa.select(task_t.c.owner_id, task_t.c.over_capacity, sa.func.count())
        .where(task_t.c.state == "open")
        .group_by(task_t.c.owner_id, task_t.c.over_capacity)
    )
    per_owner: dict[int | None, dict[str | None, int]] = {}
    for owner_id, over, n in open_rows:
        per_owner.setdefault(owner_id, {})[over] = int(n)
    named = {o for o in per_owner if o is not None} | {w.contact.owner_id for w in waiting if w.contact.owner_id}
    known = {row.id: owner_from_row(row) for row in conn.execute(sa.select(owner_t).where(owner_t.c.id.in_(named)))}
    owners = [
        OwnerLoad(
            owner_id,
            known.get(owner_id) if owner_id is not None else None,
            sum(by_kind.values()),
            {str(k): n for k, n in by_kind.items() if k is not None},
        )
        for owner_id, by_kind in per_owner.items()
    ]
    owners.sort(key=lambda load: (-load.open_tasks, load.owner_id or 0))
    return StoredHandoff(waiting_counts=counts, waiting=waiting, owners=owners, known_owners=known)


def open_tasks_per_owner(conn: Connection) -> list[tuple[Owner | None, int]]:
    """Open hubsync tasks per owner, most first; None for tasks whose owner hubsync does not know."""
    query = (
        sa.select(owner_t, sa.func.count().label("open_tasks_now"))
        .select_from(task_t.outerjoin(owner_t, owner_t.c.id == task_t.c.owner_id))
        .where(task_t.c.state == "open")
        .group_by(*owner_t.c)
        .order_by(sa.func.count().desc())
    )
    return [(owner_from_row(row) if row.id is not None else None, row.open_tasks_now) for row in conn.execute(query)]
