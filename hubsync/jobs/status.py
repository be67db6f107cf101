"""`hubsync status`: what the service did and whether it is healthy, from the database alone (no HubSpot calls).

Health, for monitoring (the exit code of `hubsync status`):
* ok (0): the last finished run succeeded (or stopped cleanly on the quota reserve or a signal) within
  `monitoring.max_age_minutes`;
* failed (8): the last finished run failed;
* stale (9): no run finished successfully within `monitoring.max_age_minutes`, or none ever did.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from hubsync.render.status import StatusReport
from hubsync.settings import HubsyncConfig
from hubsync.store.status import read_status


def collect(engine: Engine, config: HubsyncConfig, *, now: datetime, last: int = 10) -> StatusReport:
    with engine.connect() as conn:
        stored = read_status(conn, last=last)
    errors = [{"run": r.id, "kind": r.kind, "started_at": r.started_at, "error": r.error} for r in stored.failed_runs]
    cursors = {r.stream: {"updated_at": r.updated_at, **_cursor_position(r.state)} for r in stored.cursors}
    open_tasks = Counter(str(owner) if owner is not None else "no owner" for owner in stored.open_task_owners)
    health, reason = _health(stored.last_finished, stored.last_good, now=now, max_age=config.monitoring.max_age_minutes)
    handoff, held = stored.last_handoff, stored.lease
    return StatusReport(
        now=now,
        health=health,
        reason=reason,
        runs=stored.runs,
        errors=errors,
        cursors=cursors,
        effective_threshold=handoff.effective_threshold if handoff else None,
        free_capacity=handoff.free_capacity if handoff else None,
        segments=stored.segments,
        statuses=stored.statuses,
        open_tasks_by_owner=dict(open_tasks),
        lease_holder=held.holder if held and held.expires_at >= now else None,
        lease_expires_at=held.expires_at if held else None,
    )


def _health(last_finished: Any, last_good: datetime | None, *, now: datetime, max_age: int) -> tuple[str, str]:
    if last_finished is None:
        return "stale", "no run has finished yet"
    if last_finished.outcome == "failed":
        return "failed", f"the last run ({last_finished.kind}, #{last_finished.id}) failed: {last_finished.error}"
    if last_good is None or now - last_good > timedelta(minutes=max_age):
        age = "never" if last_good is None else f"{int((now - last_good).total_seconds() // 60)} min ago"
        return "stale", f"no run finished within {max_age} min (last good run: {age})"
    return "ok", f"last run finished {int((now - last_good).total_seconds() // 60)} min ago"


def _cursor_position(state: dict[str, Any]) -> dict[str, Any]:
    # The parts of a stream's cursor an admin can read: where it has synced to, and how.
    keys = ("mode", "synced_to", "window", "after_id", "after", "reconciled_at", "swept_at")
    return {k: state[k] for k in keys if k in state}
