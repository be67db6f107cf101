"""The run log: one row per sync, backfill or service cycle, opened when it starts and closed once when it ends."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubsync.store.tables import run_t


@dataclass(frozen=True, slots=True)
class RunCounts:
    pulled: int = 0
    scored: int = 0
    pushed: int = 0
    tasks_created: int = 0
    api_calls: int = 0
    daily_quota_left: int | None = None
    effective_threshold: int | None = None
    free_capacity: int | None = None


def start_run(conn: Connection, kind: str, *, now: datetime, holder: str | None = None) -> int:
    result = conn.execute(sa.insert(run_t).values(kind=kind, holder=holder, started_at=now, outcome="running"))
    run_id = result.inserted_primary_key
    if run_id is None:
        raise RuntimeError("the database returned no id for the new run")
    return int(run_id[0])


def finish_run(
    conn: Connection,
    run_id: int,
    *,
    outcome: str,
    counts: RunCounts,
    now: datetime,
    error: str | None = None,
) -> None:
    conn.execute(
        sa.update(run_t)
        .where(run_t.c.id == run_id)
        .values(
            finished_at=now,
            outcome=outcome,
            error=error,
            # RunCounts' fields are the run table's count columns.
            **asdict(counts),
        )
    )


def abandon_runs(conn: Connection, *, holder: str, now: datetime) -> int:
    """Runs left 'running' by another process (killed, crashed) are over: record them as failed.

    Called when a process takes the lease: every command that writes holds it and records its holder, so a run of
    another holder that is still 'running' has lost its process. Runs without a holder (written before commands
    took the lease) are never touched."""
    result = conn.execute(
        sa.update(run_t)
        .where(run_t.c.outcome == "running", run_t.c.holder.is_not(None), run_t.c.holder != holder)
        .values(
            outcome="failed",
            finished_at=now,
            error="its process stopped (killed or crashed) before the run ended; the next run continued from the "
            "saved cursors",
        )
    )
    return int(result.rowcount or 0)
