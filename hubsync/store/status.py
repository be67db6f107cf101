"""What `hubsync status` reads: the run log, cursors, score counts, open tasks and the lease, in one connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.records import Owner
from hubsync.store.reads import counts_by, owner_from_row
from hubsync.store.tables import cursor_t, lease_t, owner_t, run_t, task_t

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


def read_status(conn: Connection, *, last: int) -> StoredStatus:
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
    )


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
